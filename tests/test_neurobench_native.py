"""NeuroBench-named metrics computed natively (spikeport.analysis.neurobench), values derived
by hand on small networks; the cross-check against the neurobench package itself is in
scripts/interop (benchmarks/results/interop_neurobench.json)."""

from __future__ import annotations

import numpy as np
import pytest

from spikeport.analysis.neurobench import (
    format_neurobench,
    neurobench_report,
    static_metrics,
)
from spikeport.backends.emulator import run_emulator
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection


def _chain(w1, w2, vth1, vth2, steps, du=4095, dv=4095, mode2="excitatory"):
    """in (n0) -> a (n1) -> b (n2); w as (n_pre, n_post) mantissas with weight_exp 0."""
    a = FixedPopulation("a", w1.shape[1], scale=1.0, du=du, dv=dv, vth=vth1)
    b = FixedPopulation("b", w2.shape[1], scale=1.0, du=du, dv=dv, vth=vth2)
    p1 = FixedProjection("in->a", "in", "a", "excitatory", 0, 1.0, w1, np.ones_like(w1, bool))
    p2 = FixedProjection("a->b", "a", "b", mode2, 0, 1.0, w2, np.ones_like(w2, bool))
    return FixedNetwork("hand", 0.001, steps, 0, True, 0, (("in", w1.shape[0]),), (a, b),
                        (p1, p2))


def test_static_metrics():
    w1 = np.array([[10, 0], [0, 7]])          # 2 zeros of 4
    w2 = np.array([[4], [0]])                 # 1 zero of 2; MIXED stores 2 bytes a weight
    fixed = _chain(w1, w2, 5, 5, 6, mode2="mixed")
    s = static_metrics(fixed)
    assert s["ParameterCount"] == 4 + 2
    assert s["ConnectionSparsity"] == pytest.approx(3 / 6)
    # weights: 4 x 1 byte (excitatory) + 2 x 2 bytes (mixed); per population: u, v per neuron
    # (8 bytes each), du + dv (4), one shared vth (4)
    assert s["Footprint"] == 4 + 4 + (2 * 8 + 8) + (1 * 8 + 8)
    # MIXED drops the lowest weight bit on Lava's first step: a stored 1 realises as 0
    fixed1 = _chain(w1, np.array([[1], [4]]), 5, 5, 6, mode2="mixed")
    assert static_metrics(fixed1)["ConnectionSparsity"] == pytest.approx(3 / 6)


def test_workload_metrics_by_hand():
    # du = 4095 (Lava adds 1: u keeps nothing) and dv = 4095 (v keeps trunc(v/4096) = 0 of
    # itself here) make v equal this step's input x 64: v_t = 64 * a_in(t)
    w1 = np.array([[100, 10], [0, 10]])
    w2 = np.array([[50], [0]])
    steps = 6
    fixed = _chain(w1, w2, 60, 1000, steps)
    x = np.zeros((2, steps, 2), dtype=bool)
    x[0, 1, 0] = True                          # sample 0: input 0 at step 1
    x[1, 2, 1] = True                          # sample 1: input 1 at step 2
    res = run_emulator(fixed, {"in": x})
    sa, sb = res.spikes["a"], res.spikes["b"]
    # sample 0: a0 gets 100 at step 2 -> v = 6400 > 60 * 64 = 3840: spikes; a1 gets 10 -> 640,
    # no spike. b gets 50 at step 3 -> 3200 <= 64000: no spike. sample 1: a1 gets 10: no spike.
    assert sa.sum() == 1 and sa[0, 2, 0] and sb.sum() == 0
    nb = neurobench_report(fixed, res.spikes, {"in": x}, accuracy=0.5,
                           syn_ops_counted=sum(v.get("syn_ops", 0) for k, v in res.ops.items()
                                               if k.startswith("projection:")))
    w = nb["workload"]
    # effective ACs: input 0 reaches 2 nonzero weights, input 1 one; a0 reaches one (50)
    assert w["SynapticOperations"]["Effective_ACs"] == pytest.approx((2 + 1 + 1) / 2)
    assert w["SynapticOperations"]["Effective_MACs"] == 0
    assert w["SynapticOperations"]["Dense"] == pytest.approx((4 + 2) * steps)
    # one spike in 3 neurons x 6 steps x 2 samples
    assert w["ActivationSparsity"] == pytest.approx(1 - 1 / 36)
    # membrane updates: every neuron on step 0 (3 per sample), then each change of v:
    # sample 0: a0 0 -> 6400 -> reset 0 at step 2 (v reads 0 after the spike: no change),
    # a1 0 -> 640 (step 2) -> 0 (step 3), b 0 -> 3200 (step 3) -> 0 (step 4): 4 changes;
    # sample 1: a1 0 -> 640 (step 3) -> 0 (step 4): 2 changes
    assert w["MembraneUpdates"] == pytest.approx((3 + 4 + 3 + 2) / 2)
    assert w["ClassificationAccuracy"] == 0.5
    assert nb["syn_ops_counter_per_sample"] == pytest.approx(w["SynapticOperations"]
                                                              ["Effective_ACs"])
    text = format_neurobench(nb)
    assert "| MembraneUpdates | 6.0 |" in text and "| ActivationSparsity | 0.9722 |" in text


def test_membrane_updates_refused_when_replay_differs():
    w1 = np.array([[100, 10], [0, 10]])
    w2 = np.array([[50], [0]])
    fixed = _chain(w1, w2, 60, 1000, 6)
    x = np.zeros((1, 6, 2), dtype=bool)
    x[0, 1, 0] = True
    spikes = {"a": np.zeros((1, 6, 2), bool), "b": np.zeros((1, 6, 1), bool)}  # not a's truth
    nb = neurobench_report(fixed, spikes, {"in": x})
    assert nb["workload"]["MembraneUpdates"] is None
    assert any("recorded spikes differ" in n for n in nb["notes"])
    learn = neurobench_report(fixed, spikes, {"in": x}, learn=True)
    assert learn["workload"]["MembraneUpdates"] is None
    assert "| MembraneUpdates | n/a |" in format_neurobench(learn)
