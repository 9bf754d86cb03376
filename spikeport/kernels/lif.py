"""Loihi current-based LIF neuron in Lava 0.10 fixed point (``PyLifModelBitAcc``).

One call of :func:`lif_step` is one algorithmic time step of a population, in Loihi order::

    u <- trunc0(u * (4096 - (du + 1)) / 4096) + (a_in << 6)        wraps at 24 bits
    v <- trunc0(v * (4096 - dv) / 4096) + u + (bias_mant << bias_exp)   saturates at 24 bits
    spike = v > (vth << 6);  v[spike] = 0                           u is not reset

where ``trunc0`` truncates toward zero (the magnitude is shifted right, then the sign is put
back). All arrays are batch-first: any leading axes (samples) broadcast against per-neuron
parameters on the last axis, so the same function serves a Lava ProcessModel (batch of 1) and
the batched emulator.

Why the numbers (Loihi 1 register widths, as Lava 0.10's fixed-point model carries them):

* ``du``, ``dv`` are 12-bit unsigned decay constants; a decay multiplies by ``4096 - d`` and
  shifts right by 12. Loihi 1 adds a 1-bit offset register to the current decay only
  (``ds_offset = 1``, ``dm_offset = 0``) so that a full decay of 4096 is reachable for u.
  Hence ``du + 1`` here and plain ``dv``.
* ``u`` and ``v`` are 24-bit state registers. Synaptic input and the threshold have fewer
  bits and are MSB-aligned into them with a 6-bit left shift: one weight unit is 64 units of
  u, one ``vth`` unit is 64 units of v. The bias is *not* aligned that way: it is
  ``bias_mant << bias_exp`` (13-bit signed mantissa, 3-bit exponent).
* Overflow of u wraps around; overflow of v saturates.

Lava details reproduced bit for bit (found by reading ``lava/proc/lif/models.py``):

* The 24-bit wrap of u is a single conditional step, not a modulo: ``u > 2**23`` becomes
  ``u - 2**24`` and ``u <= -2**23`` becomes ``u + 2**24``. So ``+2**23`` itself is kept and
  ``-2**23`` turns into ``+2**23``: u lives in ``(-2**23, 2**23]``.
* v saturates to ``[-(2**23 - 1), 2**23 - 1]`` (symmetric).
* Lava stores u in int32 and computes ``a_in << 6`` and the sum in int32; absurd inputs
  (|a_in| >= 2**25) wrap there first. We emulate that int32 wrap too.
* ``vth << 6`` is computed once, on the first step of a run: a later ``vth.set()`` has no
  effect in Lava. A runner must therefore not change ``vth`` mid-run; the kernel itself just
  uses the ``vth`` it is given.
* The bias is recomputed every step from ``bias_mant`` and ``bias_exp``.
* A monitored ``v`` is read after the reset: it shows 0 at a spike step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._checks import check_int_range

# Decay constants are 12-bit fractions of unity: multiply by (4096 - d), shift right by 12.
DECAY_SHIFT = 12
DECAY_UNITY = 1 << DECAY_SHIFT
# Loihi 1's 1-bit offset registers added to du (current) and dv (voltage).
DU_OFFSET = 1
DV_OFFSET = 0
# Synaptic input and threshold are MSB-aligned into the 24-bit state with a 6-bit shift.
ACTIVATION_SHIFT = 6
THRESHOLD_SHIFT = 6
# u and v are 24-bit signed registers.
STATE_BITS = 24
STATE_HALF = 1 << (STATE_BITS - 1)  # 2**23
V_MAX = STATE_HALF - 1
V_MIN = -(STATE_HALF - 1)

DU_RANGE = (0, 4095)  # 12-bit unsigned
DV_RANGE = (0, 4095)  # 12-bit unsigned
VTH_RANGE = (0, 131071)  # 17-bit unsigned mantissa
BIAS_MANT_RANGE = (-4096, 4095)  # 13-bit signed
BIAS_EXP_RANGE = (0, 7)  # 3-bit unsigned


@dataclass(frozen=True, eq=False)
class LifParams:
    """Fixed-point LIF parameters, validated once.

    Each field is a scalar or an array that broadcasts against the neuron axis (the last
    axis of the state). ``du``/``dv`` are Lava's 12-bit decay constants (not ``du + 1``),
    ``vth`` the 17-bit threshold mantissa (compared against ``vth << 6``), and the bias is
    ``bias_mant << bias_exp``. ``bias_exp`` is Loihi's 3-bit unsigned field, 0..7 (Lava's code
    would right-shift for a negative one; a chip cannot, so we reject it).
    """

    du: int | np.ndarray
    dv: int | np.ndarray
    vth: int | np.ndarray
    bias_mant: int | np.ndarray = 0
    bias_exp: int | np.ndarray = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "du", check_int_range("du", self.du, *DU_RANGE))
        object.__setattr__(self, "dv", check_int_range("dv", self.dv, *DV_RANGE))
        object.__setattr__(self, "vth", check_int_range("vth", self.vth, *VTH_RANGE))
        object.__setattr__(
            self, "bias_mant", check_int_range("bias_mant", self.bias_mant, *BIAS_MANT_RANGE)
        )
        object.__setattr__(
            self, "bias_exp", check_int_range("bias_exp", self.bias_exp, *BIAS_EXP_RANGE)
        )

    @property
    def effective_threshold(self) -> np.ndarray:
        """``vth << 6``: the threshold in units of v."""
        return self.vth << THRESHOLD_SHIFT

    @property
    def effective_bias(self) -> np.ndarray:
        """``bias_mant << bias_exp``: the bias in units of v (no 6-bit alignment)."""
        return self.bias_mant << self.bias_exp


class LifState(NamedTuple):
    """Per-neuron state, int64 arrays of shape ``(*batch, n)``."""

    u: np.ndarray
    v: np.ndarray


def lif_init_state(shape: tuple[int, ...] | int, u=0, v=0) -> LifState:
    """State of a population with the given (batch-first) shape, u and v set as given."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    lim = STATE_HALF
    u_arr = check_int_range("u", u, -lim + 1, lim)
    v_arr = check_int_range("v", v, V_MIN, V_MAX)
    return LifState(
        np.broadcast_to(u_arr, shape).astype(np.int64),
        np.broadcast_to(v_arr, shape).astype(np.int64),
    )


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of int64 values into int32 range (what Lava's int32 arrays do)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def decay_toward_zero(x: np.ndarray, decay: np.ndarray | int) -> np.ndarray:
    """``sign(x) * ((|x| * (4096 - decay)) >> 12)``: a 12-bit decay that truncates toward zero.

    ``decay`` is the *effective* constant (``du + 1`` for u, ``dv`` for v). Loihi multiplies the
    magnitude and drops the 12 fractional bits, so positive and negative states decay
    symmetrically (a plain arithmetic shift would floor negatives away from zero).
    """
    prod = np.asarray(x, dtype=np.int64) * (DECAY_UNITY - np.asarray(decay, dtype=np.int64))
    return np.sign(prod) * (np.abs(prod) >> DECAY_SHIFT)


def wrap_current(u: np.ndarray) -> np.ndarray:
    """Lava's 24-bit wrap of u: one conditional step, range ``(-2**23, 2**23]`` (see module doc)."""
    wrapped = np.where(u > STATE_HALF, u - 2 * STATE_HALF, u)
    return np.where(wrapped <= -STATE_HALF, u + 2 * STATE_HALF, wrapped)


def saturate_voltage(v: np.ndarray) -> np.ndarray:
    """Clip v to the symmetric 24-bit range ``[-(2**23 - 1), 2**23 - 1]``."""
    return np.clip(v, V_MIN, V_MAX)


def update_current(u: np.ndarray, a_in: np.ndarray, du) -> np.ndarray:
    """Step 1: decay u with ``du + 1``, add ``a_in << 6``, wrap at 24 bits.

    ``a_in`` is the summed synaptic input of this step (what Dense sent, in weight units times
    ``2**weight_exp``). The shift MSB-aligns the 16-bit input with the 24-bit current.
    """
    decayed = decay_toward_zero(u, np.asarray(du, dtype=np.int64) + DU_OFFSET)
    # Lava: int32 shift and int32 in-place add (only matters for absurd inputs).
    activation = _wrap_int32(np.asarray(a_in, dtype=np.int64) << ACTIVATION_SHIFT)
    return wrap_current(_wrap_int32(decayed + activation))


def update_voltage(v: np.ndarray, u: np.ndarray, dv, bias: np.ndarray | int) -> np.ndarray:
    """Step 2: decay v with ``dv``, add the new u and the bias, saturate at 24 bits."""
    decayed = decay_toward_zero(v, np.asarray(dv, dtype=np.int64) + DV_OFFSET)
    return saturate_voltage(decayed + u + bias)


def lif_step(a_in: np.ndarray, state: LifState, params: LifParams) -> tuple[np.ndarray, LifState]:
    """One Loihi LIF step: ``(a_in, state, params) -> (spikes, new_state)``.

    ``a_in``: integer array ``(*batch, n)``, the input Dense delivers *this* step (it was
    computed from the previous step's spikes: the one-step Dense delay is the caller's concern,
    see :mod:`spikeport.kernels.dense`). Returns boolean spikes and the new state, with v
    already reset to 0 where a spike occurred (strict ``v > vth << 6``).
    """
    a_in = np.asarray(a_in)
    if not (np.issubdtype(a_in.dtype, np.integer) or a_in.dtype == bool):
        raise ValueError(f"a_in must be an integer array, got dtype {a_in.dtype}")
    u = update_current(state.u, a_in, params.du)
    v = update_voltage(state.v, u, params.dv, params.effective_bias)
    spikes = v > params.effective_threshold
    v = np.where(spikes, 0, v)
    return spikes, LifState(u, v)
