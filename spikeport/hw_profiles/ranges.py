"""Ranges: every energy and time figure is ``{"low", "high"}`` with its sources; arithmetic on
ranges and their formatting with SI prefixes."""

from __future__ import annotations

from spikeport.hw_profiles.profile import Quantity


def rng(low: float, high: float | None = None) -> dict:
    return {"low": float(low), "high": float(low if high is None else high)}


def radd(*rs: dict) -> dict:
    return rng(sum(r["low"] for r in rs), sum(r["high"] for r in rs))


def rscale(r: dict, k: float) -> dict:
    return rng(r["low"] * k, r["high"] * k)


def rmul(a: dict, b: dict) -> dict:
    return rng(a["low"] * b["low"], a["high"] * b["high"])


def _qr(q: Quantity, unit: float = 1.0) -> dict:
    return rng(q.low * unit, q.high * unit)


def _src(q: Quantity) -> dict:
    return {"value": q.describe(), "status": q.status, "source": q.source,
            **({"note": q.note} if q.note else {})}


def _prefix(x: float) -> tuple[float, str]:
    scale, pre = 1.0, ""
    for s, p in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1, ""),
                 (1e3, "k")):
        if abs(x) >= s:
            scale, pre = s, p
    return scale, pre


def fmt_range(r: dict, unit: str = "J", digits: int = 3) -> str:
    """``1.2–3.4 µJ``: one engineering prefix, chosen from the high end, unless the low end
    would print below 0.1 of it (then each end has its own: ``58.9 mJ–1.06 J``)."""
    lo, hi = r["low"], r["high"]
    top = max(abs(hi), abs(lo))
    scale, pre = _prefix(top) if top else (1.0, "")
    if lo and abs(lo) / scale < 0.1:
        s_lo, p_lo = _prefix(lo)
        return f"{lo / s_lo:.{digits}g} {p_lo}{unit}–{hi / scale:.{digits}g} {pre}{unit}"
    a, b = f"{lo / scale:.{digits}g}", f"{hi / scale:.{digits}g}"
    return f"{a} {pre}{unit}" if a == b else f"{a}–{b} {pre}{unit}"
