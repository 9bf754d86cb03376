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
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from spikeport import seeds
from spikeport.errors import DataError, SpecError
from spikeport.models.artefact import (
    Artefact,
    is_artefact,
    load_artefact,
    load_source,
    save_artefact,
)
from spikeport.models.spec import Network


def cython_available() -> bool:
    """Whether Brian2 can compile Cython code here (a compiler and Cython present)."""
    from spikeport.models.brian2_sim import import_brian2

    import_brian2()
    try:
        from brian2.codegen.runtime.cython_rt import CythonCodeObject
        return bool(CythonCodeObject.is_available())
    except Exception:  # brian2 reports unavailability by raising from deep inside
        return False


def resolve_target(target: str) -> str:
    if target == "auto":
        return "cython" if cython_available() else "numpy"
    return target


def eval_target(target: str) -> str:
    """The target evaluation runs on: a ``cpp_standalone`` training still evaluates in a
    runtime target, where batched copies make inference fast without a C++ build per split
    size."""
    return resolve_target("auto") if target == "cpp_standalone" else target


@dataclass
class Split:
    X: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    name: str


def load_split(net: Network, dataset: str, data_dir: str | None, split: str,
               limit: int | None) -> Split:
    from spikeport.data.registry import load_dataset

    ds = load_dataset(dataset, split=split, data_dir=data_dir)
    n = len(ds.y) if limit is None else min(limit, len(ds.y))
    ids = np.asarray(ds.index[:n]) if ds.index is not None else np.arange(n)
    return Split(ds.X[:n], ds.y[:n], ids, split)


def evaluate_weights(net: Network, weights, thresholds, split: Split, dataset: str,
                     target: str = "numpy", progress: bool = False,
                     copies: int | str = "auto") -> dict:
    """Accuracy (and spike rates) of fixed weights on one split; learning off. The samples
    run ``copies`` at a time in independent copies of the network (``"auto"``: as many as
    :func:`spikeport.models.brian2_copies.auto_copies` allows); the results are the same."""
    from spikeport.models.brian2_sim import predict, simulate
    from spikeport.pipeline import encode_batch

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
    from spikeport.models.rules import NACA, STDP, SupervisedSTDP

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
    Brian2 computes the same model (:func:`spikeport.models.brian2_sim.simulate`).
    """
    from spikeport.models.brian2_sim import predict, simulate
    from spikeport.pipeline import default_dataset, encode_batch, provenance

    out = Path(out)
    spec = Path(spec)
    art = load_artefact(out) if resume and is_artefact(out) else load_source(spec)
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
    if not history:
        # epoch 0: the untrained network, so every curve starts where learning started
        row = {"epoch": 0}
        for s, split in evals.items():
            row[f"{s}_accuracy"] = evaluate_weights(net, art.weights, art.thresholds, split,
                                                    dataset, eval_target(target),
                                                    copies=copies)["accuracy"]
        history.append(row)

    weights, thresholds = art.weights, art.thresholds
    start = len(history)
    epoch_bar = _bar(progress, epochs, start - 1, "epochs")
    try:
        for epoch in range(start, epochs + 1):
            order = seeds.rng(net.seed, seeds.SHUFFLE, epoch).permutation(len(train_split.y))
            ids = train_split.ids[order]
            batch = encode_batch(net, train_split.X[order], train_split.y[order], ids, dataset,
                                 "train", seed=seeds.int_seed(net.seed, seeds.INPUT_SPIKES, epoch))
            t0 = time.perf_counter()
            res = simulate(scheduled(net, eta_decay, epoch), batch.inputs, weights,
                           teacher=batch.teacher, target=target, progress=progress, learn=True,
                           thresholds=thresholds or None, relay=relay,
                           monitor=(net.readout.population,))
            train_time = time.perf_counter() - t0
            weights, thresholds = res.weights, res.thresholds
            pred = predict(net, res)
            row = {"epoch": epoch,
                   "train_accuracy_while_learning": float((pred == batch.labels).mean()),
                   "train_time_s": train_time,
                   # cpp_standalone: code generation + C++ compile inside train_time_s
                   "train_build_s": res.build_time,
                   "train_samples_per_s": len(ids) / train_time}
            for s, split in evals.items():
                ev = evaluate_weights(net, weights, thresholds, split, dataset,
                                      eval_target(target),
                                      copies=copies)
                row[f"{s}_accuracy"] = ev["accuracy"]
                row[f"{s}_rates_hz"] = ev["rates_hz"]
            history.append(row)
            metrics["epochs"] = history
            save_artefact(Artefact(net, weights, thresholds, metrics), out)
            if epoch_bar is not None:
                epoch_bar.set_postfix(val=f"{row['val_accuracy']:.3f}")
                epoch_bar.update(1)
    finally:
        if epoch_bar is not None:
            epoch_bar.close()
    metrics["epochs"] = history
    if start > epochs:  # already trained that far: rewrite only if it is a new artefact
        if not is_artefact(out):
            save_artefact(Artefact(net, weights, thresholds, metrics), out)
    return metrics


def evaluate(artefact: str | Path, dataset: str | None = None, data_dir: str | None = None,
             split: str = "test", samples: int | None = None, target: str = "auto",
             progress: bool = True, copies: int | str = "auto") -> dict:
    """`spikeport evaluate`: accuracy of a trained artefact on any dataset folder."""
    from spikeport.pipeline import default_dataset

    art = load_artefact(artefact)
    dataset = dataset or art.metrics.get("dataset") or default_dataset(art.net)
    target = resolve_target(target)
    sp = load_split(art.net, dataset, data_dir, split, samples)
    res = evaluate_weights(art.net, art.weights, art.thresholds, sp, dataset, target, progress,
                           copies)
    return {"artefact": str(artefact), "dataset": dataset, "data_dir": data_dir, "split": split,
            **res}


def _bar(enabled: bool, total: int, initial: int, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=max(initial, 0), desc=desc, unit="epoch")
