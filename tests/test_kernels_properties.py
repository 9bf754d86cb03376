"""Property tests (hypothesis) for spikeport.kernels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import spikeport.kernels as k
from spikeport.kernels.learning import (
    FACTOR_VARS,
    TAG1_BOUNDS,
    TAG2_BOUNDS,
    TRACES,
    Factor,
    LearningRule,
    Product,
)
from spikeport.kernels.lif import STATE_HALF, V_MAX, V_MIN

SETTINGS = settings(max_examples=40, deadline=None)
SIGN_MODES = st.sampled_from(["mixed", "excitatory", "inhibitory"])
DEPENDENCIES = st.sampled_from(["x0", "y0", "u0", "u1"])


@st.composite
def factors(draw, allow_const=True):
    var = draw(st.sampled_from(FACTOR_VARS))
    sgn = var in ("w", "d", "t") and draw(st.booleans())
    const = draw(st.none() | st.integers(-40, 40)) if allow_const else None
    return Factor(var, const, sgn)


@st.composite
def products(draw, dependency=None):
    dep = draw(DEPENDENCIES) if dependency is None else dependency
    fs = draw(st.lists(factors(), min_size=0, max_size=3))
    return Product(dep, fs, draw(st.integers(-8, 7)), draw(st.integers(-7, 8)))


@st.composite
def rules(draw):
    k_ = draw(st.sampled_from(["u0", "u1"]))
    ps = draw(st.lists(products(), min_size=1, max_size=4))
    # one decimate exponent per rule set
    ps = [
        Product(k_, p.factors, p.mantissa, p.exponent) if p.dependency.startswith("u") else p
        for p in ps
    ]
    return LearningRule(ps)


@st.composite
def silent_safe_rules(draw):
    """Rules that cannot change anything without spikes: every product is gated by x0/y0, or
    (u-gated) carries a plain trace factor, which stays 0 when nothing ever spikes."""
    ps = []
    for _ in range(draw(st.integers(1, 4))):
        p = draw(products())
        if p.dependency.startswith("u"):
            trace = Factor(draw(st.sampled_from(TRACES)))
            p = Product("u1", p.factors + (trace,), p.mantissa, p.exponent)
        ps.append(p)
    return LearningRule(ps)


def _engine(draw_rule, t_epoch, mode, seed, post="2F"):
    return k.LearningEngine(
        dw=draw_rule,
        dd=draw_rule,
        dt=draw_rule,
        t_epoch=t_epoch,
        x_impulse=(16, 9.5),
        x_tau=(6, 20),
        y_impulse=(20, 12, 7.25),
        y_tau=(5, 9, 30),
        sign_mode=mode,
        post=post,
        rng_seed=seed,
    )


@SETTINGS
@given(
    rule=silent_safe_rules(),
    mode=SIGN_MODES,
    t_epoch=st.integers(1, 4),
    seed=st.integers(0, 2**20),
    data=st.data(),
)
def test_no_spikes_no_weight_change(rule, mode, t_epoch, seed, data):
    n_post, n_pre = 3, 4
    lo, hi = k.weight_bounds(mode)
    w0 = data.draw(st.lists(st.integers(lo, hi), min_size=n_post * n_pre, max_size=n_post * n_pre))
    w0 = k.truncate_weights(np.array(w0).reshape(n_post, n_pre), mode)
    engine = _engine(rule, t_epoch, mode, seed)
    state = engine.init_state(w0, tag_1=np.full(w0.shape, 7), tag_2=np.full(w0.shape, 9))
    silent_pre, silent_post = np.zeros((1, n_pre)), np.zeros((1, n_post))
    for _ in range(3 * t_epoch):
        state = engine.step(state, silent_pre, silent_post)
    np.testing.assert_array_equal(state.weights[0], w0)
    assert (state.tag_1 == 7).all() and (state.tag_2 == 9).all()
    assert (state.x == 0).all() and (state.y == 0).all()


@SETTINGS
@given(
    rule=rules(),
    mode=SIGN_MODES,
    t_epoch=st.integers(1, 3),
    seed=st.integers(0, 2**20),
    post=st.sampled_from(["2F", "3F", "none"]),
    data=st.data(),
)
def test_weights_and_tags_stay_within_bounds(rule, mode, t_epoch, seed, post, data):
    n_post, n_pre, steps = 3, 4, 9
    lo, hi = k.weight_bounds(mode)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**20)))
    w0 = rng.integers(lo, hi + 1, (n_post, n_pre))
    engine = _engine(rule, t_epoch, mode, seed, post)
    state = engine.init_state(
        w0, tag_1=rng.integers(-300, 300, w0.shape), tag_2=rng.integers(-50, 300, w0.shape)
    )
    for _ in range(steps):
        y_in = rng.integers(0, 128, (1, 3, n_post)) if post == "3F" else None
        state = engine.step(
            state, rng.random((1, n_pre)) < 0.5, rng.random((1, n_post)) < 0.5, y_in
        )
        if state.time_step % t_epoch == 0:
            assert lo <= state.weights.min() and state.weights.max() <= hi
            assert TAG2_BOUNDS[0] <= state.tag_2.min() and state.tag_2.max() <= TAG2_BOUNDS[1]
            assert TAG1_BOUNDS[0] <= state.tag_1.min() and state.tag_1.max() <= TAG1_BOUNDS[1]
        assert 0 <= state.x.min() and state.x.max() <= 127
        if post != "3F":
            assert 0 <= state.y.min() and state.y.max() <= 127


@SETTINGS
@given(
    u=st.lists(st.integers(-STATE_HALF + 1, STATE_HALF), min_size=1, max_size=6),
    data=st.data(),
    du=st.integers(0, 4095),
    dv=st.integers(0, 4095),
    vth=st.integers(0, 131071),
)
def test_lif_state_stays_in_24_bit_ranges(u, data, du, dv, vth):
    n = len(u)
    v = data.draw(st.lists(st.integers(V_MIN, V_MAX), min_size=n, max_size=n))
    a_in = np.array(data.draw(st.lists(st.integers(-(2**15), 2**15 - 1), min_size=n, max_size=n)))
    params = k.LifParams(
        du=du,
        dv=dv,
        vth=vth,
        bias_mant=data.draw(st.integers(-4096, 4095)),
        bias_exp=data.draw(st.integers(0, 7)),
    )
    state = k.LifState(np.array([u]), np.array([v]))
    for _ in range(3):
        s, state = k.lif_step(a_in[None], state, params)
        assert (state.u > -STATE_HALF).all() and (state.u <= STATE_HALF).all()
        assert (state.v >= V_MIN).all() and (state.v <= V_MAX).all()
        assert (state.v[s] == 0).all()


@SETTINGS
@given(x=st.lists(st.integers(-(2**23), 2**23), min_size=1, max_size=20), d=st.integers(0, 4096))
def test_decay_is_odd_and_shrinks(x, d):
    x = np.array(x)
    out = k.decay_toward_zero(x, d)
    np.testing.assert_array_equal(k.decay_toward_zero(-x, d), -out)
    assert (np.abs(out) <= np.abs(x)).all()


@SETTINGS
@given(
    w=st.lists(st.integers(-400, 400), min_size=1, max_size=20),
    mode=SIGN_MODES,
    nwb=st.integers(1, 8),
)
def test_quantized_weights_in_bounds_on_grid_and_idempotent(w, mode, nwb):
    q = k.quantize_dense_weights(np.array(w), mode, nwb)
    lo, hi = k.weight_bounds(mode)
    assert lo <= q.min() and q.max() <= hi
    assert (q % (1 << k.truncation_bits(mode, nwb)) == 0).all()
    np.testing.assert_array_equal(k.quantize_dense_weights(q, mode, nwb), q)


@SETTINGS
@given(
    acc=st.lists(st.integers(-(2**15) - 1, 2**15 - 1), min_size=1, max_size=20),
    r=st.floats(0, 1, exclude_max=True),
)
def test_stochastic_rounding_picks_a_neighbour(acc, r):
    acc = np.array(acc)
    out = k.stochastic_round_accumulator(acc, r)
    floor = np.floor(acc / 128).astype(np.int64)
    assert ((out == floor) | (out == floor + 1)).all()
    np.testing.assert_array_equal(out[acc % 128 == 0], acc[acc % 128 == 0] // 128)


@SETTINGS
@given(
    x=st.lists(st.integers(0, 127), min_size=2, max_size=2),
    tau=st.floats(0.5, 500),
    imp=st.floats(0, 255),
    r=st.floats(0, 1, exclude_max=True),
    ri=st.integers(0, 127),
    t_epoch=st.integers(1, 8),
    when=st.integers(0, 8),
)
def test_trace_replay_stays_7_bit_and_decays(x, tau, imp, r, ri, t_epoch, when):
    imp_int, imp_frac = k.decompose_impulse([imp])
    hist = k.replay_epoch(
        np.array(x)[None, None, :],
        np.array([[min(when, t_epoch), 0]]),
        t_epoch,
        [tau],
        imp_int,
        imp_frac,
        [r],
        [ri],
    )
    assert hist.min() >= 0 and hist.max() <= 127
    # the neuron that never spikes only decays
    assert (np.diff(hist[:, 0, 0, 1]) <= 0).all()


@SETTINGS
@given(rule=rules(), mode=SIGN_MODES, seed=st.integers(0, 2**20), data=st.data())
def test_tag_masked_synapses_never_change(rule, mode, seed, data):
    """A tag factor as mask: every product times ``t`` (tag_1); tag_1 = 0 freezes a synapse."""
    masked = LearningRule(
        [
            Product(p.dependency, p.factors + (Factor("t"),), p.mantissa, p.exponent)
            for p in rule.products
        ]
    )
    n_post, n_pre = 3, 4
    rng = np.random.default_rng(data.draw(st.integers(0, 2**20)))
    lo, hi = k.weight_bounds(mode)
    w0 = k.truncate_weights(rng.integers(lo, hi + 1, (n_post, n_pre)), mode)
    mask = rng.random((n_post, n_pre)) < 0.5
    engine = k.LearningEngine(
        dw=masked,
        t_epoch=2,
        x_impulse=(16, 9.5),
        x_tau=(6, 20),
        y_impulse=(20, 12, 7.25),
        y_tau=(5, 9, 30),
        sign_mode=mode,
        rng_seed=seed,
    )
    state = engine.init_state(w0, tag_1=mask.astype(int))
    for _ in range(8):
        state = engine.step(state, rng.random((1, n_pre)) < 0.5, rng.random((1, n_post)) < 0.5)
    np.testing.assert_array_equal(state.weights[0][~mask], w0[~mask])
