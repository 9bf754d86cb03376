"""Structured Loihi learning rules and their fixed-point evaluation (Lava 0.10, bit-approximate
engine ``LearningRuleApplierBitApprox`` + ``LearningConnectionModelBitApproximate``).

A rule for a synaptic variable (``dw``, ``dd`` or ``dt``) is a sum of products. Each product has

* exactly one *dependency*, which gates it: ``x0`` (the pre neuron spiked in the epoch), ``y0``
  (the post neuron spiked) or ``u<k>`` (true every ``2**k`` epochs; one k per rule set);
* factors among ``x1 x2`` (pre traces), ``y1 y2 y3`` (post traces), ``w`` (weight), ``d``
  (tag_2), ``t`` (tag_1), ``x0``/``y0`` as 1-bit factors, each optionally ``(var + C)`` and, for
  w/d/t, ``sgn(var + C)``;
* a scale ``mantissa * 2**exponent``, mantissa in ``[-8, 7]`` (4-bit signed), exponent in
  ``[-7, 8]``.

Traces are read at the dependency's time (``x0``: the pre spike time, ``y0``: the post spike
time, ``u``: the epoch's end), see :mod:`spikeport.kernels.traces`.

Fixed-point evaluation (why each shift):

* The learning accumulator is 16-bit signed. The variable enters it shifted left by
  ``16 - 9 = 7`` (a weight is 9-bit signed), so one weight LSB is 128 accumulator units.
* Each product is formed in an int32 multiplier: dependency x each factor (first clipped to its
  width: traces 7 bits -> ``[-128, 127]``, w/d/t 9 bits -> ``[-512, 511]``, x0/y0 1 bit) x the
  mantissa. Its magnitude can need up to ``sum(widths) + 4`` bits; to fit the 15-bit accumulator
  magnitude the product is shifted right (floor) by ``max(0, sum(widths) + 4 - 15)`` and then
  left by ``exponent + 7`` (the 7 matches the accumulator's 7 fractional bits). The right
  shift is *not* undone: a long product's realised scale is ``mantissa * 2**exponent /
  2**shift`` weight LSBs. ``2^-4 * u0 * x1 * y2`` has widths 7+7+4 = 18 -> shift 3, so it
  adds ``((x1*y2) >> 3) << 3`` accumulator units = ``x1*y2 / 128`` LSB, not ``x1*y2 / 16``.
  Note ``sgn(w)`` is budgeted as 9 bits, like ``w``. (Lava multiplies in int32 and would wrap
  silently for products of three traces and w; we do the same.)
* Each product and every partial sum are saturated to ``[-2**15 - 1, 2**15 - 1]`` (Lava's
  asymmetric bound, kept as is): one product moves a variable by at most about 256 LSB per
  epoch.
* At the end: for weights, EXCITATORY clamps the accumulator at 0 from below, INHIBITORY from
  above (tag_2 at 0 from below); then stochastic rounding back to the variable's precision:
  ``(acc >> 7) + (r < (acc & 127) / 128)`` with ONE random float ``r`` per epoch shared by every
  synapse and by dw/dd/dt (``ConnVarRandom``, constant seed 2); then clip: weights by sign
  mode (MIXED ``[-256, 255]``, EXCITATORY ``[0, 255]``, INHIBITORY ``[-255, 0]``), tag_2
  ``[0, 255]``, tag_1 ``[-257, 255]`` (Lava's bounds as written).

Net effect: ``dw`` is written directly in weight LSBs, e.g. ``2^-2 * x0 * y1`` changes w by y1/4.

Lava's parser folds every literal of a product into its scale and normalises it: while
``|mantissa| > 7`` and even (and exponent < 8) it halves the mantissa and increments the
exponent. So a mantissa of -8 is evaluated as -4 with exponent + 1, which differs in the low bits
when the product is shifted right; :meth:`Product.lava_scale` applies the same normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ._checks import check_int_scalar
from .dense import SignMode, as_sign_mode, weight_bounds

DEPENDENCIES = ("x0", "y0", "u")
PRE_TRACES = ("x1", "x2")
POST_TRACES = ("y1", "y2", "y3")
TRACES = PRE_TRACES + POST_TRACES
SYNAPTIC_VARS = ("w", "d", "t")
FACTOR_VARS = ("x0", "y0") + TRACES + SYNAPTIC_VARS
# Bit widths the engine budgets per factor (a synaptic variable is 9-bit signed).
FACTOR_WIDTH = {
    "x0": 1,
    "y0": 1,
    "x1": 7,
    "x2": 7,
    "y1": 7,
    "y2": 7,
    "y3": 7,
    "w": 9,
    "d": 9,
    "t": 9,
}
MANTISSA_BITS = 4
MANTISSA_RANGE = (-8, 7)
EXPONENT_RANGE = (-7, 8)
DECIMATE_RANGE = (0, 9)  # Lava matches u followed by one digit
CONST_RANGE = (-256, 255)  # our bound for (var + C); Lava does not check it
ACCUMULATOR_MAGNITUDE_BITS = 15  # 16-bit signed accumulator
ACC_MAX = (1 << ACCUMULATOR_MAGNITUDE_BITS) - 1
ACC_MIN = -(1 << ACCUMULATOR_MAGNITUDE_BITS) - 1
SYN_VAR_SIGNED_BITS = 9
VAR_SHIFT = ACCUMULATOR_MAGNITUDE_BITS + 1 - SYN_VAR_SIGNED_BITS  # 7: accumulator fraction bits
TARGETS = ("dw", "dd", "dt")
# Lava's bounds for the tags after learning (tag_2 = d, tag_1 = t).
TAG2_BOUNDS = (0, 255)
TAG1_BOUNDS = (-257, 255)


@dataclass(frozen=True)
class Factor:
    """One factor: ``var``, ``(var + const)`` or, for w/d/t, ``sgn(var + const)``."""

    var: str
    const: int | None = None
    sgn: bool = False

    def __post_init__(self) -> None:
        if self.var not in FACTOR_VARS:
            raise ValueError(f"factor var={self.var!r} is not one of {FACTOR_VARS}")
        if self.const is not None:
            object.__setattr__(
                self, "const", check_int_scalar("factor const", self.const, *CONST_RANGE)
            )
        if self.sgn and self.var not in SYNAPTIC_VARS:
            raise ValueError(f"sgn() applies to {SYNAPTIC_VARS} only, got var={self.var!r}")

    @property
    def width(self) -> int:
        return FACTOR_WIDTH[self.var]

    def to_lava_string(self) -> str:
        inner = self.var
        if self.const is not None and self.const != 0:
            inner = f"{self.var}{'+' if self.const > 0 else '-'}{abs(self.const)}"
        elif self.const == 0:
            inner = f"{self.var}+0"
        if self.sgn:
            return f"sgn({inner})"
        return f"({inner})" if self.const is not None else inner


@dataclass(frozen=True)
class Product:
    """``mantissa * 2**exponent * dependency * factors...``.

    ``dependency``: ``"x0"``, ``"y0"`` or ``"u<k>"`` (k in 0..9).
    """

    dependency: str
    factors: tuple[Factor, ...] = ()
    mantissa: int = 1
    exponent: int = 0

    def __post_init__(self) -> None:
        dep = self.dependency
        if not (dep in ("x0", "y0") or (len(dep) == 2 and dep[0] == "u" and dep[1].isdigit())):
            raise ValueError(f"dependency={dep!r} must be 'x0', 'y0' or 'u0'..'u9'")
        object.__setattr__(self, "factors", tuple(self.factors))
        for f in self.factors:
            if not isinstance(f, Factor):
                raise ValueError(f"factors must be Factor objects, got {f!r}")
        check_int_scalar("mantissa", self.mantissa, *MANTISSA_RANGE)
        check_int_scalar("exponent", self.exponent, *EXPONENT_RANGE)

    @property
    def dependency_kind(self) -> str:
        """``x0``, ``y0`` or ``u``."""
        return "u" if self.dependency.startswith("u") else self.dependency

    @property
    def decimate_exponent(self) -> int | None:
        return int(self.dependency[1:]) if self.dependency_kind == "u" else None

    def lava_scale(self) -> tuple[int, int]:
        """(mantissa, exponent) after Lava's normalisation (halve even |m| > 7 while exp < 8)."""
        m, e = self.mantissa, self.exponent
        while abs(m) > 7 and m % 2 == 0 and e < 8:
            m, e = m // 2, e + 1
        return m, e

    def right_shift(self) -> int:
        """Bits dropped to fit the product into the 15-bit accumulator magnitude."""
        width = sum(f.width for f in self.factors) + MANTISSA_BITS
        return max(0, width - ACCUMULATOR_MAGNITUDE_BITS)

    def to_lava_string(self, first: bool = False) -> str:
        m, e = self.mantissa, self.exponent
        sign = "-" if m < 0 else ("" if first else "+")
        body = "*".join(
            [f"{abs(m)}*2^{e}", self.dependency] + [f.to_lava_string() for f in self.factors]
        )
        return f"{sign}{body}" if first else f" {sign} {body}"


@dataclass(frozen=True)
class LearningRule:
    """A sum of products for one synaptic variable."""

    products: tuple[Product, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "products", tuple(self.products))
        if not self.products:
            raise ValueError("products must contain at least one Product, got an empty sequence")
        for p in self.products:
            if not isinstance(p, Product):
                raise ValueError(f"products must be Product objects, got {p!r}")
        ks = {p.decimate_exponent for p in self.products if p.decimate_exponent is not None}
        if len(ks) > 1:
            raise ValueError(f"u-dependencies use decimate exponents {sorted(ks)}; one k per rule")

    @property
    def decimate_exponent(self) -> int | None:
        ks = [p.decimate_exponent for p in self.products if p.decimate_exponent is not None]
        return ks[0] if ks else None

    def to_lava_string(self) -> str:
        """The Lava rule string (``LoihiLearningRule(dw=...)``) for the same rule."""
        return "".join(p.to_lava_string(first=(i == 0)) for i, p in enumerate(self.products))

    def traces_used(self) -> set[tuple[str, str]]:
        """(trace, dependency kind) pairs the rule reads, e.g. ``{("y1", "x0")}``."""
        return {
            (f.var, p.dependency_kind) for p in self.products for f in p.factors if f.var in TRACES
        }


def common_decimate_exponent(rules: Sequence[LearningRule | None]) -> int | None:
    """The single k shared by all rules' ``u<k>`` products (Lava forbids mixing k)."""
    ks = {r.decimate_exponent for r in rules if r is not None and r.decimate_exponent is not None}
    if len(ks) > 1:
        raise ValueError(f"dw/dd/dt use decimate exponents {sorted(ks)}; Lava allows one k")
    return ks.pop() if ks else None


def u_active(epoch_index: int, decimate_exponent: int | None) -> int:
    """``u_k`` at the end of epoch ``epoch_index`` (= time_step // t_epoch, counted from 1).

    Lava: 1 when ``epoch_index % 2**k == 0``, so ``u0`` fires every epoch and ``u1`` at epochs
    2, 4, ... (not the first). 0 when the rules have no u dependency.
    """
    if decimate_exponent is None:
        return 0
    return int(epoch_index % (1 << decimate_exponent) == 0)


def _i32(x) -> np.ndarray:
    return np.asarray(x).astype(np.int32)


def evaluate_products(
    rule: LearningRule, accumulator: np.ndarray, values: Mapping[str, np.ndarray | int]
) -> np.ndarray:
    """Add every product of ``rule`` to ``accumulator`` (int32, variable << 7), saturating.

    ``values`` maps ``x0``/``y0`` (bool, broadcastable), ``u`` (0/1), ``w``/``d``/``t`` (the
    variables before this epoch's update) and ``"<trace>_<dep>"`` (traces sampled at the
    dependency's time, e.g. ``"x1_y0"``) to arrays broadcastable to the accumulator's shape
    ``(B, n_post, n_pre)``. Returns the new int32 accumulator.
    """
    acc = _i32(accumulator)
    shape = acc.shape
    for p in rule.products:
        dep = p.dependency_kind
        cur = np.ones(shape, dtype=np.int32) * _i32(values[dep])
        for f in p.factors:
            if f.var in TRACES:
                raw = np.asarray(values[f"{f.var}_{dep}"], dtype=np.int64)
            else:
                raw = np.asarray(values[f.var], dtype=np.int64)
            raw = raw + (f.const or 0)
            if f.sgn:
                raw = np.sign(raw)
            clipped = np.clip(raw, -(1 << f.width), (1 << f.width) - 1)
            cur = cur * _i32(clipped)  # int32 multiplier: wraps like Lava's in-place product
        m, e = p.lava_scale()
        cur = cur * np.int32(m)
        cur = np.right_shift(cur, np.int32(p.right_shift()))
        cur = np.left_shift(cur, np.int32(e + VAR_SHIFT))
        cur = np.clip(cur, ACC_MIN, ACC_MAX).astype(np.int32)
        acc = np.clip(acc + cur, ACC_MIN, ACC_MAX).astype(np.int32)
    return acc


def stochastic_round_accumulator(accumulator: np.ndarray, random: float | np.ndarray) -> np.ndarray:
    """Back to variable precision: ``(acc >> 7) + (random < (acc & 127) / 128)``.

    ``random`` is Lava's one-per-epoch float, shared by all synapses (broadcastable per batch
    element as ``(B, 1, 1)`` if replicas differ).
    """
    acc = np.asarray(accumulator, dtype=np.int64)
    frac = (acc & ((1 << VAR_SHIFT) - 1)) / float(1 << VAR_SHIFT)
    return (acc >> VAR_SHIFT) + (np.asarray(random) < frac)


def update_synaptic_variable(
    target: str,
    rule: LearningRule,
    current: np.ndarray,
    values: Mapping[str, np.ndarray | int],
    random: float | np.ndarray,
    sign_mode=SignMode.MIXED,
) -> np.ndarray:
    """New value of one synaptic variable after an epoch: accumulate, saturate, round, clip.

    ``target``: ``"dw"`` (weights, clipped by ``sign_mode``), ``"dd"`` (tag_2) or ``"dt"``
    (tag_1). ``current``: the variable, ``(B, n_post, n_pre)`` integers.
    """
    if target not in TARGETS:
        raise ValueError(f"target={target!r} is not one of {TARGETS}")
    acc = evaluate_products(rule, np.left_shift(_i32(current), VAR_SHIFT), values)
    if target == "dw":
        mode = as_sign_mode(sign_mode)
        if mode is SignMode.EXCITATORY:
            acc = np.maximum(acc, 0)
        elif mode is SignMode.INHIBITORY:
            acc = np.minimum(acc, 0)
        lo, hi = weight_bounds(mode)
    elif target == "dd":
        acc = np.maximum(acc, 0)
        lo, hi = TAG2_BOUNDS
    else:
        lo, hi = TAG1_BOUNDS
    return np.clip(stochastic_round_accumulator(acc, random), lo, hi)
