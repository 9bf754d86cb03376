"""Supervised STDP in the Brian2 reference: golden weight changes derived here, and agreement
with the float oracle (tests/oracles/float_reference.py) on every run."""

import numpy as np
import pytest
from learning_util import FAST, run_both, spike_array, tau_for

from spikeport.models import (
    Connectivity,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
)

T = 8
ETA = 0.1
W0 = 0.2
ONE_TO_ONE = Connectivity("fan_out", groups=2, per_neuron=1)  # pre 0 -> post 0 only


def net(w_min=-1.0, w_max=1.0, drive=0.0):
    """x -> o (learning, x reaches o0 only), d -> o (static driver: a spike of d at step t
    makes o0 spike at t+1). The x trace decays by 0.5 per step."""
    return Network(
        name="sup", inputs=(InputPopulation("x", 1), InputPopulation("d", 1)),
        populations=(LIFPopulation("o", 2, tau_u=FAST, tau_v=FAST, threshold=1.0),),
        projections=(
            Projection("x", "o", connectivity=ONE_TO_ONE, w_min=w_min, w_max=w_max,
                       learning=SupervisedSTDP(eta=ETA, tau_pre=tau_for(0.5))),
            Projection("d", "o", connectivity=ONE_TO_ONE)),
        teacher=Teacher("o", rate=100.0, drive=drive), readout=Readout("o", 2),
        sample_steps=T)


def run(network, x=(), d=(), teach0=(), teach1=(), samples=1, w0=W0):
    inputs = {"x": spike_array(T, 1, {0: list(x)}, samples),
              "d": spike_array(T, 1, {0: list(d)}, samples)}
    teacher = spike_array(T, 2, {0: list(teach0), 1: list(teach1)}, samples)
    weights = {"x->o": np.array([[w0, 0.0]]), "d->o": np.array([[10.0, 0.0]])}
    return run_both(network, inputs, weights, teacher)


def test_pre_then_teaching_spike_potentiates_by_eta_times_trace():
    # x spikes at steps 2 and 3: trace x(2) = 1, x(3) = 0.5 + 1 = 1.5 (the spike of step 3
    # counts at step 3), x(4) = 0.75, x(5) = 0.375. Teaching spikes at 3 and 5, no output spike:
    #   Δw = η·(x(3) + x(5)) = 0.1·(1.5 + 0.375) = 0.1875  ->  w = 0.2 + 0.1875 = 0.3875
    a, _ = run(net(), x=[2, 3], teach0=[3, 5])
    assert not a.spikes["o"].any()
    assert a.weights["x->o"][0, 0] == pytest.approx(0.3875, rel=1e-12)
    assert a.weights["x->o"][0, 1] == 0.0          # absent synapse stays exactly 0


def test_output_spike_depresses_and_teaching_spikes_potentiate():
    # x at 1 and 4: x(2) = 0.5, x(4) = 0.25 + 1 = 1.125, x(6) = 0.28125.
    # d at 1 -> o0 spikes at 2 (depression), teaching spikes at 4 and 6 (potentiation):
    #   Δw = η·(−x(2) + x(4) + x(6)) = 0.1·(−0.5 + 1.125 + 0.28125) = 0.090625
    # Teaching spikes of o1 (no synapse from x) change nothing.
    a, _ = run(net(), x=[1, 4], d=[1], teach0=[4, 6], teach1=[2, 3, 4])
    assert np.flatnonzero(a.spikes["o"][0, :, 0]).tolist() == [2]
    assert a.weights["x->o"][0, 0] == pytest.approx(W0 + 0.090625, rel=1e-12)
    assert a.weights["x->o"][0, 1] == 0.0


def test_output_spike_alone_depresses():
    # x at 1, d at 1 -> o0 spikes at 2: Δw = −η·x(2) = −0.1·0.5 = −0.05
    a, _ = run(net(), x=[1], d=[1])
    assert a.weights["x->o"][0, 0] == pytest.approx(W0 - 0.05, rel=1e-12)


def test_teaching_and_output_spike_in_the_same_step_cancel():
    # o0 spikes at 2 and gets a teaching spike at 2: teach − s = 0, no change at all
    a, _ = run(net(), x=[1], d=[1], teach0=[2])
    assert a.weights["x->o"][0, 0] == W0


def test_no_presynaptic_spike_no_change():
    # teaching and output spikes, but x never spikes: its trace is 0, so Δw = 0 exactly
    a, _ = run(net(), d=[1, 4], teach0=[2, 3, 6])
    assert a.spikes["o"].any()
    assert a.weights["x->o"][0, 0] == W0


def test_weights_clip_at_bounds():
    # the potentiation of the first test (+0.1875) clipped at w_max = 0.3
    a, _ = run(net(w_max=0.3), x=[2, 3], teach0=[3, 5])
    assert a.weights["x->o"][0, 0] == 0.3
    # the depression −0.05 clipped at w_min = 0.18
    a, _ = run(net(w_min=0.18), x=[1], d=[1])
    assert a.weights["x->o"][0, 0] == 0.18


def test_learning_persists_across_samples_traces_reset():
    # two identical samples: the trace is reset at the boundary, so each sample adds the same
    # 0.1875 (without the reset, x would carry 1.5·0.5^5 into sample 2):
    #   w = 0.2 + 2·0.1875 = 0.575
    a, _ = run(net(), x=[2, 3], teach0=[3, 5], samples=2)
    assert a.weights["x->o"][0, 0] == pytest.approx(0.575, rel=1e-12)


def test_teacher_drive_is_also_input():
    # drive 10: the teaching spike at 3 makes o0 spike at 4. Teaching spike at 3 (s = 0):
    # +η·x(3); output spike at 4 (teach = 0): −η·x(4). x at 2, 3: x(3) = 1.5, x(4) = 0.75:
    #   Δw = 0.1·(1.5 − 0.75) = 0.075
    a, _ = run(net(drive=10.0), x=[2, 3], teach0=[3])
    assert np.flatnonzero(a.spikes["o"][0, :, 0]).tolist() == [4]
    assert a.weights["x->o"][0, 0] == pytest.approx(W0 + 0.075, rel=1e-12)
