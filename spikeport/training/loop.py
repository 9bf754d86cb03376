"""The one epoch loop: Brian2 training, fixed-point training and the continual protocol's tasks
all run through :func:`run_epochs`.

What the loop owns, so that no learner writes it again:

* **the schedule** — epoch e presents the training split once in the order
  ``seeds.rng(seed, SHUFFLE, e)``, and a learner that encodes spikes takes the epoch's input
  seed ``seeds.int_seed(seed, INPUT_SPIKES, e)`` from :func:`epoch_order` /
  :func:`epoch_batch`: the same seed gives the same bits, resumed or not;
* **evaluation** after every epoch (and epoch 0: the untrained network, so every curve starts
  where learning started), one metrics row per epoch;
* **resume** — ``history`` holds the rows already done; the loop starts after them;
* **the commit** — after each epoch the learner saves its state and the metrics in one atomic
  step (``learner.save``), so a kill loses at most the epoch under way;
* **early stopping** — ``stop(row)`` ends the loop after an epoch (the continual protocol's
  "good enough on this task's validation samples");
* **progress** — one bar over epochs, with the last validation accuracy.

A learner is any object with::

    learn(split: Split, epoch: int) -> dict      # one epoch of learning: its train_* fields
                                                 # (may include its own "train_time_s"), then
                                                 # any others (written after the evaluation)
    evaluate(split: Split) -> dict               # learning off: {"accuracy", ...}
    save(history: list[dict]) -> None            # commit state + history (optional: no-op)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from spikeport import seeds
from spikeport.flow.batch import Batch, Split


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order epoch ``epoch`` presents ``n`` training samples in."""
    return seeds.rng(seed, seeds.SHUFFLE, epoch).permutation(n)


def epoch_input_seed(seed: int, epoch: int) -> int:
    """The seed epoch ``epoch``'s input (and teaching) spikes are drawn with."""
    return seeds.int_seed(seed, seeds.INPUT_SPIKES, epoch)


def epoch_batch(net, split: Split, dataset: str, epoch: int) -> Batch:
    """The training batch of epoch ``epoch``: the split in the epoch's order, encoded with the
    epoch's input seed (per sample id, so a sample's spikes do not depend on its position)."""
    from spikeport.models.inputs import encode_batch  # models -> data: cheap, but not flow's

    order = epoch_order(net.seed, epoch, len(split.y))
    return encode_batch(net, split.X[order], split.y[order], split.ids[order], dataset,
                        split.name, seed=epoch_input_seed(net.seed, epoch))


def evaluation_row(learner, evals: dict[str, Split], rates: bool = True) -> dict:
    """``{split}_accuracy`` (and ``{split}_rates_hz`` when the learner reports rates and
    ``rates``; the untrained network's row 0 carries accuracies only)."""
    row = {}
    for name, split in evals.items():
        ev = learner.evaluate(split)
        row[f"{name}_accuracy"] = ev["accuracy"]
        if rates and "rates_hz" in ev:
            row[f"{name}_rates_hz"] = ev["rates_hz"]
    return row


def run_epochs(learner, train: Split, evals: dict[str, Split], epochs: int,
               history: list[dict] | None = None, *, evaluate_initial: bool = True,
               stop: Callable[[dict], bool] | None = None, evaluate_last: bool = True,
               progress: bool = False, desc: str = "epochs") -> list[dict]:
    """Train ``learner`` until ``epochs`` epochs are done; returns the history of rows.

    ``history``: rows of epochs already done (resume); row 0 is the untrained network's
    evaluation when ``evaluate_initial``. Each new row: ``epoch``, the learner's training
    fields, ``train_time_s``, ``train_samples_per_s`` and the evaluation of every split in
    ``evals``. ``stop(row)`` true ends the loop after that epoch. ``evaluate_last=False``
    skips the evaluation after the final epoch (a caller that only evaluates to decide whether
    to stop early)."""
    history = list(history or [])
    if evaluate_initial and not history:
        history.append({"epoch": 0, **evaluation_row(learner, evals, rates=False)})
        learner_save(learner, history)
    done = history[-1]["epoch"] if history else 0
    bar = progress_bar(progress, epochs, done, desc)
    try:
        for epoch in range(done + 1, epochs + 1):
            t0 = time.perf_counter()
            learned = learner.learn(train, epoch)
            row = {"epoch": epoch, **{k: v for k, v in learned.items() if k.startswith("train_")}}
            # the learner may time its learning run alone (without encoding the inputs)
            row.setdefault("train_time_s", time.perf_counter() - t0)
            row["train_samples_per_s"] = len(train) / max(row["train_time_s"], 1e-9)
            if evaluate_last or epoch < epochs:
                row.update(evaluation_row(learner, evals))
            # the learner's other fields (e.g. the learning run's op counts) close the row
            row.update({k: v for k, v in learned.items() if k not in row})
            history.append(row)
            learner_save(learner, history)
            if bar is not None:
                if "val_accuracy" in row:
                    bar.set_postfix(val=f"{row['val_accuracy']:.3f}")
                bar.update(1)
            if stop is not None and epoch < epochs and stop(row):
                break
    finally:
        if bar is not None:
            bar.close()
    return history


def best_epoch(history: list[dict], key: str = "val_accuracy") -> int | None:
    """The epoch whose ``key`` is highest (the earliest of equals), or None without one. The
    checkpoint a training keeps as its artefact: chosen on validation, never on test."""
    scored = [r for r in history if r.get(key) is not None]
    if not scored:
        return None
    return max(scored, key=lambda r: (r[key], -r["epoch"]))["epoch"]


def learner_save(learner, history: list[dict]) -> None:
    save = getattr(learner, "save", None)
    if save is not None:
        save(history)


def progress_bar(enabled: bool, total: int, initial: int, desc: str, unit: str = "epoch",
                 leave: bool = True):
    """A tqdm bar (or None when progress is off); tqdm is imported only when shown."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=min(max(initial, 0), total), desc=desc, unit=unit,
                leave=leave)
