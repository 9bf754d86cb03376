"""spikeport's SBP relay and third-factor split, in integers (no stock Lava equivalent).

The relay is a spikeport process, not a stock Lava or Loihi 1 one (on a chip it would need
Loihi 2 microcode: Loihi 1 has no per-neuron graded third factor). Per hidden neuron j it
keeps, batch-first ``(B, n_hidden)`` int64:

* a trace of j's spikes, the same kind of 12-bit truncating decay as a Loihi compartment::

      trace <- trunc0(trace * (4096 - decay) / 4096) + impulse * s_j      clipped to [0, 2**23 - 1]

  (decay first, then this step's spike, as the reference trace; ``impulse`` is one spike,
  typically 4096 so that truncation costs under 0.1 % of a spike per step);
* the sample's accumulated output-synapse modification, in trace units::

      acc <- acc + trace * err_j,   err_j = sum_k fanout[j, k] * (teach_k - s_k)

  clipped to int32 (``[-2**31 + 1, 2**31 - 1]``): ``acc ≈ impulse · M_j / η_o`` of DESIGN.md §3.

At the sample's last step :func:`relay_signal` turns ``acc`` into one signed 7-bit value per
hidden neuron: ``+y2`` (LTP magnitude) for ``acc > 0``, ``-y3`` (LTD) for ``acc < 0``, each a
rounded fixed-point product ``(|acc| * mantissa + 2**(shift-1)) >> shift`` saturated at 127.
Separate gains for the positive and negative parts carry SBP's ``f_ltp`` and ``f_ltd``.

A third-factor LIF splits a signed value into the ``y2``/``y3`` it sends to its plastic
connections with :func:`split_third_factor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._checks import check_int_range, check_int_scalar
from .lif import DECAY_UNITY, decay_toward_zero

TRACE_MAX = (1 << 23) - 1  # a 24-bit compartment register
ACC_MAX = (1 << 31) - 1
Y_MAX = 127  # 7-bit unsigned y2/y3 magnitudes
GAIN_MANTISSA_MAX = (1 << 16) - 1
GAIN_SHIFT_MAX = 62


@dataclass(frozen=True, eq=False)
class RelayParams:
    """Static relay configuration.

    ``fanout``: ``(n_hidden, n_out)`` 0/1, which output neurons hidden neuron j reaches (the
    stored synapses of the supervised projection). ``decay``: effective 12-bit trace decay,
    0..4096. ``impulse``: trace increment per hidden spike. ``gain_ltp``/``gain_ltd``:
    ``(mantissa, shift)``, mantissa 0..65535, shift 0..62.
    """

    fanout: np.ndarray
    decay: int
    impulse: int
    gain_ltp: tuple[int, int]
    gain_ltd: tuple[int, int]

    def __post_init__(self) -> None:
        f = np.asarray(self.fanout)
        if f.ndim != 2:
            raise ValueError(f"fanout must be (n_hidden, n_out), got shape {f.shape}")
        object.__setattr__(self, "fanout", check_int_range("fanout", f, 0, 1))
        object.__setattr__(self, "decay", check_int_scalar("decay", self.decay, 0, DECAY_UNITY))
        object.__setattr__(self, "impulse", check_int_scalar("impulse", self.impulse, 0,
                                                             TRACE_MAX))
        for name in ("gain_ltp", "gain_ltd"):
            value = getattr(self, name)
            if len(value) != 2:
                raise ValueError(f"{name}={value!r} must be (mantissa, shift)")
            m = check_int_scalar(f"{name} mantissa", value[0], 0, GAIN_MANTISSA_MAX)
            s = check_int_scalar(f"{name} shift", value[1], 0, GAIN_SHIFT_MAX)
            object.__setattr__(self, name, (m, s))

    @property
    def n_hidden(self) -> int:
        return int(self.fanout.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.fanout.shape[1])


class RelayState(NamedTuple):
    """``trace`` and ``acc``, int64 ``(B, n_hidden)``."""

    trace: np.ndarray
    acc: np.ndarray


def relay_init_state(batch: int, n_hidden: int) -> RelayState:
    """Zero traces and accumulators (also the state after a sample reset)."""
    z = np.zeros((batch, n_hidden), dtype=np.int64)
    return RelayState(z, z.copy())


def relay_step(state: RelayState, s_hidden, s_out, s_teach, params: RelayParams) -> RelayState:
    """One step: decay and bump the traces, add ``trace * err`` to the accumulators.

    ``s_hidden`` ``(B, n_hidden)``; ``s_out`` and ``s_teach`` ``(B, n_out)`` (nonzero = spike).
    """
    sh = (np.asarray(s_hidden) != 0).astype(np.int64)
    so = (np.asarray(s_out) != 0).astype(np.int64)
    st = (np.asarray(s_teach) != 0).astype(np.int64)
    trace = decay_toward_zero(state.trace, params.decay) + params.impulse * sh
    trace = np.clip(trace, 0, TRACE_MAX)
    err = (st - so) @ params.fanout.T  # (B, n_hidden)
    acc = np.clip(state.acc + trace * err, -ACC_MAX, ACC_MAX)
    return RelayState(trace, acc)


def _scaled(magnitude: np.ndarray, gain: tuple[int, int]) -> np.ndarray:
    m, s = gain
    half = (1 << (s - 1)) if s > 0 else 0
    return np.minimum((magnitude * m + half) >> s, Y_MAX)


def relay_signal(state: RelayState, params: RelayParams) -> np.ndarray:
    """Signed third-factor value per hidden neuron, ``y2 - y3`` in ``[-127, 127]`` (int64)."""
    acc = np.asarray(state.acc, dtype=np.int64)
    y2 = _scaled(np.maximum(acc, 0), params.gain_ltp)
    y3 = _scaled(np.maximum(-acc, 0), params.gain_ltd)
    return y2 - y3


def split_third_factor(value, gate=0) -> tuple[np.ndarray, np.ndarray]:
    """A signed third-factor value -> (y2, y3): its positive and negative parts, each
    saturated to 7 bits. ``gate``: a second, nonnegative channel added to y3 (the teacher's
    per-sample gate of a gated supervised rule), the sum saturated to 7 bits too."""
    v = np.asarray(value, dtype=np.int64)
    y3 = np.clip(-v, 0, Y_MAX) + np.asarray(gate, dtype=np.int64)
    return np.clip(v, 0, Y_MAX), np.clip(y3, 0, Y_MAX)
