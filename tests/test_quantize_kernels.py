"""Integer kernels the quantizer's plans drive: the SBP relay, homeostasis and the engine's
learn mask (sparse plastic connection). Values derived by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikeport.kernels as k
from spikeport.kernels.homeostasis import (
    HomeostasisParams,
    homeostasis_update,
    threshold_from_acc,
    threshold_to_acc,
)
from spikeport.kernels.relay import (
    RelayParams,
    relay_init_state,
    relay_signal,
    relay_step,
    split_third_factor,
)


def test_relay_hand_derived():
    # hidden 0 reaches output 0; hidden 1 reaches outputs 0 and 1; decay 2048 halves a trace
    params = RelayParams(fanout=np.array([[1, 0], [1, 1]]), decay=2048, impulse=4096,
                         gain_ltp=(1, 10), gain_ltd=(3, 10))
    s = relay_init_state(1, 2)
    # t1: hidden 0 spikes, teacher on output 0: trace [4096, 0]; err [1, 1]; acc [4096, 0]
    s = relay_step(s, [[1, 0]], [[0, 0]], [[1, 0]], params)
    assert s.trace.tolist() == [[4096, 0]] and s.acc.tolist() == [[4096, 0]]
    # t2: hidden 1 and output 1 spike, teacher on 0: trace [2048, 4096]; err [1, 1 - 1 = 0]
    s = relay_step(s, [[0, 1]], [[0, 1]], [[1, 0]], params)
    assert s.trace.tolist() == [[2048, 4096]] and s.acc.tolist() == [[6144, 0]]
    # t3: both outputs spike, no teacher: trace [1024, 2048]; err [-1, -2]
    s = relay_step(s, [[0, 0]], [[1, 1]], [[0, 0]], params)
    assert s.acc.tolist() == [[5120, -4096]]
    # y2 = (5120·1 + 2^9) >> 10 = 5; y3 = (4096·3 + 2^9) >> 10 = 12 -> signed [5, -12]
    assert relay_signal(s, params).tolist() == [[5, -12]]
    y2, y3 = split_third_factor([[5, -12, 300]])
    assert y2.tolist() == [[5, 0, 127]] and y3.tolist() == [[0, 12, 0]]
    big = RelayParams(fanout=params.fanout, decay=2048, impulse=4096, gain_ltp=(65535, 0),
                      gain_ltd=(0, 0))
    assert relay_signal(s, big).tolist() == [[127, 0]]  # saturates at 7 bits; f_ltd = 0


def test_relay_truncates_trace_toward_zero():
    params = RelayParams(fanout=np.ones((1, 1)), decay=200, impulse=4096, gain_ltp=(1, 0),
                         gain_ltd=(1, 0))
    s = relay_init_state(1, 1)
    s = relay_step(s, [[1]], [[0]], [[0]], params)
    s = relay_step(s, [[0]], [[0]], [[0]], params)
    assert s.trace[0, 0] == (4096 * (4096 - 200)) >> 12  # 3896


def test_homeostasis_hand_derived():
    params = HomeostasisParams(eta_q=128, target_q=2 * 256, acc_min=threshold_to_acc(99),
                               acc_max=threshold_to_acc(101) + 2 ** 15)
    acc = threshold_to_acc(np.array([100, 100, 100]))
    # Δacc = 128·(n·256 − 512): n = 0 -> −65536 (one vth LSB), 2 -> 0, 6 -> +131072 (clipped)
    new = homeostasis_update(acc, [0, 2, 6], params)
    assert new.tolist() == [99 * 65536, 100 * 65536, 101 * 65536 + 2 ** 15]
    # rounded half up: 101.5 -> 102
    assert threshold_from_acc(new).tolist() == [99, 100, 102]


def _rule():
    return k.LearningRule([k.Product("x0", [k.Factor("y1")], -3, -3),
                           k.Product("y0", [k.Factor("x1")], 5, -3),
                           k.Product("u0", [k.Factor("x2")], 1, -5)])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 20), t_epoch=st.sampled_from([1, 3]))
def test_learn_mask_freezes_exactly_the_masked_synapses(seed, t_epoch):
    rng = np.random.default_rng(seed)
    n_pre, n_post, steps = 6, 4, 30
    w0 = rng.integers(-100, 100, (n_post, n_pre)) * 2
    mask = rng.random((n_post, n_pre)) < 0.5
    pre = rng.random((steps, n_pre)) < 0.3
    post = rng.random((steps, n_post)) < 0.3
    engine = k.LearningEngine(dw=_rule(), t_epoch=t_epoch, x_impulse=(20, 10), x_tau=(5, 8),
                              y_impulse=(15, 0, 0), y_tau=(6, 0, 0), rng_seed=seed)
    free = engine.init_state(w0)
    held = engine.init_state(w0, learn_mask=mask)
    for t in range(steps):
        free = engine.step(free, pre[None, t], post[None, t])
        held = engine.step(held, pre[None, t], post[None, t])
    assert (free.weights[0][~mask] != w0[~mask]).any(), "the rule must move masked synapses"
    assert np.array_equal(held.weights[0][~mask], w0[~mask])  # masked: exactly as they started
    assert np.array_equal(held.weights[0][mask], free.weights[0][mask])  # others: unchanged
    assert np.array_equal(held.x, free.x) and np.array_equal(held.y, free.y)


def test_learn_mask_shape_checked():
    engine = k.LearningEngine(dw=_rule(), rng_seed=1)
    with pytest.raises(ValueError, match="learn_mask"):
        engine.init_state(np.zeros((3, 2), dtype=int), learn_mask=np.ones((2, 3), bool))
