"""Batched inference in the Brian2 reference: C independent copies of a network in one Brian2
network, each fed its own samples.

Without learning and with ``between_samples: reset``, samples do not interact (every backend
resets the state between samples; a rest gap instead carries state from one sample to the
next, so copies are refused there), so C copies presenting samples side by side compute
what one network presenting them in sequence computes, while Brian2's per-step cost (one call
per code object and step, whatever the group sizes) is paid once for C samples.

Layout: copy c of population P holds neurons ``c·n_P … (c+1)·n_P − 1``; projections connect
copy c to copy c only (block-diagonal, each block the spec's connectivity and weights). Sample
s runs in copy ``s % C`` during period ``s // C``; the last period is padded with silent
samples, whose results are dropped.
"""

from __future__ import annotations

import numpy as np

from spikeport.errors import BackendError

# Synapses held by all copies together: Brian2 stores ~30 bytes per synapse (weight, pre and
# post indices, fan-in/out counts, spike queue entry), so 4M synapses is ~120 MB.
SYNAPSE_BUDGET = 4_000_000
MAX_COPIES = 64


def auto_copies(n_synapses: int, n_samples: int) -> int:
    """The number of copies for ``n_samples`` samples: as many as fit the synapse budget,
    at most :data:`MAX_COPIES` and never more than the samples."""
    fit = SYNAPSE_BUDGET // max(int(n_synapses), 1)
    return int(max(1, min(fit, MAX_COPIES, n_samples)))


def check_copies(copies: int, learn: bool, rest: bool = False) -> int:
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise BackendError(f"copies = {copies!r} is invalid; allowed: an integer >= 1")
    if copies > 1 and learn:
        raise BackendError(f"copies = {copies} needs learn=False: learning samples change the "
                           "weights the next sample sees, so they run in sequence (copies=1)")
    if copies > 1 and rest:
        raise BackendError(f"copies = {copies} needs between_samples: reset: with a rest gap "
                           "a sample starts from the state the previous one left, so samples "
                           "run in sequence (copies=1)")
    return int(copies)


def periods(n_samples: int, copies: int) -> int:
    return -(-n_samples // copies)


def tile_samples(arr: np.ndarray, copies: int) -> np.ndarray:
    """(n_samples, T, n) -> (periods, T, copies·n): sample s in copy s % C of period s // C."""
    if copies == 1:
        return arr
    n_samples, steps, n = arr.shape
    p = periods(n_samples, copies)
    padded = np.zeros((p * copies, steps, n), dtype=arr.dtype)
    padded[:n_samples] = arr
    return padded.reshape(p, copies, steps, n).transpose(0, 2, 1, 3).reshape(p, steps,
                                                                            copies * n)


def untile_samples(arr: np.ndarray, copies: int, n_samples: int) -> np.ndarray:
    """Inverse of :func:`tile_samples`: (periods, steps, copies·n) -> (n_samples, steps, n)."""
    if copies == 1:
        return arr
    p, steps, cn = arr.shape
    n = cn // copies
    return arr.reshape(p, steps, copies, n).transpose(0, 2, 1, 3).reshape(
        p * copies, steps, n)[:n_samples]


def tile_pairs(i: np.ndarray, j: np.ndarray, n_pre: int, n_post: int, copies: int):
    """Synapse indices of all copies: block c connects pre copy c to post copy c."""
    if copies == 1:
        return i, j
    offs = np.arange(copies)[:, None]
    return (np.asarray(i)[None, :] + offs * n_pre).ravel(), \
        (np.asarray(j)[None, :] + offs * n_post).ravel()


def tile_values(values: np.ndarray, copies: int) -> np.ndarray:
    """Per-synapse or per-neuron values of one copy, repeated for every copy."""
    return np.tile(np.asarray(values), copies) if copies > 1 else np.asarray(values)
