"""Checks and YAML conversion shared by the spec dataclasses.

Every check raises :class:`~spikeport.errors.SpecError` with a message that names the element
(``population 'hid'``), the field, the value and what is allowed, so a user can find the line
in their YAML without a traceback.

Physical quantities may be written in YAML either as plain SI numbers (``0.02``) or with a unit
(``20 ms``, ``100 Hz``); a unit of the wrong dimension is an error that names both units.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from typing import Any

from spikeport.errors import SpecError

# unit name -> (dimension, factor to SI)
_UNITS = {
    "s": ("s", 1.0),
    "ms": ("s", 1e-3),
    "us": ("s", 1e-6),
    "Hz": ("Hz", 1.0),
    "kHz": ("Hz", 1e3),
}
_QUANTITY = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf)\s*([A-Za-z]*)\s*$")


def quantity(unit: str | None = None, **kwargs):
    """A dataclass field carrying its SI unit (``"s"``, ``"Hz"`` or None for dimensionless)."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["unit"] = unit
    return dataclasses.field(metadata=metadata, **kwargs)


def fail(where: str, field: str, value: Any, allowed: str) -> SpecError:
    """Build the one-line SpecError every check uses."""
    return SpecError(f"{where}: {field} = {value!r} is invalid; allowed: {allowed}")


def check_finite(where: str, field: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise fail(where, field, value, "a finite number")


def check_positive(where: str, field: str, value: float) -> None:
    check_finite(where, field, value)
    if value <= 0:
        raise fail(where, field, value, "> 0")


def check_range(where: str, field: str, value: float, lo: float, hi: float,
                lo_open: bool = False, hi_open: bool = False) -> None:
    check_finite(where, field, value)
    below = value <= lo if lo_open else value < lo
    above = value >= hi if hi_open else value > hi
    if below or above:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise fail(where, field, value, f"{lb}{lo}, {hi}{rb}")


def check_int(where: str, field: str, value: Any, lo: int, hi: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise fail(where, field, value, "an integer")
    if value < lo or (hi is not None and value > hi):
        raise fail(where, field, value, f"integers in [{lo}, {hi if hi is not None else 'inf'}]")


def check_choice(where: str, field: str, value: Any, choices) -> None:
    if value not in choices:
        raise fail(where, field, value, "one of " + ", ".join(repr(c) for c in choices))


def check_name(where: str, field: str, value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise fail(where, field, value,
                   "an identifier (letters, digits, _; not starting with a digit)")


# ---------------------------------------------------------------------------------------------
# dict <-> dataclass

def parse_quantity(where: str, field: str, value: Any, unit: str | None) -> float:
    """A YAML scalar -> float in SI units, accepting ``"20 ms"`` style strings."""
    if isinstance(value, bool):
        raise fail(where, field, value, "a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = _QUANTITY.match(value)
        if m:
            number, suffix = float(m.group(1)), m.group(2)
            if not suffix:
                return number
            if suffix not in _UNITS:
                raise fail(where, field, value, f"a number, optionally with one of the units "
                                                f"{', '.join(_UNITS)}")
            dim, factor = _UNITS[suffix]
            if unit is None or dim != unit:
                want = f"in {unit}" if unit else "dimensionless"
                raise SpecError(f"{where}: {field} = {value!r} has units of {dim} but {field} is "
                                f"{want}")
            return number * factor
    raise fail(where, field, value, f"a number{' in ' + unit if unit else ''}")


def _unwrap_optional(tp):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        all_args = typing.get_args(tp)
        args = tuple(a for a in all_args if a is not type(None))
        optional = len(args) < len(all_args)
        if len(args) == 1:
            return args[0], optional
        return typing.Union[args], optional
    return tp, False


def from_dict(cls, data: Any, where: str, resolvers: dict | None = None):
    """Build dataclass ``cls`` from a YAML mapping; unknown or missing keys are SpecErrors.

    ``resolvers`` maps a field type to a function ``(value, where) -> object`` for tagged unions
    (e.g. the learning-rule specs, chosen by their ``rule`` key).
    """
    resolvers = resolvers or {}
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a mapping of fields, got "
                        f"{type(data).__name__} {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpecError(f"{where}: unknown field {unknown[0]!r}; allowed fields: "
                        f"{', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SpecError(f"{where}: missing required field {name!r}")
            continue
        kwargs[name] = _convert(hints[name], data[name], where, name, f.metadata.get("unit"),
                                resolvers)
    return cls(**kwargs)


def _convert(tp, value, where, name, unit, resolvers):
    tp, optional = _unwrap_optional(tp)
    if value is None:
        if optional:
            return None
        raise fail(where, name, value, "a value (not null)")
    if tp in resolvers:
        return resolvers[tp](value, f"{where}.{name}")
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, f"{where}.{name}", resolvers)
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise fail(where, name, value, "a list")
        return tuple(_convert(item_tp, v, f"{where}.{name}[{i}]", name, unit, resolvers)
                     for i, v in enumerate(value))
    if origin is typing.Literal:
        return value  # checked by the dataclass' own __post_init__
    if tp is float:
        return parse_quantity(where, name, value, unit)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise fail(where, name, value, "an integer")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise fail(where, name, value, "true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise fail(where, name, value, "a string")
        return value
    # unions of plain types such as ``int | str`` (t_epoch): pass through, checked later
    return value


def to_dict(obj) -> Any:
    """Dataclass -> plain YAML-safe structures (tuples become lists, defaults are kept)."""
    if dataclasses.is_dataclass(obj):
        out = {}
        tag = getattr(type(obj), "TAG", None)
        if tag is not None:
            out["rule"] = tag
        for f in dataclasses.fields(obj):
            if f.init:
                out[f.name] = to_dict(getattr(obj, f.name))
        return out
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    return obj
