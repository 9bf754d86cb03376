"""`spikeport evaluate`: the accuracy of a trained artefact on a dataset split (learning off).

The file's labels are re-indexed through the artefact's class list (``classes.json``): a file
that lacks a few of the classes the network learned keeps the network's indices. Every result
says which samples were scored (:func:`spikeport.models.inputs.sample_facts`).
"""

from __future__ import annotations

from pathlib import Path

from spikeport.backends.brian2.targets import resolve_target
from spikeport.models.artefact import load_artefact


def evaluate(artefact: str | Path, dataset: str | None = None, data_dir: str | None = None,
             split: str = "test", samples: int | None = None, target: str = "auto",
             progress: bool = True, spikes_file: str | Path | None = None) -> dict:
    """Score ``artefact`` on ``samples`` samples (default all) of ``split`` ("all": the whole
    file) of a dataset folder, or on a spike file."""
    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.inputs import default_dataset, load_batch, sample_facts
    from spikeport.models.readout import predict

    art = load_artefact(artefact)
    net = art.net
    dataset = dataset or art.metrics.get("dataset") or default_dataset(net)
    batch = load_batch(net, dataset, data_dir, split, samples, spikes_file,
                       classes=art.classes, class_source=f"artefact {artefact}")
    res = simulate(net, batch.inputs, art.weights, teacher=batch.teacher,
                   target=resolve_target(target), progress=progress, learn=False,
                   thresholds=art.thresholds or None, copies="auto")   # samples side by side
    pred = predict(net, res)
    out = {"artefact": str(artefact), "dataset": batch.dataset, "data_dir": data_dir,
           "split": batch.split}
    out.update(sample_facts(batch))
    if (batch.labels >= 0).all():
        out["accuracy"] = float((pred == batch.labels).mean())
    # a readout with no spike at all has not decided (predict's argmax then says class 0)
    out["abstained"] = float((res.counts(net.readout.population).sum(axis=1) == 0).mean())
    out["wall_time_s"] = res.wall_time
    out["rates_hz"] = {p: float(res.spikes[p].mean() / net.dt) for p in res.spikes}
    out["classes"] = batch.classes
    out["classes_from"] = "artefact" if art.classes is not None else "data file"
    return out


def format_evaluate(res: dict) -> str:
    from spikeport.models.inputs import describe_samples

    acc = res.get("accuracy")
    score = "no labels to score" if acc is None else f"{100 * acc:.1f}%"
    lines = [f"{res['artefact']}: {score} on {describe_samples(res)}; abstained on "
             f"{100 * res['abstained']:.1f}%"]
    if res.get("classes"):
        cls = res["classes"]
        lines.append(f"{len(cls)} classes (from the {res['classes_from']}): {' '.join(cls)}")
    return "\n".join(lines)
