"""Hardware profiles as data: a TOML file per chip, every number with its source and status.

A profile has tables ``[chip]`` (capacities), ``[features]`` (what the chip can do),
``[energy]`` and ``[time]`` (per operation), and optionally ``[context]``. Each quantity is an
inline table ``{value = …}`` or ``{low = …, high = …}`` plus ``unit``, ``status`` (measured,
simulated, estimated, unknown) and ``source``. A quantity of status ``unknown`` carries no
number: reports count its operations and say its energy is missing, rather than guess.

Users add a chip by writing a file in the same form and passing its path wherever a profile
name is accepted. Files with a top-level ``kind`` other than ``chip`` (``baseline_ops``,
``baseline_device``) are backprop baselines, read by :mod:`spikeport.hw_profiles.baselines`.
A malformed profile is a :class:`~spikeport.errors.SpecError` naming the file and the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from spikeport.errors import SpecError
from spikeport.io import MAX_YAML_BYTES, read_text

STATUSES = ("measured", "simulated", "estimated", "unknown")
HERE = Path(__file__).resolve().parent

CHIP_KEYS = {"cores": "1", "neurons_per_core": "1", "synaptic_memory_per_core": "B",
             "input_axons_per_core": "1", "output_axons_per_core": "1", "weight_bits": "bit",
             "trace_bits": "bit", "max_learning_epoch": "step", "chips_per_board": "1"}
ENERGY_KEYS = {"synaptic_op": "pJ", "synaptic_update": "pJ", "neuron_update_active": "pJ",
               "neuron_update_inactive": "pJ", "spike_in_tile": "pJ", "spike_hop": "pJ",
               "trace_update": "pJ", "static_power": "W"}
TIME_KEYS = {"synaptic_op": "ns", "synaptic_update": "ns", "neuron_update_active": "ns",
             "neuron_update_inactive": "ns", "spike_hop": "ns", "barrier_sync": "ns"}
FEATURE_KEYS = {"graded_third_factor": bool, "short_term_plasticity": bool, "microcode": bool,
                "axonal_delay_max": int}


@dataclass(frozen=True)
class Quantity:
    """A number with its provenance; ``low == high`` for a point value, both None if unknown."""

    low: float | None
    high: float | None
    unit: str
    status: str
    source: str
    note: str = ""

    @property
    def known(self) -> bool:
        return self.low is not None

    @property
    def is_range(self) -> bool:
        return self.known and self.low != self.high

    @property
    def value(self) -> float:
        """The point value (the middle of a range); an error if unknown."""
        if not self.known:
            raise SpecError(f"quantity in {self.unit} is unknown ({self.source})")
        return 0.5 * (self.low + self.high)

    def describe(self) -> str:
        if not self.known:
            return f"unknown ({self.source})"
        num = f"{self.low:g}" if not self.is_range else f"{self.low:g}–{self.high:g}"
        return f"{num} {self.unit} ({self.status}; {self.source})"


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    chip: dict[str, Quantity]
    features: dict[str, object]
    energy: dict[str, Quantity]
    time: dict[str, Quantity]
    context: dict[str, Quantity] = field(default_factory=dict)
    path: str = ""
    pacing_note: str = ""

    def capacity(self, key: str) -> int:
        return int(self.chip[key].value)


def _quantity(where: str, key: str, raw, unit: str | None) -> Quantity:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: {key} = {raw!r} is invalid; allowed: an inline table "
                        "{value = ..., unit = ..., status = ..., source = ...}")
    allowed = {"value", "low", "high", "unit", "status", "source", "note", "derivation"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise SpecError(f"{where}: {key}.{extra[0]} is not a quantity field; allowed: "
                        f"{', '.join(sorted(allowed))}")
    status = raw.get("status")
    if status not in STATUSES:
        raise SpecError(f"{where}: {key}.status = {status!r} is invalid; allowed: "
                        f"{', '.join(STATUSES)}")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise SpecError(f"{where}: {key}.source is missing; every number needs a source")
    got_unit = raw.get("unit")
    if unit is not None and got_unit != unit:
        raise SpecError(f"{where}: {key}.unit = {got_unit!r} is invalid; allowed: {unit!r}")
    note = " ".join(str(raw[k]) for k in ("note", "derivation") if k in raw)
    if status == "unknown":
        if any(k in raw for k in ("value", "low", "high")):
            raise SpecError(f"{where}: {key} has status 'unknown' but gives a number; "
                            "give the number a status, or drop it")
        return Quantity(None, None, str(got_unit), status, source, note)
    if "value" in raw:
        if "low" in raw or "high" in raw:
            raise SpecError(f"{where}: {key}: give either value or low/high, not both")
        lo = hi = raw["value"]
    elif "low" in raw and "high" in raw:
        lo, hi = raw["low"], raw["high"]
    else:
        raise SpecError(f"{where}: {key} needs value (or low and high) unless status is "
                        "'unknown'")
    for name, x in (("low", lo), ("high", hi)):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) \
                or x < 0:
            raise SpecError(f"{where}: {key}.{name if lo != hi else 'value'} = {x!r} is "
                            "invalid; allowed: a finite number >= 0")
    if hi < lo:
        raise SpecError(f"{where}: {key}.high = {hi} is invalid; allowed: >= low ({lo})")
    return Quantity(float(lo), float(hi), str(got_unit), status, source, note)


def _table(where: str, data: dict, name: str, keys: dict, required: bool = True):
    table = data.get(name)
    if not isinstance(table, dict):
        raise SpecError(f"{where}: missing table [{name}]")
    out = {}
    for key, unit in keys.items():
        if key not in table:
            if required:
                raise SpecError(f"{where}: [{name}] is missing {key!r} (give it with status "
                                "'unknown' if no figure exists)")
            continue
        out[key] = _quantity(where, f"{name}.{key}", table[key], unit)
    extra = sorted(set(table) - set(keys))
    if extra:
        raise SpecError(f"{where}: [{name}] has unknown key {extra[0]!r}; allowed: "
                        f"{', '.join(keys)}")
    return out


def read_profile_toml(name_or_path: str | Path, what: str, bundled) -> tuple[str, dict]:
    """(path, data) of a bundled profile by name or a user's TOML file by path, with its
    top-level ``name`` and ``title`` checked; one-line SpecErrors naming the file."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = HERE / f"{name_or_path}.toml"
        if not path.is_file():
            raise SpecError(f"no {what} named {str(name_or_path)!r}; bundled: "
                            f"{', '.join(bundled)}, or give a .toml path")
    where = str(path)
    text = read_text(path, what, MAX_YAML_BYTES, SpecError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: malformed TOML: {exc}") from None
    for key in ("name", "title"):
        if not isinstance(data.get(key), str):
            raise SpecError(f"{where}: top-level {key!r} is missing (a string)")
    return where, data


def load_profile(name_or_path: str | Path) -> Profile:
    """A bundled profile by name (``loihi1``, ``loihi2``) or a user's TOML file by path."""
    where, data = read_profile_toml(name_or_path, "hardware profile", available_profiles())
    kind = data.get("kind", "chip")
    if kind != "chip":
        raise SpecError(f"{where}: kind = {kind!r} is a baseline profile, not a chip profile; "
                        f"allowed here: a chip profile ({', '.join(available_profiles())}); "
                        "baselines are read by spikeport.hw_profiles.baselines")
    chip = _table(where, data, "chip", CHIP_KEYS)
    for key, q in chip.items():
        if not q.known or q.is_range or q.low < 1 or q.low != int(q.low):
            raise SpecError(f"{where}: chip.{key} = {q.low} is invalid; allowed: a whole "
                            "number >= 1 (a capacity)")
    features = data.get("features")
    if not isinstance(features, dict):
        raise SpecError(f"{where}: missing table [features]")
    for key, typ in FEATURE_KEYS.items():
        if not isinstance(features.get(key), typ) or (typ is int and
                                                      isinstance(features.get(key), bool)):
            raise SpecError(f"{where}: features.{key} = {features.get(key)!r} is invalid; "
                            f"allowed: {'true or false' if typ is bool else 'an integer'}")
    energy = _table(where, data, "energy", ENERGY_KEYS)
    time = _table(where, data, "time", TIME_KEYS)
    context = {}
    if "context" in data:
        context = {k: _quantity(where, f"context.{k}", v, None)
                   for k, v in data["context"].items()}
    return Profile(data["name"], data["title"], chip, dict(features), energy, time, context,
                   where, str(data.get("step_pacing_note", "")))


def profile_kind(path: Path) -> str:
    """A bundled file's top-level ``kind`` (``chip`` when absent; baselines say otherwise)."""
    try:
        return str(tomllib.loads(Path(path).read_text()).get("kind", "chip"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "chip"


def available_profiles() -> list[str]:
    """Bundled chip profiles (baseline profiles, e.g. ``gpu_h100``, are not chips)."""
    return sorted(p.stem for p in HERE.glob("*.toml") if profile_kind(p) == "chip")


parse_quantity = _quantity  # for the baseline profiles (spikeport.hw_profiles.baselines)
