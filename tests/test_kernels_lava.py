"""Stock Lava 0.10 fixed_pt processes vs spikeport.kernels, bit for bit, all seeds set.

Each test builds a small graph of *stock* processes (RingBuffer sources/sinks, Dense,
LearningDense, LIF, Monitor), runs it with ``Loihi2SimCfg(select_tag="fixed_pt")`` for >= 100
steps, and replays the same inputs through the kernels. A probed Var is read in the
post-management phase, i.e. after the step's spike, reset and learning phases.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikeport.kernels as k

lava = pytest.importorskip("lava")

import lava_util  # noqa: E402
from lava.magma.core.learning.constants import W_TRACE  # noqa: E402
from lava.magma.core.learning.learning_rule import (  # noqa: E402
    Loihi2FLearningRule,
    Loihi3FLearningRule,
)
from lava.magma.core.learning.product_series import ProductSeries  # noqa: E402
from lava.magma.core.learning.random import ConnVarRandom, TraceRandom  # noqa: E402
from lava.magma.core.learning.symbolic_equation import SymbolicEquation  # noqa: E402
from lava.proc.dense.process import Dense, LearningDense  # noqa: E402
from lava.proc.io import sink  # noqa: E402
from lava.proc.io.source import RingBuffer  # noqa: E402
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi  # noqa: E402
from lava.proc.lif.process import LIF  # noqa: E402
from lava.utils.weightutils import SignMode as LavaSignMode  # noqa: E402

pytestmark = pytest.mark.lava

RUN_CFG = lava_util.RUN_CFG
_deadline = lava_util.deadline
_run = lava_util.run
_probe = lava_util.probe


# --------------------------------------------------------------------------- (a) LIF


def _kernel_lif_chain(spikes, weights, weight_exp, params, steps):
    """RingBuffer -> Dense -> LIF through the kernels (Dense delay via dense_step)."""
    n_out = weights.shape[0]
    w = k.quantize_dense_weights(weights)
    state = k.lif_init_state((1, n_out))
    a_buff = np.zeros((1, n_out), dtype=np.int64)
    us, vs, ss = [], [], []
    for t in range(steps):
        a_in, a_buff = k.dense_step(spikes[None, :, t], a_buff, w, weight_exp)
        s, state = k.lif_step(a_in, state, params)
        us.append(state.u[0])
        vs.append(state.v[0])
        ss.append(s[0])
    return np.array(us), np.array(vs), np.array(ss)


def test_lif_matches_py_lif_model_bit_acc():
    steps, n_in, n_out = 150, 10, 6
    rng = np.random.default_rng(11)
    spikes = (rng.random((n_in, steps)) < 0.3).astype(np.int32)
    weights = rng.integers(-120, 200, (n_out, n_in))  # MIXED: negative u exercises trunc toward 0
    bias_mant = rng.integers(-300, 300, n_out)
    bias_exp = rng.integers(0, 4, n_out)
    du, dv, vth = 700, 250, 180
    src = RingBuffer(data=spikes)
    dense = Dense(weights=weights)
    lif = LIF(shape=(n_out,), du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    probes = {
        "u": _probe(lif, "u", steps),
        "v": _probe(lif, "v", steps),
        "s": _probe(lif, "s_out", steps),
    }
    got = _run(lif, steps, probes)
    params = k.LifParams(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp)
    u, v, s = _kernel_lif_chain(spikes, weights, 0, params, steps)
    assert s.sum() > 20 and (~s).sum() > 20, "test needs both spikes and silence"
    assert (u < 0).any() and (v < 0).any(), "test needs negative states"
    np.testing.assert_array_equal(got["s"].astype(bool), s)
    np.testing.assert_array_equal(got["u"], u)
    np.testing.assert_array_equal(got["v"], v)


def test_lif_extremes_wrap_and_saturate_like_lava():
    """Huge inputs (weight_exp=7): u wraps at 24 bits, v saturates at +-(2**23 - 1)."""
    steps, n_in = 100, 8
    rng = np.random.default_rng(3)
    spikes = (rng.random((n_in, steps)) < 0.6).astype(np.int32)
    weights = np.array([[255] * n_in, [-256] * n_in, [255] * 4 + [-256] * 4])
    du, dv, vth = 0, 10, 131071  # du=0 -> u barely decays; vth at its 17-bit maximum
    src = RingBuffer(data=spikes)
    dense = Dense(weights=weights, weight_exp=7)
    lif = LIF(shape=(3,), du=du, dv=dv, vth=vth)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    probes = {"u": _probe(lif, "u", steps), "v": _probe(lif, "v", steps)}
    got = _run(lif, steps, probes)
    u, v, _ = _kernel_lif_chain(spikes, weights, 7, k.LifParams(du=du, dv=dv, vth=vth), steps)
    assert np.abs(np.diff(u[:, 0])).max() > 2**23, "u[0] must wrap"
    assert (v == -(2**23 - 1)).any(), "v must saturate negative"
    np.testing.assert_array_equal(got["u"], u)
    np.testing.assert_array_equal(got["v"], v)


# --------------------------------------------------------------------------- (b) Dense


def test_dense_matches_py_dense_model_bit_acc():
    steps, n_in, n_out = 120, 12, 5
    rng = np.random.default_rng(21)
    # One source feeds all: binary Dense treats any nonzero payload as a spike.
    graded = rng.integers(1, 60, (n_in, steps)) * (rng.random((n_in, steps)) < 0.35)
    cases = {
        # name: (weights, kwargs for Dense, sign_mode for the kernel, num_weight_bits, graded)
        "mixed_negexp": (rng.integers(-300, 300, (n_out, n_in)), {"weight_exp": -2}, None, 8),
        "exc_6bit_posexp": (
            rng.integers(0, 256, (n_out, n_in)),
            {"weight_exp": 1, "num_weight_bits": 6, "sign_mode": LavaSignMode.EXCITATORY},
            k.SignMode.EXCITATORY,
            6,
        ),
        "inh_7bit": (
            rng.integers(-260, 1, (n_out, n_in)),
            {"num_weight_bits": 7, "sign_mode": LavaSignMode.INHIBITORY},
            k.SignMode.INHIBITORY,
            7,
        ),
        "graded_mixed": (rng.integers(-100, 100, (n_out, n_in)), {"num_message_bits": 8}, None, 8),
    }
    src = RingBuffer(data=graded.astype(np.int32))
    procs, probes = {}, {}
    for name, (w, kwargs, _, _) in cases.items():
        dense = Dense(weights=w, **kwargs)
        snk = sink.RingBuffer(shape=(n_out,), buffer=steps)
        src.s_out.connect(dense.s_in)
        dense.a_out.connect(snk.a_in)
        procs[name] = (dense, snk)
    variables = {}
    for name, (dense, snk) in procs.items():
        variables[f"{name}/a"] = snk.data
        variables[f"{name}/w"] = dense.weights
    got = _run(src, steps, probes, variables)

    for name, (w, kwargs, mode, nwb) in cases.items():
        is_graded = name.startswith("graded")
        wq = k.quantize_dense_weights(w, mode, nwb)
        np.testing.assert_array_equal(got[f"{name}/w"], wq, err_msg=name)
        inputs = graded
        a_buff = np.zeros((1, n_out), dtype=np.int64)
        received = []
        for t in range(steps):
            a_out, a_buff = k.dense_step(
                inputs[None, :, t], a_buff, wq, kwargs.get("weight_exp", 0), graded=is_graded
            )
            received.append(a_out[0])
        np.testing.assert_array_equal(got[f"{name}/a"], np.array(received).T, err_msg=name)
    # MIXED dropped the LSB; a negative weight_exp floored negative sums
    assert np.all(got["mixed_negexp/w"] % 2 == 0)
    assert (got["mixed_negexp/a"] < 0).any()


# --------------------------------------------------------------------------- (c) STDP


def _stdp_rule(mant_minus: int, mant_plus: int, exp: int) -> k.LearningRule:
    """STDPLoihi's dw = lr*A-*x0*y1 + lr*A+*y0*x1 as a structured rule."""
    return k.LearningRule(
        [
            k.Product("x0", [k.Factor("y1")], mant_minus, exp),
            k.Product("y0", [k.Factor("x1")], mant_plus, exp),
        ]
    )


def test_stdp_t_epoch_1_closed_loop_weights_every_step():
    """RingBuffer -> LearningDense(STDPLoihi) -> LIF, LIF spikes back as bAP; t_epoch=1."""
    steps, n_pre, n_post = 120, 8, 4
    rng = np.random.default_rng(5)
    spikes = (rng.random((n_pre, steps)) < 0.25).astype(np.int32)
    w0 = rng.integers(-60, 120, (n_post, n_pre))
    w0[0, 0] = 301  # LearningDense only truncates at start (-> 300); the first epoch clips to 255
    lif_kw = dict(du=800, dv=300, vth=300)
    rule = STDPLoihi(
        learning_rate=0.125,
        A_plus=3,
        A_minus=-1,
        tau_plus=10,
        tau_minus=12,
        t_epoch=1,
        rng_seed=7,
    )
    src = RingBuffer(data=spikes)
    dense = LearningDense(weights=w0.copy(), learning_rule=rule)
    lif = LIF(shape=(n_post,), **lif_kw)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(dense.s_in_bap)
    probes = {
        "w": _probe(dense, "weights", steps),
        "x1": _probe(dense, "x1", steps),
        "y1": _probe(dense, "y1", steps),
        "s": _probe(lif, "s_out", steps),
    }
    got = _run(lif, steps, probes)

    engine = k.LearningEngine(
        dw=_stdp_rule(-1, 3, -3),
        t_epoch=1,
        x_impulse=(16, 0),
        x_tau=(10, 0),
        y_impulse=(16, 0, 0),
        y_tau=(12, 0, 0),
        rng_seed=7,
    )
    state = engine.init_state(w0)
    params = k.LifParams(**lif_kw)
    lif_state = k.lif_init_state((1, n_post))
    a_buff = np.zeros((1, n_post), dtype=np.int64)
    ws, x1, y1, ss = [], [], [], []
    for t in range(steps):
        s_pre = spikes[None, :, t]
        a_in, a_buff = k.dense_step(s_pre, a_buff, state.weights)  # weights before learning
        s_post, lif_state = k.lif_step(a_in, lif_state, params)
        state = engine.step(state, s_pre, s_post)
        ws.append(state.weights[0])
        x1.append(state.x[0, 0])
        y1.append(state.y[0, 0])
        ss.append(s_post[0])
    ws = np.array(ws)
    assert ws[0, 0, 0] <= 255 and ws.min() >= -256
    assert 10 < np.sum(ss) < steps * n_post - 10
    assert len(np.unique(ws.reshape(steps, -1), axis=0)) > 20, "weights must keep changing"
    np.testing.assert_array_equal(got["s"].astype(bool), np.array(ss))
    np.testing.assert_array_equal(got["x1"], np.array(x1))
    np.testing.assert_array_equal(got["y1"], np.array(y1))
    np.testing.assert_array_equal(got["w"], ws)


def test_stdp_t_epoch_5_repeat_spikes_fractional_impulses_excitatory():
    """bAP from a RingBuffer (several spikes per epoch), fractional impulses, EXCITATORY."""
    steps, n_pre, n_post, t_epoch = 150, 7, 5, 5
    rng = np.random.default_rng(9)
    pre = (rng.random((n_pre, steps)) < 0.35).astype(np.int32)
    post = (rng.random((n_post, steps)) < 0.35).astype(np.int32)
    w0 = rng.integers(0, 255, (n_post, n_pre))
    rule = STDPLoihi(
        learning_rate=0.25,
        A_plus=1,
        A_minus=-2,
        tau_plus=6,
        tau_minus=9,
        t_epoch=t_epoch,
        rng_seed=123,
        x1_impulse=10.25,
        y1_impulse=14.25,
    )
    src_pre, src_post = RingBuffer(data=pre), RingBuffer(data=post)
    dense = LearningDense(
        weights=w0.copy(), learning_rule=rule, sign_mode=LavaSignMode.EXCITATORY, num_weight_bits=7
    )
    src_pre.s_out.connect(dense.s_in)
    src_post.s_out.connect(dense.s_in_bap)
    probes = {"w": _probe(dense, "weights", steps)}
    got = _run(dense, steps, probes, {"x1": dense.x1, "y1": dense.y1, "tx": dense.tx})

    # lr=0.25 -> "(1) * 2 ^ -2", A- = -2 -> "(-2)", A+ = 1 -> "(1)"
    ours = k.LearningRule(
        [k.Product("x0", [k.Factor("y1")], -2, -2), k.Product("y0", [k.Factor("x1")], 1, -2)]
    )
    engine = k.LearningEngine(
        dw=ours,
        t_epoch=t_epoch,
        x_impulse=(10.25, 0),
        x_tau=(6, 0),
        y_impulse=(14.25, 0, 0),
        y_tau=(9, 0, 0),
        rng_seed=123,
        sign_mode="excitatory",
        num_weight_bits=7,
    )
    state = engine.init_state(w0)
    ws = []
    for t in range(steps):
        state = engine.step(state, pre[None, :, t], post[None, :, t])
        ws.append(state.weights[0])
    ws = np.array(ws)
    epoch_ends = np.arange(t_epoch - 1, steps, t_epoch)  # 0-based index of steps 5, 10, ...
    inside = np.setdiff1d(np.arange(1, steps), epoch_ends)
    np.testing.assert_array_equal(ws[inside], ws[inside - 1])  # weights move at epoch ends only
    assert (ws == 0).any() and len(np.unique(ws[epoch_ends], axis=0)) > 10
    np.testing.assert_array_equal(got["w"], ws)
    np.testing.assert_array_equal(got["x1"], state.x[0, 0])
    np.testing.assert_array_equal(got["y1"], state.y[0, 0])
    np.testing.assert_array_equal(got["tx"], state.tx[0])


# --------------------------------------------------------------------------- (d) 3-factor


def test_three_factor_rule_y2_y3_from_sources():
    """Loihi3FLearningRule dw = 2^-4*u0*x1*y2 - 2^-4*u0*x1*y3; bAP and y1..y3 from RingBuffers.

    Lava reads s_in_y1..3 as int32 graded values every step (7-bit unsigned by convention) and
    the rule uses the values received at the epoch's last step -- after replaying them through
    the epoch's trace decay with tau = 65535. rng_seed=23 is chosen so that this shows: the
    y-decay random number at the end of epoch 10 (t=100, stream seed 23 + 2, position 200) is
    0.99965, above the rounding fraction of 30 * exp(-1/65535) (0.99954), so the replayed steps
    round down (until y <= 23, where the fraction exceeds 0.99965) and Lava's rule sees y2 = 23
    for neuron 0 instead of the 30 it received.
    """
    steps, n_pre, n_post, t_epoch = 120, 6, 5, 10
    rng = np.random.default_rng(17)
    pre = (rng.random((n_pre, steps)) < 0.3).astype(np.int32)
    pre[-1] = 0  # a silent input: its weights must not move
    bap = (rng.random((n_post, steps)) < 0.2).astype(np.int32)
    y = np.zeros((3, n_post, steps), dtype=np.int32)
    y[0] = rng.integers(0, 128, (n_post, steps))
    y[1, 0] = 30  # neuron 0: LTP magnitude
    y[2, 1] = 30  # neuron 1: LTD magnitude
    y[1, 2] = rng.integers(0, 128, steps)  # neuron 2: changing values
    y[2, 2] = rng.integers(0, 128, steps)
    y[1, 4], y[2, 4] = 200, -20  # out of 7 bits: Lava takes them raw (factors clip to [-128, 127])
    w0 = rng.integers(-50, 50, (n_post, n_pre))
    dw = "2^-4*u0*x1*y2 - 2^-4*u0*x1*y3"
    seed = 23
    rule = Loihi3FLearningRule(dw=dw, x1_impulse=20, x1_tau=12, t_epoch=t_epoch, rng_seed=seed)
    dense = LearningDense(weights=w0.copy(), learning_rule=rule)
    src_pre, src_bap = RingBuffer(data=pre), RingBuffer(data=bap)
    src_pre.s_out.connect(dense.s_in)
    src_bap.s_out.connect(dense.s_in_bap)
    for i, port in enumerate((dense.s_in_y1, dense.s_in_y2, dense.s_in_y3)):
        src = RingBuffer(data=y[i])
        src.s_out.connect(port)
    probes = {"w": _probe(dense, "weights", steps)}
    got = _run(dense, steps, probes, {"x1": dense.x1, "y2": dense.y2})

    ours = k.LearningRule(
        [
            k.Product("u0", [k.Factor("x1"), k.Factor("y2")], 1, -4),
            k.Product("u0", [k.Factor("x1"), k.Factor("y3")], -1, -4),
        ]
    )
    assert ours.to_lava_string() == "1*2^-4*u0*x1*y2 - 1*2^-4*u0*x1*y3"
    engine = k.LearningEngine(
        dw=ours, t_epoch=t_epoch, x_impulse=(20, 0), x_tau=(12, 0), post="3F", rng_seed=seed
    )
    r_end10 = engine.streams.y_decay(2 * 100)
    replayed = k.replay_epoch(
        np.full((1, 1, 1), 30), np.zeros((1, 1)), t_epoch, [65535], [0], [0], r_end10, [0]
    )
    assert r_end10[0] > 0.9996 and replayed[-1, 0, 0, 0] == 23
    state = engine.init_state(w0)
    ws = []
    for t in range(steps):
        state = engine.step(state, pre[None, :, t], bap[None, :, t], y[None, :, :, t])
        ws.append(state.weights[0])
    ws = np.array(ws)
    np.testing.assert_array_equal(got["w"], ws)
    np.testing.assert_array_equal(got["x1"], state.x[0, 0])
    np.testing.assert_array_equal(got["y2"], state.y[0, 1])
    change = ws[-1] - engine.init_state(w0).weights[0]
    assert (change[0, :-1] > 0).all(), "y2 potentiates the active inputs of neuron 0"
    assert (change[1, :-1] < 0).all(), "y3 depresses the active inputs of neuron 1"
    assert (change[:, -1] == 0).all() and (change[3] == 0).all(), "no x1 or no y: no change"


GENERAL_DW = k.LearningRule(
    [
        # widths 7 + 9 + 4 = 20 -> each of these products drops 5 low bits before scaling
        k.Product("x0", [k.Factor("y2"), k.Factor("w", const=-40)], -3, -6),
        k.Product("u1", [k.Factor("x2"), k.Factor("d", sgn=True)], 5, -3),
        k.Product("y0", [k.Factor("x1", const=-10), k.Factor("t")], 7, -5),
    ]
)
GENERAL_DD = k.LearningRule(
    [k.Product("x0", [k.Factor("x1")], 1, -3), k.Product("u1", [k.Factor("d", const=2)], -1, -2)]
)
GENERAL_DT = k.LearningRule(
    [
        k.Product("y0", [k.Factor("y1", const=-8)], 3, -2),
        k.Product("u1", [k.Factor("t", sgn=True)], -1, 1),
    ]
)


@pytest.mark.parametrize("post, sign_mode", [("2F", "inhibitory"), ("none", "mixed")])
def test_general_rule_dw_dd_dt_tags_constants_sgn_u1(post, sign_mode):
    """dw, dd and dt together, with (var + C), sgn(), u1 (every other epoch), 5 traces, t_epoch=3.

    post="2F": Loihi2FLearningRule with bAP from a RingBuffer; post="none": the bare
    LoihiLearningRule, whose bAP port Lava never reads (so it is left unconnected: y0 stays 0).
    """
    from lava.magma.core.learning.learning_rule import LoihiLearningRule

    steps, n_pre, n_post, t_epoch, seed = 120, 5, 4, 3, 99
    rng = np.random.default_rng(29)
    pre = (rng.random((n_pre, steps)) < 0.3).astype(np.int32)
    post_spikes = (rng.random((n_post, steps)) < 0.3).astype(np.int32)
    lo, hi = k.weight_bounds(sign_mode)
    w0 = rng.integers(max(lo, -200), min(hi, 200) + 1, (n_post, n_pre))
    tag_2 = rng.integers(0, 40, (n_post, n_pre))
    tag_1 = rng.integers(-60, 60, (n_post, n_pre))
    traces = dict(
        x1_impulse=20,
        x1_tau=8,
        x2_impulse=12.75,
        x2_tau=20,
        y1_impulse=25,
        y1_tau=6,
        y2_impulse=9.5,
        y2_tau=15,
    )
    cls = Loihi2FLearningRule if post == "2F" else LoihiLearningRule
    rule = cls(
        dw=GENERAL_DW.to_lava_string(),
        dd=GENERAL_DD.to_lava_string(),
        dt=GENERAL_DT.to_lava_string(),
        t_epoch=t_epoch,
        rng_seed=seed,
        **traces,
    )
    dense = LearningDense(
        weights=w0.copy(),
        tag_1=tag_1.copy(),
        tag_2=tag_2.copy(),
        learning_rule=rule,
        sign_mode=LavaSignMode[sign_mode.upper()],
    )
    RingBuffer(data=pre).s_out.connect(dense.s_in)
    if post == "2F":
        RingBuffer(data=post_spikes).s_out.connect(dense.s_in_bap)
    probes = {
        "w": _probe(dense, "weights", steps),
        "d": _probe(dense, "tag_2", steps),
        "t": _probe(dense, "tag_1", steps),
    }
    got = _run(dense, steps, probes, {"x2": dense.x2, "y2": dense.y2})

    engine = k.LearningEngine(
        dw=GENERAL_DW,
        dd=GENERAL_DD,
        dt=GENERAL_DT,
        t_epoch=t_epoch,
        x_impulse=(20, 12.75),
        x_tau=(8, 20),
        y_impulse=(25, 9.5, 0),
        y_tau=(6, 15, 0),
        sign_mode=sign_mode,
        post=post,
        rng_seed=seed,
    )
    state = engine.init_state(w0, tag_1=tag_1, tag_2=tag_2)
    ws, ds, ts = [], [], []
    for t in range(steps):
        state = engine.step(
            state, pre[None, :, t], post_spikes[None, :, t] if post == "2F" else None
        )
        ws.append(state.weights[0])
        ds.append(state.tag_2[0])
        ts.append(state.tag_1[0])
    ws, ds, ts = np.array(ws), np.array(ds), np.array(ts)
    for name, ours in (("w", ws), ("d", ds), ("t", ts)):
        assert len(np.unique(ours.reshape(steps, -1), axis=0)) > 10, f"{name} must change"
    np.testing.assert_array_equal(got["w"], ws)
    np.testing.assert_array_equal(got["d"], ds)
    np.testing.assert_array_equal(got["t"], ts)
    np.testing.assert_array_equal(got["x2"], state.x[0, 1])
    np.testing.assert_array_equal(got["y2"], state.y[0, 1])


# --------------------------------------------------------------------------- rules, streams


@pytest.mark.parametrize(
    "rule",
    [
        _stdp_rule(-1, 3, -3),
        k.LearningRule(
            [
                k.Product("u2", [k.Factor("x2"), k.Factor("w", const=-12)], -8, 2),
                k.Product("y0", [k.Factor("x1", const=5), k.Factor("y3")], 5, -7),
                k.Product("x0", [k.Factor("t", const=3, sgn=True), k.Factor("y0")], 7, 8),
                k.Product("u2", [k.Factor("d", sgn=True)], 2, 0),
            ]
        ),
    ],
)
def test_rule_string_parses_to_the_same_products_in_lava(rule):
    """Mappability: Lava parses to_lava_string() into the products we evaluate."""
    series = ProductSeries(SymbolicEquation("dw", rule.to_lava_string()))
    assert len(series.products) == len(rule.products)
    for lp, ours in zip(series.products, rule.products):
        m, e = ours.lava_scale()
        assert lp.dependency == ours.dependency_kind
        assert (lp.s_mantissa, lp.s_exp) == (m, e + 7)
        got = [
            (f.state_var, f.const if f.const is not None else None, f.is_sgn) for f in lp.factors
        ]
        want = [(f.var, f.const, f.sgn) for f in ours.factors]
        assert got == want
    assert series.decimate_exponent == rule.decimate_exponent


def test_stdp_loihi_string_matches_structured_rule():
    lava_rule = STDPLoihi(learning_rate=0.125, A_plus=3, A_minus=-1, tau_plus=10, tau_minus=12)
    assert isinstance(lava_rule, Loihi2FLearningRule)  # -> post="2F" in our engine
    ours = _stdp_rule(-1, 3, -3)
    for lp, op in zip(lava_rule.dw.products, ours.products):
        mant, exp = op.lava_scale()
        assert (lp.dependency, lp.s_mantissa, lp.s_exp) == (op.dependency, mant, exp + 7)
        assert [f.state_var for f in lp.factors] == [f.var for f in op.factors]


def test_random_streams_match_lava_generators():
    """Our position-indexed streams equal Lava's TraceRandom/ConnVarRandom advanced in turn."""
    seed = 31
    x, y = TraceRandom(seed, seed + 1), TraceRandom(seed + 2, seed + 3)
    conn = ConnVarRandom()
    ours = k.RandomStreams(seed)
    for pos in range(2500):  # crosses the 1024-value cache blocks
        assert ours.x_decay(pos)[0] == x.random_trace_decay
        assert ours.x_impulse(pos)[0] == x.random_impulse_addition
        assert ours.y_decay(pos)[0] == y.random_trace_decay
        assert ours.y_impulse(pos)[0] == y.random_impulse_addition
        assert ours.synaptic(pos) == conn.random_stochastic_round
        assert 0 <= x.random_impulse_addition < 2**W_TRACE
        x.advance()
        y.advance()
        conn.advance()
