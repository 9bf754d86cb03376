"""CI gates on a comparison report: ``--fail-under METRIC=VALUE`` / ``--fail-over``, the metric
names they accept (:func:`gate_metrics`) and the checks, plus the CLI's list arguments."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikeport.analysis import metrics as M
from spikeport.analysis.compare_report import ACCURACY_KEYS, BACKENDS, PAIR_KEYS
from spikeport.errors import SpecError

# ---------------------------------------------------------------------------------------------
# argument parsing helpers (the CLI passes strings through)

def parse_int_list(text: str, option: str, lo: int, hi: int | None = None) -> list[int]:
    """``"8,7,6"`` -> ``[8, 7, 6]``; a SpecError names the option and the allowed range."""
    values = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            v = int(part)
        except ValueError:
            raise SpecError(f"{option}: {part!r} is not an integer; give a comma-separated list "
                            f"such as 8,6,4") from None
        if v < lo or (hi is not None and v > hi):
            raise SpecError(f"{option}: {v} is invalid; allowed: integers in "
                            f"[{lo}, {hi if hi is not None else 'inf'}]")
        if v in values:
            raise SpecError(f"{option}: {v} appears twice")
        values.append(v)
    if not values:
        raise SpecError(f"{option}: give at least one value")
    return values


@dataclass(frozen=True)
class Gate:
    """``metric`` must be >= ``threshold`` (``under``: fail when under) or <= (``over``)."""

    metric: str
    threshold: float
    direction: str

    @property
    def option(self) -> str:
        return f"--fail-{self.direction} {self.metric}={self.threshold:g}"


def parse_gates(items, direction: str) -> list[Gate]:
    """``["hidden.match_rate=0.99", ...]`` -> gates; syntax only (names are checked against the
    network by :func:`check_gates`)."""
    gates = []
    for item in items or ():
        metric, sep, value = str(item).partition("=")
        metric = metric.strip()
        try:
            threshold = float(value)
        except ValueError:
            threshold = math.nan
        if not sep or not metric or not math.isfinite(threshold):
            raise SpecError(f"--fail-{direction} {item!r}: expected METRIC=VALUE with a finite "
                            "number, e.g. accuracy=0.8 or hidden.match_rate=0.99")
        gates.append(Gate(metric, threshold, direction))
    return gates


# ---------------------------------------------------------------------------------------------
# gates

def gate_metrics(report: dict) -> dict[str, float | None]:
    """Every metric a gate can name, flattened: ``infer.<pair>.<population>.<metric>``,
    ``learn.<pair>.<population>.<metric>``, ``infer.accuracy.<backend>``,
    ``infer.agreement.<pair>``, ``learn.learned_accuracy.<backend>``,
    ``learn.weights.<projection>.<pair>.final`` / ``.rms_over_time``, ... Shorthands: see
    :func:`resolve_gate`."""
    flat: dict[str, float | None] = {}
    for phase in ("infer", "learn"):
        ph = report.get(phase)
        if not ph:
            continue
        for pair, pops in ph.get("pairs", {}).items():
            for pop, m in pops.items():
                for k, v in m.items():
                    if k in M.HIGHER_IS_BETTER or k == "first_diff_step_min":
                        flat[f"{phase}.{pair}.{pop}.{k}"] = v
        for key in ACCURACY_KEYS:
            for name, v in (ph.get(key) or {}).items():
                flat[f"{phase}.{key}.{name}"] = v
        for proj, d in (ph.get("weights") or {}).items():
            for pair, w in d["pairs"].items():
                flat[f"{phase}.weights.{proj}.{pair}.final"] = w["final"]
                flat[f"{phase}.weights.{proj}.{pair}.rms_over_time"] = w["rms_over_time"]
    return flat


def _higher_is_better(key: str) -> bool:
    last = key.split(".")[-1]
    if last in M.HIGHER_IS_BETTER:
        return M.HIGHER_IS_BETTER[last]
    if last in ("first_diff_step_min",):
        return True
    if ".weights." in key or key.startswith("weights") or last == "weight_rms":
        return False
    return True  # accuracies and agreements


ALIASES = {"accuracy": "infer.accuracy.fixed", "agreement": "infer.agreement.fixed_vs_float",
           "learned_accuracy": "learn.learned_accuracy.fixed",
           "learned_agreement": "learn.learned_agreement.fixed_vs_float"}


def resolve_gate(flat: dict, name: str, populations, projections
                 ) -> tuple[list[str], bool] | None:
    """The flat keys a gate name stands for and whether larger is better, or None.

    Shorthands: ``accuracy``, ``agreement``, ``learned_accuracy``, ``learned_agreement``
    (fixed point, inference, against float); ``POP.METRIC`` (inference, fixed vs float);
    ``METRIC`` (the worst population); ``PAIR.POP.METRIC``; ``weight_rms`` (the worst plastic
    projection's RMS divergence over time, fixed vs float). A full key works too.
    """
    if name in ALIASES:
        name = ALIASES[name]
    if name == "weight_rms":
        keys = [k for k in flat if k.startswith("learn.weights.")
                and k.endswith("fixed_vs_float.rms_over_time")]
        return (keys, False) if keys else None
    for candidate in (name, f"infer.{name}", f"infer.fixed_vs_float.{name}"):
        if candidate in flat:
            return [candidate], _higher_is_better(candidate)
    if name in M.HIGHER_IS_BETTER or name == "first_diff_step_min":
        keys = [f"infer.fixed_vs_float.{p}.{name}" for p in populations
                if f"infer.fixed_vs_float.{p}.{name}" in flat]
        return (keys, _higher_is_better(keys[0])) if keys else None
    return None


def _gate_value(flat: dict, key: str, higher: bool) -> float:
    v = flat[key]
    if v is None:
        # a first difference that never happens is the best case; an undefined metric fails
        return math.inf if key.split(".")[-1].startswith("first_diff") else \
            (-math.inf if higher else math.inf)
    return float(v)


def check_gates(gates: list[Gate], report: dict, populations, projections) -> list[dict]:
    """Evaluate gates on a finished report; a SpecError names a gate that matches nothing."""
    flat = gate_metrics(report)
    results = []
    for g in gates:
        found = resolve_gate(flat, g.metric, populations, projections)
        if found is None:
            examples = ", ".join(list(ALIASES) + [f"{populations[0]}.match_rate", "cosine",
                                                  "weight_rms"] if populations else ALIASES)
            raise SpecError(f"{g.option}: no metric {g.metric!r} in this comparison; try "
                            f"{examples}, or a key of compare.json's 'gate_metrics'")
        keys, higher = found
        if g.direction == "under" and not higher:
            raise SpecError(f"{g.option}: {g.metric} is smaller-is-better; use --fail-over")
        if g.direction == "over" and higher:
            raise SpecError(f"{g.option}: {g.metric} is larger-is-better; use --fail-under")
        vals = [_gate_value(flat, k, higher) for k in keys]
        worst_i = int(np.argmin(vals) if higher else np.argmax(vals))
        value = vals[worst_i]
        passed = value >= g.threshold if higher else value <= g.threshold
        results.append({"gate": g.option, "metric": keys[worst_i], "value": flat[keys[worst_i]],
                        "threshold": g.threshold, "passed": bool(passed)})
    return results


def _planned_gate_check(gates: list[Gate], net, learn_phase: bool) -> None:
    """Reject gate names that cannot match before anything runs (a dry run on a skeleton
    report with every key this comparison will produce)."""
    if not gates:
        return
    pops = [p.name for p in net.populations]
    m = dict.fromkeys(list(M.HIGHER_IS_BETTER) + ["first_diff_step_min"], 0.0)
    skeleton = {"infer": {"pairs": {pk: {p: m for p in pops} for pk in PAIR_KEYS},
                          "accuracy": dict.fromkeys(BACKENDS, 0.0),
                          "agreement": dict.fromkeys(PAIR_KEYS, 0.0)}}
    if learn_phase:
        plastic = [p.name for p in net.projections if p.learning is not None]
        skeleton["learn"] = {
            "pairs": skeleton["infer"]["pairs"],
            "accuracy_while_learning": dict.fromkeys(BACKENDS, 0.0),
            "agreement_while_learning": dict.fromkeys(PAIR_KEYS, 0.0),
            "learned_accuracy": dict.fromkeys(BACKENDS, 0.0),
            "learned_agreement": dict.fromkeys(PAIR_KEYS, 0.0),
            "weights": {p: {"pairs": {pk: {"final": 0.0, "rms_over_time": 0.0}
                                      for pk in PAIR_KEYS}} for p in plastic}}
    check_gates(gates, skeleton, pops, [p.name for p in net.projections])
