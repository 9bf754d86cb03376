"""Teaching spike trains: the target class's output neurons get a train at ``rate_hz``.

``teaching_spikes(...)[i, t, k]`` is True when output neuron k receives a teaching spike in
step t of sample i. Only the neurons of sample i's class (``class_of_neuron[k] == labels[i]``)
receive any; the others get none.

``regular``: the encoders' regular train at ``p = rate_hz · dt`` with phase 0 — spike count by
the end of step t is ``floor((t+1)·p)``, the same for every target neuron.
``poisson``: each target neuron spikes in step t iff ``u[t, k] < p``, with
``u = rng.random((T, n_out))`` drawn (for all n_out neurons, so the draw does not depend on
the label layout) from ``default_rng(SeedSequence(seed, spawn_key=(STREAM_ID, sample_id)))``:
sample i's teaching spikes depend only on (seed, its id, its label), never on the batch.
"""

from __future__ import annotations

import numpy as np

from spikeport.data.encoders import (
    _fail,
    check_dt,
    check_rate,
    check_sample_ids,
    check_seed,
    check_steps,
    regular_rate,
    sample_rng,
)
from spikeport.errors import DataError
from spikeport.seeds import TEACHER_SPIKES

STREAM_ID = TEACHER_SPIKES
KINDS = ("regular", "poisson")


def neuron_classes(n_out: int, neurons_per_class: int = 1, class_of_neuron=None) -> np.ndarray:
    """The class of each output neuron (-1: none): blocks of ``neurons_per_class`` by default
    (neurons 0..m-1 → class 0, m..2m-1 → class 1, …), or ``class_of_neuron`` as given."""
    if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out < 1:
        raise _fail("n_out", n_out, "an integer >= 1")
    if class_of_neuron is not None:
        cls = np.asarray(class_of_neuron)
        if cls.shape != (n_out,) or (cls.size and not np.issubdtype(cls.dtype, np.integer)):
            raise _fail("class_of_neuron", f"shape {cls.shape} dtype {cls.dtype}",
                        f"integers of shape ({n_out},), -1 for a neuron of no class")
        if cls.size and cls.min() < -1:
            raise _fail("class_of_neuron", f"min {cls.min()}", "classes >= 0, or -1 for none")
        return cls.astype(np.int64)
    m = neurons_per_class
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1 or n_out % m:
        raise _fail("neurons_per_class", m, f"an integer >= 1 that divides n_out = {n_out}")
    return np.arange(n_out, dtype=np.int64) // int(m)


def teaching_spikes(labels, n_out: int, T: int, dt: float, rate_hz: float,
                    kind: str = "regular", seed: int = 0, sample_ids=None,
                    neurons_per_class: int = 1, class_of_neuron=None) -> np.ndarray:
    """Bool (n_samples, T, n_out): target-class neurons receive a ``kind`` train at rate_hz."""
    if kind not in KINDS:
        raise _fail("teacher kind", kind, ", ".join(KINDS))
    T, dt, seed = check_steps(T), check_dt(dt), check_seed(seed)
    rate = check_rate("teacher rate", rate_hz, dt)
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise _fail("labels", f"shape {labels.shape} dtype {labels.dtype}",
                    "a 1-D array of integer class labels")
    n = labels.shape[0]
    ids = check_sample_ids(sample_ids, n)
    cls = neuron_classes(n_out, neurons_per_class, class_of_neuron)
    target = labels[:, None] == cls[None, :]                # (n, n_out)
    missing = np.flatnonzero(~target.any(axis=1))
    if missing.size:
        i = int(missing[0])
        known = np.unique(cls[cls >= 0])
        raise DataError(f"teacher: label {int(labels[i])} of sample {i} has no output neuron "
                        f"(the {n_out} output neurons cover classes "
                        f"{', '.join(map(str, known.tolist())) or 'none'})")
    if kind == "regular":
        train = regular_rate(np.ones((1, 1)), T, dt, rate)[0, :, 0]   # (T,)
        return train[None, :, None] & target[:, None, :]
    p = rate * dt
    out = np.empty((n, T, int(n_out)), dtype=bool)
    for i in range(n):
        np.less(sample_rng(seed, ids[i], STREAM_ID).random((T, int(n_out))), p, out=out[i])
    out &= target[:, None, :]
    return out
