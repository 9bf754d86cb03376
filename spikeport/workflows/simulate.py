"""`spikeport simulate`: the Brian2 reference on encoded samples, with spike statistics per
population and the readout accuracy."""

from __future__ import annotations

import time
from pathlib import Path

from spikeport.flow.batch import Batch
from spikeport.io import atomic_savez, atomic_write_json
from spikeport.models.inputs import load_batch
from spikeport.models.spec import Network, load_spec
from spikeport.provenance import provenance


def simulate_summary(net: Network, result, batch: Batch) -> dict:
    """Spike statistics per population and the readout accuracy."""
    from spikeport.models.readout import predict

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
    from spikeport.backends.brian2.sim import simulate
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
