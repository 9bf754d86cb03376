"""Train a spec in the Brian2 reference: one Brian2 run per epoch, evaluation after each.

Each epoch presents the training split once, in a seeded shuffled order, as a single Brian2
``run()`` with learning on; then the validation and test splits run with learning off (same
input spikes as ``spikeport simulate`` gives for them). The artefact directory is rewritten
atomically after every epoch, so a killed run resumes from its last finished epoch.

Input spikes: evaluation uses the spec's seed (identical to ``simulate``); training epoch e
re-encodes the training samples with a seed derived from (spec seed, e), so every epoch sees
fresh Poisson noise. Both are regenerable from the seeds and sample ids in ``metrics.json``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from spikeport.backends.brian2.targets import resolve_target
from spikeport.errors import DataError, SpecError
from spikeport.flow.batch import Split
from spikeport.models.artefact import (
    Artefact,
    is_artefact,
    load_artefact,
    load_source,
    save_artefact,
)
from spikeport.models.inputs import default_dataset, encode_batch, load_split
from spikeport.models.readout import predict
from spikeport.models.rules import NACA, STDP, SupervisedSTDP
from spikeport.models.spec import Network
from spikeport.provenance import provenance
from spikeport.training.loop import best_epoch, epoch_batch, run_epochs


def eval_target(target: str) -> str:
    """The target evaluation runs on: a ``cpp_standalone`` training still evaluates in a
    runtime target, where batched copies make inference fast without a C++ build per split
    size."""
    return resolve_target("auto") if target == "cpp_standalone" else target


def evaluate_weights(net: Network, weights, thresholds, split: Split, dataset: str,
                     target: str = "numpy", progress: bool = False,
                     copies: int | str = "auto") -> dict:
    """Accuracy (and spike rates) of fixed weights on one split; learning off. The samples
    run ``copies`` at a time in independent copies of the network (``"auto"``: as many as
    :func:`spikeport.backends.brian2.copies.auto_copies` allows); the results are the same."""
    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.readout import predict

    batch = encode_batch(net, split.X, split.y, split.ids, dataset, split.name)
    res = simulate(net, batch.inputs, weights, teacher=batch.teacher, target=target,
                   progress=progress, learn=False, thresholds=thresholds or None, copies=copies)
    pred = predict(net, res)
    return {"accuracy": float((pred == split.y).mean()), "samples": int(len(split.y)),
            "wall_time_s": res.wall_time,
            "rates_hz": {p: float(res.spikes[p].mean() / net.dt) for p in res.spikes}}


def scheduled(net: Network, eta_decay: float, epoch: int) -> Network:
    """The network epoch ``epoch`` (1-based) trains with: every learning rate scaled by
    ``eta_decay**(epoch − 1)`` — supervised STDP's and NACA's ``eta``, STDP's ``a_plus`` and
    ``a_minus``. SBP's f is a ratio to the output synapses' change, which the decay already
    scales, and homeostasis regulates rather than learns: neither changes."""

    k = float(eta_decay) ** (epoch - 1)
    if k == 1.0:
        return net
    projs = []
    for p in net.projections:
        rule = p.learning
        if isinstance(rule, (SupervisedSTDP, NACA)):
            p = replace(p, learning=replace(rule, eta=rule.eta * k))
        elif isinstance(rule, STDP):
            p = replace(p, learning=replace(rule, a_plus=rule.a_plus * k,
                                            a_minus=rule.a_minus * k))
        projs.append(p)
    return replace(net, projections=tuple(projs))


def train(spec: str | Path, out: str | Path, dataset: str | None = None,
          data_dir: str | None = None, epochs: int = 1, train_samples: int | None = None,
          eval_samples: int | None = None, target: str = "auto", progress: bool = True,
          resume: bool = True, eta_decay: float | None = None, relay: str = "fast",
          copies: int | str = "auto") -> dict:
    """`spikeport train`: returns the metrics dict also written to ``OUT/metrics.json``.

    ``spec`` is a spec file, a zoo name (``mnist_sbp_nosbp``) or an artefact to continue
    from. With ``resume`` and an artefact
    already in ``out``, training continues from its last finished epoch up to ``epochs``.
    ``eta_decay``: learning-rate schedule, epoch e learns with the rates × eta_decay^(e−1)
    (:func:`scheduled`; default 1 = constant, or the resumed training's own schedule).
    ``relay`` ("fast" or "exact") and ``copies`` (evaluation in independent copies) pick how
    Brian2 computes the same model (:func:`spikeport.backends.brian2.sim.simulate`).
    """
    out = Path(out)
    spec = Path(spec)
    # a training continues from its last epoch (OUT/last); OUT holds the best epoch's network
    resumable = out / LAST if is_artefact(out / LAST) else out
    art = load_artefact(resumable) if resume and is_artefact(resumable) else load_source(spec)
    net = art.net
    if net.readout is None:
        raise DataError(f"{spec}: training needs a readout population to score accuracy")
    dataset = dataset or art.metrics.get("dataset") or default_dataset(net)
    target = resolve_target(target)
    history = list(art.metrics.get("epochs", []))
    previous = art.metrics.get("eta_decay")
    if eta_decay is None:
        eta_decay = 1.0 if previous is None else float(previous)
    if isinstance(eta_decay, bool) or not 0.0 < float(eta_decay) <= 1.0:
        raise SpecError(f"train: eta_decay = {eta_decay!r} is invalid; allowed: (0, 1]")
    if history and previous is not None and float(previous) != float(eta_decay):
        raise SpecError(f"{out}: trained with eta_decay = {previous}, asked to continue with "
                        f"{eta_decay}; allowed: the same schedule, or --restart")
    train_split = load_split(net, dataset, data_dir, "train", train_samples)
    evals = {s: load_split(net, dataset, data_dir, s, eval_samples) for s in ("val", "test")}

    metrics = dict(art.metrics)
    metrics.update({"network": net.name, "dataset": dataset, "data_dir": data_dir,
                    "target": target, "brian2_relay": relay, "seed": net.seed,
                    "eta_decay": float(eta_decay),
                    "splits": {"train": int(len(train_split.y)),
                               **{s: int(len(v.y)) for s, v in evals.items()}},
                    "input_spikes": "regenerable: evaluation encodes with the spec seed; "
                                    "training epoch e with seeds.int_seed(seed, "
                                    "INPUT_SPIKES, e) over the dataset sample ids",
                    "provenance": provenance(net, spec=str(spec))})
    learner = Brian2Learner(art, out, metrics, dataset, target, float(eta_decay), relay,
                            copies, progress)
    done = history[-1]["epoch"] if history else -1
    history = run_epochs(learner, train_split, evals, epochs, history, progress=progress,
                         desc="epochs")
    metrics["epochs"] = history
    if done >= epochs and not is_artefact(out):
        learner.save(history)      # already trained that far: a copy into a new folder
    return metrics


class Brian2Learner:
    """The Brian2 reference as a learner of :func:`~spikeport.training.loop.run_epochs`: one
    ``run()`` per epoch with learning on (the epoch's rates from the schedule), evaluation with
    learning off in independent copies, the artefact rewritten atomically after each epoch."""

    def __init__(self, art: Artefact, out: Path, metrics: dict, dataset: str, target: str,
                 eta_decay: float, relay: str, copies, progress: bool):
        self.net, self.weights, self.thresholds = art.net, art.weights, art.thresholds
        self.out, self.metrics, self.dataset = out, metrics, dataset
        self.target, self.eta_decay, self.relay = target, eta_decay, relay
        self.copies, self.progress = copies, progress
        # resuming: OUT holds the best network so far (written before OUT/last, never behind it)
        self._best = _best_of(out) if art.metrics.get("epochs") and is_artefact(out) else None

    def learn(self, split: Split, epoch: int) -> dict:
        from spikeport.backends.brian2.sim import simulate

        net = self.net
        batch = epoch_batch(net, split, self.dataset, epoch)
        t0 = time.perf_counter()
        res = simulate(scheduled(net, self.eta_decay, epoch), batch.inputs, self.weights,
                       teacher=batch.teacher, target=self.target, progress=self.progress,
                       learn=True, thresholds=self.thresholds or None, relay=self.relay,
                       monitor=(net.readout.population,))
        train_time = time.perf_counter() - t0
        self.weights, self.thresholds = res.weights, res.thresholds
        return {"train_accuracy_while_learning":
                float((predict(net, res) == batch.labels).mean()),
                "train_time_s": train_time,
                # cpp_standalone: code generation + C++ compile inside train_time_s
                "train_build_s": res.build_time}

    def evaluate(self, split: Split) -> dict:
        return evaluate_weights(self.net, self.weights, self.thresholds, split, self.dataset,
                                eval_target(self.target), copies=self.copies)

    def save(self, history: list[dict]) -> None:
        """OUT/last/ is the last epoch's network (what a resumed training continues from); OUT
        itself is the best-validation epoch's (``metrics["best_epoch"]``), what ``evaluate``,
        ``convert`` and ``deploy`` take. Both carry the whole history."""
        self.metrics["epochs"] = history
        best = best_epoch(history)
        self.metrics["best_epoch"] = best
        self.metrics["last_epoch"] = history[-1]["epoch"]
        if best == history[-1]["epoch"] or self._best is None:
            self._best = ({k: v.copy() for k, v in self.weights.items()},
                          {k: np.asarray(v).copy() for k, v in (self.thresholds or {}).items()})
        # the best first, then the last: killed between the two, a resume redoes the epoch
        # from the previous last state and reaches the same bits (the best can only be ahead)
        save_artefact(Artefact(self.net, *self._best, self.metrics), self.out)
        save_artefact(Artefact(self.net, self.weights, self.thresholds, self.metrics),
                      self.out / LAST)


LAST = "last"   # OUT/last: the last epoch's artefact, beside the best one in OUT


def _best_of(out: Path) -> tuple[dict, dict]:
    art = load_artefact(out)
    return art.weights, art.thresholds
