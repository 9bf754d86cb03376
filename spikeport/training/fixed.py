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

import shutil
import time
from pathlib import Path

import numpy as np

from spikeport.backends.base import DEFAULT_FIXED, backend_names, get_backend
from spikeport.converters.run_folder import FIXED, convert
from spikeport.errors import DataError
from spikeport.flow.batch import Split
from spikeport.flow.fixed import FixedNetwork
from spikeport.io import atomic_write_json
from spikeport.models.artefact import read_metrics
from spikeport.models.inputs import default_dataset, encode_batch, load_split
from spikeport.models.readout import predict
from spikeport.models.spec import load_spec
from spikeport.provenance import provenance
from spikeport.training.loop import best_epoch, epoch_batch, run_epochs

FIXED_LAST = "fixed_last"  # OUT/fixed_last: the last epoch's network, beside the best in fixed/

def train_fixed(source: str | Path, out: str | Path, dataset: str | None = None,
                data_dir: str | None = None, epochs: int = 1, train_samples: int | None = None,
                eval_samples: int | None = None, progress: bool = True, resume: bool = True,
                options=None, backend: str = DEFAULT_FIXED, timeout: float | None = None) -> dict:
    """`spikeport train --backend emulator` (or any fixed-point backend); returns the metrics
    also written to ``OUT/metrics.json``. ``source``: spec, zoo name or Brian2 artefact
    (converted with ``options``, a :class:`~spikeport.converters.quantize.QuantizeOptions`);
    with ``resume`` and a fixed-point training already in ``out``, it continues up to
    ``epochs``."""
    out = Path(out)
    metrics_file = out / "metrics.json"
    # the metrics saved inside OUT/fixed/ move with the network they describe (see _save)
    # a training continues from its last epoch (OUT/fixed_last); OUT/fixed is the best one
    state = FIXED_LAST if (out / FIXED_LAST / "network.json").is_file() else FIXED
    inner = out / state / "metrics.json"
    if resume and inner.is_file() and (out / state / "network.json").is_file():
        metrics = read_metrics(inner)
        if metrics.get("backend") not in backend_names("fixed"):
            raise DataError(f"{out}: holds a {metrics.get('backend', 'brian2')} training, not a "
                            "fixed-point one; choose another -o or --restart")
    else:
        convert(source, out, options)
        metrics = {"backend": backend, "source": str(source)}
        state = FIXED
    net = load_spec(out / "spec.yaml")
    fixed = FixedNetwork.load(out / state)
    if net.readout is None:
        raise DataError(f"{source}: training needs a readout population to score accuracy")
    dataset = dataset or metrics.get("dataset") or default_dataset(net)
    train_split = load_split(net, dataset, data_dir, "train", train_samples)
    evals = {s: load_split(net, dataset, data_dir, s, eval_samples) for s in ("val", "test")}
    metrics.update({"network": net.name, "dataset": dataset, "data_dir": data_dir,
                    "seed": net.seed,
                    "splits": {"train": int(len(train_split.y)),
                               **{s: int(len(v.y)) for s, v in evals.items()}},
                    "input_spikes": "as the Brian2 trainer: evaluation encodes with the spec "
                                    "seed; training epoch e with seeds.int_seed(seed, "
                                    "INPUT_SPIKES, e)",
                    "provenance": provenance(net, spec=str(source))})
    learner = FixedLearner(net, fixed, dataset, get_backend(backend, timeout=timeout),
                           progress=progress, out=out, metrics=metrics)
    history = run_epochs(learner, train_split, evals, epochs, metrics.get("epochs", []),
                         progress=progress, desc="epochs (fixed point)")
    metrics["epochs"] = history
    if not metrics_file.is_file():
        atomic_write_json(metrics_file, metrics)
    return metrics


class FixedLearner:
    """A fixed-point network learning on a fixed-point backend, as a learner of
    :func:`~spikeport.training.loop.run_epochs`: each epoch is one chip session (the learned
    integer weights and thresholds are loaded back for the next one, with Lava's load-time
    truncation); evaluation runs with learning off and no teaching spikes. With ``out``, the
    learned network and the metrics are committed after every epoch (:func:`_save`)."""

    def __init__(self, net, fixed, dataset: str, backend, progress: bool = False,
                 out: Path | None = None, metrics: dict | None = None):
        self.net, self.fixed, self.dataset, self.backend = net, fixed, dataset, backend
        self.progress, self.out, self.metrics = progress, out, metrics
        self.last = None                 # the last learning run's RunResult
        # the best-validation network so far (a resumed training reads it back from OUT/fixed)
        self._best = (FixedNetwork.load(out / FIXED) if out is not None and metrics
                      and metrics.get("epochs") and (out / FIXED / "metrics.json").is_file()
                      else None)
        self._encoded: dict = {}         # evaluation split -> its Batch (the spec's seed)

    def learn(self, split: Split, epoch: int) -> dict:
        batch = epoch_batch(self.net, split, self.dataset, epoch)
        t0 = time.perf_counter()
        res = self.backend.run(self.fixed, batch, learn=True, progress=self.progress)
        train_time = time.perf_counter() - t0
        self.fixed = self.fixed.with_learned(weights=res.weights, thresholds=res.thresholds)
        self.last = res
        return {"train_accuracy_while_learning":
                float((predict(self.net, res) == batch.labels).mean()),
                "train_time_s": train_time, "learning_ops": res.ops.to_json()}

    def evaluate(self, split: Split) -> dict:
        key = (split.name, len(split))
        if key not in self._encoded:
            self._encoded[key] = encode_batch(self.net, split.X, split.y, split.ids,
                                              self.dataset, split.name)
        return evaluate_fixed(self.net, self.fixed, self._encoded[key], self.backend)

    def save(self, history: list[dict]) -> None:
        """OUT/fixed_last/ is the last epoch's network (what a resumed training continues
        from); OUT/fixed/ the best-validation epoch's (``metrics["best_epoch"]``), what
        ``spikeport run`` takes."""
        if self.out is None:
            return
        self.metrics["epochs"] = history
        best = best_epoch(history)
        self.metrics["best_epoch"] = best
        self.metrics["last_epoch"] = history[-1]["epoch"]
        if best == history[-1]["epoch"] or self._best is None:
            self._best = self.fixed
        # the best first, then the last (see the Brian2 learner: a resume redoes the epoch)
        _save(self.out, self._best, self.metrics, FIXED)
        _save(self.out, self.fixed, self.metrics, FIXED_LAST)


def evaluate_fixed(net, fixed, batch, backend=None) -> dict:
    """Accuracy of a fixed-point network on an encoded batch (learning off: the backend keeps
    the teaching spikes from inference, a teacher drive would hand it the labels)."""
    backend = backend or get_backend(DEFAULT_FIXED)
    res = backend.run(fixed, batch, learn=False)
    pred = predict(net, res)
    return {"accuracy": float((pred == batch.labels).mean()), "samples": int(len(pred)),
            "rates_hz": {p: float(np.mean(s) / net.dt) for p, s in res.spikes.items()},
            "wall_time_s": res.wall_time}


def _save(out: Path, fixed, metrics: dict, sub: str = FIXED) -> None:
    """Replace OUT/<sub> with a network and its metrics (one directory rename: a run killed at
    any point resumes from a network and metrics of the same epoch); then OUT/metrics.json for
    people."""
    tmp = out / (sub + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    fixed.save(tmp)
    atomic_write_json(tmp / "metrics.json", metrics)
    old = out / (sub + ".old")
    if old.exists():
        shutil.rmtree(old)
    if (out / sub).exists():
        (out / sub).rename(old)
    tmp.rename(out / sub)
    if old.exists():
        shutil.rmtree(old)
    atomic_write_json(out / "metrics.json", metrics)
