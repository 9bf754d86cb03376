"""spikeport's ProcessModels against stock Lava wherever a stock equivalent exists, and the
whole graph against a kernel-only replay of its semantics, bit for bit, seeds set.

Stock equivalents: ``ThirdFactorLIF`` with no third factor/homeostasis/reset = ``LIF``
(``PyLifModelBitAcc``); ``ResetDense`` without resets = ``Dense`` (``PyDenseModelBitAcc``);
``PlasticDense`` over one long sample = ``LearningDense`` (``STDPLoihi``, and the three-factor
supervised rule with y values coming from ``ThirdFactorLIF``). Sample resets, the relay and
homeostasis have no stock counterpart: :func:`replay` runs the graph's semantics through the
kernels alone (the order of one step is in its docstring).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spikeport.backends.emulator.reference import replay
from spikeport.converters.lava_rules import naca_plan, stdp_plan, supervised_stdp_plan
from spikeport.converters.quantize import QuantizeOptions, quantize
from spikeport.flow.plans import RulePlan
from spikeport.models import (
    NACA,
    SBP,
    STDP,
    BetweenSamples,
    Connectivity,
    Encoder,
    Homeostasis,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
    WeightInit,
)
from spikeport.models.weights import initial_weights

lava = pytest.importorskip("lava")

import lava_util  # noqa: E402
from lava.magma.core.learning.product_series import ProductSeries  # noqa: E402
from lava.magma.core.learning.symbolic_equation import SymbolicEquation  # noqa: E402
from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.proc.dense.process import Dense, LearningDense  # noqa: E402
from lava.proc.io import sink  # noqa: E402
from lava.proc.io.source import RingBuffer  # noqa: E402
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi  # noqa: E402
from lava.proc.lif.process import LIF  # noqa: E402
from lava.utils.weightutils import SignMode as LavaSignMode  # noqa: E402

from spikeport.lava_processes.dense import PlasticDense, ResetDense  # noqa: E402
from spikeport.lava_processes.graph import build_graph, lava_rule  # noqa: E402
from spikeport.lava_processes.lif import ThirdFactorLIF  # noqa: E402
from spikeport.lava_processes.schedule import collect  # noqa: E402
from spikeport.lava_processes.sources import SpikeSource  # noqa: E402

pytestmark = pytest.mark.lava
RUN_CFG = lava_util.RUN_CFG
_deadline = lava_util.deadline
_run = lava_util.run
_probe = lava_util.probe


# ------------------------------------------------------------------------------- kernel replay


# ------------------------------------------------------------------------------- stock LIF/Dense


def test_third_factor_lif_and_reset_dense_equal_stock_lif_and_dense():
    """No third factor, no homeostasis, no reset: ThirdFactorLIF + ResetDense ≡ LIF + Dense."""
    steps, n_in, n_out = 150, 10, 6
    rng = np.random.default_rng(11)
    spikes = (rng.random((n_in, steps)) < 0.3).astype(np.int32)
    weights = rng.integers(-120, 200, (n_out, n_in))  # MIXED: negative u and v occur
    bias_mant = rng.integers(-300, 300, n_out)
    bias_exp = rng.integers(0, 4, n_out)
    kw = dict(du=700, dv=250, vth=180, bias_mant=bias_mant, bias_exp=bias_exp)
    src = RingBuffer(data=spikes)
    stock_d, stock_l = Dense(weights=weights), LIF(shape=(n_out,), **kw)
    ours_d = ResetDense(weights=weights, sign_mode="mixed")
    ours_l = ThirdFactorLIF(shape=(n_out,), **kw)
    for d, lif in ((stock_d, stock_l), (ours_d, ours_l)):
        src.s_out.connect(d.s_in)
        d.a_out.connect(lif.a_in)
    probes = {f"{who}_{var}": _probe(lif, var, steps) for who, lif in
              (("stock", stock_l), ("ours", ours_l)) for var in ("u", "v", "s_out")}
    got = _run(src, steps, probes, {"updates": ours_l.neuron_updates, "ops": ours_d.syn_ops,
                                    "n_spk": ours_l.spikes})
    for var in ("u", "v", "s_out"):
        np.testing.assert_array_equal(got[f"ours_{var}"], got[f"stock_{var}"], err_msg=var)
    s = got["ours_s_out"].astype(bool)
    assert 20 < s.sum() < s.size - 20 and (got["ours_u"] < 0).any() and (got["ours_v"] < 0).any()
    # op counts: n neurons per step; spikes × nonzero weights in the spiking inputs' columns
    assert got["updates"][0] == steps * n_out and got["n_spk"][0] == s.sum()
    assert got["ops"][0] == int((spikes.T @ (weights != 0).sum(axis=0)).sum())


def test_reset_dense_equals_stock_dense_every_sign_mode():
    steps, n_in, n_out = 120, 12, 5
    rng = np.random.default_rng(21)
    spikes = (rng.random((n_in, steps)) < 0.35).astype(np.int32)
    cases = {
        "mixed_negexp": (rng.integers(-300, 300, (n_out, n_in)), "mixed", -2),
        "exc_posexp": (rng.integers(0, 256, (n_out, n_in)), "excitatory", 1),
        "inh": (rng.integers(-260, 1, (n_out, n_in)), "inhibitory", 0),
    }
    src = RingBuffer(data=spikes)
    variables = {}
    for name, (w, mode, exp) in cases.items():
        for who, d in (("stock", Dense(weights=w, weight_exp=exp,
                                       sign_mode=LavaSignMode[mode.upper()])),
                       ("ours", ResetDense(weights=w, weight_exp=exp, sign_mode=mode))):
            snk = sink.RingBuffer(shape=(n_out,), buffer=steps)
            src.s_out.connect(d.s_in)
            d.a_out.connect(snk.a_in)
            variables[f"{name}/{who}/a"] = snk.data
            variables[f"{name}/{who}/w"] = d.weights
    got = _run(src, steps, {}, variables)
    for name in cases:
        for var in ("a", "w"):
            np.testing.assert_array_equal(got[f"{name}/ours/{var}"], got[f"{name}/stock/{var}"],
                                          err_msg=f"{name} {var}")
    assert (got["mixed_negexp/ours/a"] < 0).any()


# ------------------------------------------------------------------------------- stock learning


def test_plastic_dense_equals_stock_learning_dense_stdploihi():
    """Closed loop, t_epoch = 1, one long sample: PlasticDense ≡ LearningDense(STDPLoihi)."""
    steps, n_pre, n_post = 120, 8, 4
    rng = np.random.default_rng(5)
    spikes = (rng.random((n_pre, steps)) < 0.25).astype(np.int32)
    w0 = rng.integers(-60, 120, (n_post, n_pre))
    lif_kw = dict(du=800, dv=300, vth=300)
    stock_rule = STDPLoihi(learning_rate=0.125, A_plus=3, A_minus=-1, tau_plus=10,
                           tau_minus=12, t_epoch=1, rng_seed=7)
    # STDPLoihi: dw = lr·A−·x0·y1 + lr·A+·y0·x1 = −1·2^−3·x0·y1 + 3·2^−3·y0·x1; impulses 16
    plan = RulePlan(kind="stdp", t_epoch=1, post="2F",
                    products=(("x0", ("y1",), -1, -3), ("y0", ("x1",), 3, -3)),
                    x_impulse=(16, 0), x_tau=(10, 0), y_impulse=(16, 0, 0), y_tau=(12, 0, 0),
                    rng_seed=7)
    src = RingBuffer(data=spikes)
    stock = LearningDense(weights=w0.copy(), learning_rule=stock_rule)
    ours = PlasticDense(weights=w0.copy(), rule=plan.to_dict(), sign_mode="mixed")
    lifs = {}
    for who, d in (("stock", stock), ("ours", ours)):
        lif = LIF(shape=(n_post,), **lif_kw) if who == "stock" else \
            ThirdFactorLIF(shape=(n_post,), **lif_kw)
        src.s_out.connect(d.s_in)
        d.a_out.connect(lif.a_in)
        (lif.s_out if who == "stock" else lif.s_out_bap).connect(d.s_in_bap)
        lifs[who] = lif
    probes = {"stock_w": _probe(stock, "weights", steps), "ours_w": _probe(ours, "weights", steps),
              "stock_s": _probe(lifs["stock"], "s_out", steps),
              "ours_s": _probe(lifs["ours"], "s_out", steps)}
    got = _run(src, steps, probes, {"stock_x1": stock.x1, "ours_x1": ours.x1,
                                    "stock_y1": stock.y1, "ours_y1": ours.y1,
                                    "upd": ours.syn_updates, "tr": ours.trace_updates})
    for var in ("w", "s", "x1", "y1"):
        np.testing.assert_array_equal(got[f"ours_{var}"], got[f"stock_{var}"], err_msg=var)
    ws = got["ours_w"].reshape(steps, -1)
    assert len(np.unique(ws, axis=0)) > 20, "weights must keep changing"
    # syn_updates: per step, synapses of a spiking pre (x0 product) or spiking post (y0)
    s_post = got["ours_s"].astype(bool)  # (steps, n_post)
    expect = sum(n_post * spikes[:, t].sum() + s_post[t].sum() * (n_pre - spikes[:, t].sum())
                 for t in range(steps))
    assert got["upd"][0] == expect
    assert got["tr"][0] == steps * (n_pre + n_post)  # x1 and y1, every epoch


def test_supervised_three_factor_equals_stock_learning_dense():
    """ThirdFactorLIF's y ports drive both our PlasticDense and a stock LearningDense running
    ``lava_rule(plan)`` (Loihi3FLearningRule): same weights, spikes, traces every step."""
    steps, n_pre, n_post = 120, 8, 4
    rng = np.random.default_rng(8)
    pre = (rng.random((n_pre, steps)) < 0.3).astype(np.int32)
    teach = rng.random((1, steps, n_post)) < 0.2
    w0 = rng.integers(0, 120, (n_post, n_pre))
    plan = supervised_stdp_plan(SupervisedSTDP(eta=0.05, tau_pre=0.01), lsb_per_unit=60.0,
                                dt=0.001, impulse_max=40, rng_seed=1234)
    assert plan.post == "3F" and plan.teacher_y >= 8
    lif_kw = dict(du=900, dv=400, vth=700)
    src = RingBuffer(data=pre)
    tsrc = SpikeSource(data=teach, payload=plan.teacher_y)
    stock = LearningDense(weights=w0.copy(), learning_rule=lava_rule(plan),
                          sign_mode=LavaSignMode.EXCITATORY)
    ours = PlasticDense(weights=w0.copy(), rule=plan.to_dict(), sign_mode="excitatory")
    lifs = {}
    for who, d in (("stock", stock), ("ours", ours)):
        lif = ThirdFactorLIF(shape=(n_post,), **lif_kw)
        src.s_out.connect(d.s_in)
        d.a_out.connect(lif.a_in)
        tsrc.y_out.connect(lif.a_third_factor_in)
        lif.s_out_bap.connect(d.s_in_bap)
        lif.s_out_y1.connect(d.s_in_y1)
        lif.s_out_y2.connect(d.s_in_y2)
        lif.s_out_y3.connect(d.s_in_y3)
        lifs[who] = lif
    probes = {f"{who}_w": _probe(d, "weights", steps) for who, d in (("stock", stock),
                                                                       ("ours", ours))}
    probes.update({f"{who}_s": _probe(lif, "s_out", steps) for who, lif in lifs.items()})
    got = _run(src, steps, probes, {"stock_x1": stock.x1, "ours_x1": ours.x1,
                                    "stock_y2": stock.y2, "ours_y2": ours.y2})
    for var in ("w", "s", "x1", "y2"):
        np.testing.assert_array_equal(got[f"ours_{var}"], got[f"stock_{var}"], err_msg=var)
    ws = got["ours_w"]
    assert (ws[-1] > w0).any() and (ws[-1] < w0).any(), "teacher potentiates, own spikes depress"
    assert got["ours_s"].sum() > 5


def test_plan_strings_parse_in_lava():
    """Mappability: every plan's Lava string parses into the products the engine evaluates."""
    net = _net()
    fixed = quantize(net, initial_weights(net))
    plans = [p.rule for p in fixed.projections if p.rule is not None]
    plans.append(stdp_plan(STDP(a_plus=0.02, a_minus=0.03), 50.0, 0.001, 30, 40, 9))
    naca = NACA(eta=0.01, n_classes=2, x_offset=0.5, tau_pre=0.01)
    plans.append(naca_plan(naca, 50.0, 0.001, 30, 20, np.full((4, 3), 0.3), 9)[0])
    assert {p.kind for p in plans} == {"sbp", "supervised_stdp", "stdp", "naca"}
    for plan in plans:
        rule = plan.learning_rule()
        series = ProductSeries(SymbolicEquation("dw", plan.to_lava_string()))
        assert [(p.dependency, p.s_mantissa, p.s_exp, [f.state_var for f in p.factors],
                 [f.const or 0 for f in p.factors])
                for p in series.products] == \
            [(q.dependency_kind, *q.lava_scale()[:1], q.lava_scale()[1] + 7,
              [f.var for f in q.factors], [f.const or 0 for f in q.factors])
             for q in rule.products]
        lava_rule(plan)  # the stock rule object builds
    # NACA's x_offset 0.5, rate-matched to a 30-step epoch (tau 10 steps, d = e^-0.1): the
    # Bernoulli rate with float trace 0.5 is p* = 0.5·(1−d)/(1−d^30) = 0.0501; Lava's x2 then
    # averages (30p − (1 − (1−p)^30))·d^30 + p·(1 − ((1−p)d)^30)/(1 − (1−p)d)
    # = 0.717·0.0498 + 0.0501·7.04 = 0.388, at impulse 20: round(7.77) = 8 -> (x2 - 8)
    assert plans[-1].to_lava_string().count("(x2-8)") == 2
    exact = naca_plan(naca, 50.0, 0.001, 30, 20, np.full((4, 3), 0.3), 9, t_epoch=1)[0]
    assert exact.to_lava_string().count("(x2-10)") == 2   # t_epoch = 1: 0.5·20, unchanged


# ------------------------------------------------------------------------------- whole graph


def _net(**changes) -> Network:
    base = dict(
        name="replay", dt=0.001, sample_steps=30, seed=3,
        inputs=(InputPopulation("inp", 6, Encoder("poisson", max_rate=250.0)),),
        populations=(
            LIFPopulation("hid", 5, tau_u=0.004, tau_v=0.015, threshold=1.0, bias=0.02,
                          homeostasis=Homeostasis(target_rate=60.0, eta=0.05, theta_min=0.3,
                                                  theta_max=3.0)),
            LIFPopulation("out", 2, tau_u=0.004, tau_v=0.015, threshold=0.6)),
        projections=(
            Projection("inp", "hid", weights=WeightInit("uniform", low=-0.2, high=0.9),
                       w_min=-1.0, w_max=1.0,
                       learning=SBP(f_ltp=2.0, f_ltd=1.0, rho=0.6, tau_elig=0.02, seed=4)),
            Projection("hid", "hid", name="lateral", sign_mode="inhibitory",
                       weights=WeightInit("constant", value=-0.1)),
            Projection("hid", "out", sign_mode="excitatory", w_min=0.0, w_max=2.0,
                       weights=WeightInit("uniform", low=0.3, high=0.9),
                       connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       learning=SupervisedSTDP(eta=0.05, tau_pre=0.01))),
        teacher=Teacher("out", rate=150.0, kind="regular", drive=0.2),
        readout=Readout("out", 2))
    base.update(changes)
    return Network(**base)


def _batch(net, n_samples: int, seed: int = 0):
    from spikeport.models.inputs import encode_batch

    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, net.inputs[0].n))
    labels = np.arange(n_samples) % net.readout.n_classes
    return encode_batch(net, X, labels, np.arange(n_samples))


@pytest.mark.parametrize("learn, rest, sbp_epoch", [(True, False, "sample"),
                                                     (False, False, "sample"),
                                                     (True, True, "sample"),
                                                     (True, False, "step")])
def test_graph_matches_kernel_replay(tmp_path, learn, rest, sbp_epoch):
    """4 samples × 30 steps with resets, SBP relay, supervised STDP, homeostasis, a static
    recurrent projection and a teacher drive: u, v, spikes and plastic weights at every step,
    final thresholds, all equal to the kernel replay. ``rest``: 5 silent steps between samples
    instead of resets (no SBP then: Lava's per-sample epoch cannot skip the gap).
    ``sbp_epoch="step"``: SBP with t_epoch = 1 (still moves weights once per sample)."""
    net = _net()
    if rest:
        sbp = net.projections[0]
        net = net.replace(projections=(replace(sbp, learning=None),) + net.projections[1:],
                          between_samples=BetweenSamples("rest", rest_steps=5))
    fixed = quantize(net, initial_weights(net), QuantizeOptions(sbp_epoch=sbp_epoch))
    batch = _batch(net, 4)
    steps = 4 * net.steps_per_sample
    g = build_graph(fixed, batch.inputs, batch.teacher, learn=learn, record_dir=str(tmp_path),
                    flush_steps=net.sample_steps)
    probes = {}
    for name, lif in g.neurons.items():
        probes[f"u/{name}"] = _probe(lif, "u", steps)
        probes[f"v/{name}"] = _probe(lif, "v", steps)
    plastic = [p.name for p in fixed.projections if learn and p.rule is not None]
    for name in plastic:
        probes[f"w/{name}"] = _probe(g.connections[name], "weights", steps)
    got = _run(g.any_process, steps, probes)
    ref = replay(fixed, batch.inputs, batch.teacher, learn=learn)
    for name in g.neurons:
        np.testing.assert_array_equal(got[f"u/{name}"], ref["u"][name], err_msg=f"u {name}")
        np.testing.assert_array_equal(got[f"v/{name}"], ref["v"][name], err_msg=f"v {name}")
        rows, last = collect(tmp_path, g.keys[("pop", name)])
        np.testing.assert_array_equal(rows, ref["spikes"][name], err_msg=f"spikes {name}")
        np.testing.assert_array_equal(last["vth"], ref["thresholds"][name])
    spk = {n: ref["spikes"][n] for n in g.neurons}
    assert 0.05 < spk["hid"].mean() < 0.6 and spk["out"].sum() > 5, "test needs activity"
    for name in plastic:
        np.testing.assert_array_equal(got[f"w/{name}"], ref["weights"][name],
                                      err_msg=f"weights {name}")
        assert len(np.unique(ref["weights"][name].reshape(steps, -1), axis=0)) > 1, name
    if rest:
        assert plastic == ["hid->out"]
    elif learn:
        w_hid = ref["weights"]["inp->hid"]
        # SBP moves the hidden weights once per sample, at the sample's last step
        moved = np.flatnonzero(np.any(w_hid[1:] != w_hid[:-1], axis=(1, 2))) + 1
        assert set(moved) <= {29, 59, 89, 119} and len(moved) >= 2
        assert not np.array_equal(ref["thresholds"]["hid"],
                                  np.full(5, fixed.population("hid").vth))
    else:
        assert np.array_equal(ref["thresholds"]["hid"], np.full(5, fixed.population("hid").vth))


def test_process_folder_modules_import_under_bare_names():
    """Lava executes every module of a custom Process's folder under its bare name when it
    searches ProcessModels (compiler_graphs._find_proc_models) and only warns on failure: each
    must import that way, without running anything."""
    import importlib.util
    import pathlib
    import warnings

    import spikeport.lava_processes as pkg

    folder = pathlib.Path(pkg.__file__).parent
    modules = sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")
    assert {p.stem for p in modules} >= {"lif", "dense", "sources", "relay", "run", "schedule"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in modules:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)  # raises if the module cannot load this way


def test_plastic_dense_learning_switch():
    """``learn`` off: no engine step, weights stay; switched on between runs: they move."""
    steps, n_pre, n_post = 40, 5, 3
    rng = np.random.default_rng(2)
    pre = (rng.random((n_pre, 2 * steps)) < 0.4).astype(np.int32)
    post = (rng.random((n_post, 2 * steps)) < 0.4).astype(np.int32)
    w0 = rng.integers(-50, 50, (n_post, n_pre)) * 2
    plan = RulePlan(kind="stdp", t_epoch=1, post="2F",
                    products=(("x0", ("y1",), -1, -2), ("y0", ("x1",), 3, -2)),
                    x_impulse=(20, 0), x_tau=(8, 0), y_impulse=(20, 0, 0), y_tau=(8, 0, 0),
                    rng_seed=3)
    d = PlasticDense(weights=w0.copy(), rule=plan.to_dict(), learn=False)
    RingBuffer(data=pre).s_out.connect(d.s_in)
    RingBuffer(data=post).s_out.connect(d.s_in_bap)
    with _deadline():
        try:
            d.run(condition=RunSteps(num_steps=steps), run_cfg=RUN_CFG)
            w_off = d.weights.get().copy()
            d.learn.set(np.array([1]))
            d.run(condition=RunSteps(num_steps=steps), run_cfg=RUN_CFG)
            w_on = d.weights.get()
            epochs = d.epochs.get()
        finally:
            d.stop()
    assert np.array_equal(w_off, w0)
    assert not np.array_equal(w_on, w0) and epochs[0] == steps


def test_best_impulse_searches_coarser_traces_only_for_rates_it_cannot_realise():
    """k = 0.1 LSB per trace unit at impulse_max 100: every impulse in [50, 100] times the
    smallest rule scale 2^-7 gives at least 50/128 = 0.39 (+290%). Searching below, impulse 13
    gives 13/128 = 0.1016 (+1.6%), the closest of all (12 → 0.094, 14 → 0.109). A rate that
    fits in the upper half (k = 3.0: 96 · 4/128 = 3.0 exactly) keeps its choice."""
    from spikeport.converters.lava_rules import best_impulse

    assert best_impulse(0.1, 100) == (50, 1, -7)
    assert best_impulse(0.1, 100, max_rel_error=0.5) == (13, 1, -7)
    assert best_impulse(3.0, 100) == best_impulse(3.0, 100, max_rel_error=0.5) == (96, 4, -7)
