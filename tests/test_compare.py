"""`spikeport compare` on a tiny digits network this test writes (64-20-10, 20 steps per sample,
SBP + supervised STDP + homeostasis, as examples/digits_sbp.yaml but smaller): identical
backends agree perfectly, the quantized reference carries exactly the quantizer's constants,
chunked Brian2 learning equals one run, the report and its gates, a weight-precision sweep
that is real in the fixed-point network, and the one-line refusals (exit 2).

Runs on Lava (marked ``lava``) go through the subprocess runner and take a few seconds each;
Brian2 uses the numpy target (no compiler needed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from test_deploy_cli import SBP, cli  # noqa: E402  (tests/ is on sys.path)
from test_deploy_cli import TINY as DEPLOY_TINY  # noqa: E402

from spikeport.analysis import metrics as M
from spikeport.backends import get_backend
from spikeport.cli import main
from spikeport.converters.quantize import QuantizeOptions, quantize
from spikeport.errors import SpecError
from spikeport.flow.fixed import LEARN_RANGE, FixedNetwork
from spikeport.io import load_npz
from spikeport.kernels.homeostasis import ACC_FRACTION_BITS, COUNT_FRACTION_BITS
from spikeport.models.inputs import load_batch
from spikeport.models.spec import load_spec
from spikeport.models.weights import initial_weights
from spikeport.workflows import compare as C
from spikeport.workflows import compare_runs as R

# the tiny network of the deploy tests, under its own name
TINY = DEPLOY_TINY.replace("{hidden_extra}", SBP).replace("name: tiny_digits",
                                                         "name: tiny_compare")
TIMEOUT = "180"


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def net(spec):
    return load_spec(spec)


@pytest.fixture(scope="module")
def fixed(net, spec):
    return quantize(net, initial_weights(net, spec.parent))




# ------------------------------------------------------------------------ identical backends

def test_identical_inputs_through_identical_backends_agree_perfectly(net, spec):
    batch = load_batch(net, None, None, "test", 4)
    w = initial_weights(net, spec.parent)
    first = R._brian2_infer(net, batch, w, {}, "numpy")
    second = R._brian2_infer(net, batch, w, {}, "numpy")
    pairs = R._pair_metrics({"fixed": first, "float": second}, ["hidden", "output"], net.dt,
                            0.005, None)["fixed_vs_float"]
    assert first.spikes["hidden"].any()  # something to compare
    for pop, m in pairs.items():
        assert m["match_rate"] == 1.0 and m["van_rossum"] == 0.0, pop
        assert m["coincidence"] == 1.0 and m["identical_samples"] == 1.0
        assert m["first_diff"] is None and m["cosine"] == pytest.approx(1.0)
    acc, agree = R._classify(net, {"fixed": first, "float": second}, batch.labels)
    assert agree == {"fixed_vs_float": 1.0} and acc["fixed"] == acc["float"]


# ------------------------------------------------------------------- the quantized reference

def test_quantized_reference_holds_the_rounded_constants(net, fixed):
    q = C.quantized_reference(net, fixed)
    for pop in net.populations:
        fp = fixed.population(pop.name)
        qp = q.net.population(pop.name)
        # Lava decays u by (du + 1)/4096 and v by dv/4096 per step: τ = −dt/ln(1 − d/4096)
        assert qp.tau_u == pytest.approx(-net.dt / math.log(1 - (fp.du + 1) / 4096), rel=1e-12)
        assert qp.tau_v == pytest.approx(-net.dt / math.log(1 - fp.dv / 4096), rel=1e-12)
        assert q.thresholds[pop.name] == pytest.approx(np.full(pop.n, fp.vth / fp.scale))
    h, hq = q.net.population("hidden").homeostasis, fixed.population("hidden").homeostasis
    s = fixed.population("hidden").scale
    # one spike moves acc by eta_q·2^8, i.e. the threshold by eta_q·2^8/2^16/scale
    assert h.eta == pytest.approx(hq["eta_q"] / 2 ** (ACC_FRACTION_BITS - COUNT_FRACTION_BITS)
                                  / s)
    assert h.theta_max == pytest.approx(hq["acc_max"] / 2 ** ACC_FRACTION_BITS / s)
    # T = 20 steps of 1 ms: target spikes per sample = target_q/256 -> rate = that / 0.02 s
    assert h.target_rate == pytest.approx(hq["target_q"] / 256 / 0.02)
    for proj in net.projections:
        fpj = fixed.projection(proj.name)
        # mantissas are on their sign mode's initial grid, so the dequantized weights are
        # exactly mantissa / (LSB per unit)
        assert np.array_equal(q.weights[proj.name], fpj.weights / fpj.lsb_per_unit)
        lo, hi = LEARN_RANGE[fpj.mode]
        qproj = q.net.projection(proj.name)
        assert (qproj.w_min, qproj.w_max) == pytest.approx((lo / fpj.lsb_per_unit,
                                                            hi / fpj.lsb_per_unit))
    sup = fixed.projection("hidden->output").rule
    eta_real = sup.rates[0].realised
    assert q.net.projection("hidden->output").learning.eta == pytest.approx(eta_real)
    assert q.net.projection("hidden->output").learning.tau_pre == pytest.approx(
        sup.traces[0].tau_steps * net.dt)
    sbp = fixed.projection("pixels->hidden").rule
    f_real = [r.realised for r in sbp.rates if r.field == "f_ltp"][0]
    # the relay realises f·η_spec; Brian2's M carries η_realised: f_q = f_real·η_spec/η_real
    assert q.net.projection("pixels->hidden").learning.f_ltp == pytest.approx(
        f_real * 0.005 / eta_real)


def test_quantized_reference_follows_reduced_weight_bits(net, spec):
    w = initial_weights(net, spec.parent)
    fx = quantize(net, w, QuantizeOptions(num_weight_bits=4))
    q = C.quantized_reference(net, fx)
    for proj in net.projections:
        fpj = fx.projection(proj.name)
        # 4 bits: MIXED keeps multiples of 2·2^4 = 32, EXCITATORY multiples of 2^4 = 16
        grid = 32 if proj.sign_mode == "mixed" else 16
        assert not np.any(fpj.weights % grid) and fpj.num_weight_bits == 4
        assert fpj.step == pytest.approx(grid / fpj.lsb_per_unit)
        assert np.array_equal(q.weights[proj.name], fpj.weights / fpj.lsb_per_unit)
        # round to nearest on the coarse grid: no weight moved by more than half a step
        mask = fpj.connectivity
        err = np.abs(fpj.weights[mask] / fpj.lsb_per_unit - w[proj.name][mask])
        assert err.max() <= fpj.step / 2 + 1e-12


def test_num_weight_bits_is_saved_loaded_and_reaches_the_lava_processes(net, spec, tmp_path):
    pytest.importorskip("lava")
    from spikeport.lava_processes.graph import build_graph

    fx = quantize(net, initial_weights(net, spec.parent), QuantizeOptions(num_weight_bits=5))
    fx.save(tmp_path / "fx")
    loaded = FixedNetwork.load(tmp_path / "fx")
    assert [p.num_weight_bits for p in loaded.projections] == [5, 5]
    # a network.json written before the field existed loads as 8 bits
    doc = json.loads((tmp_path / "fx" / "network.json").read_text())
    for p in doc["projections"]:
        del p["num_weight_bits"]
    (tmp_path / "fx" / "network.json").write_text(json.dumps(doc))
    assert [p.num_weight_bits for p in FixedNetwork.load(tmp_path / "fx").projections] == [8, 8]
    batch = load_batch(net, None, None, "train", 1)
    for learn in (False, True):
        g = build_graph(loaded, batch.inputs, batch.teacher, learn=learn)
        for conn in g.connections.values():
            assert conn.proc_params["num_weight_bits"] == 5


@pytest.mark.parametrize("options, field", [
    (QuantizeOptions(num_weight_bits=9), "num_weight_bits"),
    (QuantizeOptions(trace_impulse_max=0), "trace_impulse_max"),
    (QuantizeOptions(sbp_t_epoch=7), "sbp_t_epoch"),
])
def test_precision_options_out_of_range_are_refused(net, spec, options, field):
    with pytest.raises(SpecError, match=field):
        quantize(net, initial_weights(net, spec.parent), options)


def test_trace_impulse_and_t_epoch_options_reach_the_rules(net, spec):
    w = initial_weights(net, spec.parent)
    fx = quantize(net, w, QuantizeOptions(trace_impulse_max=16, sbp_t_epoch=5))
    sbp, sup = fx.projection("pixels->hidden").rule, fx.projection("hidden->output").rule
    assert sbp.t_epoch == 5 and sup.t_epoch == 1
    assert sbp.x_impulse[1] == 16            # SBP's eligibility trace takes the bound itself
    assert 8 <= sup.x_impulse[0] <= 16       # supervised STDP picks in [bound/2, bound]


# ----------------------------------------------------------------- chunked Brian2 learning

def test_chunked_brian2_learning_equals_one_run(net, spec, fixed):
    batch = load_batch(net, None, None, "train", 4)
    w = initial_weights(net, spec.parent)
    plastic = ["pixels->hidden", "hidden->output"]
    one = R._brian2_learn(net, batch, w, {}, "numpy", [0, 4], plastic)
    chunked = R._brian2_learn(net, batch, w, {}, "numpy", [0, 1, 3, 4], plastic)
    assert chunked.checkpoints == [0, 1, 3, 4]
    for p in plastic:
        assert chunked.trajectory[p].shape == (4,) + w[p].shape
        assert np.array_equal(chunked.trajectory[p][0], w[p])
        assert np.array_equal(chunked.trajectory[p][-1], one.trajectory[p][-1])
    for pop in ("hidden", "output"):
        assert np.array_equal(chunked.recording.spikes[pop], one.recording.spikes[pop])
        assert np.array_equal(chunked.thresholds[pop], one.thresholds[pop])
    assert not np.array_equal(one.trajectory["hidden->output"][-1], w["hidden->output"])


# ------------------------------------------------------------------------------------ gates

def report_for_gates() -> dict:
    m = {"match_rate": 0.99, "cosine": 0.9, "van_rossum": 0.2, "coincidence": 0.5,
         "first_diff_step_min": None}
    m2 = {"match_rate": 0.95, "cosine": 0.97, "van_rossum": 0.6, "coincidence": 0.4,
          "first_diff_step_min": 3}
    return {"infer": {"pairs": {"fixed_vs_float": {"hidden": m, "output": m2}},
                      "accuracy": {"fixed": 0.8, "float": 0.82},
                      "agreement": {"fixed_vs_float": 0.97}},
            "learn": {"pairs": {}, "learned_accuracy": {"fixed": 0.6},
                      "weights": {"a->b": {"pairs": {"fixed_vs_float": {
                          "final": 0.03, "rms_over_time": 0.02}}}}}}


def test_gates_resolve_shorthands_and_take_the_worst_population():
    pops, projs = ["hidden", "output"], ["a->b"]
    gates = (C.parse_gates(["accuracy=0.8", "hidden.match_rate=0.995", "cosine=0.95",
                            "learned_accuracy=0.5", "first_diff_step_min=2"], "under")
             + C.parse_gates(["van_rossum=0.5", "weight_rms=0.025"], "over"))
    res = {g["gate"]: g for g in C.check_gates(gates, report_for_gates(), pops, projs)}
    assert res["--fail-under accuracy=0.8"]["passed"]                  # 0.8 >= 0.8
    assert not res["--fail-under hidden.match_rate=0.995"]["passed"]   # 0.99 < 0.995
    worst = res["--fail-under cosine=0.95"]                            # min(0.9, 0.97)
    assert worst["metric"] == "infer.fixed_vs_float.hidden.cosine" and not worst["passed"]
    assert res["--fail-under learned_accuracy=0.5"]["passed"]
    # hidden never differs (None = best), output first differs at step 3 >= 2
    assert res["--fail-under first_diff_step_min=2"]["passed"]
    vr = res["--fail-over van_rossum=0.5"]                             # max(0.2, 0.6)
    assert vr["metric"].endswith("output.van_rossum") and not vr["passed"]
    assert res["--fail-over weight_rms=0.025"]["passed"]               # 0.02 <= 0.025


@pytest.mark.parametrize("items, direction, message", [
    (["nonsense=1"], "under", "no metric 'nonsense'"),
    (["van_rossum=1"], "under", "smaller-is-better; use --fail-over"),
    (["accuracy=0.5"], "over", "larger-is-better; use --fail-under"),
])
def test_gate_misuse_is_a_spec_error(items, direction, message):
    gates = C.parse_gates(items, direction)
    with pytest.raises(SpecError, match=message):
        C.check_gates(gates, report_for_gates(), ["hidden", "output"], ["a->b"])


@pytest.mark.parametrize("item", ["accuracy", "accuracy=", "=0.5", "accuracy=nan"])
def test_gate_syntax_errors(item):
    with pytest.raises(SpecError, match="METRIC=VALUE"):
        C.parse_gates([item], "under")


# ------------------------------------------------------------------ refusals (exit 2, fast)

@pytest.mark.parametrize("extra, needle", [
    (("--fail-under", "nonsense=1"), "no metric 'nonsense'"),
    (("--fail-under", "van_rossum=1"), "use --fail-over"),
    (("--sweep-bits", "8,x"), "--sweep-bits: 'x' is not an integer"),
    (("--sweep-bits", "9"), "--sweep-bits: 9 is invalid; allowed: integers in [1, 8]"),
    (("--sweep-impulse", "200"), "--sweep-impulse: 200 is invalid"),
    (("--sweep-t-epoch", "7"), "sbp_t_epoch = 7 is invalid; allowed: None or a divisor of "
                               "sample_steps = 20"),
    (("--raster-sample", "9"), "--raster-sample = 9 is invalid; allowed: [0, 3]"),
    (("--tau-vr", "0"), "--tau-vr = 0.0 is invalid"),
])
def test_bad_arguments_exit_2_with_one_line(spec, tmp_path, capsys, extra, needle):
    code, _, err = cli(capsys, "compare", spec, "-o", tmp_path / "out", "--samples", "4",
                       "--target", "numpy", "--no-progress", *extra)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spikeport: error: ")
    assert needle in lines[0]
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_a_backend_that_cannot_load_is_refused_before_any_run(spec, tmp_path, capsys,
                                                              monkeypatch):
    """The registry names the backend and why it cannot load (a stand-in module without the
    backend class), as one line, before a single Brian2 run."""
    import sys
    import types

    monkeypatch.setitem(sys.modules, "spikeport.backends.emulator.backend",
                        types.ModuleType("spikeport.backends.emulator.backend"))
    code, _, err = cli(capsys, "compare", spec, "-o", tmp_path / "o", "--backend", "emulator",
                       "--no-progress")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "backend 'emulator' (spikeport.backends.emulator.backend:EmulatorBackend) cannot " \
           "be loaded here: AttributeError" in err
    assert not (tmp_path / "o" / "compare.json").exists()


# ------------------------------------------------------------------------- end to end (Lava)

@pytest.fixture(scope="module")
def lava_run(spec, tmp_path_factory):
    pytest.importorskip("lava")
    out = tmp_path_factory.mktemp("cmp") / "out"
    code = main(["compare", str(spec), "-o", str(out), "--samples", "4", "--learn-samples", "4",
                 "--checkpoints", "2", "--target", "numpy", "--timeout", TIMEOUT,
                 "--backend", "lava",
                 "--no-progress", "--fail-under", "accuracy=0", "--sweep-bits", "8,3",
                 "--fail-under", "hidden.match_rate=1.5", "--fail-over", "van_rossum=100"])
    return out, code


@pytest.mark.lava
def test_compare_end_to_end_on_lava(lava_run, capsys):
    out, code = lava_run
    capsys.readouterr()
    assert code == 1  # the impossible gate (match rate >= 1.5) failed; the report is written
    r = json.loads((out / "compare.json").read_text())
    for name in ("compare.md", "compare.npz", "raster.png", "raster_learn.png", "metrics.png",
                 "metrics_learn.png", "weights.png", "fixed/network.json",
                 "quantization.md", "spec.yaml"):
        assert (out / name).is_file(), name
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert r["samples"] == {"infer": 4, "learn": 4} and r["backend"] == "lava"
    assert r["splits"] == {"infer": "test", "learn": "train"}
    gates = {g["gate"]: g["passed"] for g in r["gates"]}
    assert gates == {"--fail-under accuracy=0": True, "--fail-under hidden.match_rate=1.5": False,
                     "--fail-over van_rossum=100": True}
    assert r["passed"] is False
    prov = r["provenance"]
    assert prov["seed"] == 5 and prov["dt"] == 0.001 and prov["lava_nc"]
    assert set(prov["scales"]) == {"hidden", "output"}
    # every metric in the report is what the saved recordings give
    data = load_npz(out / "compare.npz")
    for phase in ("infer", "learn"):
        for a, b in C.PAIRS:
            for pop in ("hidden", "output"):
                m = M.population_metrics(data[f"{phase}/{a}/{pop}"], data[f"{phase}/{b}/{pop}"],
                                         0.001, 0.01)
                assert m == r[phase]["pairs"][C.pair_key(a, b)][pop], (phase, a, b, pop)
    labels = data["infer/labels"]
    acc_float = float((data["infer/float/output"].sum(axis=1).argmax(axis=1) == labels).mean())
    assert r["infer"]["accuracy"]["float"] == acc_float
    # weight trajectories: Brian2 at every checkpoint, one uninterrupted Lava run start and end
    lr = r["learn"]
    assert lr["checkpoints"] == {"float": [0, 2, 4], "quantized": [0, 2, 4], "fixed": [0, 4]}
    assert data["weights/fixed/hidden->output"].shape == (2, 20, 10)
    fixed = FixedNetwork.load(out / "fixed")
    fp = fixed.projection("hidden->output")
    assert np.array_equal(data["weights/fixed/hidden->output"][0], fp.dequantized())
    w = lr["weights"]["hidden->output"]["pairs"]["fixed_vs_float"]
    assert w["checkpoints"] == [0, 4]
    assert w["final"] == pytest.approx(M.weight_rms(data["weights/fixed/hidden->output"][-1],
                                                    data["weights/float/hidden->output"][-1],
                                                    fp.learn_mask))
    for backend in C.BACKENDS:
        assert 0.0 <= lr["learned_accuracy"][backend] <= 1.0
    # attribution: each rounded group alone; output weights cannot move the hidden layer
    att = r["infer"]["attribution"]
    assert {"weights pixels->hidden", "weights hidden->output", "time constants"} <= set(att)
    assert att["weights hidden->output"]["hidden"]["coincidence"] == 1.0
    assert att["weights hidden->output"]["hidden"]["van_rossum"] == 0.0
    assert att["weights pixels->hidden"]["hidden"]["coincidence"] < 1.0
    md = (out / "compare.md").read_text()
    assert md.startswith("# tiny_compare: Brian2 float vs Brian2 quantized vs fixed point (lava)")
    assert "| hidden | fixed vs quantized |" in md and "**FAIL**" in md
    assert "infer.fixed_vs_float.hidden.match_rate" in r["gate_metrics"]


@pytest.mark.lava
def test_emulator_backend_gives_lava_spikes_and_full_trajectories(net, lava_run):
    out, _ = lava_run
    data = load_npz(out / "compare.npz")
    fixed = FixedNetwork.load(out / "fixed")
    runner = get_backend("emulator")
    test = load_batch(net, None, None, "test", 4)
    train = load_batch(net, None, None, "train", 4)
    assert np.array_equal(test.inputs["pixels"], data["infer/input/pixels"])
    rec = R._fixed_infer(runner, fixed, test)
    plastic = ["pixels->hidden", "hidden->output"]
    run = R._fixed_learn(runner, fixed, train, [0, 2, 4], plastic)
    for pop in ("hidden", "output"):
        assert np.array_equal(rec.spikes[pop], data[f"infer/fixed/{pop}"])
        assert np.array_equal(run.recording.spikes[pop], data[f"learn/fixed/{pop}"])
    assert run.checkpoints == [0, 2, 4]  # the emulator records every sample
    for p in plastic:
        assert run.trajectory[p].shape[0] == 3
        assert np.array_equal(run.trajectory[p][[0, -1]], data[f"weights/fixed/{p}"])


@pytest.mark.lava
def test_sweep_bits_is_real_in_the_fixed_point_run(lava_run):
    out, _ = lava_run
    r = json.loads((out / "compare.json").read_text())
    rows = {row["value"]: row for row in r["sweeps"]["bits"]["rows"]}
    assert rows[8]["reused"] and not rows[3]["reused"]
    # the main run's row is the main comparison's numbers
    assert rows[8]["infer"]["pops"] == {p: {k: r["infer"]["pairs"]["fixed_vs_float"][p][k]
                                            for k in rows[8]["infer"]["pops"][p]}
                                        for p in ("hidden", "output")}
    assert rows[8]["learn"]["learned_accuracy"] == r["learn"]["learned_accuracy"]
    fx3 = FixedNetwork.load(out / "sweep" / "bits-3" / "fixed")
    for p in fx3.projections:
        # 3 bits: MIXED weights are multiples of 2·2^5 = 64, EXCITATORY of 2^5 = 32
        assert p.num_weight_bits == 3
        assert not np.any(p.weights % (64 if p.sign_mode == "mixed" else 32))
        assert rows[3]["quantization"][p.name]["step"] == pytest.approx(p.step)
    assert set(rows[3]["learn"]["weights_final_rms"]) == {"pixels->hidden", "hidden->output"}
    assert (out / "sweep_bits.png").is_file()
    md = (out / "compare.md").read_text()
    assert "## Sweep: weight precision (bits)" in md and "| 8 (main run) |" in md
    # coarser weights move the spikes: 3 bits agrees less with the float reference than 8
    h8, h3 = rows[8]["infer"]["pops"]["hidden"], rows[3]["infer"]["pops"]["hidden"]
    assert h3["coincidence"] < h8["coincidence"]


@pytest.mark.lava
def test_no_learn_skips_the_learning_phase(spec, tmp_path, capsys):
    code, stdout, _ = cli(capsys, "compare", spec, "-o", tmp_path / "o", "--samples", "2",
                          "--no-learn", "--target", "numpy", "--timeout", TIMEOUT,
                          "--no-progress", "--json")
    assert code == 0
    r = json.loads(stdout)
    assert r["learn"] is None and "--no-learn" in r["learn_skipped"]
    assert r["samples"] == {"infer": 2, "learn": 0} and r["passed"] is True
    assert not (tmp_path / "o" / "weights.png").exists()
