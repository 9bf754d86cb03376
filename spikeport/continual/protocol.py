"""The class-incremental protocol: tasks of disjoint classes learned one after another.

**Tasks.** The classes 0..C−1 are split into tasks of ``K`` classes each (K = 1: one class per
task, the NACA paper's MNIST setting; K = 2: the two-class variant), in a seeded random order
(:func:`task_schedule`) or as the user lists them (:func:`parse_tasks`). Every method of a run
sees the same schedule and the same samples in it.

**Single head.** One output layer for all classes. After task t the network is scored on the
test samples of *every* class seen so far (tasks 0..t), each sample on its own: the predicted
class is the best-scoring class among those seen so far (the schedule is known; nothing about
the sample is), see :func:`predict_seen`. A method may abstain (a spiking readout with no
output spike for any seen class): an abstention counts as an error. There is no batch-level
statistic at test time (PAPERS.md §3.5: the NACA code's batch-mean input gate leaks the class
of a single-class test batch; spikeport does not build it).

**Training a task.** Up to ``max_epochs`` passes over the task's training samples; with
``early_stop`` = a, training stops after the first epoch whose accuracy on the task's
*validation* samples (the dataset's validation split, never the test split) reaches a — the
paper's rule, there applied to a copy of the training set.

**Metrics** (:mod:`spikeport.continual.report`): the accuracy matrix ``A[t, k]`` (accuracy on
task k's test samples after training task t, k ≤ t), the final mean accuracy
``mean_k A[T−1, k]``, backward transfer ``BWT = mean_{k<T−1} (A[T−1, k] − A[k, k])`` and the
epochs each task took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spikeport import seeds
from spikeport.data.registry import load_dataset
from spikeport.errors import DataError, SpecError
from spikeport.flow.batch import Split
from spikeport.training.loop import progress_bar, run_epochs

# sub-stream key of everything the continual protocol draws (task order, shuffles, spikes)
CONTINUAL_KEY = seeds.name_key("spikeport.continual")
TASK_ORDER = 0


@dataclass(frozen=True)
class Splits:
    """A dataset's train/val/test splits (fixed by the loader, never by a seed)."""

    train: Split
    val: Split
    test: Split
    n_classes: int
    dataset: str


@dataclass(frozen=True)
class ProtocolConfig:
    """What the protocol runs: the task schedule and how long each task trains.

    ``train_per_class``/``val_per_class``/``test_per_class``: at most this many samples of each
    class (the first ones, in the split's order; None: all)."""

    tasks: tuple[tuple[int, ...], ...]
    max_epochs: int = 1
    early_stop: float | None = None
    train_per_class: int | None = None
    val_per_class: int | None = None
    test_per_class: int | None = None

    def __post_init__(self):
        if not self.tasks or any(not t for t in self.tasks):
            raise SpecError(f"continual: tasks = {self.tasks!r} is invalid; allowed: one or "
                            "more non-empty tasks")
        flat = [c for t in self.tasks for c in t]
        if len(set(flat)) != len(flat):
            raise SpecError(f"continual: tasks = {self.tasks!r} repeat a class; allowed: each "
                            "class in at most one task (class-incremental)")
        if isinstance(self.max_epochs, bool) or not isinstance(self.max_epochs, int) \
                or self.max_epochs < 1:
            raise SpecError(f"continual: max_epochs = {self.max_epochs!r} is invalid; allowed: "
                            "integers >= 1")
        if self.early_stop is not None and not 0.0 < self.early_stop <= 1.0:
            raise SpecError(f"continual: early_stop = {self.early_stop!r} is invalid; allowed: "
                            "(0, 1] or none")
        for name in ("train_per_class", "val_per_class", "test_per_class"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise SpecError(f"continual: {name} = {v!r} is invalid; allowed: integers >= 1 "
                                "or none")

    @property
    def classes(self) -> tuple[int, ...]:
        return tuple(c for t in self.tasks for c in t)


def task_schedule(n_classes: int, classes_per_task: int = 1, seed: int = 0,
                  shuffle: bool = True) -> tuple[tuple[int, ...], ...]:
    """Tasks of ``classes_per_task`` classes; the class order is a permutation drawn from
    ``rng(seed, SHUFFLE, CONTINUAL_KEY, TASK_ORDER)`` (``shuffle``) or 0..C−1."""
    if isinstance(classes_per_task, bool) or not isinstance(classes_per_task, int) \
            or not 1 <= classes_per_task <= n_classes or n_classes % classes_per_task:
        raise SpecError(f"continual: classes per task = {classes_per_task!r} is invalid; "
                        f"allowed: a divisor of the class count {n_classes}")
    order = (seeds.rng(seed, seeds.SHUFFLE, CONTINUAL_KEY, TASK_ORDER).permutation(n_classes)
             if shuffle else np.arange(n_classes))
    return tuple(tuple(int(c) for c in order[i:i + classes_per_task])
                 for i in range(0, n_classes, classes_per_task))


def parse_tasks(text: str, n_classes: int, seed: int = 0) -> tuple[tuple[int, ...], ...]:
    """``--tasks``: ``K`` (classes per task, seeded order) or an explicit schedule such as
    ``3,7/1,9/0,2`` (tasks separated by ``/``, classes by ``,``)."""
    text = str(text).strip()
    if text.isdigit():
        return task_schedule(n_classes, int(text), seed)
    tasks = []
    for part in text.split("/"):
        try:
            task = tuple(int(c) for c in part.split(",") if c.strip())
        except ValueError:
            raise SpecError(f"continual: --tasks {text!r} is invalid; allowed: K (classes per "
                            "task) or lists like 3,7/1,9") from None
        bad = [c for c in task if not 0 <= c < n_classes]
        if bad or not task:
            raise SpecError(f"continual: --tasks {text!r} names class {bad[0] if bad else '∅'}; "
                            f"allowed: classes 0..{n_classes - 1}, non-empty tasks")
        tasks.append(task)
    return tuple(tasks)


def load_splits(dataset: str, data_dir: str | None = None) -> Splits:
    """The dataset's fixed train/val/test splits (see :mod:`spikeport.data.registry`)."""

    parts = {}
    n_classes = None
    for name in ("train", "val", "test"):
        ds = load_dataset(dataset, split=name, data_dir=data_dir)
        if ds.spikes is not None:
            raise DataError(f"{dataset}: continual learning runs on feature datasets; event "
                            "data is not supported yet")
        ids = np.asarray(ds.index) if ds.index is not None else np.arange(len(ds.y))
        parts[name] = Split(ds.X, np.asarray(ds.y, np.int64), ids, name)
        n_classes = ds.n_classes
    return Splits(parts["train"], parts["val"], parts["test"], int(n_classes), dataset)


def select(split: Split, classes, per_class: int | None = None) -> Split:
    """The samples of ``classes`` (at most ``per_class`` of each, the first in split order),
    kept in split order."""
    keep = np.zeros(len(split), bool)
    for c in classes:
        idx = np.flatnonzero(split.y == c)
        if idx.size == 0:
            raise DataError(f"split {split.name!r} has no sample of class {c}")
        keep[idx[:per_class] if per_class is not None else idx] = True
    return Split(split.X[keep], split.y[keep], split.ids[keep], split.name)


def predict_seen(scores: np.ndarray, seen, abstain: np.ndarray | None = None) -> np.ndarray:
    """Predicted class per sample: the highest score among the ``seen`` classes (ties: the
    lowest class index); −1 where ``abstain`` is True."""
    scores = np.asarray(scores, np.float64)
    allowed = np.full(scores.shape[1], -np.inf)
    allowed[list(seen)] = 0.0
    pred = np.argmax(scores + allowed[None, :], axis=1)
    if abstain is not None:
        pred = np.where(abstain, -1, pred)
    return pred


@dataclass
class MethodRun:
    """One method through the whole schedule: the accuracy matrix and what training took."""

    name: str
    matrix: np.ndarray                       # (T, T), NaN above the diagonal
    epochs: list[int]
    seen_accuracy: list[float]               # accuracy over every seen test sample, per task
    abstained: list[float]                   # fraction of seen test samples without a decision
    train_samples: int = 0
    wall_time_s: float = 0.0
    learning_cost: dict | None = None
    info: dict = field(default_factory=dict)
    # (T, T) fraction of task k's test samples without a decision after task t (NaN above)
    abstained_matrix: np.ndarray | None = None


def run_protocol(learner, splits: Splits, cfg: ProtocolConfig, evaluate_on: str = "test",
                 progress: bool = False) -> MethodRun:
    """Train ``learner`` task by task and score it on every seen class after each task.

    ``learner`` has ``train_epoch(split, task, epoch)``, ``end_task(split, task)``,
    ``predict(split, seen) -> labels (−1: abstain)``, ``learning_cost() -> dict | None`` and a
    ``name``. ``evaluate_on``: ``"test"`` (final numbers) or ``"val"`` (tuning)."""
    if evaluate_on not in ("test", "val"):
        raise SpecError(f"continual: evaluate_on = {evaluate_on!r}; allowed: 'test', 'val'")
    for c in cfg.classes:
        if not 0 <= c < splits.n_classes:
            raise SpecError(f"continual: class {c} is not in {splits.dataset} (classes "
                            f"0..{splits.n_classes - 1})")
    T = len(cfg.tasks)
    matrix = np.full((T, T), np.nan)
    abst = np.full((T, T), np.nan)
    epochs, seen_acc, abstained = [], [], []
    seen: list[int] = []
    n_train = 0
    pool = splits.test if evaluate_on == "test" else splits.val
    limit = cfg.test_per_class if evaluate_on == "test" else cfg.val_per_class
    t0 = time.perf_counter()
    bar = progress_bar(progress, T, 0, learner.name, unit="task", leave=False)
    early = cfg.early_stop
    stop = (lambda row: row["val_accuracy"] >= early) if early is not None else None
    try:
        for t, classes in enumerate(cfg.tasks):
            seen += list(classes)
            train = select(splits.train, classes, cfg.train_per_class)
            val = select(splits.val, classes, cfg.val_per_class)
            rows = run_epochs(_TaskLearner(learner, t, seen), train,
                              {"val": val} if early is not None else {}, cfg.max_epochs,
                              evaluate_initial=False, evaluate_last=False,
                              stop=stop)
            used = len(rows)
            n_train += used * len(train)
            learner.end_task(train, t)
            epochs.append(used)
            ev = select(pool, seen, limit)
            pred = learner.predict(ev, seen)
            for k, task in enumerate(cfg.tasks[:t + 1]):
                mask = np.isin(ev.y, task)
                matrix[t, k] = float(np.mean(pred[mask] == ev.y[mask]))
                abst[t, k] = float(np.mean(pred[mask] < 0))
            seen_acc.append(float(np.mean(pred == ev.y)))
            abstained.append(float(np.mean(pred < 0)))
            if bar is not None:
                bar.set_postfix(acc=f"{np.nanmean(matrix[t, :t + 1]):.3f}")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return MethodRun(learner.name, matrix, epochs, seen_acc, abstained, n_train,
                     time.perf_counter() - t0, learner.learning_cost(), abstained_matrix=abst)


class _TaskLearner:
    """One task of a continual learner seen by the epoch loop: epoch e (1-based) is the
    learner's ``train_epoch(split, task, e - 1)``; the evaluation is the accuracy over the
    classes seen so far (what early stopping reads)."""

    def __init__(self, learner, task: int, seen: list[int]):
        self.learner, self.task, self.seen = learner, task, list(seen)

    def learn(self, split: Split, epoch: int) -> dict:
        self.learner.train_epoch(split, self.task, epoch - 1)
        return {}

    def evaluate(self, split: Split) -> dict:
        return {"accuracy": float(np.mean(self.learner.predict(split, self.seen) == split.y))}

