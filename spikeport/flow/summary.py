"""A run summary (``OUT/{backend}_{infer,learn}.json``): what ``spikeport run`` writes about a
fixed-point run and what ``energy`` prices. :func:`read_run_summary` is its one reader: every
field the writer (:func:`spikeport.workflows.deploy.run_fixed`) puts there is checked for type
and range, the op counts through :meth:`~spikeport.flow.ops.OpCounts.from_json` (integers >= 0),
and a bad file is a one-line DataError naming the file, the field and what is allowed.
"""

from __future__ import annotations

import math
from pathlib import Path

from spikeport.errors import DataError
from spikeport.flow.ops import OpCounts
from spikeport.io import read_json_object

BACKENDS = ("emulator", "lava")
MODES = ("infer", "learn")


def _bad(path, field: str, value, allowed: str) -> DataError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return DataError(f"{path}: {field} = {shown} is invalid; allowed: {allowed}")


def _number(path, s: dict, key: str, lo: float, hi: float = math.inf) -> None:
    v = s[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or not lo <= v <= hi:
        raise _bad(path, key, v, f"a finite number in [{lo}, {hi}]")


def check_run_summary(s, path) -> dict:
    """``s`` checked as a run summary read from ``path``; returns it with ``ops`` an
    :class:`OpCounts`."""
    if not isinstance(s, dict):
        raise DataError(f"{path}: a run summary must be a JSON object")
    for key in ("samples", "ops"):     # older summaries lack backend (the file name says it)
        if key not in s:
            raise DataError(f"{path}: {key} is missing (not a `spikeport run` summary; rerun "
                            "`spikeport run`)")
    if "backend" in s and s["backend"] not in BACKENDS:
        raise _bad(path, "backend", s["backend"], ", ".join(BACKENDS))
    if "mode" in s and s["mode"] not in MODES:
        raise _bad(path, "mode", s["mode"], ", ".join(MODES))
    if "network" in s and (not isinstance(s["network"], str) or not s["network"]):
        raise _bad(path, "network", s["network"], "a non-empty string")
    n = s["samples"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _bad(path, "samples", n, "integers >= 1")
    for key in ("dataset", "split", "fixed_network", "learned_network"):
        if s.get(key) is not None and not isinstance(s[key], str):
            raise _bad(path, key, s[key], "a string or null")
    for key in ("wall_time_s", "steps_per_s"):
        if key in s:
            _number(path, s, key, 0.0)
    for key in ("accuracy", "accuracy_while_learning"):
        if key in s:
            _number(path, s, key, 0.0, 1.0)
    rates = s.get("rates_hz", {})
    if not isinstance(rates, dict):
        raise _bad(path, "rates_hz", rates, "an object of population -> rate")
    for k in rates:
        _number(path, rates, k, 0.0)
    out = dict(s)
    out["ops"] = OpCounts.from_json(s["ops"], f"{path}: ops")
    return out


def read_run_summary(path: str | Path) -> dict:
    """The checked run summary at ``path`` (see :func:`check_run_summary`)."""
    return check_run_summary(read_json_object(path, "run summary"), path)
