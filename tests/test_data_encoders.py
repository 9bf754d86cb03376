"""Encoders and teaching spike trains: exact spike steps derived here, statistics with bounds
computed here, and the rule that a sample's spikes depend only on (seed, its id)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikeport.data import encode, teaching_spikes
from spikeport.data.encoders import latency, regular_rate
from spikeport.errors import DataError

DT = 1e-3


def steps_of(train) -> list[int]:
    return np.flatnonzero(train).tolist()


# ----------------------------------------------------------------------------- poisson
def test_poisson_rate_within_statistical_bounds():
    n, T, f = 4, 500, 50
    X = np.full((n, f), 0.3)
    spikes = encode(X, "poisson", T, DT, seed=11, sample_ids=np.arange(n), max_rate=200.0)
    assert spikes.shape == (n, T, f) and spikes.dtype == bool
    # each entry is Bernoulli(p), p = x·rate·dt = 0.3·200·0.001 = 0.06, N = 4·500·50 trials:
    # the count has mean N·p = 6000 and sd sqrt(N·p·(1-p)) ≈ 75.1; allow 5 sd
    N, p = n * T * f, 0.3 * 200 * DT
    mean, sd = N * p, math.sqrt(N * p * (1 - p))
    assert abs(int(spikes.sum()) - mean) < 5 * sd
    # x = 0 never spikes; x = 1 at rate 1/dt spikes every step
    edge = encode(np.array([[0.0, 1.0]]), "poisson", 100, DT, 0, [0], max_rate=1000.0)
    assert steps_of(edge[0, :, 0]) == [] and edge[0, :, 1].all()


def test_poisson_same_seed_same_spikes_and_batch_independent():
    rng = np.random.default_rng(5)
    X = rng.random((6, 30))
    ids = np.array([3, 17, 4, 99, 0, 12])
    a = encode(X, "poisson", 40, DT, seed=7, sample_ids=ids, max_rate=300.0)
    b = encode(X, "poisson", 40, DT, seed=7, sample_ids=ids, max_rate=300.0)
    np.testing.assert_array_equal(a, b)
    # sample 17 alone, or in another batch in another position: the same spikes
    alone = encode(X[[1]], "poisson", 40, DT, seed=7, sample_ids=[17], max_rate=300.0)
    np.testing.assert_array_equal(alone[0], a[1])
    other = encode(X[[5, 1]], "poisson", 40, DT, seed=7, sample_ids=[12, 17], max_rate=300.0)
    np.testing.assert_array_equal(other[1], a[1])
    np.testing.assert_array_equal(other[0], a[5])
    # another seed or another id gives other spikes
    c = encode(X, "poisson", 40, DT, seed=8, sample_ids=ids, max_rate=300.0)
    assert (c != a).any()
    d = encode(X[[1]], "poisson", 40, DT, seed=7, sample_ids=[18], max_rate=300.0)
    assert (d[0] != a[1]).any()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 10**6), min_size=1, max_size=5,
                                          unique=True))
def test_poisson_sample_depends_only_on_seed_and_id(seed, ids):
    X = np.linspace(0, 1, 8)[None, :].repeat(len(ids), axis=0)
    batch = encode(X, "poisson", 10, DT, seed, ids, max_rate=500.0)
    for k, sid in enumerate(ids):
        np.testing.assert_array_equal(encode(X[[k]], "poisson", 10, DT, seed, [sid],
                                             max_rate=500.0)[0], batch[k])


# ----------------------------------------------------------------------------- regular
def test_regular_rate_exact_steps():
    X = np.array([[0.25, 0.5, 1.0, 0.0]])
    spikes = encode(X, "regular", 20, DT, max_rate=400.0)[0]
    # p = x·400·0.001 = 0.1, 0.2, 0.4, 0; spikes by the end of step t = floor((t+1)·p):
    # p=0.1 reaches 1 at t+1 = 10 → t = 9, then 19
    assert steps_of(spikes[:, 0]) == [9, 19]
    # p=0.2: t+1 = 5, 10, 15, 20 → t = 4, 9, 14, 19
    assert steps_of(spikes[:, 1]) == [4, 9, 14, 19]
    # p=0.4: (t+1)·0.4 = 1.2 (t=2), 2.0 (t=4), 3.2 (t=7), 4.0 (t=9), … → 8 spikes = floor(20·0.4)
    assert steps_of(spikes[:, 2]) == [2, 4, 7, 9, 12, 14, 17, 19]
    assert steps_of(spikes[:, 3]) == []
    # phase 0.5, p=0.2: floor((t+1)·0.2 + 0.5) first reaches 1 at (t+1)·0.2 = 0.6 → t = 2
    shifted = regular_rate(X[:, [1]], 20, DT, 400.0, phase=0.5)[0, :, 0]
    assert steps_of(shifted) == [2, 7, 12, 17]


# ----------------------------------------------------------------------------- latency
def test_latency_expected_step():
    X = np.array([[1.0, 0.6, 0.3, 0.2, 0.1]])
    spikes = encode(X, "latency", 10, DT, t_min=1, t_max=9, threshold=0.2)[0]
    # step = t_min + round((1 - x)/(1 - threshold)·(t_max - t_min)):
    # x=1 → 1; x=0.6 → 1 + 0.5·8 = 5; x=0.3 → 1 + 0.875·8 = 8; x ≤ 0.2 → no spike
    assert [steps_of(spikes[:, j]) for j in range(5)] == [[1], [5], [8], [], []]
    # default t_max = T - 1 (-1 too), threshold 0: x = 0.5 → round(0.5·9) = round(4.5) = 5
    assert steps_of(latency(np.array([[0.5]]), 10)[0, :, 0]) == [5]
    assert steps_of(encode(np.array([[0.5]]), "latency", 10, DT, t_max=-1)[0, :, 0]) == [5]


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, pattern", [
    ({"kind": "poisson", "max_rate": 2000.0}, r"max_rate = 2000.0; allowed: \[0, 1/dt\] = "
                                              r"\[0, 1000\] Hz"),
    ({"kind": "poisson", "max_rate": -1.0}, r"max_rate = -1.0"),
    ({"kind": "poisson", "T": 0}, r"T = 0; allowed: an integer >= 1"),
    ({"kind": "regular", "phase": 1.5}, r"phase = 1.5; allowed: a number in \[0, 1\)"),
    ({"kind": "latency", "t_min": 5, "t_max": 3}, r"t_max = 3; allowed: an integer in \[5, 9\]"),
    ({"kind": "latency", "threshold": 2.0}, r"threshold = 2.0"),
    ({"kind": "gauss"}, r"kind = 'gauss'; allowed: poisson, regular, latency"),
    ({"kind": "poisson", "tau": 3}, r"poisson.tau = 3; allowed: parameters max_rate"),
    ({"kind": "poisson", "seed": -1}, r"seed = -1"),
    ({"kind": "poisson", "dt": 0.0}, r"dt = 0.0"),
])
def test_bad_parameters_are_named(kwargs, pattern):
    args = {"X": np.full((2, 3), 0.5), "T": 10, "dt": DT, "seed": 0, "sample_ids": [0, 1]}
    args.update(kwargs)
    with pytest.raises(DataError, match=pattern):
        encode(**args)


def test_bad_inputs_are_named():
    with pytest.raises(DataError, match=r"X = 'values in \[-0.5, 1\]'"):
        encode(np.array([[-0.5, 1.0]]), "poisson", 5, DT)
    with pytest.raises(DataError, match=r"sample_ids.shape = \(1,\); allowed: \(2,\)"):
        encode(np.zeros((2, 3)), "poisson", 5, DT, 0, [4])


# ----------------------------------------------------------------------------- teaching
def test_teaching_regular_train_on_target_neurons():
    labels = np.array([2, 0])
    t = teaching_spikes(labels, 6, 12, DT, 250.0, kind="regular", neurons_per_class=2)
    assert t.shape == (2, 12, 6) and t.dtype == bool
    # p = 250·0.001 = 0.25: floor((t+1)/4) rises at t = 3, 7, 11
    for i, targets in enumerate(([4, 5], [0, 1])):
        for k in range(6):
            assert steps_of(t[i, :, k]) == ([3, 7, 11] if k in targets else []), (i, k)


def test_teaching_poisson_rate_and_batch_independence():
    labels = np.array([1, 3, 1])
    t = teaching_spikes(labels, 4, 1000, DT, 100.0, kind="poisson", seed=3,
                        sample_ids=[5, 6, 7])
    # only the label's neuron; rate p = 0.1 per step, 1000 steps: mean 100, sd sqrt(90) ≈ 9.5
    for i, lab in enumerate(labels):
        counts = t[i].sum(axis=0)
        assert all(counts[k] == 0 for k in range(4) if k != lab)
        assert abs(counts[lab] - 100) < 5 * math.sqrt(1000 * 0.1 * 0.9)
    alone = teaching_spikes(labels[[1]], 4, 1000, DT, 100.0, kind="poisson", seed=3,
                            sample_ids=[6])
    np.testing.assert_array_equal(alone[0], t[1])


def test_teaching_class_of_neuron_and_errors():
    cls = np.array([-1, 0, 1, 0])  # neuron 0 belongs to no class
    t = teaching_spikes([0], 4, 10, DT, 1000.0, class_of_neuron=cls)
    assert t[0].all(axis=0).tolist() == [False, True, False, True]
    with pytest.raises(DataError, match="label 2 of sample 1 has no output neuron"):
        teaching_spikes([0, 2], 4, 10, DT, 100.0, class_of_neuron=cls)
    with pytest.raises(DataError, match="neurons_per_class = 3; allowed: an integer >= 1 that "
                                        "divides n_out = 4"):
        teaching_spikes([0], 4, 10, DT, 100.0, neurons_per_class=3)
    with pytest.raises(DataError, match=r"teacher rate = 5000.0"):
        teaching_spikes([0], 4, 10, DT, 5000.0)
