"""Input checks shared by the kernels.

Every check raises a :class:`ValueError` that names the parameter, the offending value and
the allowed range, so a converter or a Lava runner can pass the message straight to the user.
Checks run when parameters are built, never inside per-step hot loops.
"""

from __future__ import annotations

import numbers

import numpy as np


def _describe(values: np.ndarray) -> str:
    if values.size == 1:
        return repr(values.reshape(-1)[0].item())
    return f"an array with values in [{values.min()}, {values.max()}]"


def check_int_range(name: str, value, lo: int | None, hi: int | None) -> np.ndarray:
    """Return ``value`` as an int64 array after checking it is integral and in ``[lo, hi]``.

    ``lo`` or ``hi`` may be ``None`` for an open side.
    """
    arr = np.asarray(value)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if (
            not np.issubdtype(arr.dtype, np.floating)
            or not np.all(np.isfinite(arr))
            or not np.all(arr == np.round(arr))
        ):
            raise ValueError(f"{name} must be an integer, got {_describe_any(value)}")
    arr = arr.astype(np.int64)
    if arr.size:
        if (lo is not None and arr.min() < lo) or (hi is not None and arr.max() > hi):
            lo_s = "-inf" if lo is None else str(lo)
            hi_s = "inf" if hi is None else str(hi)
            raise ValueError(
                f"{name}={_describe(arr)} is outside the allowed range [{lo_s}, {hi_s}]"
            )
    return arr


def check_number_range(name: str, value, lo: float, hi: float) -> float:
    """Check a real scalar is finite and in ``[lo, hi]``; return it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value!r} is outside the allowed range [{lo}, {hi}]")
    return float(value)


def check_int_scalar(name: str, value, lo: int | None, hi: int | None) -> int:
    """Check a scalar integer (numpy integers accepted) is in ``[lo, hi]``; return it as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(check_int_range(name, value, lo, hi))


def _describe_any(value) -> str:
    arr = np.asarray(value)
    if arr.size == 1:
        return repr(arr.reshape(-1)[0].item())
    return f"an array of dtype {arr.dtype}"
