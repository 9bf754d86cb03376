"""The dataset record and the helpers every loader shares: :class:`Dataset` (features in
[0, 1], labels, a fixed split, stable sample ids), the split rule, ``make_dataset`` and the
default data folders. Loaders import this module; :mod:`.registry` (the name table) imports
the loaders — never the other way round.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spikeport.errors import DataError

SPLITS = ("train", "val", "test", "all")


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of a dataset.

    ``X``: float32 (n_samples, n_features) in [0, 1]. ``y``: int64 (n_samples,) in
    [0, n_classes). ``index``: int64 (n_samples,), each sample's position in its source (file
    order, or scikit-learn's order; each loader says which): a stable identifier, unique
    across the splits of a dataset, good as the encoders' ``sample_ids``.
    ``spikes``: for event data loaded with ``as_spikes=True``, the events binned into a bool
    (n_samples, T, n_features) array (then the input spikes are these, not an encoding of X);
    otherwise None. ``meta``: loader-specific facts (files read, class names, split rule).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    n_classes: int
    split: str
    meta: dict[str, Any] = field(default_factory=dict)
    index: np.ndarray | None = None
    spikes: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.X.ndim != 2 or self.y.shape != (n,):
            raise DataError(f"{self.name}: X has shape {self.X.shape} and y {self.y.shape}; "
                            "expected (n_samples, n_features) and (n_samples,)")
        if self.index is not None and np.shape(self.index) != (n,):
            raise DataError(f"{self.name}: index has shape {np.shape(self.index)}, expected ({n},)")
        if self.spikes is not None and (self.spikes.ndim != 3 or self.spikes.shape[0] != n):
            raise DataError(f"{self.name}: spikes has shape {self.spikes.shape}, expected "
                            f"({n}, T, n_features)")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


def check_split(name: str, split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"{name}: split = {split!r}; expected one of {', '.join(SPLITS)}")
    return split


def split_slices(n: int, fractions: tuple[int, int, int]) -> dict[str, slice]:
    """Contiguous train/val/test blocks: train = first ⌊n·a/s⌋, val = next ⌊n·b/s⌋, test = the
    rest, for integer weights (a, b, c) with s = a + b + c."""
    a, b, c = fractions
    s = a + b + c
    n_train = n * a // s
    n_val = n * b // s
    return {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val),
            "test": slice(n_train + n_val, n), "all": slice(0, n)}


def make_dataset(name: str, X: np.ndarray, y: np.ndarray, n_classes: int, split: str,
                 meta: dict, index: np.ndarray, spikes: np.ndarray | None = None) -> Dataset:
    """Build a Dataset with the dtypes every consumer relies on (float32 X, int64 y/index)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if X.size and (not np.isfinite(X).all() or X.min() < 0.0 or X.max() > 1.0):
        raise DataError(f"{name}: features outside [0, 1] (min {np.nanmin(X)}, max "
                        f"{np.nanmax(X)}): a loader bug, please report it")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"{name}: labels outside [0, {n_classes}) (min {y.min()}, max "
                        f"{y.max()})")
    return Dataset(name, X, y, int(n_classes), split, dict(meta),
                   np.asarray(index, dtype=np.int64), spikes)


def repo_root() -> Path:
    """The folder holding the ``spikeport`` package (the repository root in a source tree)."""
    return Path(__file__).resolve().parents[2]


def default_data_dir(name: str, env_var: str, shared_subdir: str) -> Path:
    """Where a dataset lives when ``data_dir`` is not given.

    1. the environment variable ``env_var`` (an explicit choice wins), else
    2. ``../shared/data/<shared_subdir>`` beside the repository root, if it exists, else
    3. a DataError telling the user to pass ``--data-dir``.
    """
    env = os.environ.get(env_var)
    if env:
        return Path(env).expanduser()
    shared = repo_root().parent / "shared" / "data" / shared_subdir
    if shared.is_dir():
        return shared
    raise DataError(f"{name}: no data folder: pass --data-dir DIR (data_dir=...) or set "
                    f"{env_var}; looked for {shared}")


def class_names(ds: Dataset) -> list[str]:
    """The name of every class index of ``ds``: the loader's ``meta["classes"]`` (NETtalk's
    phoneme symbols), else the indices as text (``"0"`` .. ``"9"`` for the digit sets)."""
    names = ds.meta.get("classes")
    if names is not None:
        return [str(c) for c in names]
    return [str(i) for i in range(ds.n_classes)]


def map_classes(ds: Dataset, classes: list[str], source: str) -> Dataset:
    """``ds`` with its labels re-indexed through ``classes``, the class list a network was
    trained with (``source`` names where it comes from, for the error): label ``c`` of the
    file becomes ``classes.index(c)``, whatever other labels the file holds. A label that is
    not in ``classes`` is a DataError naming the file, the label, a sample and the list."""
    classes = [str(c) for c in classes]
    own = class_names(ds)
    lookup = {c: i for i, c in enumerate(classes)}
    table = np.array([lookup.get(c, -1) for c in own], np.int64)
    y = table[ds.y] if len(ds.y) else ds.y.copy()
    unknown = np.flatnonzero(y < 0)
    if unknown.size:
        first = int(unknown[0])
        label = own[int(ds.y[first])]
        where = ds.meta.get("file") or ", ".join(ds.meta.get("files", [])) or ds.name
        sample = f"sample {int(ds.index[first]) if ds.index is not None else first}"
        if "words" in ds.meta and "word" in ds.meta:
            sample += f", word {ds.meta['words'][int(ds.meta['word'][first])]!r}"
        count = f"{unknown.size} sample{'s' if unknown.size > 1 else ''} in all"
        raise DataError(f"{ds.name}: {where}: label {label!r} ({sample}; {count}) is not one "
                        f"of the {len(classes)} classes of {source}: {' '.join(classes)}")
    meta = dict(ds.meta)
    meta["classes"] = classes
    meta["file_classes"] = own
    return Dataset(ds.name, ds.X, y, len(classes), ds.split, meta, ds.index, ds.spikes)
