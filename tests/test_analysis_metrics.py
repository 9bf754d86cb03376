"""Spike and weight metrics of spikeport.analysis.metrics on hand-built recordings, each expected
value derived in the test; an optional cross-check against elephant when it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikeport.analysis import metrics as M


def trains(steps: int, *neurons: list[int]) -> np.ndarray:
    """One sample: bool (1, steps, n) with spikes of neuron i at the steps in neurons[i]."""
    out = np.zeros((1, steps, len(neurons)), bool)
    for i, times in enumerate(neurons):
        out[0, times, i] = True
    return out


def vr_closed_form(a: list[float], b: list[float], tau: float) -> float:
    """elephant's normalisation: D² = Σ_aa e^{-|Δ|/τ} + Σ_bb e^{-|Δ|/τ} − 2 Σ_ab e^{-|Δ|/τ}."""
    def k(x, y):
        return sum(math.exp(-abs(p - q) / tau) for p in x for q in y)
    return math.sqrt(max(k(a, a) + k(b, b) - 2 * k(a, b), 0.0))


# ---------------------------------------------------------------------------------- identical

def test_identical_recordings_match_perfectly():
    rng = np.random.default_rng(0)
    a = rng.random((5, 30, 7)) < 0.2
    m = M.population_metrics(a, a.copy(), dt=1e-3, tau_vr=5e-3)
    assert m["match_rate"] == 1.0 and m["coincidence"] == 1.0
    assert m["van_rossum"] == 0.0 and m["cosine"] == pytest.approx(1.0)
    assert m["first_spike_error_ms"] == 0.0 and m["first_spike_missing"] == 0.0
    assert m["identical_samples"] == 1.0 and m["first_diff"] is None
    assert m["first_diff_step_min"] is None and m["rate_error_hz"] == 0.0
    # every neuron whose count varies across samples correlates perfectly with itself
    counts = a.sum(axis=1)
    assert m["count_corr_neurons"] == int((counts.std(axis=0) > 0).sum())
    assert m["count_corr"] == pytest.approx(1.0) and m["count_corr_pooled"] == pytest.approx(1.0)


def test_two_silent_recordings_are_identical():
    z = np.zeros((2, 10, 3), bool)
    assert M.coincidence(z, z) == 1.0
    assert np.all(M.cosine_similarity(z, z) == 1.0)
    fse = M.first_spike_error(z, z)
    assert fse.mean is None and fse.pairs == 0
    cc = M.count_correlation(z, z)
    assert cc.mean is None and cc.defined == 0 and cc.pooled is None


# ------------------------------------------------------------------------------- van Rossum

def test_van_rossum_hand_built_pair():
    # a = {2, 5}, b = {3} (steps), τ = 4 steps; closed form with the tail after the sample:
    # D² = (1 + 1 + 2e^{-3/4}) + 1 − 2(e^{-1/4} + e^{-2/4})
    tau = 4.0
    expected = math.sqrt(3 + 2 * math.exp(-0.75) - 2 * (math.exp(-0.25) + math.exp(-0.5)))
    a, b = trains(10, [2, 5]), trains(10, [3])
    d = M.van_rossum_distance(a, b, tau)
    assert d.shape == (1, 1)
    assert d[0, 0] == pytest.approx(expected, rel=1e-12)
    assert d[0, 0] == pytest.approx(vr_closed_form([2, 5], [3], tau), rel=1e-12)
    # symmetric
    assert M.van_rossum_distance(b, a, tau)[0, 0] == pytest.approx(expected, rel=1e-12)


def test_van_rossum_one_unmatched_spike_is_one_anywhere_in_the_sample():
    # a single spike against silence: Σ_aa = 1, nothing else -> D = 1 at any step and any τ
    for step in (0, 4, 9):
        for tau in (0.5, 3.0, 40.0):
            d = M.van_rossum_distance(trains(10, [step]), trains(10, []), tau)
            assert d[0, 0] == pytest.approx(1.0, rel=1e-12)


def test_van_rossum_shift_by_one_step():
    # a spike moved by one step: D² = 2 − 2e^{-1/τ}
    tau = 10.0
    d = M.van_rossum_distance(trains(20, [5]), trains(20, [6]), tau)[0, 0]
    assert d == pytest.approx(math.sqrt(2 - 2 * math.exp(-1 / tau)), rel=1e-12)


def test_van_rossum_random_trains_against_closed_form():
    rng = np.random.default_rng(3)
    a = rng.random((4, 25, 3)) < 0.3
    b = rng.random((4, 25, 3)) < 0.3
    d = M.van_rossum_distance(a, b, 6.0)
    for s in range(4):
        for n in range(3):
            ref = vr_closed_form(list(np.flatnonzero(a[s, :, n])),
                                 list(np.flatnonzero(b[s, :, n])), 6.0)
            assert d[s, n] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_van_rossum_against_elephant_if_installed():
    pytest.importorskip("elephant")
    pq = pytest.importorskip("quantities")
    neo = pytest.importorskip("neo")
    from elephant.spike_train_dissimilarity import van_rossum_distance as evr

    rng = np.random.default_rng(7)
    a = rng.random((1, 40, 1)) < 0.25
    b = rng.random((1, 40, 1)) < 0.25
    dt_ms, tau_ms = 1.0, 5.0
    sa = neo.SpikeTrain(np.flatnonzero(a[0, :, 0]) * dt_ms, units="ms", t_stop=40.0)
    sb = neo.SpikeTrain(np.flatnonzero(b[0, :, 0]) * dt_ms, units="ms", t_stop=40.0)
    ref = evr([sa, sb], tau_ms * pq.ms)[0, 1]
    assert M.van_rossum_distance(a, b, tau_ms / dt_ms)[0, 0] == pytest.approx(ref, rel=1e-9)


# ---------------------------------------------------------------------------- other metrics

def test_match_rate_and_coincidence_hand_counts():
    a = trains(10, [1, 2, 3], [5])      # 4 spikes
    b = trains(10, [1, 2], [5, 7])      # 4 spikes; a has 3, b has 7 unmatched
    # bins: 10 steps × 2 neurons = 20; differing bins: (3, n0), (7, n1) -> 2
    assert M.match_rate(a, b) == pytest.approx(1 - 2 / 20)
    # both: {1,2 of n0, 5 of n1} = 3; union = 3 + 2 = 5
    assert M.coincidence(a, b) == pytest.approx(3 / 5)


def test_count_correlation_per_neuron():
    # 3 samples; neuron 0 counts a = (1, 2, 3), b = (2, 4, 6) -> r = 1;
    # neuron 1 counts a = (1, 2, 3), b = (3, 2, 1) -> r = −1; neuron 2 silent in b -> undefined
    a = np.zeros((3, 8, 3), bool)
    b = np.zeros((3, 8, 3), bool)
    for s, (ka, kb0, kb1) in enumerate([(1, 2, 3), (2, 4, 2), (3, 6, 1)]):
        a[s, :ka, 0] = a[s, :ka, 1] = a[s, :ka, 2] = True
        b[s, :kb0, 0] = True
        b[s, :kb1, 1] = True
    cc = M.count_correlation(a, b)
    assert cc.per_neuron[0] == pytest.approx(1.0)
    assert cc.per_neuron[1] == pytest.approx(-1.0)
    assert math.isnan(cc.per_neuron[2])
    assert cc.defined == 2 and cc.mean == pytest.approx(0.0)
    # pooled over (sample, neuron): counts a = [1,1,1,2,2,2,3,3,3], b = [2,3,0,4,2,0,6,1,0]
    ca = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3], float)
    cb = np.array([2, 3, 0, 4, 2, 0, 6, 1, 0], float)
    expected = ((ca - ca.mean()) @ (cb - cb.mean())) / math.sqrt(
        ((ca - ca.mean()) ** 2).sum() * ((cb - cb.mean()) ** 2).sum())
    assert cc.pooled == pytest.approx(expected)


def test_cosine_of_time_averaged_activity():
    # sample 0: rates a = (2, 0)/T, b = (1, 1)/T -> cos = 2/(2·√2) = 1/√2
    # sample 1: a silent, b not -> 0; sample 2: both silent -> 1
    a = np.zeros((3, 4, 2), bool)
    b = np.zeros((3, 4, 2), bool)
    a[0, [0, 1], 0] = True
    b[0, 2, 0] = b[0, 3, 1] = True
    b[1, 0, 1] = True
    cos = M.cosine_similarity(a, b)
    assert cos == pytest.approx([1 / math.sqrt(2), 0.0, 1.0])


def test_first_spike_error_with_penalty():
    # neuron 0: a first at 2, b first at 5 -> 3 steps; neuron 1: only a spikes -> penalty;
    # neuron 2: silent in both -> not counted
    a = trains(10, [2, 8], [4], [])
    b = trains(10, [5], [], [])
    assert M.first_spike_times(a).tolist() == [[2, 4, -1]]
    fse = M.first_spike_error(a, b, penalty=7)
    assert fse.pairs == 2 and fse.missing == 1
    assert fse.mean == pytest.approx((3 + 7) / 2)
    # default penalty: the sample length (10 steps)
    assert M.first_spike_error(a, b).mean == pytest.approx((3 + 10) / 2)


def test_first_difference_step_per_sample():
    a = np.zeros((3, 6, 2), bool)
    b = a.copy()
    a[0, 4, 1] = True            # sample 0 differs first at step 4
    a[1, 2, 0] = b[1, 2, 0] = True
    b[1, 5, 0] = True            # sample 1 at step 5; sample 2 never
    assert M.first_difference_step(a, b).tolist() == [4, 5, -1]
    m = M.population_metrics(a, b, dt=1e-3, tau_vr=2e-3)
    assert m["first_diff"] == {"sample": 0, "step": 4}
    assert m["first_diff_step_min"] == 4 and m["first_diff_step_median"] == 4.5
    assert m["identical_samples"] == pytest.approx(1 / 3)


def test_classification_and_weight_divergence():
    labels = np.array([0, 1, 2, 3])
    c = M.classification(labels, np.array([0, 1, 0, 3]), np.array([0, 2, 0, 3]))
    assert c == {"accuracy_a": 0.75, "accuracy_b": 0.5, "agreement": 0.75}
    # two checkpoints of a 2×2 projection against zeros, the mask excludes (1, 1):
    # d_0 = sqrt((0.1² + 0² + 0.2²)/3), d_1 = sqrt((0.3² + 0² + 0²)/3)
    ta = np.array([[[0.1, 0.0], [0.2, 9.0]], [[0.3, 0.0], [0.0, -9.0]]])
    tb = np.zeros_like(ta)
    mask = np.array([[True, True], [True, False]])
    curve, rms = M.trajectory_divergence(ta, tb, mask)
    d0 = math.sqrt((0.01 + 0.0 + 0.04) / 3)
    d1 = math.sqrt(0.09 / 3)
    assert curve == pytest.approx([d0, d1])
    assert rms == pytest.approx(math.sqrt((d0 ** 2 + d1 ** 2) / 2))


def test_population_metrics_units():
    # one spike moved by 2 steps at dt = 0.5 ms: first-spike error 1 ms; rates in Hz
    a, b = trains(8, [1]), trains(8, [3])
    m = M.population_metrics(a, b, dt=0.5e-3, tau_vr=1e-3)
    assert m["first_spike_error_ms"] == pytest.approx(1.0)
    assert m["rate_hz_a"] == pytest.approx((1 / 8) / 0.5e-3)
    # τ = 2 steps: D² = 2 − 2e^{-2/2}
    assert m["van_rossum"] == pytest.approx(math.sqrt(2 - 2 * math.exp(-1.0)))


@pytest.mark.parametrize("call", [
    lambda: M.match_rate(np.zeros((1, 2, 3)), np.zeros((1, 2, 4))),
    lambda: M.van_rossum_distance(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), 0.0),
    lambda: M.first_spike_error(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), penalty=-1),
    lambda: M.classification(np.array([]), np.array([]), np.array([])),
    lambda: M.trajectory_divergence(np.zeros((2, 2, 2)), np.zeros((2, 2, 3))),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
