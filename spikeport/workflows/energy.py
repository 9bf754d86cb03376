"""`spikeport energy`: price a run folder's measured op counts on chip profiles (with the
backprop baselines), and optionally ask SANA-FE for a second opinion on the same spikes."""

from __future__ import annotations

from pathlib import Path

from spikeport.errors import DataError, SpecError, SpikeportError
from spikeport.flow.summary import read_run_summary
from spikeport.hw_profiles import baselines as bl
from spikeport.hw_profiles.energy import (
    PHASES,
    RUN_BACKENDS,
    comparisons,
    epochs_to_threshold,
    learning_costs,
    price_phase,
)
from spikeport.hw_profiles.energy_report import format_energy, plot_energy
from spikeport.hw_profiles.mapping import load_network
from spikeport.hw_profiles.profile import Profile, load_profile
from spikeport.hw_profiles.sanafe import import_sanafe, write_second_opinion
from spikeport.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    check_complete,
    read_json_object,
)
from spikeport.paths import relative_paths


def run_energy(out, profiles=("loihi1", "loihi2"), *, second_opinion: str | None = None,
               sanafe_connections: str = "sparse", sanafe_samples: int | None = None,
               progress: bool = True, **options) -> dict:
    """:func:`~spikeport.hw_profiles.energy.write_energy` on ``out`` (``options``: baselines,
    threshold, data_dir, backend); with ``second_opinion="sanafe"`` the inference run is replayed
    on SANA-FE's Loihi too (checked first: a missing optional package fails before any work),
    its result under ``report["second_opinion"]`` and its Markdown under
    ``report["second_opinion_markdown"]``."""
    if second_opinion not in (None, "sanafe"):

        raise DataError(f"second_opinion = {second_opinion!r}; allowed: sanafe")
    if second_opinion == "sanafe":

        import_sanafe()
    report = write_energy(out, profiles=tuple(profiles), **options)
    if second_opinion == "sanafe":

        second = write_second_opinion(out, report, backend=options.get("backend"),
                                      connections=sanafe_connections, samples=sanafe_samples,
                                      progress=progress)
        report["second_opinion"] = {k: v for k, v in second.items() if k != "markdown"}
        report["second_opinion_markdown"] = second["markdown"]
        report["files"] = dict(report["files"], sanafe_json="sanafe.json", sanafe_md="sanafe.md")
    return report


# ---------------------------------------------------------------------------------------------
# a run directory

def _phase_network(run_dir: Path, summary: dict, phase: str):
    """The fixed network a phase ran: the path its summary names, else the run's own copy."""
    recorded = summary.get("fixed_network")
    cands = []
    if recorded:
        cands += [Path(recorded), run_dir / Path(recorded).name]
    cands.append(run_dir / "fixed")
    for p in cands:
        if (p / "network.json").is_file():
            return load_network(p)
    raise DataError(f"{run_dir}: no fixed-point network for the {phase} phase (looked in "
                    f"{', '.join(str(p) for p in cands)})")


def _run_summaries(run_dir: Path, backend: str | None) -> dict:
    """Per phase, (backend, summary) of the run a report prices: ``OUT/{backend}_{mode}.json``
    for the given backend, else the emulator's if present, else Lava's."""
    if backend is not None and backend not in RUN_BACKENDS:
        raise DataError(f"backend = {backend!r} is invalid; allowed: "
                        f"{', '.join(RUN_BACKENDS)}")
    check_complete(run_dir)
    out = {}
    for phase, mode in PHASES.items():
        for b in ((backend,) if backend else RUN_BACKENDS):
            path = run_dir / f"{b}_{mode}.json"
            if not path.is_file():
                continue
            summary = read_run_summary(path)
            summary["ops"] = summary["ops"].to_json()
            out[phase] = (b, summary)
            break
    if not out:
        names = " or ".join(f"{b}_infer.json / {b}_learn.json"
                            for b in ((backend,) if backend else RUN_BACKENDS))
        raise DataError(f"{run_dir}: no {names} (run `spikeport run OUT` and `spikeport run "
                        "OUT --learn` first)")
    return out


def energy_report(run_dir, profiles=("loihi1", "loihi2"), baselines: bool = True,
                  threshold: float | None = None, data_dir=None, mlp_batch: int = 1,
                  mlp_lr: float = 0.05, backend: str | None = None) -> dict:
    """Energy of the inference and learning phases of a run directory (``lava_infer.json``,
    ``lava_learn.json``, whichever exist; the emulator's ``emulator_*.json`` where Lava's are
    absent, or only ``backend``'s) on each profile; a phase a profile cannot map is reported
    as refused, with the reason and the readiness of each process.

    Learning phase: per epoch and to ``threshold`` validation accuracy (default per dataset,
    :data:`~spikeport.hw_profiles.baselines.DEFAULT_THRESHOLDS`) from the run's training
    curve. With ``baselines``: the backprop MLP trained to the same threshold on the same
    data (compute only), the measured GPU (whole device), the papers' cost metric, and the
    like-for-like comparisons."""

    run_dir = Path(run_dir)
    found = _run_summaries(run_dir, backend)
    summaries = {phase: s for phase, (_, s) in found.items()}
    if threshold is not None and not 0 < threshold <= 1:
        raise SpecError(f"threshold = {threshold} is invalid; allowed: a validation accuracy "
                        "in (0, 1]")
    report = {"run_dir": str(run_dir), "network": None, "phases": {}, "profiles": {},
              "method": "op counts measured in the run (Lava ProcessModels, or the bit-exact "
                        "emulator: the same counters) × profile per-op energy, + static power "
                        "× time; ranges throughout",
              "notes": []}
    for phase, summary in summaries.items():
        report["phases"][phase] = {"backend": found[phase][0],
                                   "file": str(run_dir / f"{found[phase][0]}_"
                                               f"{PHASES[phase]}.json"),
                                   "samples": summary.get("samples"),
                                   "dataset": summary.get("dataset"),
                                   "split": summary.get("split"),
                                   "ops": summary["ops"],
                                   **({"accuracy": summary["accuracy"]} if "accuracy" in summary
                                      else {}),
                                   **({"accuracy_while_learning":
                                       summary["accuracy_while_learning"]}
                                      if "accuracy_while_learning" in summary else {})}
        report["network"] = summary.get("network", report["network"])
    for pname in profiles:
        prof = pname if isinstance(pname, Profile) else load_profile(pname)
        entry = {"title": prof.title, "path": prof.path, "pacing_note": prof.pacing_note,
                 "phases": {}}
        for phase, summary in summaries.items():
            net = _phase_network(run_dir, summary, phase)
            entry["phases"][phase] = price_phase(net, summary["ops"], summary["samples"], prof,
                                                 learn=phase == "learning")
        report["profiles"][prof.name] = entry

    # learning: per epoch and to threshold, from the run's training curve
    any_summary = summaries.get("learning") or summaries["inference"]
    dataset = any_summary.get("dataset")
    curve = training_curve(run_dir)
    if curve is not None and curve["dataset"] and dataset and curve["dataset"] != dataset:
        report["notes"].append(f"training curve {curve['source']} is on {curve['dataset']}, "
                               f"the Lava runs on {dataset}: not used for energy to threshold")
        curve = None
    data_dir = data_dir if data_dir is not None else (curve or {}).get("data_dir")
    thr = threshold if threshold is not None else bl.DEFAULT_THRESHOLDS.get(dataset)
    learning = {"threshold": thr, "curve": curve}
    if curve is None:
        report["notes"].append(f"no training curve ({run_dir / 'artefact' / 'metrics.json'} or "
                               "the artefact convert recorded): energy to threshold needs one "
                               "(train and deploy write it)")
    if thr is None:
        report["notes"].append(f"no threshold for dataset {dataset!r}: give --threshold")
    if "learning" not in summaries:
        report["notes"].append("no learning phase (lava_learn.json): run `spikeport run OUT "
                               "--learn` for learning-phase energy per sample, per epoch and "
                               "to threshold")
    chip = {}
    for pname, entry in report["profiles"].items():
        res = entry["phases"].get("learning")
        if res is None or "refused" in res:
            continue
        c = {"per_sample": {"dynamic_J": res["dynamic_per_sample_J"],
                            "total_J": {k: v["energy_per_sample_J"]
                                        for k, v in res["pacing"].items()}},
             "threshold": thr}
        if curve is not None:
            c.update(learning_costs(res, curve["epoch_samples"],
                                    [epochs_to_threshold(curve["val"], thr)] if thr else [],
                                    curve["epochs_trained"], thr, curve["source"]))
            if not thr:
                c["to_threshold"] = None
        res["learning_costs"] = c
        chip[pname] = c
    report["learning"] = learning

    # baselines, same task and threshold
    report["baselines"] = {}
    net = _phase_network(run_dir, any_summary, "learning" if "learning" in summaries
                         else "inference")
    shape = mlp_shape(net)
    if baselines:
        if shape is None:
            report["baselines"]["skipped"] = ("the MLP baseline needs one input, one hidden and "
                                              "one readout population")
        elif thr is None or dataset is None:
            report["baselines"]["skipped"] = "no dataset or threshold to train the MLP to"
        else:
            m, n, c_, k = shape
            try:
                report["baselines"]["mlp"] = bl.mlp_baseline(
                    dataset, (m, n, c_), thr, int(net.seed), data_dir=data_dir,
                    batch=mlp_batch, lr=mlp_lr, k_snn=k)
            except SpikeportError as exc:   # e.g. the dataset's files are not here
                report["baselines"]["skipped"] = f"MLP baseline not trained: {exc}"
            report["baselines"]["device"] = bl.device_baseline(dataset)
    if shape is not None:
        m, n, _, k = shape
        known = curve is not None and thr is not None
        pc = bl.paper_cost(m, n, k, epochs_to_threshold(curve["val"], thr) if known else None)
        pc["reached"] = known and pc["epochs"] is not None
        if not known:
            pc["note"] = "no training curve or threshold: epochs to threshold unknown"
        report["baselines"]["paper_cost_snn"] = pc
    report["comparisons"] = comparisons(chip, report["baselines"].get("mlp"),
                                        report["baselines"].get("device"))
    return report


def training_curve(run_dir) -> dict | None:
    """The Brian2 training curve of a run directory's artefact: validation accuracy per epoch
    and the epoch size, from ``OUT/artefact/metrics.json`` (deploy trains there), else from
    the artefact ``convert`` recorded as its source (``OUT/quantization.json``), else from a
    fixed-point training in the run directory itself (``train --backend emulator``). An
    artefact that was never trained (no epochs) has no curve: None."""
    run_dir = Path(run_dir)
    cands = [run_dir / "artefact" / "metrics.json"]
    q = run_dir / "quantization.json"
    if q.is_file():
        src = read_json_object(q, "quantization report").get("source")
        if isinstance(src, str):
            cands.append(Path(src) / "metrics.json")
    cands.append(run_dir / "metrics.json")
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        return None
    m = read_json_object(path, "training metrics")
    epochs = m.get("epochs")
    if not epochs:
        return None
    if not isinstance(epochs, list):
        raise DataError(f"{path}: epochs = {type(epochs).__name__}; allowed: a list of rows")
    val = []
    for i, row in enumerate(epochs):
        v = row.get("val_accuracy") if isinstance(row, dict) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise DataError(f"{path}: epochs[{i}].val_accuracy = {v!r} is invalid; allowed: "
                            "an accuracy in [0, 1]")
        val.append(float(v))
    splits = m.get("splits")
    n = splits.get("train") if isinstance(splits, dict) else None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DataError(f"{path}: splits.train = {n!r} is invalid; allowed: integers >= 1 "
                        "(the training split's size)")
    return {"val": val, "epoch_samples": n, "epochs_trained": len(val) - 1,
            "source": str(path), "dataset": m.get("dataset"), "data_dir": m.get("data_dir")}


def mlp_shape(net) -> tuple[int, int, int, int] | None:
    """(m, n, C, k) of a one-hidden-layer classifier: input size, hidden size, number of
    classes, readout size; None for any other structure."""
    readout = getattr(net, "readout", None)
    if readout is None or len(net.inputs) != 1 or len(net.populations) != 2:
        return None
    pop, n_classes = (readout if isinstance(readout, (tuple, list))
                      else (readout.population, readout.n_classes))
    hidden = [p for p in net.populations if p.name != pop]
    if len(hidden) != 1:
        return None
    inp = net.inputs[0]
    m = inp[1] if isinstance(inp, (tuple, list)) else inp.n
    k = next(p.n for p in net.populations if p.name == pop)
    return int(m), int(hidden[0].n), int(n_classes), int(k)


def write_energy(run_dir, profiles=("loihi1", "loihi2"), **kwargs) -> dict:
    """:func:`energy_report` of a run directory, written next to its runs as ``energy.json``,
    ``energy.md`` and ``energy.png`` (atomically); returns the report with ``files``."""

    run_dir = Path(run_dir)
    report = energy_report(run_dir, profiles=profiles, **kwargs)
    files = {"json": run_dir / "energy.json", "md": run_dir / "energy.md",
             "png": run_dir / "energy.png"}
    report["files"] = {k: str(v) for k, v in files.items()}
    atomic_write_bytes(files["png"], plot_energy(report))
    # reports carry no absolute paths (issue 23)
    atomic_write_json(files["json"], relative_paths(report, run_dir))
    atomic_write_text(files["md"], format_energy(relative_paths(report, run_dir)) + "\n")
    return report
