"""Threshold homeostasis in the Brian2 reference: θ ← clip(θ + η·(n − rate·T·dt), θ_min, θ_max)
after each sample; thresholds persist across samples. Golden values derived here."""

import numpy as np
import pytest
from learning_util import FAST, run_both

from spikeport.models import (
    Connectivity,
    Homeostasis,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
)

T = 10


def net(theta_min=0.98):
    # target 100 Hz over T = 10 steps of 1 ms: target count 100·10·0.001 = 1 spike per sample
    h = Homeostasis(target_rate=100.0, eta=0.05, theta_min=theta_min, theta_max=1.12)
    return Network(
        name="homeo", inputs=(InputPopulation("d", 2),),
        populations=(LIFPopulation("h", 2, tau_u=FAST, tau_v=FAST, threshold=1.0,
                                   homeostasis=h),),
        projections=(Projection("d", "h", connectivity=Connectivity("fan_out", groups=2)),),
        sample_steps=T)


def inputs(samples_steps):
    """d0 drives h0 (weight 10: one spike per input spike, one step later); d1 is silent."""
    arr = np.zeros((len(samples_steps), T, 2), bool)
    for s, steps in enumerate(samples_steps):
        arr[s, steps, 0] = True
    return {"d": arr}


W = {"d->h": np.array([[10.0, 0.0], [0.0, 10.0]])}


def test_threshold_follows_spike_count():
    # sample 0: h0 spikes 3 times -> θ0 = 1 + 0.05·(3 − 1) = 1.1
    # sample 1: h0 silent          -> θ0 = 1.1 + 0.05·(0 − 1) = 1.05  (persisted, not reset)
    # sample 2: h0 spikes 6 times  -> θ0 = 1.05 + 0.05·5 = 1.3 -> clipped to θ_max = 1.12
    # h1 is always silent: 1 − 0.05 = 0.95 -> clipped to θ_min = 0.98, stays 0.98
    a, _ = run_both(net(), inputs([[0, 3, 6], [], [0, 1, 2, 3, 4, 5]]), W, record=("h",))
    assert a.counts("h")[:, 0].tolist() == [3, 0, 6]
    np.testing.assert_allclose(a.thresholds["h"], [1.12, 0.98], rtol=1e-12)


def test_two_samples_exact():
    a, _ = run_both(net(theta_min=0.0), inputs([[0, 3, 6], []]), W)
    # h0: 1 + 0.1 − 0.05 = 1.05; h1: 1 − 0.05 − 0.05 = 0.9
    np.testing.assert_allclose(a.thresholds["h"], [1.05, 0.9], rtol=1e-12)


def test_no_learning_keeps_thresholds_and_accepts_initial_ones():
    a, _ = run_both(net(), inputs([[0, 3, 6]]), W, learn=False)
    assert a.thresholds["h"].tolist() == [1.0, 1.0]
    # thresholds given by the caller (e.g. from a training run) are the starting point
    a, _ = run_both(net(), inputs([[0, 3, 6]]), W, thresholds={"h": np.array([1.01, 1.0])})
    assert a.thresholds["h"][0] == pytest.approx(1.01 + 0.1, rel=1e-12)
