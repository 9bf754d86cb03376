"""`spikeport compare`: the same input spikes through three backends, drift per population.

Backends (all see identical input and teaching spikes, encoded once from the spec's seed):

``float``
    The Brian2 reference with the artefact's float weights and thresholds.
``quantized``
    The Brian2 reference with every constant the quantizer rounded (:func:`quantized_reference`):
    dequantized weights (what the fixed-point run holds after its first-step truncation),
    thresholds ``vth / scale``, the τ realised by the rounded ``du``/``dv``, the realised bias,
    learning rates, whole-step trace taus, learning bounds and homeostasis constants. Float
    arithmetic throughout.
``fixed``
    The fixed-point network on Lava (``--backend lava``, in a subprocess with a timeout) or the
    bit-exact emulator (``--backend emulator``): integer arithmetic.

So ``quantized_vs_float`` isolates parameter rounding, ``fixed_vs_quantized`` the integer
arithmetic (state truncation, trace rounding, stochastic rounding, saturation, Lava's learning
epochs), and ``fixed_vs_float`` is the total drift.

Phases. **infer**: ``samples`` test samples, learning off, no teaching spikes. **learn**:
``learn_samples`` training samples with learning on, every backend from the same initial
weights; weight trajectories at ``checkpoints`` evenly spaced sample counts (the Brian2 runs are
split into that many consecutive runs carrying weights and thresholds, which is exact in
``reset`` mode; the emulator records every sample; a Lava run is one uninterrupted run, as on a
chip, so only its start and end are known); then each backend's learned network scores the test
samples with learning off (accuracy after on-chip learning).

Attribution (inference): the float reference with one group of rounded constants at a time
(each projection's weights, the time constants, thresholds and bias), against the float
reference: which rounding moves which layer's spikes.

Sweeps (``sweeps={"bits": [8, 6, 4], ...}``) re-quantize with one precision option changed
(:data:`SWEEPS`) and repeat both phases for the fixed point and the quantized reference; the
float reference is shared, the setting of the main comparison reuses its runs, and a setting the
quantizer refuses becomes a row saying why. Each variant is also written as a run directory
under ``OUT/sweep/<kind>-<value>/``. Reduced weight bits are real in the fixed-point run: the
initial mantissas lie on the coarser grid and Lava's Dense truncates to it; during learning Lava
0.10's LearningDense writes 1-LSB steps (it applies ``num_weight_bits`` to the initial weights
only), and the learned network is truncated to the grid again when it is loaded for inference.

OUT holds ``fixed/``, ``spec.yaml`` and ``quantization.json/.md`` (as ``spikeport convert`` writes
them, so OUT is a run directory), ``compare.json`` (metrics + provenance), ``compare.md``,
``compare.npz`` (every recording, inputs, labels, weight trajectories) and PNGs: ``raster.png``
(inference), ``raster_learn.png`` (the last learning sample), ``metrics.png``,
``metrics_learn.png``, ``weights.png``, ``sweep_<kind>.png``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from spikeport import seeds
from spikeport.analysis import metrics as M
from spikeport.analysis.compare_report import (
    BACKENDS,
    LEARNING_ONLY,
    PAIRS,
    SWEEPS,
    _plots,
    _write_arrays,
    format_compare,
    pair_key,
)
from spikeport.analysis.gates import (
    _planned_gate_check,
    check_gates,
    gate_metrics,
    parse_gates,
    parse_int_list,
)
from spikeport.analysis.neurobench import neurobench_report
from spikeport.backends.base import backend_names, get_backend
from spikeport.backends.brian2.targets import resolve_target
from spikeport.converters.quantized_reference import quantized_reference
from spikeport.errors import BackendError, DataError, SpecError
from spikeport.flow.fixed import FixedNetwork
from spikeport.io import atomic_write_json, atomic_write_text
from spikeport.models.rules import SBP
from spikeport.paths import relative_paths  # reports carry no absolute paths
from spikeport.provenance import provenance
from spikeport.workflows.compare_runs import (
    LearnRun,
    Recording,
    _brian2_infer,
    _brian2_learn,
    _classify,
    _fixed_infer,
    _fixed_learn,
    _pair_metrics,
)


@dataclass
class CompareOptions:
    """What ``spikeport compare`` runs; see the module docstring.

    ``tau_vr`` [s]: van Rossum time constant; ``penalty`` [steps]: first-spike penalty
    (default: the sample length); ``raster_sample``: test sample drawn in ``raster.png``;
    ``sweeps``: kind (``bits``, ``impulse``, ``t_epoch``) -> values; ``fail_under`` /
    ``fail_over``: ``"METRIC=VALUE"`` gates (see :func:`gate_metrics`).
    """

    samples: int | None = 100         # None: the whole split (or spike file)
    learn_samples: int | None = None
    learn: bool = True
    split: str = "test"                # the inference split ("all": the whole file)
    spikes_file: str | None = None     # a user's input spikes for both phases
    backend: str = "emulator"
    target: str = "auto"
    dataset: str | None = None
    data_dir: str | None = None
    tau_vr: float = 0.01
    penalty: float | None = None
    raster_sample: int = 0
    checkpoints: int = 10
    quantize: object = None  # QuantizeOptions (None: defaults)
    sweeps: dict = field(default_factory=dict)
    fail_under: tuple = ()
    fail_over: tuple = ()
    timeout: float = 3600.0
    progress: bool = True


# ---------------------------------------------------------------------------------------------
# the comparison

def _checkpoints(n: int, k: int) -> list[int]:
    k = max(1, min(k, n))
    return sorted({int(round(i * n / k)) for i in range(k + 1)})


def _provenance(net, fixed, opts, target: str, source) -> dict:
    from importlib import metadata


    try:
        lava_version = metadata.version("lava-nc")
    except metadata.PackageNotFoundError:
        lava_version = None
    return provenance(
        net, source=str(source), lava_nc=lava_version, fixed_backend=opts.backend,
        brian2_target=target,
        seeds={"spec": net.seed,
               "input_spikes": f"SeedSequence({net.seed}, spawn_key=({seeds.INPUT_SPIKES}, "
                               "sample id))",
               "teacher_spikes": f"SeedSequence({net.seed}, spawn_key=({seeds.TEACHER_SPIKES}, "
                                 "...))",
               "lava_rules": {p.name: p.rule.rng_seed for p in fixed.projections if p.rule}},
        scales={p.name: p.scale for p in fixed.populations},
        lsb_per_unit={p.name: p.lsb_per_unit for p in fixed.projections},
        weight_exp={p.name: p.weight_exp for p in fixed.projections},
        num_weight_bits={p.name: p.num_weight_bits for p in fixed.projections})


class _Stages:
    """A tqdm bar over the runs of a comparison (or nothing)."""

    def __init__(self, enabled: bool, total: int):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc="compare", unit="run")

    def start(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(label)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _validate(opts: CompareOptions) -> None:
    if opts.backend not in backend_names("fixed"):
        raise BackendError(f"--backend {opts.backend!r} is not supported; allowed: "
                           f"{', '.join(backend_names('fixed'))}")
    get_backend(opts.backend)  # a backend that cannot run here says so before any Brian2 run
    for name in ("samples", "checkpoints"):
        v = getattr(opts, name)
        if name == "samples" and v is None:
            continue
        if not isinstance(v, int) or v < 1:
            raise SpecError(f"compare option {name} = {v!r} is invalid; allowed: integers >= 1")
    if opts.learn_samples is not None and (not isinstance(opts.learn_samples, int)
                                           or opts.learn_samples < 1):
        raise SpecError(f"compare option learn_samples = {opts.learn_samples!r} is invalid; "
                        "allowed: integers >= 1")
    if not (isinstance(opts.tau_vr, (int, float)) and math.isfinite(opts.tau_vr)
            and opts.tau_vr > 0):
        raise SpecError(f"--tau-vr = {opts.tau_vr!r} is invalid; allowed: a time > 0")
    if opts.penalty is not None and not (math.isfinite(opts.penalty) and opts.penalty >= 0):
        raise SpecError(f"--penalty = {opts.penalty!r} is invalid; allowed: steps >= 0")
    if not isinstance(opts.raster_sample, int) or not (
            0 <= opts.raster_sample < (opts.samples or opts.raster_sample + 1)):
        raise SpecError(f"--raster-sample = {opts.raster_sample!r} is invalid; allowed: "
                        f"[0, {(opts.samples or 0) - 1}] (a test sample index)")
    if opts.split not in ("train", "val", "test", "all"):
        raise SpecError(f"--split = {opts.split!r} is invalid; allowed: train, val, test, all")
    for kind in opts.sweeps:
        if kind not in SWEEPS:
            raise SpecError(f"sweep {kind!r} is not supported; allowed: {', '.join(SWEEPS)}")


def compare(source: str | Path, out: str | Path, options: CompareOptions | None = None) -> dict:
    """Run the comparison and write the report into ``out`` (see the module docstring).

    Returns the report (also in ``compare.json``); ``report["passed"]`` is False when a gate
    failed.
    """
    from spikeport.converters.quantize import QuantizeOptions, quantize
    from spikeport.converters.run_folder import convert
    from spikeport.models.artefact import load_source, training_classes
    from spikeport.models.inputs import load_batch, sample_facts

    opts = options or CompareOptions()
    _validate(opts)
    qopts = opts.quantize or QuantizeOptions()
    gates = parse_gates(opts.fail_under, "under") + parse_gates(opts.fail_over, "over")
    out = Path(out)
    t_start = time.perf_counter()


    art = load_source(source)
    net = art.net
    runner = get_backend(opts.backend, timeout=opts.timeout)
    # everything a user can get wrong is checked before anything is written or run
    _planned_gate_check(gates, net, opts.learn and any(p.learning for p in net.projections))
    if "t_epoch" in opts.sweeps and not any(isinstance(p.learning, SBP)
                                            for p in net.projections):
        raise SpecError(f"--sweep-t-epoch: network '{net.name}' has no SBP projection (the only "
                        "rule whose learning epoch is a free choice; the others need t_epoch 1)")
    n_variants, unrealisable = 0, {}
    for kind, values in opts.sweeps.items():
        for v in values:
            q = _variant_options(qopts, kind, v, net)
            try:  # a setting the fixed point cannot realise becomes a row saying why
                quantize(net, art.weights, q)
            except BackendError as exc:
                unrealisable[(kind, v)] = str(exc)
                continue
            n_variants += q != qopts
    convert(source, out, qopts)
    fixed = FixedNetwork.load(out / "fixed")
    plastic = [p.name for p in fixed.projections if p.rule is not None]
    learn_phase = bool(opts.learn and plastic)
    target = resolve_target(opts.target)
    dataset = opts.dataset or art.metrics.get("dataset")
    classes = training_classes(art)
    test = load_batch(net, dataset, opts.data_dir, opts.split, opts.samples, opts.spikes_file,
                      classes=classes, class_source=f"{source}")
    train = load_batch(net, dataset, opts.data_dir, "train", opts.learn_samples or opts.samples,
                       opts.spikes_file, classes=classes,
                       class_source=f"{source}") if learn_phase else None
    if train is not None and not (train.labels >= 0).all():
        raise DataError(f"--spikes {opts.spikes_file}: no labels; the learning phase needs "
                        "them (its teacher); add labels to the file or pass --no-learn")
    if opts.raster_sample >= len(test.labels):
        raise SpecError(f"--raster-sample = {opts.raster_sample} is invalid; the test split has "
                        f"{len(test.labels)} samples")
    qref = quantized_reference(net, fixed)
    pops = [p.name for p in net.populations]
    bounds = _checkpoints(len(train.labels), opts.checkpoints) if learn_phase else []

    per_variant = 2 + (4 if learn_phase else 0)
    n_groups = len(_rounding_groups(net, art, qref))
    stages = _Stages(opts.progress, 3 + n_groups + (6 if learn_phase else 0)
                     + n_variants * per_variant)
    timings: dict[str, float] = {}

    def timed(label: str, fn, *args):
        stages.start(label)
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            timings[label] = time.perf_counter() - t0
            stages.done()

    try:
        infer_recs = {
            "float": timed("infer/float", _brian2_infer, net, test, art.weights,
                           art.thresholds, target),
            "quantized": timed("infer/quantized", _brian2_infer, qref.net, test, qref.weights,
                               qref.thresholds, target),
            "fixed": timed(f"infer/fixed ({opts.backend})", _fixed_infer, runner, fixed, test),
        }
        infer = _phase_report(net, infer_recs, test.labels, opts)
        infer["attribution"] = _attribution(net, art, qref, test, target, infer_recs["float"],
                                            opts, timed)
        learn, learn_runs = None, None
        if learn_phase:
            learn, learn_runs = _learning(net, art, fixed, qref, runner, train, test, target,
                                          bounds, plastic, opts, timed)
        sweeps = {}
        for kind, values in opts.sweeps.items():
            sweeps[kind] = _sweep(kind, values, source, out, net, qopts, fixed, runner, test,
                                  train, target, infer_recs, learn_runs, plastic, opts, timed,
                                  {v: e for (k, v), e in unrealisable.items() if k == kind})
    finally:
        stages.close()

    report = {
        "network": net.name, "source": str(source), "backend": opts.backend,
        "brian2_target": target, "dataset": test.dataset,
        "samples": {"infer": int(len(test.labels)),
                    "learn": int(len(train.labels)) if learn_phase else 0},
        "splits": {"infer": test.split, "learn": train.split if learn_phase else None},
        "samples_from": {"infer": sample_facts(test),
                         "learn": sample_facts(train) if learn_phase else None},
        "classes": test.classes,
        "dt_s": net.dt, "sample_steps": net.sample_steps,
        "options": {"tau_vr_ms": 1e3 * opts.tau_vr,
                    "first_spike_penalty_ms": 1e3 * net.dt * (
                        net.sample_steps if opts.penalty is None else opts.penalty),
                    "checkpoints": bounds, "raster_sample": opts.raster_sample,
                    "quantize": dict(fixed.report.get("options", {}))},
        "provenance": _provenance(net, fixed, opts, target, source),
        "quantized_constants": qref.constants,
        "infer": infer,
        "learn": learn,
        "sweeps": sweeps,
    }
    if not learn_phase:
        report["learn_skipped"] = ("--no-learn" if not opts.learn else
                                   "no projection of this network learns on the fixed point")
    # NeuroBench names and definitions, per sample, for the fixed-point inference (issue 23)

    report["neurobench"] = neurobench_report(fixed, infer_recs["fixed"].spikes, test.inputs,
                                             infer["accuracy"].get("fixed"))
    report["gates"] = check_gates(gates, report, pops, [p.name for p in net.projections])
    report["passed"] = all(g["passed"] for g in report["gates"])
    report["gate_metrics"] = sorted(gate_metrics(report))
    report["timings_s"] = timings
    report["wall_time_s"] = time.perf_counter() - t_start

    _write_arrays(out, test, train, infer_recs, learn_runs)
    _plots(out, report, net, test, train, infer_recs, learn_runs, opts)

    atomic_write_json(out / "compare.json", relative_paths(report, out))
    atomic_write_text(out / "compare.md", format_compare(relative_paths(report, out)) + "\n")
    return report


def _phase_report(net, recs: dict[str, Recording], labels, opts) -> dict:
    pops = [p.name for p in net.populations]
    acc, agree = _classify(net, recs, labels)
    return {"accuracy": acc, "agreement": agree,
            "rates_hz": {k: {p: float(r.spikes[p].mean() / net.dt) for p in pops}
                         for k, r in recs.items()},
            "wall_time_s": {k: r.wall_time for k, r in recs.items()},
            "pairs": _pair_metrics(recs, pops, net.dt, opts.tau_vr, opts.penalty)}


def _rounding_groups(net, art, qref) -> dict[str, tuple]:
    """Each group of rounded constants applied alone to the float reference: label ->
    (network, weights, thresholds). Groups the quantizer left unchanged are omitted."""
    groups = {}
    for proj in net.projections:
        w_float = np.asarray(art.weights[proj.name], dtype=np.float64)
        if not np.array_equal(qref.weights[proj.name], w_float):
            groups[f"weights {proj.name}"] = (net, {**art.weights,
                                                    proj.name: qref.weights[proj.name]},
                                              art.thresholds)
    pops = tuple(replace(p, tau_u=qref.net.population(p.name).tau_u,
                         tau_v=qref.net.population(p.name).tau_v) for p in net.populations)
    if any(a != b for a, b in zip(pops, net.populations)):
        groups["time constants"] = (net.replace(populations=pops), art.weights, art.thresholds)
    thresholds = {}
    for p in net.populations:
        base = art.thresholds.get(p.name, p.threshold) if art.thresholds else p.threshold
        thresholds[p.name] = np.broadcast_to(np.asarray(base, dtype=np.float64), (p.n,))
    pops = tuple(replace(p, bias=qref.net.population(p.name).bias) for p in net.populations)
    if any(not np.array_equal(qref.thresholds[k], thresholds[k]) for k in thresholds) or \
            pops != net.populations:
        groups["thresholds and bias"] = (net.replace(populations=pops), art.weights,
                                         qref.thresholds)
    return groups


def _attribution(net, art, qref, test, target, float_rec: Recording, opts, timed) -> dict:
    """Which rounding moves the spikes: the float reference with one group of rounded
    constants at a time, against the float reference (inference)."""
    keep = ("coincidence", "van_rossum", "first_diff_step_median", "count_corr", "cosine")
    out = {}
    for label, (n, w, th) in _rounding_groups(net, art, qref).items():
        rec = timed(f"infer/float + {label}", _brian2_infer, n, test, w, th, target)
        out[label] = {}
        for p in net.populations:
            m = M.population_metrics(rec.spikes[p.name], float_rec.spikes[p.name], net.dt,
                                     opts.tau_vr, opts.penalty)
            out[label][p.name] = {k: m[k] for k in keep}
    return out


def _weights_report(net, fixed, runs: dict[str, LearnRun], plastic) -> dict:
    out = {}
    for p in plastic:
        fp = fixed.projection(p)
        mask = fp.learn_mask if fp.learn_mask is not None else fp.connectivity
        pairs = {}
        for a, b in PAIRS:
            ra, rb = runs[a], runs[b]
            common = [c for c in ra.checkpoints if c in rb.checkpoints]
            ta = ra.trajectory[p][[ra.checkpoints.index(c) for c in common]]
            tb = rb.trajectory[p][[rb.checkpoints.index(c) for c in common]]
            curve, rms = M.trajectory_divergence(ta, tb, mask)
            pairs[pair_key(a, b)] = {"checkpoints": common, "curve": curve.tolist(),
                                     "rms_over_time": rms, "final": float(curve[-1])}
        proj = net.projection(p)
        out[p] = {"pairs": pairs, "synapses": int(np.asarray(mask).sum()),
                  "range": [proj.w_min, proj.w_max],
                  "step": fp.step}
    return out


def _thresholds_report(runs: dict[str, LearnRun]) -> dict:
    out = {}
    for pop in runs["float"].thresholds:
        if not all(pop in r.thresholds for r in runs.values()):
            continue
        out[pop] = {pair_key(a, b): M.weight_rms(
            np.broadcast_to(runs[a].thresholds[pop], runs["float"].thresholds[pop].shape),
            np.broadcast_to(runs[b].thresholds[pop], runs["float"].thresholds[pop].shape))
            for a, b in PAIRS}
    return out


def _learning(net, art, fixed, qref, runner, train, test, target, bounds, plastic, opts, timed):
    """The learning phase of the three backends, then each learned network on ``test``."""
    runs = {
        "float": timed("learn/float", _brian2_learn, net, train, art.weights, art.thresholds,
                       target, bounds, plastic),
        "quantized": timed("learn/quantized", _brian2_learn, qref.net, train, qref.weights,
                           qref.thresholds, target, bounds, plastic),
        "fixed": timed(f"learn/fixed ({opts.backend})", _fixed_learn, runner, fixed, train,
                       bounds, plastic),
    }
    rep = _phase_report(net, {k: r.recording for k, r in runs.items()}, train.labels, opts)
    rep["accuracy_while_learning"] = rep.pop("accuracy")
    rep["agreement_while_learning"] = rep.pop("agreement")
    rep["checkpoints"] = {k: r.checkpoints for k, r in runs.items()}
    rep["weights"] = _weights_report(net, fixed, runs, plastic)
    rep["thresholds_rms_final"] = _thresholds_report(runs)
    after = {
        "float": timed("learned/float", _brian2_infer, net, test, *runs["float"].learned,
                       target),
        "quantized": timed("learned/quantized", _brian2_infer, qref.net, test,
                           *runs["quantized"].learned, target),
        "fixed": timed(f"learned/fixed ({opts.backend})", _fixed_infer, runner,
                       runs["fixed"].learned, test),
    }
    acc, agree = _classify(net, after, test.labels)
    rep["learned_accuracy"], rep["learned_agreement"] = acc, agree
    rep["learned_pairs"] = _pair_metrics(after, [p.name for p in net.populations], net.dt,
                                         opts.tau_vr, opts.penalty)
    runs["_after"] = after
    return rep, runs


# ---------------------------------------------------------------------------------------------
# sweeps

def _variant_options(qopts, kind: str, value: int, net):
    from spikeport.converters.quantize import check_precision_options

    fname, (lo, hi), _ = SWEEPS[kind]
    if value < lo or (hi is not None and value > hi):
        raise SpecError(f"--sweep-{kind.replace('_', '-')}: {value} is invalid; allowed: "
                        f"integers in [{lo}, {hi if hi is not None else 'inf'}]")
    q = replace(qopts, **{fname: value})
    check_precision_options(net, q)
    return q


def _sweep(kind, values, source, out, net, qopts, main_fixed, runner, test, train, target,
           infer_recs, learn_runs, plastic, opts, timed, unrealisable: dict) -> dict:
    """One row per value: both phases for the fixed point and the quantized reference of the
    re-quantized network, against the shared float reference. The value the main comparison
    used is not run again: its row reuses the main runs (``"reused": true``)."""
    from spikeport.converters.run_folder import convert

    fname, _, what = SWEEPS[kind]
    pops = [p.name for p in net.populations]
    rows = []
    for v in values:
        if v in unrealisable:
            rows.append({"value": v, "error": unrealisable[v]})
            continue
        q = _variant_options(qopts, kind, v, net)
        reused = q == qopts
        label = f"{kind}={v}"
        if reused:
            fixed, vdir = main_fixed, out
            recs = infer_recs
        else:
            vdir = out / "sweep" / f"{kind}-{v}"
            convert(source, vdir, q)
            fixed = FixedNetwork.load(vdir / "fixed")
            qref = quantized_reference(net, fixed)
            recs = {"float": infer_recs["float"],
                    "quantized": timed(f"{label} infer/quantized", _brian2_infer,
                                       qref.net, test, qref.weights, qref.thresholds, target),
                    "fixed": timed(f"{label} infer/fixed", _fixed_infer, runner, fixed, test)}
        row = {"value": v, "reused": reused, "run_dir": str(vdir),
               "infer": _sweep_phase(net, recs, test.labels, pops, opts)}
        if learn_runs is not None:
            if reused:
                runs, after = learn_runs, learn_runs["_after"]
            else:
                bounds = [0, len(train.labels)]
                runs = {"float": learn_runs["float"],
                        "quantized": timed(f"{label} learn/quantized", _brian2_learn, qref.net,
                                           train, qref.weights, qref.thresholds, target, bounds,
                                           plastic),
                        "fixed": timed(f"{label} learn/fixed", _fixed_learn, runner, fixed,
                                       train, bounds, plastic)}
                after = {"float": learn_runs["_after"]["float"],
                         "quantized": timed(f"{label} learned/quantized", _brian2_infer,
                                            qref.net, test, *runs["quantized"].learned, target),
                         "fixed": timed(f"{label} learned/fixed", _fixed_infer, runner,
                                        runs["fixed"].learned, test)}
            lrow = _sweep_phase(net, {k: runs[k].recording for k in BACKENDS}, train.labels,
                                pops, opts)
            lrow["learned_accuracy"], _ = _classify(net, after, test.labels)
            lrow["weights_final_rms"] = {}
            for p in plastic:
                fp = fixed.projection(p)
                mask = fp.learn_mask if fp.learn_mask is not None else fp.connectivity
                lrow["weights_final_rms"][p] = {
                    pair_key(a, b): M.weight_rms(runs[a].trajectory[p][-1],
                                                 runs[b].trajectory[p][-1], mask)
                    for a, b in PAIRS}
            row["learn"] = lrow
        row["quantization"] = {p: {k: r[k] for k in ("num_weight_bits", "bits_used", "step",
                                                     "rms_error", "max_abs_error") if k in r}
                               for p, r in fixed.report.get("projections", {}).items()}
        rows.append(row)
    phase = "learn" if kind in LEARNING_ONLY and learn_runs is not None else "infer"
    return {"option": fname, "what": what, "values": list(values), "rows": rows,
            "spike_phase": phase}


def _sweep_phase(net, recs, labels, pops, opts) -> dict:
    acc, agree = _classify(net, recs, labels)
    keep = ("match_rate", "coincidence", "count_corr", "cosine", "van_rossum",
            "first_spike_error_ms", "first_diff_step_median", "identical_samples")
    per = {}
    for pair in (("fixed", "float"), ("quantized", "float")):
        for p in pops:
            m = M.population_metrics(recs[pair[0]].spikes[p], recs[pair[1]].spikes[p], net.dt,
                                     opts.tau_vr, opts.penalty)
            per.setdefault(pair_key(*pair), {})[p] = {k: m[k] for k in keep}
    return {"accuracy": acc, "agreement": agree, "pops": per["fixed_vs_float"],
            "pops_quantized": per["quantized_vs_float"],
            "rates_hz": {p: float(recs["fixed"].spikes[p].mean() / net.dt) for p in pops}}


# ---------------------------------------------------------------------------------------------
# the command

def run_compare(source: str | Path, out: str | Path, *, samples: int | None = 100,
                learn_samples: int | None = None, learn: bool = True, backend: str = "emulator",
                target: str = "auto", dataset: str | None = None, data_dir: str | None = None,
                tau_vr_ms: float = 10.0, penalty: float | None = None, checkpoints: int = 10,
                raster_sample: int = 0, sbp_epoch: str = "sample",
                sweep_bits: str | None = None, sweep_impulse: str | None = None,
                sweep_t_epoch: str | None = None, fail_under=(), fail_over=(),
                timeout: float = 3600.0, progress: bool = True, split: str = "test",
                spikes_file: str | None = None) -> dict:
    """`spikeport compare` with the CLI's argument forms (lists as ``"8,6,4"``, τ in ms)."""
    from spikeport.converters.quantize import QuantizeOptions

    sweeps = {}
    for kind, text in (("bits", sweep_bits), ("impulse", sweep_impulse),
                       ("t_epoch", sweep_t_epoch)):
        if text is not None:
            _, (lo, hi), _ = SWEEPS[kind]
            sweeps[kind] = parse_int_list(text, f"--sweep-{kind.replace('_', '-')}", lo, hi)
    if not (isinstance(tau_vr_ms, (int, float)) and math.isfinite(tau_vr_ms) and tau_vr_ms > 0):
        raise SpecError(f"--tau-vr = {tau_vr_ms!r} is invalid; allowed: a time in ms > 0")
    opts = CompareOptions(samples=samples, learn_samples=learn_samples, learn=learn,
                          backend=backend, target=target, dataset=dataset, data_dir=data_dir,
                          tau_vr=tau_vr_ms * 1e-3, penalty=penalty, raster_sample=raster_sample,
                          checkpoints=checkpoints,
                          quantize=QuantizeOptions(sbp_epoch=sbp_epoch), sweeps=sweeps,
                          fail_under=tuple(fail_under), fail_over=tuple(fail_over),
                          timeout=timeout, progress=progress, split=split,
                          spikes_file=spikes_file)
    return compare(source, out, opts)
