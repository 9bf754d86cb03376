"""Samples on their way to a backend.

* :class:`Split` — a dataset split (or a class subset of it) as features: ``X`` (n, features) in
  [0, 1], labels, sample ids (positions in the whole source, so a sample's input spikes depend
  only on the seed and its id), and the split's name.
* :class:`Batch` — encoded samples ready for any backend: input spikes per input population,
  labels, sample ids and the teacher's spikes (DESIGN.md §3: the input spikes are data, made
  once and handed to every backend alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """Samples of one split (or a class subset of it): features, labels, sample ids."""

    X: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    name: str

    def __len__(self) -> int:
        return int(len(self.y))


@dataclass
class Batch:
    """Encoded samples ready for any backend: the input spikes are data (DESIGN.md §3)."""

    inputs: dict[str, np.ndarray]       # input name -> bool (n_samples, T, n)
    labels: np.ndarray                  # (n_samples,) int
    sample_ids: np.ndarray              # indices into the dataset split
    teacher: np.ndarray | None          # bool (n_samples, T, n_readout) or None
    dataset: str
    split: str
    split_size: int | None = None       # samples in the whole split (the batch may be its head)
    classes: list[str] | None = None    # label index -> class name, when known

    def __len__(self) -> int:
        return int(len(self.labels))
