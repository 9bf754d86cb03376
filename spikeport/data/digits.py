"""scikit-learn's 8×8 handwritten digits: 1,797 samples, 64 features, 10 classes, offline.

The data ship with scikit-learn (``sklearn.datasets.load_digits``), so this is the default
dataset and needs no download. Pixels are integers 0..16; ``X = pixels / 16``.

Split (fixed, independent of any spec seed): the 1,797 samples are shuffled once by a fixed
permutation, ``np.random.default_rng(DIGITS_SPLIT_SEED).permutation(1797)``, and cut 60/20/20:
train = the first 1,078 of that order, val = the next 359, test = the last 360
(⌊1797·3/5⌋ = 1078, ⌊1797/5⌋ = 359). ``split="all"`` is the permuted order, whole.
``Dataset.index`` holds each sample's position in scikit-learn's original order.
"""

from __future__ import annotations

import numpy as np

from spikeport.data.base import Dataset, check_split, make_dataset, split_slices

DIGITS_SPLIT_SEED = 1797  # never change: it defines the splits


def load_digits(split: str = "train", data_dir=None) -> Dataset:
    """The digits split (``data_dir`` is ignored: the data ship with scikit-learn)."""
    check_split("digits", split)
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    data = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(target))
    sel = order[split_slices(len(order), (3, 1, 1))[split]]
    meta = {"source": "sklearn.datasets.load_digits", "scale": "pixel / 16",
            "split_rule": f"permutation default_rng({DIGITS_SPLIT_SEED}), 60/20/20",
            "image_shape": (8, 8)}
    return make_dataset("digits", data[sel] / 16.0, target[sel], 10, split, meta, sel)
