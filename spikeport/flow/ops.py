"""Operation counts measured inside a run: the record the energy model prices.

Every fixed-point backend counts the same events (the emulator and Lava agree to the count):
per LIF population its neuron updates, spikes and threshold updates; per projection its synaptic
operations, weight updates, trace updates and learning epochs; per SBP relay and NACA dopamine
source what they computed and sent; per input and for the teacher the values the host sent.

:class:`OpCounts` holds them by component kind. Its JSON form (:meth:`OpCounts.to_json`) keeps
the flat keys run folders have always carried — ``"population:hidden"``,
``"projection:pixels->hidden"``, ``"relay:NAME"``, ``"dopamine:NAME"``, ``"input:NAME"``,
``"teacher"``, ``"teacher_drive"`` — so old folders load, and it is also a read-only mapping
with those keys. Code that needs a kind reads the typed field (``ops.population["hidden"]``)
instead of parsing key prefixes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from spikeport.errors import DataError

#: component kinds with a name, in the order they are written
KINDS = ("population", "projection", "relay", "dopamine", "input")
#: components without a name (one per network)
SINGLE = ("teacher", "teacher_drive")


def _counters(where: str, value) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise DataError(f"{where}: counters must be an object of name -> count, got "
                        f"{type(value).__name__}")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                (isinstance(v, float) and (not math.isfinite(v) or v != int(v))) or v < 0:
            raise DataError(f"{where}: count {k} = {v!r} is invalid; allowed: integers >= 0")
        out[str(k)] = int(v)
    return out


@dataclass(frozen=True, eq=False)
class OpCounts(Mapping):
    """Counters per component: ``kind -> name -> counter -> count`` (``teacher`` and
    ``teacher_drive``: ``counter -> count`` or None)."""

    population: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    projection: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    relay: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    dopamine: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    input: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    teacher: Mapping[str, int] | None = None
    teacher_drive: Mapping[str, int] | None = None

    # ---------------------------------------------------------------- JSON
    @classmethod
    def from_json(cls, data, where: str = "ops") -> "OpCounts":
        """Read today's flat form (checked: known kinds, counts integers >= 0)."""
        if isinstance(data, OpCounts):
            return data
        if not isinstance(data, Mapping):
            raise DataError(f"{where}: op counts must be an object, got {type(data).__name__}")
        parts: dict = {k: {} for k in KINDS}
        single: dict = {}
        for key, value in data.items():
            kind, sep, name = str(key).partition(":")
            if not sep and key in SINGLE:
                single[key] = _counters(f"{where}.{key}", value)
            elif sep and kind in KINDS and name:
                parts[kind][name] = _counters(f"{where}.{key}", value)
            else:
                raise DataError(f"{where}: unknown component {key!r}; allowed: "
                                f"{', '.join(k + ':NAME' for k in KINDS)}, "
                                f"{', '.join(SINGLE)}")
        return cls(**parts, **single)

    def to_json(self) -> dict[str, dict[str, int]]:
        return dict(self.items())

    # ---------------------------------------------------------------- mapping of today's keys
    def _flat(self) -> Iterator[tuple[str, Mapping[str, int]]]:
        for kind in KINDS:
            for name, counters in getattr(self, kind).items():
                yield f"{kind}:{name}", counters
        for key in SINGLE:
            value = getattr(self, key)
            if value is not None:
                yield key, value

    def __getitem__(self, key: str) -> Mapping[str, int]:
        for k, v in self._flat():
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._flat())

    def __len__(self) -> int:
        return sum(1 for _ in self._flat())

    def __eq__(self, other) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k: dict(v) for k, v in self.items()} == {k: dict(v) for k, v in other.items()}

    __hash__ = None

    def __repr__(self) -> str:
        return f"OpCounts({self.to_json()!r})"

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: "OpCounts") -> "OpCounts":
        """Counts of two runs of the same network (e.g. the epochs of a training)."""
        other = OpCounts.from_json(other)
        merged: dict = {}
        for key in set(self) | set(other):
            a, b = self.get(key, {}), other.get(key, {})
            merged[key] = {c: a.get(c, 0) + b.get(c, 0) for c in set(a) | set(b)}
        return OpCounts.from_json(merged)

    def total(self, kind: str, counter: str) -> int:
        """One counter summed over the components of one kind."""
        if kind in SINGLE:
            value = getattr(self, kind)
            return int(value.get(counter, 0)) if value else 0
        return int(sum(c.get(counter, 0) for c in getattr(self, kind).values()))
