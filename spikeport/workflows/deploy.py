"""Deploy and run: the workflows behind ``spikeport run``, ``deploy`` and ``demo`` (the run
folder they read and write: :mod:`spikeport.converters.run_folder`).

A run directory holds everything one deployment produced; later commands take it::

    OUT/
      artefact/            trained Brian2 artefact (deploy trains one when given a spec)
      spec.yaml            the network spec (what encodes the inputs)
      fixed/               fixed-point network: network.json + weights.npz (Lava's input)
      quantization.json    per-layer quantization report (also .md)
      emulator_infer.json  a fixed-point run's summary (accuracy, rates, op counts) on the
                           bit-exact emulator (the default backend); emulator_learn.json
      emulator_infer.npz   its spikes, input spikes, labels; *_learn.npz adds learned weights
      lava_infer.json/.npz the same from Lava's simulator (``--backend lava``, the reference)
      emulator_learned/    the fixed-point network after on-chip learning on the emulator
      lava_learned/        ... on Lava (one folder per backend; older runs: fixed_learned/)
      deploy.json / .md    deploy's summary: Brian2 reference vs fixed point on the same samples
      energy.json/.md/.png energy on the chip profiles, with baselines (``spikeport energy``)

Lava runs go through a subprocess with a timeout (Lava can hang and leak shared memory).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from spikeport.analysis.neurobench import (
    format_neurobench,
    neurobench_report,
    syn_ops_from_counters,
)
from spikeport.backends.base import backend_names, get_backend
from spikeport.converters.run_folder import (
    FIXED,
    convert,
    find_learned,
    learned_name,
    load_fixed,
)
from spikeport.errors import DataError
from spikeport.hw_profiles.energy_report import energy_digest, format_energy_digest
from spikeport.io import (
    atomic_replace_dir,
    atomic_savez,
    atomic_write_json,
    atomic_write_text,
    commit_point,
    temporary_dir,
)
from spikeport.models.artefact import is_artefact, load_artefact, read_classes
from spikeport.models.spec import load_spec
from spikeport.paths import relative_paths
from spikeport.workflows.energy import write_energy
from spikeport.workflows.simulate import format_summary, run_simulate


def _fixed_backend(name: str, timeout: float):
    if name not in backend_names("fixed"):
        raise DataError(f"backend {name!r} is not one of {', '.join(backend_names('fixed'))}")
    return get_backend(name, timeout=timeout)


def run_on_lava(out: str | Path, learn: bool = False, samples: int = 100,
                dataset: str | None = None, data_dir: str | None = None,
                split: str | None = None, use_learned: bool | str = False,
                timeout: float = 3600, batch=None) -> dict:
    """:func:`run_fixed` on Lava (``lava_{infer,learn}.json/.npz``)."""
    return run_fixed(out, learn, samples, dataset, data_dir, split, use_learned, timeout, batch,
                     backend="lava")


def run_fixed(out: str | Path, learn: bool = False, samples: int | None = 100,
              dataset: str | None = None, data_dir: str | None = None,
              split: str | None = None, use_learned: bool | str = False,
              timeout: float = 3600, batch=None, backend: str = "emulator",
              progress: bool = False, spikes_file: str | Path | None = None) -> dict:
    """`spikeport run`: inference (default: test split) or learning (default: train split) of
    the fixed-point network for ``samples`` samples (None: all), on Lava (a subprocess with
    ``timeout``) or on the bit-exact emulator; writes ``{backend}_{infer,learn}.json/.npz``
    and, learning, ``{backend}_learned/``. ``use_learned``: run a learned network instead of
    ``fixed/`` (True: this backend's, else the only one; a backend name: that one's).
    ``spikes_file``: a user's input spikes instead of a dataset. Inference never receives the
    teaching spikes (a teacher drive would hand it the labels)."""
    from spikeport.models.inputs import load_batch, sample_facts
    from spikeport.models.readout import predict

    runner = _fixed_backend(backend, timeout)
    out = Path(out)
    command = "spikeport run" + (" --learn" if learn else "")
    sub = FIXED
    if use_learned:
        sub = find_learned(out, backend, None if use_learned is True else use_learned)
    fixed = load_fixed(out, sub, allow=command)
    net = load_spec(out / "spec.yaml")
    split = split or ("train" if learn else "test")
    if batch is None:
        batch = load_batch(net, dataset, data_dir, split, samples, spikes_file,
                           classes=read_classes(out), class_source=f"run folder {out}")
    mode = "learn" if learn else "infer"
    fixed_dir = out / sub
    t0 = time.perf_counter()
    result = runner.run(fixed, batch, learn=learn, progress=progress)
    wall = time.perf_counter() - t0
    summary = {"backend": backend, "mode": mode, "network": net.name,
               "samples": int(len(batch.labels)),
               "dataset": batch.dataset, "split": batch.split, "wall_time_s": wall,
               "steps_per_s": len(batch.labels) * net.steps_per_sample / wall,
               "fixed_network": str(fixed_dir), "ops": result.ops.to_json(),
               "rates_hz": {p: float(s.mean() / net.dt) for p, s in result.spikes.items()}}
    summary.update(sample_facts(batch))
    if net.readout is not None and (batch.labels >= 0).all():
        pred = predict(net, result)
        key = "accuracy_while_learning" if learn else "accuracy"
        summary[key] = float((pred == batch.labels).mean())

    summary["neurobench"] = neurobench_report(  # NeuroBench names, per sample (issue 23)
        fixed, result.spikes, batch.inputs,
        summary.get("accuracy", summary.get("accuracy_while_learning")), learn,
        syn_ops_from_counters(result.ops))
    if net.readout is not None:
        silent = result.counts(net.readout.population).sum(axis=1) == 0
        summary["abstained"] = float(silent.mean()) if len(silent) else 0.0
    arrays = {f"spikes/{k}": v for k, v in result.spikes.items()}
    arrays.update({f"input/{k}": v for k, v in batch.inputs.items()})
    arrays["labels"] = batch.labels
    arrays["sample_ids"] = batch.sample_ids
    with commit_point(out, command):    # one commit for the summary, spikes and network
        if learn:
            arrays.update({f"weights/{k}": v for k, v in result.weights.items()})
            learned = fixed.with_learned(weights=result.weights, thresholds=result.thresholds)
            name = learned_name(backend)
            tmp_dir = temporary_dir(out / name)
            learned.save(tmp_dir)
            atomic_replace_dir(tmp_dir, out / name)
            summary["learned_network"] = str(out / name)
        atomic_savez(out / f"{backend}_{mode}.npz", **arrays)
        atomic_write_json(out / f"{backend}_{mode}.json", relative_paths(summary, out))
        atomic_write_text(out / f"{backend}_{mode}.md",
                          format_run(relative_paths(summary, out)) + "\n")
    summary["_result"] = result
    return summary


def deploy(source: str | Path, out: str | Path, epochs: int = 8, samples: int = 100,
           dataset: str | None = None, data_dir: str | None = None, target: str = "auto",
           progress: bool = True, timeout: float = 3600, backend: str = "emulator",
           spikes_file: str | Path | None = None) -> dict:
    """`spikeport deploy`: train in Brian2 if given a spec → convert → fixed-point inference
    on ``samples`` test samples (the emulator by default, or Lava; ``spikes_file``: a user's
    input spikes instead) → the Brian2 reference on the same input spikes → summary (the
    fixed-point run under ``"fixed"``)."""
    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.inputs import load_batch, sample_facts
    from spikeport.models.readout import predict
    from spikeport.training.brian2 import train

    _fixed_backend(backend, timeout)   # a backend that cannot run here says so before training
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
    batch = load_batch(net, dataset or art.metrics.get("dataset"), data_dir, "test", samples,
                       spikes_file, classes=art.classes, class_source=f"artefact {source}")
    fixed_run = run_fixed(out, learn=False, batch=batch, timeout=timeout, backend=backend,
                          progress=progress)
    ref = simulate(net, batch.inputs, art.weights, batch.teacher, target="numpy",
                   thresholds=art.thresholds or None)
    summary = {"network": net.name, "artefact": str(source), "samples": int(len(batch.labels)),
               "dataset": batch.dataset, "split": batch.split,
               "split_size": batch.split_size,
               "sample_ids": sample_facts(batch)["sample_ids"],
               "quantization": {p: r.get("scale") for p, r in
                                report.get("populations", {}).items()},
               "backend": backend,
               "fixed": {k: v for k, v in fixed_run.items() if not k.startswith("_")},
               "wall_time_s": time.perf_counter() - t0}
    if net.readout is not None:
        ref_pred = predict(net, ref)
        fixed_pred = predict(net, fixed_run["_result"])
        summary["brian2_accuracy"] = float((ref_pred == batch.labels).mean())
        summary["fixed_accuracy"] = float((fixed_pred == batch.labels).mean())
        summary["classification_agreement"] = float((ref_pred == fixed_pred).mean())
    fixed_res = fixed_run["_result"]
    summary["spike_count_correlation"] = {
        p: float(np.corrcoef(ref.counts(p).ravel(), fixed_res.counts(p).ravel())[0, 1])
        for p in ref.spikes if ref.counts(p).std() > 0 and fixed_res.counts(p).std() > 0}

    summary["energy"] = energy_digest(write_energy(out, data_dir=data_dir, backend=backend))
    atomic_write_json(out / "deploy.json", relative_paths(summary, out))
    atomic_write_text(out / "deploy.md", format_deploy(relative_paths(summary, out)) + "\n")
    return summary


BACKEND_TITLES = {"lava": "Lava fixed_pt",
                  "emulator": "emulator (fixed point, bit-exact to Lava)"}


def format_run(s: dict) -> str:
    """``{backend}_{mode}.md``: a run's summary with its NeuroBench metrics."""

    where = {"lava": "Lava (Loihi2SimCfg fixed_pt)",
             "emulator": "the bit-exact emulator"}.get(s["backend"], s["backend"])
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
    title = BACKEND_TITLES.get(s["backend"], s["backend"])
    from spikeport.models.inputs import describe_samples

    lines = [f"# {s['network']}: Brian2 reference vs {title}", "",
             f"{describe_samples(s)[:1].upper()}{describe_samples(s)[1:]}, the same input "
             "spikes for both backends.", ""]
    if "fixed_accuracy" in s:
        lines += ["| backend | accuracy |", "|---|---:|",
                  f"| Brian2 (float) | {100 * s['brian2_accuracy']:.1f}% |",
                  f"| {title} | {100 * s['fixed_accuracy']:.1f}% |", "",
                  f"Same predicted class on {100 * s['classification_agreement']:.1f}% of samples."]
    if s["spike_count_correlation"]:
        lines += ["", f"| population | spike-count correlation | {s['backend']} rate (Hz) |",
                  "|---|---:|---:|"]
        for p, c in s["spike_count_correlation"].items():
            lines.append(f"| {p} | {c:.3f} | {s['fixed']['rates_hz'].get(p, 0):.1f} |")
    lines += ["", f"{s['backend']}: {s['fixed']['steps_per_s']:.0f} steps/s; total "
              f"{s['wall_time_s']:.0f} s."]
    if s["fixed"].get("neurobench"):

        lines += ["", f"## NeuroBench metrics ({s['backend']} inference)", "",
                  format_neurobench(s["fixed"]["neurobench"])]
    if s.get("energy"):

        lines += ["", "## Energy on chip profiles (inference above; learning after `spikeport "
                  "run OUT --learn` and `spikeport energy OUT`)", "",
                  format_energy_digest(s["energy"])]
    return "\n".join(lines)


def demo(spec: str | Path | None = None, out: str | Path | None = None,
         backend: str = "emulator") -> str:
    """`make demo`: deploy the digits network — train it in Brian2, convert it to Loihi fixed
    point, run it on ``backend`` (the bit-exact emulator by default, or Lava) and compare with
    the Brian2 reference on the same test spikes."""
    from spikeport.models.zoo import EXAMPLES

    spec = Path(spec) if spec else EXAMPLES / "digits_sbp.yaml"
    out = Path(out) if out else Path("runs") / "demo"       # under the working directory
    untrained = run_simulate(spec, samples=50, split="test", progress=True)
    print("Brian2 reference, untrained network:\n" + format_summary(untrained) + "\n",
          flush=True)
    summary = deploy(spec, out, epochs=5, samples=100, progress=True, backend=backend)
    return format_deploy(summary) + f"\n\neverything is in {out}"
