"""`spikeport sweep-report`: a results folder → table (Markdown + JSON) and heatmap PNG.

Jobs of the same point (same parameter values, different seeds) are pooled. For a scalar
metric the report gives, over the n seeds that finished, the mean ``x̄ = Σx/n``, the sample
standard deviation ``s = √(Σ(x − x̄)²/(n − 1))`` (none for n = 1), min and max. An energy range
``[low, high]`` is pooled end by end (mean and spread of the lows, of the highs); its heatmap
colour is the geometric middle ``√(low·high)`` of the means, on a log scale.

The heatmap puts one parameter on each axis (by default the first two that vary) and draws one
panel per metric, every cell annotated with its mean ± spread; a point with no finished seed is
grey and says how many seeds failed. Parameters other than the two axes must not vary among
the points plotted: fix them with ``where`` (``NAME=VALUE``).
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import numpy as np
import yaml

from spikeport.errors import DataError, SpecError
from spikeport.hw_profiles.ranges import fmt_range
from spikeport.io import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json_object
from spikeport.paths import relative_paths  # reports carry no absolute paths
from spikeport.sweep.execute import PLAN, read_result, result_path

ACCURACY_FIRST = ("val_accuracy", "test_accuracy", "best_val_accuracy",
                  "test_accuracy_at_best_val")


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _is_range(v) -> bool:
    return isinstance(v, dict) and set(v) == {"low", "high"}


def _stats(values: list[float]) -> dict:
    a = np.asarray(values, dtype=float)
    n = len(a)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if n > 1 else None,
            "min": float(a.min()), "max": float(a.max()), "n": n, "values": [float(x) for x in a]}


def _pool(values: list) -> dict:
    if all(_is_range(v) for v in values):
        return {"low": _stats([v["low"] for v in values]),
                "high": _stats([v["high"] for v in values]), "n": len(values)}
    return _stats([float(v) for v in values])


def load_results(out: str | Path) -> tuple[dict, dict]:
    """(plan from ``sweep.json``, job id -> result) for the jobs of the plan."""

    out = Path(out)
    if not (out / PLAN).exists():
        raise DataError(f"{out}: no {PLAN} (not a sweep results folder; `spikeport sweep FILE "
                        "-o DIR` writes one)")
    plan = read_json_object(out / PLAN, "sweep plan")
    jobs = plan.get("jobs", [])
    if not isinstance(jobs, list) or not all(
            isinstance(j, dict) and isinstance(j.get("id"), str) and
            isinstance(j.get("params"), dict) for j in jobs):
        raise DataError(f"{out / PLAN}: jobs must be a list of objects with an id (a string) "
                        "and params (an object)")
    results = {}
    for job in jobs:
        res = read_result(result_path(out, job["id"]))
        if res is not None:
            results[job["id"]] = res
    return plan, results


def aggregate(plan: dict, results: dict) -> list[dict]:
    """One row per point (in plan order): seeds finished/failed/missing, pooled metrics."""
    rows: dict[str, dict] = {}
    for job in plan["jobs"]:
        row = rows.setdefault(_key(job["params"]), {
            "params": job["params"], "seeds": [], "ok": 0, "failed": 0, "missing": 0,
            "errors": [], "_values": {}})
        row["seeds"].append(job["seed"])
        res = results.get(job["id"])
        if res is None:
            row["missing"] += 1
        elif res.get("status") != "ok":
            row["failed"] += 1
            row["errors"].append({"seed": job["seed"], **res.get("error", {})})
        else:
            row["ok"] += 1
            for name, v in res.get("metrics", {}).items():
                if _is_range(v) or (isinstance(v, (int, float)) and not isinstance(v, bool)):
                    row["_values"].setdefault(name, []).append(v)
    out = []
    for row in rows.values():
        values = row.pop("_values")
        row["metrics"] = {name: _pool(v) for name, v in values.items()}
        out.append(row)
    return out


def available_metrics(rows: list[dict]) -> list[str]:
    names: list[str] = []
    for r in rows:
        for name in r["metrics"]:
            if name not in names:
                names.append(name)
    first = [m for m in ACCURACY_FIRST if m in names]
    return first + [m for m in names if m not in first]


def _default_plot_metrics(names: list[str]) -> list[str]:
    acc = [m for m in ("val_accuracy", "test_accuracy") if m in names][:1]
    energy = [m for m in names if m.startswith("learning_energy_") and
              not m.startswith("learning_energy_per_sample_")][:1]
    return acc + energy


def _value_label(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (int, str)) and not isinstance(v, bool):
        return str(v)
    return json.dumps(v, separators=(",", ":"))


def fmt_metric(name: str, agg: dict | None, spread: bool = True) -> str:
    """``87.3 ± 1.2%`` for accuracies, ``1.2–3.4 mJ`` for energy ranges, ``x ± s`` else."""

    if agg is None:
        return "–"
    if "low" in agg:
        text = fmt_range({"low": agg["low"]["mean"], "high": agg["high"]["mean"]})
        return text + (f" (n={agg['n']})" if spread and agg["n"] > 1 else "")
    pct = name.endswith("accuracy")
    k = 100.0 if pct else 1.0
    mean = f"{k * agg['mean']:.1f}" if pct else f"{agg['mean']:.4g}"
    sd = "" if not spread or agg["std"] is None else \
        (f" ± {k * agg['std']:.1f}" if pct else f" ± {agg['std']:.2g}")
    return mean + sd + ("%" if pct else "")


def _where(rows: list[dict], where: list[str] | None, names: list[str]) -> tuple[list, dict]:
    fixed = {}
    for item in where or []:
        name, sep, text = str(item).partition("=")
        if not sep or name not in names:
            raise SpecError(f"--where {item!r} is invalid; allowed: NAME=VALUE with NAME one "
                            f"of {', '.join(names)}")
        fixed[name] = yaml.safe_load(text)
    kept = [r for r in rows if all(r["params"].get(k) == v for k, v in fixed.items())]
    if where and not kept:
        raise SpecError(f"--where {' '.join(where)}: no point has these values")
    return kept, fixed


def _axis_values(rows: list[dict], name: str) -> list:
    vals = []
    for r in rows:
        v = r["params"].get(name)
        if v not in vals:
            vals.append(v)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        vals.sort()
    return vals


def plot_heatmap(rows: list[dict], x: str, y: str | None, metrics: list[str], title: str,
                 path: Path) -> None:
    """One panel per metric over x × y; cells annotated with mean ± spread; written
    atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    xs = _axis_values(rows, x)
    ys = _axis_values(rows, y) if y else [None]
    cell = {(_value_label(r["params"].get(x)),
             _value_label(r["params"].get(y)) if y else None): r for r in rows}
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.1 + 1.25 * len(xs) * len(metrics) +
                                                       1.4 * len(metrics),
                                                       1.6 + 0.75 * len(ys)), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        grid = np.full((len(ys), len(xs)), np.nan)
        texts = {}
        is_range = False
        for i, yv in enumerate(ys):
            for j, xv in enumerate(xs):
                r = cell.get((_value_label(xv), _value_label(yv) if y else None))
                if r is None:
                    texts[i, j] = "–"
                    continue
                agg = r["metrics"].get(metric)
                if agg is None:
                    texts[i, j] = f"failed\n{r['failed']}/{len(r['seeds'])}" if r["failed"] \
                        else "–"
                    continue
                if "low" in agg:
                    is_range = True
                    lo, hi = agg["low"]["mean"], agg["high"]["mean"]
                    grid[i, j] = math.sqrt(lo * hi) if lo > 0 and hi > 0 else (lo + hi) / 2
                    texts[i, j] = fmt_metric(metric, agg, spread=False).replace("–", "–\n", 1)
                else:
                    pct = metric.endswith("accuracy")
                    grid[i, j] = agg["mean"] * (100.0 if pct else 1.0)
                    texts[i, j] = fmt_metric(metric, agg).replace(" ± ", "\n± ")
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
        finite = grid[np.isfinite(grid)]
        norm = None
        if is_range and finite.size and (finite > 0).all() and finite.max() > finite.min():
            norm = LogNorm(vmin=finite.min(), vmax=finite.max())
        im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto",
                       origin="lower")
        mid = None
        if finite.size:
            lo, hi = finite.min(), finite.max()
            mid = math.sqrt(lo * hi) if norm is not None else (lo + hi) / 2
        for (i, j), t in texts.items():
            dark = np.isfinite(grid[i, j]) and mid is not None and grid[i, j] < mid
            ax.text(j, i, t, ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "black")
        ax.set_xticks(range(len(xs)), [_value_label(v) for v in xs])
        ax.set_yticks(range(len(ys)), [_value_label(v) for v in ys] if y else [""])
        ax.set_xlabel(x)
        if y:
            ax.set_ylabel(y)
        unit = " (%)" if metric.endswith("accuracy") else (" (J, geometric mid of range)"
                                                            if is_range else "")
        ax.set_title(metric.replace("_", " ") + unit, fontsize=9)
        if finite.size:
            fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def sweep_report(out: str | Path, x: str | None = None, y: str | None = None,
                 metrics: list[str] | None = None, where: list[str] | None = None,
                 png: str | Path | None = None) -> dict:
    """`spikeport sweep-report DIR`: pool seeds, write DIR/report.json, report.md and the
    heatmap (DIR/heatmap.png unless ``png``); return the report."""
    out = Path(out)
    plan, results = load_results(out)
    rows = aggregate(plan, results)
    names = list(plan.get("parameters", {}))
    for r in rows:
        for k in r["params"]:
            if k not in names:
                names.append(k)
    available = available_metrics(rows)
    table_metrics = [m for m in available if m in ACCURACY_FIRST[:2] or
                     (m.startswith("learning_energy_") and "per_sample" not in m)]
    plot_metrics = list(metrics) if metrics else _default_plot_metrics(available)
    for m in plot_metrics:
        if m not in available:
            raise SpecError(f"--metric {m!r} is invalid; allowed: "
                            f"{', '.join(available) or '(no finished point has metrics)'}")
    for m in plot_metrics:
        if m not in table_metrics:
            table_metrics.append(m)
    jobs = plan.get("jobs", [])
    report = {"sweep": plan.get("name"), "dir": str(out), "backend": plan.get("backend"),
              "parameters": plan.get("parameters", {}), "seeds": plan.get("seeds", []),
              "jobs": len(jobs), "ok": sum(r["ok"] for r in rows),
              "failed": sum(r["failed"] for r in rows),
              "missing": sum(r["missing"] for r in rows), "metrics": available,
              "table_metrics": table_metrics, "points": rows, "heatmap": None,
              "heatmap_skipped": None}
    plotted, fixed = _where(rows, where, names)
    varying = [n for n in names if len(_axis_values(plotted, n)) > 1]
    for axis, name in (("--x", x), ("--y", y)):
        if name is not None and name not in names:
            raise SpecError(f"{axis} {name!r} is invalid; allowed: {', '.join(names)}")
    if x is not None and x == y:
        raise SpecError(f"--y {y!r} is invalid; allowed: a parameter other than --x")
    if x is None:
        x = next((n for n in varying if n != y), None)
    if y is None and x is not None:
        y = next((n for n in varying if n != x), None)
    others = [n for n in varying if n not in (x, y)]
    if others:
        vals = "; ".join(f"{n} in {', '.join(_value_label(v) for v in _axis_values(plotted, n))}"
                         for n in others)
        report["heatmap_skipped"] = (f"parameters besides the heatmap axes ({x}, {y}) vary: "
                                     f"{vals}; fix them with --where NAME=VALUE")
    elif x is not None and plot_metrics and any(r["metrics"] for r in plotted):
        path = Path(png) if png else out / "heatmap.png"
        n_seeds = max(len(r["seeds"]) for r in plotted)
        title = (f"{plan.get('name')} ({plan.get('backend')}): mean over {n_seeds} seed"
                 + ("s" if n_seeds > 1 else "")
                 + (f"; {', '.join(f'{k}={_value_label(v)}' for k, v in fixed.items())}"
                    if fixed else ""))
        plot_heatmap(plotted, x, y, plot_metrics, title, path)
        report["heatmap"] = {"png": str(path), "x": x, "y": y, "metrics": plot_metrics,
                             "where": {k: v for k, v in fixed.items()}}

    atomic_write_json(out / "report.json", relative_paths(report, out))
    atomic_write_text(out / "report.md", format_report(relative_paths(report, out)) + "\n")
    return report


def format_report(report: dict) -> str:
    """The report of :func:`sweep_report` as Markdown."""
    names = list(report["parameters"])
    for r in report["points"]:
        for k in r["params"]:
            if k not in names:
                names.append(k)
    lines = [f"# Sweep {report['sweep']} ({report['backend']})", "",
             f"{report['jobs']} jobs: {report['ok']} finished, {report['failed']} failed, "
             f"{report['missing']} not run yet. Seeds pooled per point: mean ± sample "
             "standard deviation (n = seeds finished).", ""]
    for name, paths in report["parameters"].items():
        lines.append(f"- {name}: {', '.join(paths)}")
    metrics = report["table_metrics"]
    lines += ["", "| " + " | ".join(names + ["seeds ok"] + [m.replace("_", " ")
                                                           for m in metrics]) + " |",
              "|" + "---:|" * (len(names) + 1 + len(metrics))]
    for r in report["points"]:
        cells = [_value_label(r["params"].get(n)) for n in names]
        cells.append(f"{r['ok']}/{len(r['seeds'])}")
        cells += [fmt_metric(m, r["metrics"].get(m)) for m in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    failed = [(r, e) for r in report["points"] for e in r["errors"]]
    if failed:
        lines += ["", "Failed jobs:", ""]
        for r, e in failed:
            params = ", ".join(f"{k}={_value_label(v)}" for k, v in r["params"].items())
            lines.append(f"- {params}, seed {e['seed']}: {e.get('type')}: {e.get('message')}")
    if report.get("heatmap_skipped"):
        lines += ["", f"No heatmap: {report['heatmap_skipped']}."]
    h = report.get("heatmap")
    if h:
        rel = os.path.relpath(h["png"], report["dir"])
        lines += ["", f"![heatmap]({rel})", "",
                  f"Heatmap: {', '.join(h['metrics'])} over {h['x']}"
                  + (f" × {h['y']}" if h["y"] else "") + f" ({h['png']})."]
    return "\n".join(lines)


__all__ = ["sweep_report", "format_report", "aggregate", "load_results", "plot_heatmap",
           "fmt_metric", "available_metrics"]
