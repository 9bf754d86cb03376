"""A user's own input spikes as an ``.npz`` file (read without pickle, written atomically).

Dense form (the default)::

    spikes      bool  (n_samples, T, n_features)   True = a spike of that input in that step
    labels      int   (n_samples,)                  optional
    sample_ids  int   (n_samples,)                  optional, >= 0

Sparse form (``save_spikes(..., sparse=True)``; worth it below ~1/64 of entries active): the
``spikes`` key is replaced by ``spikes_shape`` int64 (3,) and ``spikes_index`` int64 (k,), the
sorted flat (C-order) indices of the True entries. ``load_spikes`` reads either form and always
returns the dense bool array.

Integer 0/1 arrays are accepted as spikes on reading. Files are read with
``np.load(..., allow_pickle=False)`` only: an object array is refused with a DataError. Writes
go to a temporary file in the destination folder, then ``os.replace`` (atomic): an
interrupted write never leaves a half-written file. Other keys may be present and are ignored;
``key`` selects another spike array (e.g. ``input/pixels`` in a ``spikeport simulate -o``
output).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeport.errors import DataError
from spikeport.io import atomic_savez, check_memory, load_npz


@dataclass(frozen=True, eq=False)
class SpikeData:
    """Spikes bool (n_samples, T, n_features) with optional labels and sample ids."""

    spikes: np.ndarray
    labels: np.ndarray | None = None
    sample_ids: np.ndarray | None = None


def _as_spikes(where: str, arr) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 3:
        raise DataError(f"{where}: shape {arr.shape}; expected 3 dimensions (n_samples, T, "
                        "n_features)")
    if arr.dtype == bool:
        return arr
    if np.issubdtype(arr.dtype, np.integer):
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise DataError(f"{where}: integer values in [{arr.min()}, {arr.max()}]; expected "
                            "0/1 (one spike per input per step at most)")
        return arr.astype(bool)
    raise DataError(f"{where}: dtype {arr.dtype}; expected bool (or integers 0/1)")


def _as_ids(where: str, arr, n: int, what: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.shape != (n,) or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise DataError(f"{where}: shape {arr.shape} dtype {arr.dtype}; expected {n} integer "
                        f"{what} (one per sample)")
    if arr.size and arr.min() < 0:
        raise DataError(f"{where}: value {arr.min()}; expected {what} >= 0")
    return arr.astype(np.int64)


def save_spikes(path: str | Path, spikes, labels=None, sample_ids=None,
                sparse: bool = False) -> Path:
    """Write spikes (and optional labels / sample ids) to ``path`` (.npz), atomically."""
    path = Path(path)
    spikes = _as_spikes(f"{path}: spikes", spikes)
    n = spikes.shape[0]
    arrays: dict[str, np.ndarray] = {}
    if sparse:
        arrays["spikes_shape"] = np.asarray(spikes.shape, np.int64)
        arrays["spikes_index"] = np.flatnonzero(spikes.ravel()).astype(np.int64)
    else:
        arrays["spikes"] = spikes
    if labels is not None:
        arrays["labels"] = _as_ids(f"{path}: labels", labels, n, "labels")
    if sample_ids is not None:
        arrays["sample_ids"] = _as_ids(f"{path}: sample_ids", sample_ids, n, "sample ids")
    atomic_savez(path, **arrays)
    return path


def _dense_from_sparse(path: Path, key: str, z: dict) -> np.ndarray:
    shape = np.asarray(z[f"{key}_shape"])
    index = np.asarray(z[f"{key}_index"])
    if shape.shape != (3,) or not np.issubdtype(shape.dtype, np.integer) or shape.min() < 0:
        raise DataError(f"{path}: {key}_shape = {shape.tolist()}; expected 3 integers >= 0 "
                        "(n_samples, T, n_features)")
    size = 1
    for d in shape.tolist():
        size *= int(d)
    check_memory(size, f"{path}: {key}_shape = {shape.tolist()} (dense spikes)")
    if index.ndim != 1 or (index.size and not np.issubdtype(index.dtype, np.integer)):
        raise DataError(f"{path}: {key}_index: shape {index.shape} dtype {index.dtype}; "
                        "expected 1-D integer flat indices")
    if index.size and (index.min() < 0 or index.max() >= size):
        raise DataError(f"{path}: {key}_index: values in [{index.min()}, {index.max()}]; "
                        f"expected [0, {size}) for shape {tuple(shape.tolist())}")
    out = np.zeros(size, dtype=bool)
    out[index] = True
    return out.reshape(tuple(int(s) for s in shape))


def load_spikes(path: str | Path, key: str = "spikes") -> SpikeData:
    """Read a spike file (dense or sparse form); every problem is a DataError naming the file."""
    path = Path(path)
    z = load_npz(path)  # np.load(allow_pickle=False): object arrays are refused
    if key in z:
        spikes = _as_spikes(f"{path}: {key}", z[key])
    elif f"{key}_shape" in z and f"{key}_index" in z:
        spikes = _dense_from_sparse(path, key, z)
    else:
        raise DataError(f"{path}: no array {key!r} (nor {key}_shape + {key}_index); the file "
                        f"holds {', '.join(sorted(z)) or 'nothing'}")
    n = spikes.shape[0]
    labels = _as_ids(f"{path}: labels", z["labels"], n, "labels") if "labels" in z else None
    ids = (_as_ids(f"{path}: sample_ids", z["sample_ids"], n, "sample ids")
           if "sample_ids" in z else None)
    return SpikeData(spikes, labels, ids)
