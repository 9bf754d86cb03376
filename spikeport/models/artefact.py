"""A trained artefact: a directory any later command takes.

::

    ARTEFACT/
      spec.yaml       the network spec (as trained)
      weights.npz     one array per projection, (n_pre, n_post), plus ``threshold/<population>``
      metrics.json    accuracy per epoch, seeds, wall time, versions
      classes.json    the class list it was trained with: {"dataset", "classes": [name of
                      index 0, 1, ...]} (absent in artefacts written before it existed)

Every file is written atomically, so an interrupted run leaves the previous epoch's artefact
intact; arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikeport.data.registry import dataset_classes
from spikeport.errors import DataError, SpecError
from spikeport.io import (
    atomic_replace_dir,
    atomic_savez,
    atomic_write_json,
    load_npz,
    read_json_object,
    temporary_dir,
)
from spikeport.models.spec import Network, load_spec, save_spec
from spikeport.models.weights import check_weights

SPEC = "spec.yaml"
WEIGHTS = "weights.npz"
METRICS = "metrics.json"
THRESHOLD_PREFIX = "threshold/"
CLASSES = "classes.json"


@dataclass
class Artefact:
    net: Network
    weights: dict[str, np.ndarray]
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    path: Path | None = None
    classes: list[str] | None = None    # class index -> label name, as trained


def read_classes(folder: str | Path) -> list[str] | None:
    """The class list stored in an artefact or run folder (``classes.json``), or None."""
    path = Path(folder) / CLASSES
    if not path.is_file():
        return None
    data = read_json_object(path, "class list")   # checked: an object, UTF-8, no NaN
    classes = data.get("classes")
    if (not isinstance(classes, list) or not classes
            or not all(isinstance(c, str) for c in classes) or len(set(classes)) != len(classes)):
        raise DataError(f"{path}: classes = {str(classes)[:60]}; allowed: a non-empty list of "
                        "distinct strings")
    return classes


def write_classes(folder: str | Path, classes: list[str], dataset: str | None) -> None:
    atomic_write_json(Path(folder) / CLASSES, {"dataset": dataset,
                                               "classes": [str(c) for c in classes]})


def training_classes(art: Artefact) -> list[str] | None:
    """The class list of an artefact: its own, else that of the dataset its metrics name (the
    file it was trained on, read now: what the trainer indexed labels by)."""
    if art.classes is not None:
        return list(art.classes)
    dataset = art.metrics.get("dataset")
    if not dataset:
        return None

    try:
        return dataset_classes(dataset, art.metrics.get("data_dir"))
    except DataError:
        return None


def is_artefact(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / SPEC).is_file() and (path / WEIGHTS).is_file()


def save_artefact(art: Artefact, path: str | Path) -> None:
    """Write the artefact as one commit: weights, spec and metrics go into a temporary sibling
    folder (each file fsynced), which then replaces ``path`` whole — a kill leaves the previous
    artefact or the new one, never a mix (other files in ``path`` are carried over)."""
    import shutil


    path = Path(path)
    tmp = temporary_dir(path)
    tmp.mkdir()
    if path.is_dir():
        for entry in path.iterdir():
            if entry.name in (SPEC, WEIGHTS, METRICS) or entry.name.endswith(".tmp"):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, tmp / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, tmp / entry.name, follow_symlinks=False)
    _write_artefact(art, tmp)
    atomic_replace_dir(tmp, path)


def _write_artefact(art: Artefact, path: Path) -> None:
    arrays = {name: np.asarray(w, dtype=np.float64) for name, w in art.weights.items()}
    arrays.update({THRESHOLD_PREFIX + name: np.asarray(t, dtype=np.float64)
                   for name, t in art.thresholds.items()})
    atomic_savez(path / WEIGHTS, **arrays)
    save_spec(art.net, path / SPEC)
    atomic_write_json(path / METRICS, art.metrics)
    classes = training_classes(art)
    if classes is not None:
        write_classes(path, classes, art.metrics.get("dataset"))


def load_artefact(path: str | Path) -> Artefact:
    path = Path(path)
    if not is_artefact(path):
        raise DataError(f"{path}: not a trained artefact (expected a folder with {SPEC} and "
                        f"{WEIGHTS}; `spikeport train` writes one)")
    net = load_spec(path / SPEC)
    arrays = load_npz(path / WEIGHTS)
    weights, thresholds = {}, {}
    for proj in net.projections:
        if proj.name not in arrays:
            raise SpecError(f"{path / WEIGHTS}: no weights for projection '{proj.name}'")
        w = check_weights(net, proj, arrays[proj.name], str(path / WEIGHTS))
        if proj.learning is not None and w.size and (w.min() < proj.w_min or
                                                     w.max() > proj.w_max):
            bad = w.min() if w.min() < proj.w_min else w.max()
            raise DataError(f"{path / WEIGHTS}: projection '{proj.name}' has weight {bad:.6g}; "
                            f"allowed: [{proj.w_min}, {proj.w_max}] (its w_min, w_max: learning "
                            "clips to them)")
        weights[proj.name] = w
    for pop in net.populations:
        key = THRESHOLD_PREFIX + pop.name
        if key in arrays:
            t = np.asarray(arrays[key], dtype=np.float64)
            raw = np.asarray(arrays[key])
            if raw.dtype.kind not in "iuf" or t.shape not in ((), (pop.n,)) \
                    or not np.all(np.isfinite(t)) or not np.all(t > 0):
                raise DataError(f"{path / WEIGHTS}: {key} is {raw.dtype} {t.shape}; allowed: "
                                f"shape () or ({pop.n},), finite real values > 0 (a "
                                "threshold)")
            thresholds[pop.name] = t
    metrics = read_metrics(path / METRICS) if (path / METRICS).exists() else {}
    return Artefact(net, weights, thresholds, metrics, path, read_classes(path))


def read_metrics(path: str | Path) -> dict:
    """An artefact's ``metrics.json``: a JSON object whose ``epochs`` (if any) is a list of
    objects with accuracies in [0, 1]; a one-line DataError otherwise."""
    m = read_json_object(path, "training metrics")
    epochs = m.get("epochs", [])
    if not isinstance(epochs, list):
        raise DataError(f"{path}: epochs = {type(epochs).__name__}; allowed: a list of rows")
    for i, row in enumerate(epochs):
        if not isinstance(row, dict):
            raise DataError(f"{path}: epochs[{i}] is {type(row).__name__}; allowed: an object")
        for k, v in row.items():
            if k.endswith("accuracy") and v is not None and (
                    isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1):
                raise DataError(f"{path}: epochs[{i}].{k} = {v!r} is invalid; allowed: an "
                                "accuracy in [0, 1]")
    return m


def load_source(source: str | Path) -> Artefact:
    """What a command can start from: a trained artefact as is, or a spec (a YAML file or a
    zoo name such as ``mnist_sbp_nosbp``) with its initial weights."""
    from spikeport.models import zoo
    from spikeport.models.weights import initial_weights

    source = Path(source)
    if is_artefact(source):
        return load_artefact(source)
    if not source.exists() and str(source) in zoo.names():
        net = zoo.load(str(source))
        return Artefact(net, initial_weights(net))
    net = load_spec(source)
    return Artefact(net, initial_weights(net, source.parent))
