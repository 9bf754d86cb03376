"""The name table of the datasets and ``load_dataset``, the one entry point to every loader
(the record and shared helpers: :mod:`spikeport.data.base`).

Every loader returns a :class:`Dataset`: features ``X`` float32 in [0, 1] of shape
(n_samples, n_features), labels ``y`` int64, and a fixed, documented split. The splits never
depend on a spec's seed: sample 17 of ``mnist``/``test`` is the same sample in every run.

Datasets and their inputs (see each loader's docstring for the file format and the split):

============  ========  =====================================================================
name          features  source
============  ========  =====================================================================
digits        64        scikit-learn's ``load_digits`` (ships with scikit-learn; offline)
mnist         784       IDX files (``*-images-idx3-ubyte[.gz]``, ``*-labels-idx1-ubyte[.gz]``)
nettalk       189       NETtalk corpus (word, phonemes, stress, flag), 7-letter windows
nmnist        2312      N-MNIST through tonic (34×34×2; 1156 with ``merge_polarities=True``)
dvsgesture    1024      DVS128 Gesture through tonic (128×128 → 32×32, merged polarities)
shd           700       Spiking Heidelberg Digits through tonic (700 channels)
============  ========  =====================================================================

The event sets also return their events binned into spikes with ``as_spikes=True``
(``Dataset.spikes``, bool (n_samples, T, n_features)): see :mod:`spikeport.data.events`.
"""

from __future__ import annotations

import inspect
import os

from spikeport.data import events
from spikeport.data.base import (
    Dataset,
    check_split,
)
from spikeport.data.digits import load_digits
from spikeport.data.mnist import load_mnist
from spikeport.data.nettalk import load_nettalk, nettalk_classes
from spikeport.errors import DataError

DATASETS = ("digits", "mnist", "nettalk", "nmnist", "dvsgesture", "shd")
# features per sample with the default options (what an input population of that size expects)
N_FEATURES = {"digits": 64, "mnist": 784, "nettalk": 189, "nmnist": 2312, "dvsgesture": 1024,
              "shd": 700}


def _loader(name: str):
    if name == "digits":
        return load_digits
    if name == "mnist":
        return load_mnist
    if name == "nettalk":
        return load_nettalk
    if name in ("nmnist", "dvsgesture", "shd"):
        return {"nmnist": events.load_nmnist, "dvsgesture": events.load_dvsgesture,
                "shd": events.load_shd}[name]
    raise DataError(f"dataset = {name!r}; expected one of {', '.join(DATASETS)}")


def load_dataset(name: str, split: str = "train", data_dir: str | os.PathLike | None = None,
                 **options) -> Dataset:
    """Load one split of a named dataset (see the module docstring for the names).

    ``data_dir``: the folder holding the dataset's files (ignored by ``digits``); None means
    the dataset's default (its environment variable, else ``../shared/data/<name>``).
    ``options``: loader-specific keywords (e.g. ``as_spikes=True, T=100`` for event sets); an
    unknown option is a DataError listing the allowed ones.
    """
    fn = _loader(name)
    check_split(name, split)
    params = inspect.signature(fn).parameters
    allowed = [p for p in params if p not in ("split", "data_dir")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DataError(f"{name}: unknown option(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(allowed) or 'none'}")
    return fn(split=split, data_dir=data_dir, **options)


def dataset_classes(name: str, data_dir: str | os.PathLike | None = None) -> list[str] | None:
    """The class list a loader indexes labels by, without loading the samples: the digits
    ``"0"`` .. ``"9"`` for digits and MNIST, the sorted phoneme symbols of the NETtalk file
    (all splits); None for the event sets (their indices are tonic's, fixed by the dataset)."""
    if name in ("digits", "mnist"):
        return [str(i) for i in range(10)]
    if name == "nettalk":

        return nettalk_classes(data_dir)
    _loader(name)   # an unknown name is an error here too
    return None
