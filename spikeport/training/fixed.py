"""Train in fixed point: the twin of the Brian2 trainer (:mod:`spikeport.training.brian2`) with
the network learning on the (emulated) chip, bit-exact to Lava, from its first epoch.

Same schedule as the Brian2 trainer: epoch e presents the training split once in the order
``seeds.rng(seed, SHUFFLE, e)`` with input spikes encoded with ``seeds.int_seed(seed,
INPUT_SPIKES, e)``; validation and test splits are scored with learning off after every epoch
(epoch 0: the converted, untrained network). Each epoch is one chip session: the learned
integer weights and thresholds are loaded back for the next one, as
:meth:`~spikeport.converters.quantize.FixedNetwork.with_learned` does (a MIXED weight that
learning left odd loses its lowest bit on loading, as on the chip).

The output is a run directory that ``spikeport run``/``energy``/``compare`` take::

    OUT/spec.yaml  OUT/fixed/ (the learned fixed-point network)  OUT/quantization.{json,md}
    OUT/metrics.json (accuracy per epoch, samples/s, op counts of the last epoch's learning)
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from spikeport import seeds
from spikeport.errors import DataError
from spikeport.io import atomic_write_json


def train_fixed(source: str | Path, out: str | Path, dataset: str | None = None,
                data_dir: str | None = None, epochs: int = 1, train_samples: int | None = None,
                eval_samples: int | None = None, progress: bool = True, resume: bool = True,
                options=None) -> dict:
    """`spikeport train --backend emulator`; returns the metrics also written to
    ``OUT/metrics.json``. ``source``: spec, zoo name or Brian2 artefact (converted with
    ``options``, a :class:`~spikeport.converters.quantize.QuantizeOptions`); with ``resume``
    and a fixed-point training already in ``out``, it continues up to ``epochs``."""
    from spikeport.converters.run_folder import FIXED, convert
    from spikeport.flow.fixed import FixedNetwork
    from spikeport.models.inputs import default_dataset
    from spikeport.models.spec import load_spec
    from spikeport.provenance import provenance
    from spikeport.training.brian2 import load_split

    out = Path(out)
    metrics_file = out / "metrics.json"
    # the metrics saved inside OUT/fixed/ move with the network they describe (see _save)
    inner = out / FIXED / "metrics.json"
    if resume and inner.is_file() and (out / FIXED / "network.json").is_file():
        metrics = json.loads(inner.read_text())
        if metrics.get("backend") != "emulator":
            raise DataError(f"{out}: holds a {metrics.get('backend', 'brian2')} training, not a "
                            "fixed-point one; choose another -o or --restart")
    else:
        convert(source, out, options)
        metrics = {"backend": "emulator", "source": str(source)}
    net = load_spec(out / "spec.yaml")
    fixed = FixedNetwork.load(out / FIXED)
    if net.readout is None:
        raise DataError(f"{source}: training needs a readout population to score accuracy")
    dataset = dataset or metrics.get("dataset") or default_dataset(net)
    train_split = load_split(net, dataset, data_dir, "train", train_samples)
    evals = encode_evals(net, dataset, data_dir, eval_samples)
    metrics.update({"network": net.name, "dataset": dataset, "data_dir": data_dir,
                    "seed": net.seed,
                    "splits": {"train": int(len(train_split.y)),
                               **{s: int(len(v.labels)) for s, v in evals.items()}},
                    "input_spikes": "as the Brian2 trainer: evaluation encodes with the spec "
                                    "seed; training epoch e with seeds.int_seed(seed, "
                                    "INPUT_SPIKES, e)",
                    "provenance": provenance(net, spec=str(source))})
    history = list(metrics.get("epochs", []))
    if not history:
        row = {"epoch": 0}
        for s, split in evals.items():
            row[f"{s}_accuracy"] = evaluate_fixed(net, fixed, split)["accuracy"]
        history.append(row)
    start = len(history)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=epochs, initial=max(start - 1, 0), desc="epochs (fixed point)",
                   unit="epoch")
    try:
        for epoch in range(start, epochs + 1):
            fixed, row, res = learn_epoch(net, fixed, train_split, evals, dataset, epoch,
                                          emulator_runner(progress))
            row["learning_ops"] = res.ops.to_json()
            history.append(row)
            metrics["epochs"] = history
            _save(out, fixed, metrics)
            if bar is not None:
                bar.set_postfix(val=f"{row['val_accuracy']:.3f}")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    metrics["epochs"] = history
    if start > epochs or not metrics_file.is_file():
        atomic_write_json(metrics_file, metrics)
    return metrics


def emulator_runner(progress: bool = False):
    """``(fixed, inputs, teacher, learn, labels) → RunResult`` on the emulator."""
    from spikeport.backends.emulator import run_emulator

    def run(fixed, inputs, teacher, learn, labels=None):
        return run_emulator(fixed, inputs, teacher, learn=learn, progress=progress and learn,
                            labels=labels)

    return run


def learn_epoch(net, fixed, train_split, evals: dict, dataset: str, epoch: int,
                runner=None):
    """One fixed-point training epoch: the training split in the epoch's seeded order with
    the epoch's input noise, learning on (``runner(fixed, inputs, teacher, learn, labels)``: the
    emulator by default, or Lava), then ``evals`` (split name → encoded
    :class:`~spikeport.flow.batch.Batch`) scored with learning off and no teaching spikes.
    Returns the learned network, the epoch's metrics row and the learning run's result."""
    from spikeport.models.inputs import encode_batch
    from spikeport.models.readout import predict

    runner = runner or emulator_runner()
    order = seeds.rng(net.seed, seeds.SHUFFLE, epoch).permutation(len(train_split.y))
    batch = encode_batch(net, train_split.X[order], train_split.y[order],
                         train_split.ids[order], dataset, "train",
                         seed=seeds.int_seed(net.seed, seeds.INPUT_SPIKES, epoch))
    t0 = time.perf_counter()
    res = runner(fixed, batch.inputs, batch.teacher, True, batch.labels)
    train_time = time.perf_counter() - t0
    fixed = fixed.with_learned(weights=res.weights, thresholds=res.thresholds)
    row = {"epoch": epoch,
           "train_accuracy_while_learning": float((predict(net, res) == batch.labels).mean()),
           "train_time_s": train_time, "train_samples_per_s": len(order) / train_time}
    for s, b in evals.items():
        ev = evaluate_fixed(net, fixed, b, runner)
        row[f"{s}_accuracy"] = ev["accuracy"]
        row[f"{s}_rates_hz"] = ev["rates_hz"]
    return fixed, row, res


def encode_evals(net, dataset: str, data_dir, samples: int | None) -> dict:
    """The validation and test splits, encoded with the spec's seed (as ``simulate``)."""
    from spikeport.models.inputs import encode_batch
    from spikeport.training.brian2 import load_split

    out = {}
    for s in ("val", "test"):
        sp = load_split(net, dataset, data_dir, s, samples)
        out[s] = encode_batch(net, sp.X, sp.y, sp.ids, dataset, s)
    return out


def evaluate_fixed(net, fixed, batch, runner=None) -> dict:
    """Accuracy of a fixed-point network on an encoded batch (learning off, no teaching
    spikes: a teacher drive would hand inference the labels)."""
    from spikeport.models.readout import predict

    runner = runner or emulator_runner()
    res = runner(fixed, batch.inputs, None, False, None)
    pred = predict(net, res)
    return {"accuracy": float((pred == batch.labels).mean()), "samples": int(len(pred)),
            "rates_hz": {p: float(np.mean(s) / net.dt) for p, s in res.spikes.items()},
            "wall_time_s": res.wall_time}


def _save(out: Path, fixed, metrics: dict) -> None:
    """Replace OUT/fixed with the learned network and its metrics (one directory rename: a
    run killed at any point resumes from a network and metrics of the same epoch); then
    OUT/metrics.json for people."""
    from spikeport.converters.run_folder import FIXED

    tmp = out / (FIXED + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    fixed.save(tmp)
    atomic_write_json(tmp / "metrics.json", metrics)
    old = out / (FIXED + ".old")
    if old.exists():
        shutil.rmtree(old)
    (out / FIXED).rename(old)
    tmp.rename(out / FIXED)
    shutil.rmtree(old)
    atomic_write_json(out / "metrics.json", metrics)
