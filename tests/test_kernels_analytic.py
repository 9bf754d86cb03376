"""Analytic checks of spikeport.kernels: golden values derived by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

import spikeport.kernels as k
from spikeport.kernels.learning import Factor, LearningRule, Product
from spikeport.kernels.lif import decay_toward_zero, update_current, wrap_current


def _run_lif(a_in: np.ndarray, params: k.LifParams):
    """a_in (T, n) -> u, v, spikes, each (T, n)."""
    state = k.lif_init_state((1, a_in.shape[1]))
    us, vs, ss = [], [], []
    for a in a_in:
        s, state = k.lif_step(a[None], state, params)
        us.append(state.u[0])
        vs.append(state.v[0])
        ss.append(s[0])
    return np.array(us), np.array(vs), np.array(ss)


def test_golden_u_sequence_one_spike_weight_10():
    """LOIHI.md A1: one input spike at step 1, weight 10, du=1024, dv=512, vth=10.

    Dense delays by one step: a_in = 0 at step 1, 10 at step 2, then 0.
    du + 1 = 1025, so u decays by (4096 - 1025) / 4096 = 3071/4096 per step, truncated to 0:
      step 1: u = 0
      step 2: u = 0 + (10 << 6)           = 640
      step 3: u = trunc(640 * 3071 / 4096) = trunc(479.84) = 479
      step 4: u = trunc(479 * 3071 / 4096) = trunc(359.13) = 359
      step 5: u = trunc(359 * 3071 / 4096) = trunc(269.16) = 269
    v decays by (4096 - 512) / 4096 = 7/8 and adds u; threshold is strict v > 10 << 6 = 640:
      step 2: v = 0 + 640 = 640            (640 > 640 is false: no spike)
      step 3: v = trunc(640 * 7/8) + 479 = 560 + 479 = 1039 > 640: spike, v reset to 0
      step 4: v = 0 + 359 = 359
      step 5: v = trunc(359 * 7/8) + 269 = 314 + 269 = 583
    """
    spikes_in = np.zeros((8, 1), dtype=np.int64)
    spikes_in[0] = 1
    w = k.quantize_dense_weights(np.array([[10]]))
    a_buff = np.zeros((1, 1), dtype=np.int64)
    a_in = []
    for s in spikes_in:
        a, a_buff = k.dense_step(s[None], a_buff, w)
        a_in.append(a[0])
    u, v, s = _run_lif(np.array(a_in), k.LifParams(du=1024, dv=512, vth=10))
    u_expected = [0, 640, 640 * 3071 // 4096, 479 * 3071 // 4096, 359 * 3071 // 4096]
    assert u_expected == [0, 640, 479, 359, 269]
    assert u[:5, 0].tolist() == u_expected
    assert v[:5, 0].tolist() == [0, 640, 0, 359, 359 * 3584 // 4096 + 269]
    assert s[:5, 0].tolist() == [False, False, True, False, False]


def test_negative_current_truncates_toward_zero():
    """-640 decays to trunc(-479.84) = -479, not floor = -480: Loihi decays the magnitude."""
    u = update_current(np.array([-640]), np.array([0]), 1024)
    assert u.tolist() == [-479]
    assert decay_toward_zero(np.array([-640, 640]), 1025).tolist() == [-479, 479]


def test_known_spike_time_bias_driven_with_voltage_decay():
    """No input, bias = 25 << 4 = 400 per step, dv = 2048 (v halves), vth = 12 -> 768.

    v_n = trunc(v_{n-1} / 2) + 400: 400, 600, 700, 750, 775 -> 775 > 768 at step 5, reset;
    then the same climb again: spikes at steps 5, 10, 15, ...
    """
    params = k.LifParams(du=0, dv=2048, vth=12, bias_mant=25, bias_exp=4)
    u, v, s = _run_lif(np.zeros((16, 1), dtype=np.int64), params)
    assert (u == 0).all()
    assert v[:5, 0].tolist() == [400, 600, 700, 750, 0]
    assert np.flatnonzero(s[:, 0]).tolist() == [4, 9, 14]  # 0-based: steps 5, 10, 15
    # with vth = 13 (832) the fixed point 800 is never exceeded
    _, _, s2 = _run_lif(
        np.zeros((40, 1), dtype=np.int64),
        k.LifParams(du=0, dv=2048, vth=13, bias_mant=25, bias_exp=4),
    )
    assert not s2.any()


def test_u_wrap_is_one_conditional_step():
    """Lava keeps +2**23 and maps -2**23 to +2**23; beyond that it wraps by 2**24."""
    h = 2**23
    assert wrap_current(np.array([h, h + 1, -h, -h + 1])).tolist() == [h, -h + 1, h, -h + 1]


def test_dense_sign_modes_truncation_and_weight_exp():
    # MIXED drops the LSB by flooring: 3 -> 2, -3 -> -4 (LOIHI.md A2)
    w = np.array([[3, -3, 255, -256]])
    assert k.quantize_dense_weights(w).tolist() == [[2, -4, 254, -256]]
    # clip by sign mode: EXCITATORY [0, 255], INHIBITORY [-255, 0]
    assert k.quantize_dense_weights(np.array([[300, -5]]), "excitatory").tolist() == [[255, 0]]
    assert k.quantize_dense_weights(np.array([[-300, 5]]), "inhibitory").tolist() == [[-255, 0]]
    # 6 weight bits, EXCITATORY: drop 2 bits -> multiples of 4, floored: 7 -> 4, 255 -> 252
    assert k.quantize_dense_weights(np.array([[7, 255]]), "excitatory", 6).tolist() == [[4, 252]]
    # INHIBITORY truncates the magnitude: -7 with 6 bits -> -4
    assert k.truncate_weights(np.array([-7]), "inhibitory", 6).tolist() == [-4]
    # weight_exp shifts the *sum* of the spiking inputs' weights: 2 + (-4) = -2
    s = np.array([[1, 1, 0, 0]])
    wq = np.array([[2, -4, 254, -256]])
    assert k.dense_accumulate(wq, s, weight_exp=0).tolist() == [[-2]]
    assert k.dense_accumulate(wq, s, weight_exp=-2).tolist() == [[-1]]  # floor(-2 / 4) = -1
    assert k.dense_accumulate(wq, s, weight_exp=3).tolist() == [[-16]]
    # graded spikes multiply the weight by the payload
    assert k.dense_accumulate(wq, np.array([[3, 1, 0, 0]]), graded=True).tolist() == [[2]]
    # the delay: dense_step returns last step's buffer
    a_out, buf = k.dense_step(s, np.zeros((1, 1), dtype=np.int64), wq)
    assert a_out.tolist() == [[0]] and buf.tolist() == [[-2]]


def _one_synapse(rule, pre, post, t_epoch=1, x_tau=(10, 0), w0=50, seed=5):
    """Run a 1x1 synapse through the engine with spike trains ``pre``/``post`` (lists of 0/1)."""
    engine = k.LearningEngine(
        dw=rule,
        t_epoch=t_epoch,
        x_impulse=(16, 0),
        x_tau=x_tau,
        y_impulse=(16, 0, 0),
        y_tau=(10, 0, 0),
        rng_seed=seed,
    )
    state = engine.init_state(np.array([[w0]]))
    for a, b in zip(pre, post):
        state = engine.step(state, np.array([[a]]), np.array([[b]]))
    return engine, state


def test_hand_derived_weight_change_exact():
    """dw = 2^-2 * y0 * x1; pre and post spike at step 3 (t_epoch = 1).

    The epoch replay: x1 history = [0 (stored), 0 + impulse 16 at the spike step] -> x1_y0 = 16.
    Product: y0 * x1 * mantissa = 16; widths 7 + 4 = 11 <= 15, no right shift; then
    << (exponent + 7) = << 5 -> 512 accumulator units = 512 / 128 = 4 weight LSBs exactly, so
    stochastic rounding has no fraction to round: w = 50 + 4 = 54.
    """
    rule = LearningRule([Product("y0", [Factor("x1")], 1, -2)])
    _, state = _one_synapse(rule, [0, 0, 1, 0], [0, 0, 1, 0])
    assert state.weights[0, 0, 0] == 54


def test_hand_derived_weight_change_fractional_uses_constant_seed_2():
    """dw = 2^-5 * y0 * x1 with x1 = 16 at each post spike: 16 << 2 = 64 -> 64/128 = 0.5 LSB.

    Rounding: +1 iff r < 0.5, r = Lava's ConnVarRandom (numpy default_rng(2)), advanced once
    before each epoch: epoch e uses draw e = 0.2985, 0.8142, 0.0919, 0.6001, 0.7286 for e=1..5.
    Pre and post spike together at every step (t_epoch = 1), so each epoch adds 0.5 and rounds:
    +1, +0, +1, +0, +0 -> w = 50 + 2 = 52, whatever the trace seed.
    """
    draws = np.random.default_rng(2).random(6)
    rule = LearningRule([Product("y0", [Factor("x1")], 1, -5)])
    for seed in (0, 123):
        # x1 tau = 0: the history row is zeroed each step, so x1 = 16 exactly at every spike
        _, state = _one_synapse(rule, [1] * 5, [1] * 5, x_tau=(0, 0), seed=seed)
        assert state.weights[0, 0, 0] == 50 + int(np.sum(draws[1:6] < 0.5)) == 52


def test_hand_derived_trace_decay_uses_trace_stream():
    """Pre spike at step 1, post at step 3, dw = 2^-2 * y0 * x1, x1 tau = 10, seed 5, t_epoch 1.

    x1 = 16 after step 1 (impulse added at the spike step of the replay). The epoch ending at
    step t replays one decay with the x decay stream (default_rng(seed)) at position 2t (two
    advances per step):
      step 2: 16 * e^-0.1 = 14.477 -> 14 + (r(4) < 0.477)
      step 3: x * e^-0.1           -> floor + (r(6) < fraction)
    At step 3 the post spike reads that value (x1_y0): the product x1 << (-2 + 7) is added to
    w << 7, and the result is rounded with the seed-2 draw 3 (third epoch).
    """
    r = np.random.default_rng(5).random(7)
    x2 = 16 * np.exp(-1 / 10)
    x2 = int(np.floor(x2) + (r[4] < x2 % 1))
    x3 = x2 * np.exp(-1 / 10)
    x3 = int(np.floor(x3) + (r[6] < x3 % 1))
    acc = 50 * 128 + (x3 << 5)  # (x1 * 1) << (exponent -2 + 7)
    r_syn = np.random.default_rng(2).random(4)[3]
    expected = (acc >> 7) + (r_syn < (acc & 127) / 128)
    rule = LearningRule([Product("y0", [Factor("x1")], 1, -2)])
    _, state = _one_synapse(rule, [1, 0, 0, 0], [0, 0, 1, 0])
    assert state.weights[0, 0, 0] == expected


def test_long_product_is_shifted_right_and_not_compensated():
    """2^-4 * u0 * x1 * y2 with x1 = 13, y2 = 27: widths 7 + 7 + 4 = 18 -> shift 3.

    13 * 27 = 351; 351 >> 3 = 43; << (-4 + 7) = 344 accumulator units = 2.6875 LSB (not the
    nominal 351 / 16 = 21.9: the right shift is not undone). Rounded with r: 2 + (r < 0.6875).
    """
    rule = LearningRule([Product("u0", [Factor("x1"), Factor("y2")], 1, -4)])
    assert rule.products[0].right_shift() == 3
    values = {"u": 1, "x1_u": np.array([[[13]]]), "y2_u": np.array([[[27]]])}
    w = np.array([[[10]]])
    assert k.update_synaptic_variable("dw", rule, w, values, 0.6).tolist() == [[[13]]]
    assert k.update_synaptic_variable("dw", rule, w, values, 0.7).tolist() == [[[12]]]
    # a negative product floors: -351 >> 3 = -44 -> -352 units = -2.75 -> -3 + (r < 0.25)
    neg = LearningRule([Product("u0", [Factor("x1"), Factor("y2")], -1, -4)])
    assert k.update_synaptic_variable("dw", neg, w, values, 0.2).tolist() == [[[8]]]
    assert k.update_synaptic_variable("dw", neg, w, values, 0.3).tolist() == [[[7]]]


def test_mantissa_minus_8_is_normalised_like_lava():
    p = Product("x0", [Factor("y1")], -8, 0)
    assert p.lava_scale() == (-4, 1)
    assert Product("x0", [], -8, 8).lava_scale() == (-8, 8)
    assert Product("x0", [], 6, 0).lava_scale() == (6, 0)


def test_saturation_by_sign_mode_and_bounds():
    """One product saturates at [-2**15 - 1, 2**15 - 1] = about +-256 LSB; so does the sum.

    7 * 127 << (8 + 7) overflows the 16-bit accumulator: the product is clipped to 32767.
      w = 100, MIXED: 12800 + 32767 -> clipped 32767 = 255.99 LSB; r = 0 rounds up -> 256,
      clipped to 255.
    The negative product clips to -32769:
      w = 100:  12800 - 32769 = -19969 = -156.0 LSB exactly -> -156 (one epoch moves w by at
      most about 256 LSB);
      w = -100: -12800 - 32769 -> -32769 = -257 + 127/128 -> rounds up (r = 0) to -256.
    EXCITATORY clamps the accumulator at 0 (-19969 -> 0); INHIBITORY at 0 from above and clips
    to [-255, 0].
    """
    pos = LearningRule([Product("x0", [Factor("y1")], 7, 8)])
    neg = LearningRule([Product("x0", [Factor("y1")], -8, 8)])
    values = {"x0": np.array([[[True]]]), "y1_x0": np.array([[[127]]])}
    w = np.array([[[100]]])

    def upd(rule, w0, mode):
        return int(k.update_synaptic_variable("dw", rule, w0, values, 0.0, mode)[0, 0, 0])

    assert upd(pos, w, "mixed") == 255
    assert upd(neg, w, "mixed") == -156
    assert upd(neg, -w, "mixed") == -256
    assert upd(neg, w, "excitatory") == 0
    assert upd(pos, -w, "inhibitory") == 0
    assert upd(neg, -w, "inhibitory") == -255


def test_to_lava_string():
    rule = LearningRule(
        [
            Product("u0", [Factor("x1"), Factor("y2")], 1, -4),
            Product("u0", [Factor("x1"), Factor("y3")], -1, -4),
        ]
    )
    assert rule.to_lava_string() == "1*2^-4*u0*x1*y2 - 1*2^-4*u0*x1*y3"
    rule2 = LearningRule(
        [
            Product("x0", [Factor("w", const=-40), Factor("t", const=3, sgn=True)], -3, 2),
            Product("y0", [Factor("d", sgn=True), Factor("x2", const=0)], 7, 0),
        ]
    )
    assert rule2.to_lava_string() == "-3*2^2*x0*(w-40)*sgn(t+3) + 7*2^0*y0*sgn(d)*(x2+0)"


@pytest.mark.parametrize(
    "build, fragment",
    [
        (
            lambda: k.LifParams(du=5000, dv=0, vth=1),
            "du=5000 is outside the allowed range [0, 4095]",
        ),
        (lambda: k.LifParams(du=0, dv=0, vth=131072), "vth=131072"),
        (lambda: k.LifParams(du=0, dv=0, vth=1, bias_exp=-1), "bias_exp=-1"),
        (lambda: k.LifParams(du=0.5, dv=0, vth=1), "du must be an integer"),
        (lambda: Product("x0", [], 9, 0), "mantissa=9 is outside the allowed range [-8, 7]"),
        (lambda: Product("x0", [], 1, 9), "exponent=9 is outside the allowed range [-7, 8]"),
        (lambda: Product("z0", [], 1, 0), "dependency='z0'"),
        (lambda: Factor("x1", sgn=True), "sgn() applies to"),
        (lambda: Factor("q"), "factor var='q'"),
        (lambda: k.dense_accumulate(np.ones((1, 1), int), np.ones((1, 1)), 9), "weight_exp=9"),
        (lambda: k.truncate_weights(np.ones(2, int), "mixed", 0), "num_weight_bits=0"),
        (lambda: k.as_sign_mode("null"), "sign_mode='null'"),
        (lambda: k.RandomStreams(-1), "rng_seed=-1"),
        (lambda: k.decompose_impulse(-1.0), "impulse=-1.0"),
        (
            lambda: k.LearningEngine(dw=LearningRule([Product("x0", [])]), t_epoch=0),
            "t_epoch=0 is outside the allowed range [1, inf]",
        ),
        (lambda: k.LearningEngine(dw=LearningRule([Product("x0", [])]), post="4F"), "post='4F'"),
        (lambda: k.LearningEngine(dw=LearningRule([Product("x0", [])])), "rng_seed=None"),
        (
            lambda: LearningRule([Product("u1", []), Product("u2", [])]),
            "decimate exponents [1, 2]",
        ),
    ],
)
def test_validation_errors_name_parameter_value_and_range(build, fragment):
    with pytest.raises(ValueError) as err:
        build()
    assert fragment in str(err.value)


def test_streams_in_blocks_equal_one_at_a_time_draws():
    """Lava draws one value per call (random(1)[0], integers(0, 2**7, size=1)[0]); our cache
    draws blocks of 1024 and must give the same sequence."""
    streams = k.RandomStreams(8)
    dec, imp = np.random.default_rng(8), np.random.default_rng(9)
    for pos in range(1500):
        assert streams.x_decay(pos)[0] == dec.random(1)[0]
        assert streams.x_impulse(pos)[0] == imp.integers(0, 2**7, size=1, dtype=int)[0]


def test_batch_of_replicas_equals_separate_runs():
    """Batch-first: 3 replicas with their own seeds and inputs == 3 single runs."""
    rng = np.random.default_rng(0)
    steps, n_pre, n_post = 30, 4, 3
    pre = (rng.random((steps, 3, n_pre)) < 0.4).astype(int)
    post = (rng.random((steps, 3, n_post)) < 0.4).astype(int)
    rule = LearningRule(
        [Product("x0", [Factor("y1")], -1, -1), Product("y0", [Factor("x1")], 3, -2)]
    )
    kw = dict(
        dw=rule,
        t_epoch=2,
        x_impulse=(16.25, 0),
        x_tau=(5, 0),
        y_impulse=(12.5, 0, 0),
        y_tau=(7, 0, 0),
    )
    w0 = rng.integers(-100, 100, (n_post, n_pre))
    batched = k.LearningEngine(**kw, rng_seed=(1, 2, 3))
    state = batched.init_state(w0)
    for t in range(steps):
        state = batched.step(state, pre[t], post[t])
    for b, seed in enumerate((1, 2, 3)):
        single = k.LearningEngine(**kw, rng_seed=seed)
        s1 = single.init_state(w0)
        for t in range(steps):
            s1 = single.step(s1, pre[t, b : b + 1], post[t, b : b + 1])
        np.testing.assert_array_equal(state.weights[b], s1.weights[0])
        np.testing.assert_array_equal(state.x[b], s1.x[0])
        np.testing.assert_array_equal(state.y[b], s1.y[0])


def test_reset_sample_keeps_weights_time_and_streams():
    rule = LearningRule([Product("y0", [Factor("x1")], 1, -2)])
    engine, state = _one_synapse(rule, [1, 1, 0], [0, 1, 0])
    reset = state.reset_sample()
    assert (reset.x == 0).all() and (reset.tx == 0).all() and (reset.y == 0).all()
    assert reset.time_step == state.time_step == 3
    assert (reset.trace_draws, reset.synaptic_draws) == (6, 3)
    np.testing.assert_array_equal(reset.weights, state.weights)
