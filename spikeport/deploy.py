"""Convert-and-run: the library behind ``spikeport convert``, ``run`` and ``deploy``.

A run directory holds everything one deployment produced; later commands take it::

    OUT/
      artefact/            trained Brian2 artefact (deploy trains one when given a spec)
      spec.yaml            the network spec (what encodes the inputs)
      fixed/               fixed-point network: network.json + weights.npz (Lava's input)
      quantization.json    per-layer quantization report (also .md)
      lava_infer.json      a Lava run's summary (accuracy, rates, op counts); lava_learn.json
      lava_infer.npz       its spikes, input spikes, labels; lava_learn.npz adds learned weights
      emulator_infer.json  the same from the bit-exact emulator (``run --backend emulator``)
      fixed_learned/       the fixed-point network after on-chip learning
      deploy.json / .md    deploy's summary: Brian2 reference vs Lava on the same samples
      energy.json/.md/.png energy on the chip profiles, with baselines (``spikeport energy``)

Lava runs go through a subprocess with a timeout (Lava can hang and leak shared memory).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from spikeport.analysis.paths import relative_paths
from spikeport.errors import DataError
from spikeport.io import atomic_savez, atomic_write_json, atomic_write_text
from spikeport.models.artefact import is_artefact, load_artefact, load_source
from spikeport.models.spec import load_spec, save_spec

FIXED = "fixed"
FIXED_LEARNED = "fixed_learned"


def convert(source: str | Path, out: str | Path, options=None) -> dict:
    """Quantize an artefact (or an untrained spec) into ``OUT/fixed`` with its report."""
    from spikeport.converters.quantize import format_report, quantize

    art = load_source(source)
    out = Path(out)
    fixed = quantize(art.net, art.weights, options)
    if art.thresholds:
        # thresholds adapted by homeostasis during training, in this population's vth units
        vth = {p.name: np.rint(np.broadcast_to(art.thresholds[p.name], (p.n,)) * p.scale)
               .astype(np.int64) for p in fixed.populations if p.name in art.thresholds}
        fixed = fixed.with_learned(thresholds=vth)
    out.mkdir(parents=True, exist_ok=True)
    fixed.save(out / FIXED)
    save_spec(art.net, out / "spec.yaml")
    report = dict(fixed.report)
    report["source"] = str(source)
    atomic_write_json(out / "quantization.json", relative_paths(report, out))
    atomic_write_text(out / "quantization.md", format_report(fixed.report) + "\n")
    return report


def _load_fixed(out: Path, learned: bool):
    from spikeport.converters.quantize import FixedNetwork

    sub = FIXED_LEARNED if learned else FIXED
    if not (out / sub).is_dir():
        hint = ("run `spikeport run OUT --learn` first" if learned else
                "run `spikeport convert ARTEFACT -o OUT` first")
        raise DataError(f"{out}: no fixed-point network in {sub}/ ({hint})")
    return FixedNetwork.load(out / sub)


BACKENDS = ("lava", "emulator")


def run_on_lava(out: str | Path, learn: bool = False, samples: int = 100,
                dataset: str | None = None, data_dir: str | None = None,
                split: str | None = None, use_learned: bool = False, timeout: float = 3600,
                batch=None) -> dict:
    """:func:`run_fixed` on Lava (``lava_{infer,learn}.json/.npz``)."""
    return run_fixed(out, learn, samples, dataset, data_dir, split, use_learned, timeout, batch,
                     backend="lava")


def run_fixed(out: str | Path, learn: bool = False, samples: int = 100,
              dataset: str | None = None, data_dir: str | None = None,
              split: str | None = None, use_learned: bool = False, timeout: float = 3600,
              batch=None, backend: str = "lava", progress: bool = False) -> dict:
    """`spikeport run`: inference (default: test split) or learning (default: train split) of
    the fixed-point network for ``samples`` samples, on Lava (a subprocess with ``timeout``)
    or on the bit-exact emulator; writes ``{backend}_{infer,learn}.json/.npz``. Inference
    never receives the teaching spikes (a teacher drive would hand it the labels)."""
    from spikeport.models.brian2_sim import predict
    from spikeport.pipeline import load_batch

    if backend not in BACKENDS:
        raise DataError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    out = Path(out)
    fixed = _load_fixed(out, use_learned)
    net = load_spec(out / "spec.yaml")
    split = split or ("train" if learn else "test")
    if batch is None:
        batch = load_batch(net, dataset, data_dir, split, samples)
    mode = "learn" if learn else "infer"
    fixed_dir = out / (FIXED_LEARNED if use_learned else FIXED)
    teacher = batch.teacher if learn else None
    t0 = time.perf_counter()
    if backend == "emulator":
        from spikeport.emulator import run_emulator

        result = run_emulator(fixed, batch.inputs, teacher, learn=learn, progress=progress,
                              labels=batch.labels if learn else None)
    else:
        from spikeport.lava_processes.run import run_lava_isolated

        result = run_lava_isolated(fixed, batch.inputs, teacher, learn=learn,
                                   labels=batch.labels if learn else None, timeout=timeout)
    wall = time.perf_counter() - t0
    summary = {"backend": backend, "mode": mode, "network": net.name,
               "samples": int(len(batch.labels)),
               "dataset": batch.dataset, "split": batch.split, "wall_time_s": wall,
               "steps_per_s": len(batch.labels) * net.steps_per_sample / wall,
               "fixed_network": str(fixed_dir), "ops": result.ops,
               "rates_hz": {p: float(s.mean() / net.dt) for p, s in result.spikes.items()}}
    if net.readout is not None and (batch.labels >= 0).all():
        pred = predict(net, result)
        key = "accuracy_while_learning" if learn else "accuracy"
        summary[key] = float((pred == batch.labels).mean())
    from spikeport.analysis.neurobench import neurobench_report, syn_ops_from_counters

    summary["neurobench"] = neurobench_report(  # NeuroBench names, per sample (issue 23)
        fixed, result.spikes, batch.inputs,
        summary.get("accuracy", summary.get("accuracy_while_learning")), learn,
        syn_ops_from_counters(result.ops))
    arrays = {f"spikes/{k}": v for k, v in result.spikes.items()}
    arrays.update({f"input/{k}": v for k, v in batch.inputs.items()})
    arrays["labels"] = batch.labels
    arrays["sample_ids"] = batch.sample_ids
    if learn:
        arrays.update({f"weights/{k}": v for k, v in result.weights.items()})
        learned = fixed.with_learned(weights=result.weights, thresholds=result.thresholds)
        tmp_dir = out / (FIXED_LEARNED + ".tmp")
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)
        learned.save(tmp_dir)
        if (out / FIXED_LEARNED).exists():
            shutil.rmtree(out / FIXED_LEARNED)
        tmp_dir.rename(out / FIXED_LEARNED)
        summary["learned_network"] = str(out / FIXED_LEARNED)
    atomic_savez(out / f"{backend}_{mode}.npz", **arrays)
    atomic_write_json(out / f"{backend}_{mode}.json", relative_paths(summary, out))
    atomic_write_text(out / f"{backend}_{mode}.md", format_run(relative_paths(summary, out)) + "\n")
    summary["_result"] = result
    return summary


def deploy(source: str | Path, out: str | Path, epochs: int = 8, samples: int = 100,
           dataset: str | None = None, data_dir: str | None = None, target: str = "auto",
           progress: bool = True, timeout: float = 3600) -> dict:
    """`spikeport deploy`: train in Brian2 if given a spec → convert → Lava inference on
    ``samples`` test samples → the Brian2 reference on the same input spikes → summary."""
    from spikeport.models.brian2_sim import predict, simulate
    from spikeport.models.trainer import train
    from spikeport.pipeline import load_batch

    out = Path(out)
    source = Path(source)
    t0 = time.perf_counter()
    if not is_artefact(source):
        train(source, out / "artefact", dataset=dataset, data_dir=data_dir, epochs=epochs,
              target=target, progress=progress)
        source = out / "artefact"
    art = load_artefact(source)
    net = art.net
    report = convert(source, out)
    batch = load_batch(net, dataset or art.metrics.get("dataset"), data_dir, "test", samples)
    lava = run_on_lava(out, learn=False, batch=batch, timeout=timeout)
    ref = simulate(net, batch.inputs, art.weights, batch.teacher, target="numpy",
                   thresholds=art.thresholds or None)
    summary = {"network": net.name, "artefact": str(source), "samples": int(len(batch.labels)),
               "dataset": batch.dataset, "split": batch.split,
               "quantization": {p: r.get("scale") for p, r in
                                report.get("populations", {}).items()},
               "lava": {k: v for k, v in lava.items() if not k.startswith("_")},
               "wall_time_s": time.perf_counter() - t0}
    if net.readout is not None:
        ref_pred = predict(net, ref)
        lava_pred = predict(net, lava["_result"])
        summary["brian2_accuracy"] = float((ref_pred == batch.labels).mean())
        summary["lava_accuracy"] = float((lava_pred == batch.labels).mean())
        summary["classification_agreement"] = float((ref_pred == lava_pred).mean())
    summary["spike_count_correlation"] = {
        p: float(np.corrcoef(ref.counts(p).ravel(), lava["_result"].counts(p).ravel())[0, 1])
        for p in ref.spikes if ref.counts(p).std() > 0 and lava["_result"].counts(p).std() > 0}
    from spikeport.hw_profiles.energy import energy_digest, write_energy

    summary["energy"] = energy_digest(write_energy(out, data_dir=data_dir))
    atomic_write_json(out / "deploy.json", relative_paths(summary, out))
    atomic_write_text(out / "deploy.md", format_deploy(relative_paths(summary, out)) + "\n")
    return summary


def format_run(s: dict) -> str:
    """``{backend}_{mode}.md``: a run's summary with its NeuroBench metrics."""
    from spikeport.analysis.neurobench import format_neurobench

    where = "Lava (Loihi2SimCfg fixed_pt)" if s["backend"] == "lava" else "the bit-exact emulator"
    lines = [f"# {s['network']} on {where}: {s['mode']}", "",
             f"{s['samples']} samples of {s['dataset']} ({s['split']} split), network "
             f"{s['fixed_network']}/, {s['steps_per_s']:.0f} steps/s.", ""]
    acc = s.get("accuracy", s.get("accuracy_while_learning"))
    if acc is not None:
        label = "Accuracy" if "accuracy" in s else "Accuracy while learning"
        lines += [f"{label}: {100 * acc:.1f}%.", ""]
    lines += ["| population | rate (Hz) |", "|---|---:|"]
    lines += [f"| {p} | {r:.1f} |" for p, r in s["rates_hz"].items()]
    if s.get("neurobench"):
        lines += ["", "## NeuroBench metrics", "", format_neurobench(s["neurobench"])]
    return "\n".join(lines)


def format_deploy(s: dict) -> str:
    lines = [f"# {s['network']}: Brian2 reference vs Lava fixed point", "",
             f"{s['samples']} {s['dataset']} samples ({s['split']} split), the same input "
             "spikes for both backends.", ""]
    if "lava_accuracy" in s:
        lines += ["| backend | accuracy |", "|---|---:|",
                  f"| Brian2 (float) | {100 * s['brian2_accuracy']:.1f}% |",
                  f"| Lava fixed_pt | {100 * s['lava_accuracy']:.1f}% |", "",
                  f"Same predicted class on {100 * s['classification_agreement']:.1f}% of samples."]
    if s["spike_count_correlation"]:
        lines += ["", "| population | spike-count correlation | Lava rate (Hz) |",
                  "|---|---:|---:|"]
        for p, c in s["spike_count_correlation"].items():
            lines.append(f"| {p} | {c:.3f} | {s['lava']['rates_hz'].get(p, 0):.1f} |")
    lines += ["", f"Lava: {s['lava']['steps_per_s']:.0f} steps/s; total {s['wall_time_s']:.0f} s."]
    if s["lava"].get("neurobench"):
        from spikeport.analysis.neurobench import format_neurobench

        lines += ["", "## NeuroBench metrics (Lava inference)", "",
                  format_neurobench(s["lava"]["neurobench"])]
    if s.get("energy"):
        from spikeport.hw_profiles.energy import format_energy_digest

        lines += ["", "## Energy on chip profiles (inference above; learning after `spikeport "
                  "run OUT --learn` and `spikeport energy OUT`)", "",
                  format_energy_digest(s["energy"])]
    return "\n".join(lines)
