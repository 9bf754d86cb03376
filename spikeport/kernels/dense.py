"""Dense synapses in Lava 0.10 fixed point (``PyDenseModelBitAcc`` and the weight handling of
``LearningDense``).

Weights (what the chip's synaptic memory can hold)
    Loihi weights are 8-bit magnitudes plus a sign that is either shared by the whole
    connection (EXCITATORY, INHIBITORY) or stored per synapse (MIXED). With the sign stored in
    the word, MIXED has one magnitude bit less, so its weights are multiples of 2. Fewer than 8
    weight bits (``num_weight_bits``) drop more low bits.

    On its first step, ``PyDenseModelBitAcc`` clips the weights to 8 bits for the sign mode
    (MIXED ``[-256, 255]``, EXCITATORY ``[0, 255]``, INHIBITORY ``[-255, 0]``) and then
    truncates ``8 - num_weight_bits + (1 if MIXED)`` low bits with an arithmetic shift, i.e.
    it floors (for INHIBITORY the magnitude is floored). So MIXED ``[3, -3, 255, -256]`` becomes
    ``[2, -4, 254, -256]``. :func:`quantize_dense_weights` does both.

    ``LearningDense`` (``PyLearningDenseModelBitApproximate``) only *truncates* on its first
    step (no clip; the first learning epoch clips), see :func:`truncate_weights`; its learned
    weights then move in 1-LSB steps (``learning.py``).

    If no sign mode is given, Dense infers it from the weights (all >= 0: EXCITATORY, all <= 0:
    INHIBITORY, else MIXED; an all-zero matrix counts as EXCITATORY). LearningDense does not
    infer: it defaults to MIXED.

Synaptic input
    Each step Dense sums the weights of the inputs that spiked (binary spikes) or the
    weight-times-payload products (graded spikes, ``num_message_bits > 0``), then applies the
    shared exponent to the *sum*: ``sum << weight_exp`` or, for a negative exponent,
    ``sum >> -weight_exp``, an arithmetic shift that floors (``-3 >> 1 == -2``). The result goes
    into an int32 message buffer (values beyond int32 wrap, as in Lava).

One-step delay (the caller's concern)
    Dense sends, at step t, the input it computed at step t-1 (``a_buff``), then computes the
    new one from the spikes it receives at t. So a spike emitted at step t reaches the neuron's
    ``a_in`` at step t+1. :func:`dense_accumulate` is the pure sum; :func:`dense_step` adds the
    buffer for callers that want Lava's exact timing in one call.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from ._checks import check_int_scalar

WEIGHT_BITS = 8  # magnitude bits of a Loihi weight
WEIGHT_EXP_RANGE = (-8, 7)  # 4-bit signed shared exponent
NUM_WEIGHT_BITS_RANGE = (1, 8)


class SignMode(IntEnum):
    """Sign mode of a connection; values equal ``lava.utils.weightutils.SignMode``."""

    MIXED = 1
    EXCITATORY = 2
    INHIBITORY = 3


def as_sign_mode(value) -> SignMode:
    """Accept a :class:`SignMode`, Lava's ``SignMode`` (same values) or a name like ``"mixed"``."""
    if isinstance(value, str):
        try:
            return SignMode[value.upper()]
        except KeyError:
            raise ValueError(
                f"sign_mode={value!r} is not one of {[m.name.lower() for m in SignMode]}"
            ) from None
    raw = getattr(value, "value", value)
    try:
        return SignMode(int(raw))
    except (TypeError, ValueError):
        raise ValueError(
            f"sign_mode={value!r} is not one of MIXED (1), EXCITATORY (2), INHIBITORY (3)"
        ) from None


def infer_sign_mode(weights: np.ndarray) -> SignMode:
    """Lava's inference for Dense without an explicit sign mode (all-zero -> EXCITATORY)."""
    w = np.asarray(weights)
    if w.min() >= 0:
        return SignMode.EXCITATORY
    if w.max() <= 0:
        return SignMode.INHIBITORY
    return SignMode.MIXED


def weight_bounds(sign_mode) -> tuple[int, int]:
    """Inclusive 8-bit weight range of a sign mode: what any stored weight stays within."""
    mode = as_sign_mode(sign_mode)
    top = (1 << WEIGHT_BITS) - 1
    if mode is SignMode.MIXED:
        return -(1 << WEIGHT_BITS), top
    if mode is SignMode.EXCITATORY:
        return 0, top
    return -top, 0


def clip_weights(weights: np.ndarray, sign_mode) -> np.ndarray:
    """Saturate weights to the 8-bit range of ``sign_mode`` (see :func:`weight_bounds`)."""
    lo, hi = weight_bounds(sign_mode)
    return np.clip(np.asarray(weights, dtype=np.int64), lo, hi)


def truncation_bits(sign_mode, num_weight_bits: int = WEIGHT_BITS) -> int:
    """Low bits dropped from each weight: ``8 - num_weight_bits``, plus 1 in MIXED mode (the
    sign takes a bit of the synaptic word)."""
    nwb = check_int_scalar("num_weight_bits", num_weight_bits, *NUM_WEIGHT_BITS_RANGE)
    return WEIGHT_BITS - nwb + int(as_sign_mode(sign_mode) is SignMode.MIXED)


def truncate_weights(
    weights: np.ndarray, sign_mode, num_weight_bits: int = WEIGHT_BITS
) -> np.ndarray:
    """Drop the low bits a synapse cannot hold: floor to a multiple of ``2**truncation_bits``.

    Inhibitory weights are truncated on their magnitude (the hardware stores magnitudes and a
    shared negative sign), so ``-3`` with 7 bits becomes ``-2``; mixed and excitatory weights
    floor toward minus infinity (``-3`` becomes ``-4`` in MIXED). Weights must be integers.
    """
    w = np.asarray(weights)
    if not np.issubdtype(w.dtype, np.integer):
        raise ValueError(f"weights must be an integer array, got dtype {w.dtype}")
    w = w.astype(np.int64)
    k = truncation_bits(sign_mode, num_weight_bits)
    if as_sign_mode(sign_mode) is SignMode.INHIBITORY:
        return -((-w >> k) << k)
    return (w >> k) << k


def quantize_dense_weights(
    weights: np.ndarray, sign_mode=None, num_weight_bits: int = WEIGHT_BITS
) -> np.ndarray:
    """What ``PyDenseModelBitAcc`` does to its weights on the first step: clip, then truncate.

    ``sign_mode=None`` infers it as Lava's Dense does (:func:`infer_sign_mode`).
    """
    w = np.asarray(weights)
    if not np.issubdtype(w.dtype, np.integer):
        raise ValueError(f"weights must be an integer array, got dtype {w.dtype}")
    mode = infer_sign_mode(w) if sign_mode is None else as_sign_mode(sign_mode)
    return truncate_weights(clip_weights(w, mode), mode, num_weight_bits)


def check_weight_exp(weight_exp: int) -> int:
    """Validate the shared weight exponent (4-bit signed on Loihi)."""
    return check_int_scalar("weight_exp", weight_exp, *WEIGHT_EXP_RANGE)


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def dense_accumulate(
    weights: np.ndarray, s_in: np.ndarray, weight_exp: int = 0, graded: bool = False
) -> np.ndarray:
    """Synaptic input produced by one step of input spikes: ``(W @ s) << weight_exp``.

    ``weights``: ``(n_out, n_in)`` shared by the batch, or ``(*batch, n_out, n_in)``; already
    quantized (:func:`quantize_dense_weights`). ``s_in``: ``(*batch, n_in)``; binary spikes are
    taken as ``s != 0`` unless ``graded`` (then the integer payload multiplies the weight, as
    Lava does with ``num_message_bits > 0``). Returns int64 ``(*batch, n_out)`` holding int32
    values. A negative ``weight_exp`` floors the *sum* (arithmetic right shift), not each weight.
    """
    exp = check_weight_exp(weight_exp)
    w = np.asarray(weights)
    if not np.issubdtype(w.dtype, np.integer):
        raise ValueError(f"weights must be an integer array, got dtype {w.dtype}")
    s = np.asarray(s_in)
    s = s.astype(np.int64) if graded else (s != 0).astype(np.int64)
    total = np.matmul(w.astype(np.int64), s[..., None])[..., 0]
    shifted = total << exp if exp > 0 else total >> -exp
    # Lava's message buffer is int32.
    return _wrap_int32(shifted)


def dense_step(
    s_in: np.ndarray,
    a_buff: np.ndarray,
    weights: np.ndarray,
    weight_exp: int = 0,
    graded: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One Lava Dense step with its delay: ``(s_in, a_buff, ...) -> (a_out, new a_buff)``.

    ``a_out`` is what the post-synaptic neuron receives this step (last step's buffer); the new
    buffer holds this step's input, delivered next step. Start with ``a_buff`` all zeros.
    """
    return np.asarray(a_buff), dense_accumulate(weights, s_in, weight_exp, graded)
