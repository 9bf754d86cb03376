"""Library functions behind the CLI commands: load, encode, simulate, summarise, write.

The CLI only parses arguments and calls these; tests call them directly too.
"""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeport import __version__
from spikeport.errors import DataError, SpecError
from spikeport.io import atomic_savez, atomic_write_json
from spikeport.models.spec import Network, load_spec

EVENT_DATASETS = ("nmnist", "dvsgesture", "shd")

# input size -> the dataset a spec of that size is most likely meant for
_DEFAULT_DATASETS = {64: "digits", 784: "mnist", 189: "nettalk", 1024: "dvsgesture",
                     700: "shd", 2312: "nmnist"}


def default_dataset(net: Network) -> str:
    n = net.inputs[0].n
    if n not in _DEFAULT_DATASETS:
        raise SpecError(f"network '{net.name}': no default dataset for {n} inputs; pass "
                        f"--dataset (one of: {', '.join(sorted(set(_DEFAULT_DATASETS.values())))})")
    return _DEFAULT_DATASETS[n]


@dataclass
class Batch:
    """Encoded samples ready for any backend: the input spikes are data (DESIGN.md §3)."""

    inputs: dict[str, np.ndarray]       # input name -> bool (n_samples, T, n)
    labels: np.ndarray                  # (n_samples,) int
    sample_ids: np.ndarray              # indices into the dataset split
    teacher: np.ndarray | None          # bool (n_samples, T, n_readout) or None
    dataset: str
    split: str


def encode_batch(net: Network, X: np.ndarray, labels: np.ndarray, sample_ids: np.ndarray,
                 dataset: str = "", split: str = "", seed: int | None = None) -> Batch:
    """Encode features X (n, n_inputs) in [0, 1] with the spec's encoder and seed (or
    ``seed``, e.g. a per-epoch seed for training)."""
    seed = net.seed if seed is None else seed
    from spikeport.data.encoders import encode

    if len(net.inputs) != 1:
        raise SpecError(f"network '{net.name}': a dataset feeds exactly one input population; "
                        f"this network has {len(net.inputs)} (give spike files instead)")
    inp = net.inputs[0]
    if X.shape[1] != inp.n:
        raise DataError(f"dataset {dataset!r} has {X.shape[1]} features per sample but input "
                        f"'{inp.name}' has n={inp.n}")
    enc = inp.encoder
    params = {"max_rate": enc.max_rate} if enc.kind in ("poisson", "regular") else {
        "t_min": enc.t_min, "t_max": enc.t_max if enc.t_max >= 0 else net.sample_steps - 1,
        "threshold": enc.threshold}
    spikes = encode(X, enc.kind, net.sample_steps, net.dt, seed, sample_ids, **params)
    return Batch({inp.name: spikes}, np.asarray(labels), np.asarray(sample_ids),
                 teacher_batch(net, labels, sample_ids, seed), dataset, split)


def teacher_batch(net: Network, labels: np.ndarray, sample_ids: np.ndarray,
                  seed: int | None = None) -> np.ndarray | None:
    """The spec's teaching spike trains for these samples (None without a teacher)."""
    from spikeport.data.teaching import teaching_spikes

    t = net.teacher
    if t is None:
        return None
    n_out = net.size(t.population)
    return teaching_spikes(labels, n_out, net.sample_steps, net.dt, t.rate, kind=t.kind,
                           seed=net.seed if seed is None else seed, sample_ids=sample_ids,
                           neurons_per_class=n_out // net.readout.n_classes)


def load_batch(net: Network, dataset: str | None, data_dir: str | None, split: str,
               samples: int | None, spikes_file: str | Path | None = None) -> Batch:
    """The samples a command runs on: from a dataset (encoded with the spec), or a user's
    spike file (``.npz`` with ``spikes`` (n, T, n_inputs) and ``labels``)."""
    from spikeport.data.registry import load_dataset

    if spikes_file is not None:
        from spikeport.data.spikefile import load_spikes

        data = load_spikes(spikes_file)
        n = data.spikes.shape[0] if samples is None else min(samples, data.spikes.shape[0])
        labels = data.labels if data.labels is not None else np.full(data.spikes.shape[0], -1)
        ids = data.sample_ids if data.sample_ids is not None else np.arange(len(labels))
        return spikes_batch(net, data.spikes[:n], labels[:n], ids[:n], str(spikes_file), "file")
    name = dataset or default_dataset(net)
    events = name in EVENT_DATASETS
    options = {"as_spikes": True, "T": net.sample_steps, "dt": net.dt} if events else {}
    if events and samples is not None:
        options["max_samples"] = samples
    ds = load_dataset(name, split=split, data_dir=data_dir, **options)
    n = len(ds.y) if samples is None else min(samples, len(ds.y))
    if n <= 0:
        raise DataError(f"dataset {name!r} split {split!r}: --samples must be >= 1 (got "
                        f"{samples})")
    # sample ids are positions in the whole source, unique across splits: sample i's spikes
    # depend only on (seed, id), never on which split or batch it is drawn in
    ids = np.asarray(ds.index[:n]) if ds.index is not None else np.arange(n)
    if events:
        return spikes_batch(net, ds.spikes[:n], ds.y[:n], ids, name, split)
    return encode_batch(net, ds.X[:n], ds.y[:n], ids, name, split)


def spikes_batch(net: Network, spikes: np.ndarray, labels: np.ndarray, sample_ids: np.ndarray,
                 dataset: str = "", split: str = "") -> Batch:
    """A batch from spikes that already exist (event data, a user's spike file)."""
    inp = net.inputs[0]
    if spikes.ndim != 3 or spikes.shape[1:] != (net.sample_steps, inp.n):
        raise DataError(f"{dataset or 'spikes'}: spike array shape {spikes.shape} does not "
                        f"match input '{inp.name}' (n_samples, sample_steps="
                        f"{net.sample_steps}, n={inp.n})")
    return Batch({inp.name: spikes.astype(bool)}, np.asarray(labels), np.asarray(sample_ids),
                 teacher_batch(net, labels, sample_ids), dataset, split)


def provenance(net: Network, **extra) -> dict:
    import brian2

    return {"spikeport": __version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "brian2": brian2.__version__,
            "machine": f"{platform.machine()} {platform.system()} ({platform.node()})",
            "seed": net.seed, "dt": net.dt, "sample_steps": net.sample_steps, **extra}


def simulate_summary(net: Network, result, batch: Batch) -> dict:
    """Spike statistics per population and the readout accuracy."""
    from spikeport.models.brian2_sim import predict

    T = net.sample_steps
    pops = {}
    for name, spk in list(batch.inputs.items()) + list(result.spikes.items()):
        counts = spk.sum(axis=1)  # (n_samples, n)
        pops[name] = {
            "neurons": int(spk.shape[2]),
            "spikes_per_sample": float(counts.sum(axis=1).mean()),
            "mean_rate_hz": float(counts.mean() / (T * net.dt)),
            "silent_fraction": float((counts.sum(axis=0) == 0).mean()),
        }
    out = {"network": net.name, "samples": int(len(batch.labels)), "dataset": batch.dataset,
           "split": batch.split, "populations": pops, "wall_time_s": result.wall_time,
           "samples_per_s": len(batch.labels) / max(result.wall_time, 1e-9),
           "backend": f"brian2 ({result.target})"}
    if net.readout is not None and (batch.labels >= 0).all():
        pred = predict(net, result)
        out["accuracy"] = float((pred == batch.labels).mean())
    return out


def format_summary(summary: dict) -> str:
    lines = [f"{summary['network']}: {summary['samples']} samples of {summary['dataset']} "
             f"({summary['split']}) on {summary['backend']} in {summary['wall_time_s']:.2f} s "
             f"({summary['samples_per_s']:.0f} samples/s)", "",
             "| population | neurons | spikes/sample | mean rate (Hz) | silent |",
             "|---|---:|---:|---:|---:|"]
    for name, p in summary["populations"].items():
        lines.append(f"| {name} | {p['neurons']} | {p['spikes_per_sample']:.1f} | "
                     f"{p['mean_rate_hz']:.1f} | {100 * p['silent_fraction']:.0f}% |")
    if "accuracy" in summary:
        lines += ["", f"readout accuracy: {100 * summary['accuracy']:.1f}%"]
    return "\n".join(lines)


def run_simulate(spec: str | Path, dataset: str | None = None, data_dir: str | None = None,
                 samples: int | None = 50, split: str = "test", out: str | Path | None = None,
                 target: str = "numpy", progress: bool = True,
                 spikes_file: str | Path | None = None) -> dict:
    """`spikeport simulate`: the Brian2 reference on encoded samples, summary returned."""
    from spikeport.models.brian2_sim import simulate
    from spikeport.models.weights import initial_weights

    spec = Path(spec)
    net = load_spec(spec)
    batch = load_batch(net, dataset, data_dir, split, samples, spikes_file)
    weights = initial_weights(net, spec.parent)
    t0 = time.perf_counter()
    result = simulate(net, batch.inputs, weights, teacher=batch.teacher, target=target,
                      progress=progress)
    summary = simulate_summary(net, result, batch)
    summary["total_time_s"] = time.perf_counter() - t0
    summary["provenance"] = provenance(net, spec=str(spec))
    if out is not None:
        out = Path(out)
        arrays = {f"input/{k}": v for k, v in batch.inputs.items()}
        arrays.update({f"spikes/{k}": v for k, v in result.spikes.items()})
        arrays["labels"] = batch.labels
        arrays["sample_ids"] = batch.sample_ids
        atomic_savez(out / "spikes.npz", **arrays)
        atomic_write_json(out / "simulate.json", summary)
    return summary


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def demo(spec: str | Path | None = None, out: str | Path | None = None,
         backend: str = "emulator") -> str:
    """`make demo`: deploy the digits network — train it in Brian2, convert it to Loihi fixed
    point, run it on ``backend`` (the bit-exact emulator by default, or Lava) and compare with
    the Brian2 reference on the same test spikes."""
    from spikeport.deploy import deploy, format_deploy

    spec = Path(spec) if spec else repo_root() / "examples" / "digits_sbp.yaml"
    out = Path(out) if out else repo_root() / "runs" / "demo"
    untrained = run_simulate(spec, samples=50, split="test", progress=True)
    print("Brian2 reference, untrained network:\n" + format_summary(untrained) + "\n",
          flush=True)
    summary = deploy(spec, out, epochs=5, samples=100, progress=True, backend=backend)
    return format_deploy(summary) + f"\n\neverything is in {out}"
