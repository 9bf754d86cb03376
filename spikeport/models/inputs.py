"""A spec applied to data: the samples a command runs on, as a :class:`~spikeport.flow.batch.Batch`.

One place turns dataset samples into input spikes (the spec's encoder and seed, per sample id)
and teaching spikes, or takes spikes that already exist (event data, a user's spike file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport.data.base import class_names, map_classes
from spikeport.data.encoders import encode
from spikeport.data.registry import load_dataset
from spikeport.data.spikefile import load_spikes
from spikeport.data.teaching import teaching_spikes
from spikeport.errors import DataError, SpecError
from spikeport.flow.batch import Batch, Split
from spikeport.models.spec import Network

EVENT_DATASETS = ("nmnist", "dvsgesture", "shd")

# input size -> the dataset a spec of that size is most likely meant for
_DEFAULT_DATASETS = {64: "digits", 784: "mnist", 189: "nettalk", 1024: "dvsgesture",
                     700: "shd", 2312: "nmnist"}


def default_dataset(net: Network) -> str:
    n = net.inputs[0].n
    if n not in _DEFAULT_DATASETS:
        raise SpecError(f"network '{net.name}': no default dataset for {n} inputs; pass "
                        f"--dataset (one of: {', '.join(sorted(set(_DEFAULT_DATASETS.values())))})")
    return _DEFAULT_DATASETS[n]


def encode_batch(net: Network, X: np.ndarray, labels: np.ndarray, sample_ids: np.ndarray,
                 dataset: str = "", split: str = "", seed: int | None = None) -> Batch:
    """Encode features X (n, n_inputs) in [0, 1] with the spec's encoder and seed (or
    ``seed``, e.g. a per-epoch seed for training)."""
    seed = net.seed if seed is None else seed

    if len(net.inputs) != 1:
        raise SpecError(f"network '{net.name}': a dataset feeds exactly one input population; "
                        f"this network has {len(net.inputs)} (give spike files instead)")
    inp = net.inputs[0]
    if X.shape[1] != inp.n:
        raise DataError(f"dataset {dataset!r} has {X.shape[1]} features per sample but input "
                        f"'{inp.name}' has n={inp.n}")
    enc = inp.encoder
    params = {"max_rate": enc.max_rate} if enc.kind in ("poisson", "regular") else {
        "t_min": enc.t_min, "t_max": enc.t_max if enc.t_max >= 0 else net.sample_steps - 1,
        "threshold": enc.threshold}
    spikes = encode(X, enc.kind, net.sample_steps, net.dt, seed, sample_ids, **params)
    return Batch({inp.name: spikes}, np.asarray(labels), np.asarray(sample_ids),
                 teacher_batch(net, labels, sample_ids, seed), dataset, split)


def teacher_batch(net: Network, labels: np.ndarray, sample_ids: np.ndarray,
                  seed: int | None = None) -> np.ndarray | None:
    """The spec's teaching spike trains for these samples (None without a teacher)."""

    t = net.teacher
    if t is None:
        return None
    n_out = net.size(t.population)
    return teaching_spikes(labels, n_out, net.sample_steps, net.dt, t.rate, kind=t.kind,
                           seed=net.seed if seed is None else seed, sample_ids=sample_ids,
                           neurons_per_class=n_out // net.readout.n_classes)


def load_batch(net: Network, dataset: str | None, data_dir: str | None, split: str,
               samples: int | None, spikes_file: str | Path | None = None,
               classes: list[str] | None = None, class_source: str = "the network") -> Batch:
    """The samples a command runs on: from a dataset (encoded with the spec), or a user's
    spike file (``.npz`` with ``spikes`` (n, T, n_inputs) and ``labels``).

    ``classes``: the class list the network was trained with (``classes.json`` of its
    artefact or run folder, named by ``class_source`` in errors): the file's labels are
    re-indexed through it, so a file holding fewer (or other) classes keeps the network's
    indices; a label outside it is a DataError. None: the file's own indices."""

    if spikes_file is not None:

        data = load_spikes(spikes_file)
        n = data.spikes.shape[0] if samples is None else min(samples, data.spikes.shape[0])
        labels = data.labels if data.labels is not None else np.full(data.spikes.shape[0], -1)
        ids = data.sample_ids if data.sample_ids is not None else np.arange(len(labels))
        batch = spikes_batch(net, data.spikes[:n], labels[:n], ids[:n], str(spikes_file),
                             "file")
        batch.split_size = int(data.spikes.shape[0])
        batch.classes = classes
        return batch
    name = dataset or default_dataset(net)
    events = name in EVENT_DATASETS
    options = {"as_spikes": True, "T": net.sample_steps, "dt": net.dt} if events else {}
    if events and samples is not None:
        options["max_samples"] = samples
    ds = load_dataset(name, split=split, data_dir=data_dir, **options)
    if classes is not None:
        ds = map_classes(ds, classes, class_source)
    n = len(ds.y) if samples is None else min(samples, len(ds.y))
    if n <= 0:
        raise DataError(f"dataset {name!r} split {split!r}: --samples must be >= 1 (got "
                        f"{samples})")
    # sample ids are positions in the whole source, unique across splits: sample i's spikes
    # depend only on (seed, id), never on which split or batch it is drawn in
    ids = np.asarray(ds.index[:n]) if ds.index is not None else np.arange(n)
    if events:
        batch = spikes_batch(net, ds.spikes[:n], ds.y[:n], ids, name, split)
    else:
        batch = encode_batch(net, ds.X[:n], ds.y[:n], ids, name, split)
    batch.split_size = int(len(ds.y))
    batch.classes = class_names(ds)
    return batch


def sample_facts(batch: Batch) -> dict:
    """Which samples a batch holds, for every printed or written accuracy: how many, of which
    split (and how many it has), the range of their sample ids (positions in the source)."""
    ids = np.asarray(batch.sample_ids)
    return {"samples": int(len(batch)), "dataset": batch.dataset, "split": batch.split,
            "split_size": batch.split_size,
            "sample_ids": [int(ids.min()), int(ids.max())] if ids.size else None}


def describe_samples(facts: dict) -> str:
    """``sample_facts`` in words: '500 of the 2000 samples of mnist, test split (sample ids
    6000-6499)'; '20 samples of spikes.npz (sample ids 0-19)' for a spike file."""
    n, total, split = facts["samples"], facts.get("split_size"), facts.get("split")
    ids = facts.get("sample_ids")
    rng = f" (sample ids {ids[0]}-{ids[1]})" if ids else ""
    if split == "file":
        of = f"{n} of the {total}" if total is not None and total != n else f"{n}"
        return f"{of} samples of {facts['dataset']}{rng}"
    if total is None:
        of = f"{n}"
    elif total == n:
        of = f"all {n}"
    else:
        of = f"{n} of the {total}"
    return f"{of} samples of {facts['dataset']}, {split} split{rng}"


def spikes_batch(net: Network, spikes: np.ndarray, labels: np.ndarray, sample_ids: np.ndarray,
                 dataset: str = "", split: str = "") -> Batch:
    """A batch from spikes that already exist (event data, a user's spike file)."""
    inp = net.inputs[0]
    if spikes.ndim != 3 or spikes.shape[1:] != (net.sample_steps, inp.n):
        raise DataError(f"{dataset or 'spikes'}: spike array shape {spikes.shape} does not "
                        f"match input '{inp.name}' (n_samples, sample_steps="
                        f"{net.sample_steps}, n={inp.n})")
    return Batch({inp.name: spikes.astype(bool)}, np.asarray(labels), np.asarray(sample_ids),
                 teacher_batch(net, labels, sample_ids), dataset, split)


def load_split(net: Network, dataset: str, data_dir: str | None, split: str,
               limit: int | None) -> Split:
    """The first ``limit`` samples (all: None) of a dataset split, as features."""

    ds = load_dataset(dataset, split=split, data_dir=data_dir)
    n = len(ds.y) if limit is None else min(limit, len(ds.y))
    ids = np.asarray(ds.index[:n]) if ds.index is not None else np.arange(n)
    return Split(ds.X[:n], ds.y[:n], ids, split)
