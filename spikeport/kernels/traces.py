"""Spike traces of Lava 0.10's fixed-point learning engine.

(Lava class: ``LearningConnectionModelBitApproximate`` in ``magma/core/model/py/connection.py``.)

Loihi keeps per-neuron traces (x1, x2 for pre-synaptic neurons; y1, y2, y3 for post-synaptic
ones) as 7-bit unsigned integers, ``[0, 127]``. Between learning epochs only the *last* spike
time of each neuron in the epoch is stored (6-bit within-epoch time ``1..t_epoch``, 0 = no
spike); at the epoch's end the learning engine replays the epoch step by step from the traces
it stored at the previous epoch's end. Per replayed step, per trace:

1. decay: ``v * exp(-1 / tau)`` in float64, then stochastic rounding: ``floor`` plus 1 if the
   random float is below the fractional part (unbiased on average). A trace with ``tau == 0``
   is skipped by Lava's decay and its history row stays 0: it holds only the impulse of a
   spike at that very step.
2. impulse, at the step where the neuron's stored spike time falls: add the integer part of
   the impulse, add 1 if the random *integer* in ``[0, 128)`` is below the fraction stored as
   ``round(frac * 2**8)``, then clip to ``[0, 127]``. The scales differ (7-bit random, 8-bit
   fraction), so fractional impulses are biased upward: 16.25 acts like 16.5 on average and
   any fraction >= 0.5 always rounds up. Integer impulses are exact.

The random float and integer are the single values the streams hold at the epoch's end: one
pair per epoch (per batch element), shared by every replayed step, every neuron and every
trace of the x (or y) group; with ``t_epoch = 1`` that is one pair per step.

Decay does not clip, so a value above 127 or below 0 (possible only for y values a
three-factor neuron sends) is clipped only at a spike step, and by the factor clipping of the
learning rule. The random numbers come from :mod:`spikeport.kernels.random_streams`.

A neuron that spikes twice within one epoch gets the second impulse immediately, added to the
*stored* (start-of-epoch) trace, so the replay then decays it over the whole epoch. For
pre-synaptic neurons Lava rounds that impulse with a random value of 0 (a fractional impulse
rounds up); for post-synaptic ones with the y integer stream. Only the last spike time is kept.

Arrays are batch-first: traces ``(B, K, N)`` (K traces of N neurons), spike times ``(B, N)``,
random values ``(B,)``; histories ``(t_epoch + 1, B, K, N)`` (row 0 = the stored traces).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_number_range

TRACE_BITS = 7
TRACE_MAX = (1 << TRACE_BITS) - 1  # 127
IMPULSE_FRACTION_BITS = 8  # fractional impulses are kept with 8 bits
IMPULSE_RANGE = (0.0, 255.0)  # Lava stores impulses in 8-bit Vars
TAU_RANGE = (0.0, 65535.0)  # 0 = no decay history (see module doc); 65535 = three-factor y


def decompose_impulse(impulse) -> tuple[np.ndarray, np.ndarray]:
    """Split impulses into an integer part and an 8-bit fraction ``round(frac * 256)``."""
    imp = np.asarray(impulse, dtype=np.float64)
    for value in imp.reshape(-1):
        check_number_range("impulse", float(value), *IMPULSE_RANGE)
    whole = np.floor(imp)
    frac = np.round((imp - whole) * (1 << IMPULSE_FRACTION_BITS))
    return whole.astype(np.int64), frac.astype(np.int64)


def check_taus(taus) -> np.ndarray:
    """Validate trace time constants (in steps; 0 disables the decay history)."""
    arr = np.asarray(taus, dtype=np.float64)
    for value in arr.reshape(-1):
        check_number_range("tau", float(value), *TAU_RANGE)
    return arr


def decay_traces(values: np.ndarray, taus: np.ndarray, random: np.ndarray) -> np.ndarray:
    """One replayed step of decay with stochastic rounding.

    ``values`` ``(B, K, N)``; ``taus`` ``(K,)``; ``random`` ``(B,)`` floats in [0, 1), one per
    batch element, shared by all K traces and N neurons. Rows with ``tau == 0`` become 0.
    """
    taus = np.asarray(taus, dtype=np.float64)
    live = taus != 0
    factor = np.exp(-1.0 / np.where(live, taus, 1.0))
    scaled = factor[None, :, None] * values
    frac = scaled % 1
    rounded = np.floor(scaled) + (np.asarray(random)[:, None, None] < frac)
    return np.where(live[None, :, None], rounded, 0).astype(np.int64)


def add_impulse(values: np.ndarray, impulse_int, impulse_frac, random) -> np.ndarray:
    """Add an impulse with Lava's stochastic rounding of its fraction, then clip to 7 bits.

    ``impulse_int``/``impulse_frac`` broadcast against ``values`` (fraction in 1/256 units);
    ``random`` is an integer in ``[0, 128)`` (broadcastable) or 0 for pre-synaptic repeats.
    """
    bumped = np.asarray(values, dtype=np.int64) + impulse_int + (np.asarray(random) < impulse_frac)
    return np.clip(bumped, 0, TRACE_MAX)


def replay_epoch(
    traces: np.ndarray,
    spike_times: np.ndarray,
    t_epoch: int,
    taus: np.ndarray,
    impulse_int: np.ndarray,
    impulse_frac: np.ndarray,
    decay_random: np.ndarray,
    impulse_random: np.ndarray,
) -> np.ndarray:
    """Trace history over one epoch, ``(t_epoch + 1, B, K, N)``; row ``t`` is the value after
    within-epoch step ``t`` (decay, then the impulse of a spike stored at ``t``).

    ``traces`` ``(B, K, N)`` are the stored values; ``spike_times`` ``(B, N)`` in ``0..t_epoch``;
    ``taus``/``impulse_*`` ``(K,)``; ``decay_random``/``impulse_random`` ``(B,)``, the values the
    streams hold at the epoch's end (shared by every replayed step).
    """
    traces = np.asarray(traces, dtype=np.int64)
    spike_times = np.asarray(spike_times)
    history = np.empty((t_epoch + 1,) + traces.shape, dtype=np.int64)
    history[0] = traces
    imp_int = np.asarray(impulse_int)[None, :, None]
    imp_frac = np.asarray(impulse_frac)[None, :, None]
    rand_imp = np.asarray(impulse_random)[:, None, None]
    for t in range(1, t_epoch + 1):
        decayed = decay_traces(history[t - 1], taus, decay_random)
        spiking = (spike_times == t)[:, None, :]
        if spiking.any():
            decayed = np.where(spiking, add_impulse(decayed, imp_int, imp_frac, rand_imp), decayed)
        history[t] = decayed
    return history


def _own_time(history_k: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``history_k`` ``(T+1, B, N)`` sampled at each neuron's own time ``times`` ``(B, N)``."""
    return np.take_along_axis(history_k, times[None].astype(np.intp), axis=0)[0]


def sample_pre_trace(x_history: np.ndarray, k: int, dependency: str, tx, ty) -> np.ndarray:
    """Value of pre trace ``k`` (0 = x1, 1 = x2) as a product with ``dependency`` sees it.

    ``x0``: at each pre neuron's own spike time -> ``(B, 1, n_pre)``;
    ``y0``: at each post neuron's spike time -> ``(B, n_post, n_pre)``;
    ``u``: at the epoch's end -> ``(B, 1, n_pre)``. ``x_history`` is ``(T+1, B, 2, n_pre)``.
    """
    hist = x_history[:, :, k, :]
    if dependency == "x0":
        return _own_time(hist, np.asarray(tx))[:, None, :]
    if dependency == "y0":
        by_batch = np.moveaxis(hist, 0, 1)  # (B, T+1, n_pre)
        idx = np.asarray(ty).astype(np.intp)[:, :, None]
        idx = np.broadcast_to(idx, idx.shape[:2] + (by_batch.shape[2],))
        return np.take_along_axis(by_batch, idx, axis=1)
    if dependency == "u":
        return hist[-1][:, None, :]
    raise ValueError(f"dependency={dependency!r} is not one of 'x0', 'y0', 'u'")


def sample_post_trace(y_history: np.ndarray, k: int, dependency: str, tx, ty) -> np.ndarray:
    """Value of post trace ``k`` (0 = y1, 1 = y2, 2 = y3) as a product with ``dependency`` sees it.

    ``x0``: at each pre neuron's spike time -> ``(B, n_post, n_pre)``;
    ``y0``: at each post neuron's own spike time -> ``(B, n_post, 1)``;
    ``u``: at the epoch's end -> ``(B, n_post, 1)``. ``y_history`` is ``(T+1, B, 3, n_post)``.
    """
    hist = y_history[:, :, k, :]
    if dependency == "y0":
        return _own_time(hist, np.asarray(ty))[:, :, None]
    if dependency == "x0":
        by_batch = np.moveaxis(hist, 0, 2)  # (B, n_post, T+1)
        idx = np.asarray(tx).astype(np.intp)[:, None, :]
        idx = np.broadcast_to(idx, (idx.shape[0], by_batch.shape[1], idx.shape[2]))
        return np.take_along_axis(by_batch, idx, axis=2)
    if dependency == "u":
        return hist[-1][:, :, None]
    raise ValueError(f"dependency={dependency!r} is not one of 'x0', 'y0', 'u'")
