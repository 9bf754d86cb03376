"""The comparison report's vocabulary and its Markdown: backends and pairs compared, sweep kinds,
accuracy keys (:mod:`spikeport.workflows.compare` produces the report; this module reads it)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spikeport.analysis import plots
from spikeport.analysis.neurobench import format_neurobench
from spikeport.io import atomic_savez

BACKENDS = ("float", "quantized", "fixed")
PAIRS = (("quantized", "float"), ("fixed", "quantized"), ("fixed", "float"))

# sweep kind -> (QuantizeOptions field, allowed range, what it is)
SWEEPS = {"bits": ("num_weight_bits", (1, 8), "weight precision (bits)"),
          "impulse": ("trace_impulse_max", (1, 127), "largest learning-trace impulse"),
          "t_epoch": ("sbp_t_epoch", (1, None), "SBP learning epoch (steps)")}
# the knobs that only change learning: their per-layer spike metrics are the learning phase's
LEARNING_ONLY = ("impulse", "t_epoch")
PAIR_NAMES = {"quantized_vs_float": "quantized vs float", "fixed_vs_quantized":
              "fixed vs quantized", "fixed_vs_float": "fixed vs float"}
ACCURACY_KEYS = ("accuracy", "agreement", "learned_accuracy", "learned_agreement",
                 "accuracy_while_learning", "agreement_while_learning")


def pair_key(a: str, b: str) -> str:
    return f"{a}_vs_{b}"


PAIR_KEYS = tuple(pair_key(a, b) for a, b in PAIRS)


# ---------------------------------------------------------------------------------------------
# Markdown

def _f(v, fmt: str = ".3f") -> str:
    if v is None:
        return "–"
    if isinstance(v, float) and not math.isfinite(v):
        return "–"
    return format(v, fmt)


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _metric_table(pairs: dict) -> list[str]:
    lines = ["| population | pair | match rate | coincidence | count r | cosine | "
             "first-spike err (ms) | van Rossum | identical samples | first diff step "
             "(median) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    pops = list(next(iter(pairs.values()))) if pairs else []
    for pop in pops:
        for pk in PAIR_KEYS:
            if pk not in pairs:
                continue
            m = pairs[pk][pop]
            lines.append(
                f"| {pop} | {PAIR_NAMES[pk]} | {_f(m['match_rate'], '.4f')} | "
                f"{_f(m['coincidence'])} | {_f(m['count_corr'])} | {_f(m['cosine'])} | "
                f"{_f(m['first_spike_error_ms'], '.2f')} | {_f(m['van_rossum'])} | "
                f"{_pct(m['identical_samples'])} | {_f(m['first_diff_step_median'], '.0f')} |")
    return lines


def _acc_table(title: str, acc: dict, rates: dict | None = None) -> list[str]:
    lines = [f"| {title} | Brian2 float | Brian2 quantized | fixed point |", "|---|---:|---:|---:|"]
    if acc:
        lines.append("| accuracy | " + " | ".join(_pct(acc.get(b)) for b in BACKENDS) + " |")
    for pop in (next(iter(rates.values())) if rates else {}):
        lines.append(f"| {pop} rate (Hz) | " + " | ".join(
            _f(rates[b][pop], ".1f") for b in BACKENDS) + " |")
    return lines


def _samples_line(r: dict) -> str:
    """Which samples each phase ran: count, split and sample-id range (older reports: counts)."""
    src = r.get("samples_from")
    if not src:
        return (f"{r['samples']['infer']} {r['dataset']} test samples"
                + (f", {r['samples']['learn']} training samples for the learning phase"
                   if r["samples"]["learn"] else ""))
    from spikeport.models.inputs import describe_samples

    text = "Inference: " + describe_samples(src["infer"])
    if src.get("learn"):
        text += "; learning phase: " + describe_samples(src["learn"])
    return text


def format_compare(r: dict) -> str:
    """compare.md: the report as Markdown tables."""
    o = r["options"]
    lines = [f"# {r['network']}: Brian2 float vs Brian2 quantized vs fixed point "
             f"({r['backend']})", "",
             _samples_line(r)
             + f"; identical input spikes for every backend; dt = {1e3 * r['dt_s']:g} ms, "
             f"{r['sample_steps']} steps per sample. van Rossum τ = {o['tau_vr_ms']:g} ms; a "
             f"missing first spike costs {o['first_spike_penalty_ms']:g} ms. Pairs: quantized "
             "vs float = parameter rounding, fixed vs quantized = integer arithmetic, fixed vs "
             "float = total.", "", "## Inference", ""]
    inf = r["infer"]
    lines += _acc_table("inference", inf["accuracy"], inf["rates_hz"]) + [""]
    if inf["agreement"]:
        lines += ["Same predicted class: " + ", ".join(
            f"{PAIR_NAMES[k]} {_pct(v)}" for k, v in inf["agreement"].items()) + ".", ""]
    lines += _metric_table(inf["pairs"])
    if inf.get("attribution"):
        pops = list(next(iter(inf["attribution"].values())))
        lines += ["", "Which rounding moves the spikes: the float reference with one group of "
                      "rounded constants at a time, against the float reference (coincidence / "
                      "van Rossum / first differing step, median):", "",
                  "| rounded alone | " + " | ".join(pops) + " |",
                  "|---|" + "---|" * len(pops)]
        for label, d in inf["attribution"].items():
            lines.append(f"| {label} | " + " | ".join(
                f"{_f(d[p]['coincidence'])} / {_f(d[p]['van_rossum'])} / "
                f"{_f(d[p]['first_diff_step_median'], '.0f')}" for p in pops) + " |")
    lr = r.get("learn")
    if lr:
        lines += ["", f"## Learning ({r['samples']['learn']} training samples, learning on)",
                  ""]
        lines += _acc_table("while learning", lr["accuracy_while_learning"], lr["rates_hz"])
        lines += [""] + _metric_table(lr["pairs"])
        lines += ["", "| projection | pair | RMS weight divergence over time | final | "
                      "checkpoints | weight range | initial step |",
                  "|---|---|---:|---:|---:|---|---:|"]
        for proj, d in lr["weights"].items():
            for pk, w in d["pairs"].items():
                lines.append(f"| {proj} | {PAIR_NAMES[pk]} | {_f(w['rms_over_time'], '.4f')} | "
                             f"{_f(w['final'], '.4f')} | {len(w['checkpoints'])} | "
                             f"[{d['range'][0]:g}, {d['range'][1]:g}] | {d['step']:.3g} |")
        if lr.get("thresholds_rms_final"):
            lines += ["", "Thresholds after learning, RMS difference (weight units): " + "; ".join(
                f"{pop}: " + ", ".join(f"{PAIR_NAMES[k]} {_f(v, '.3f')}" for k, v in d.items())
                for pop, d in lr["thresholds_rms_final"].items()) + "."]
        lines += ["", f"Accuracy after learning ({r['samples']['infer']} test samples, learning "
                      "off):", ""] + _acc_table("after learning", lr["learned_accuracy"])
        if lr["learned_agreement"]:
            lines += ["", "Same predicted class after learning: " + ", ".join(
                f"{PAIR_NAMES[k]} {_pct(v)}" for k, v in lr["learned_agreement"].items()) + "."]
    elif r.get("learn_skipped"):
        lines += ["", f"Learning phase skipped: {r['learn_skipped']}."]
    for sw in r.get("sweeps", {}).values():
        lines += _sweep_md(sw)
    if r.get("gates"):
        lines += ["", "## Gates", "", "| gate | metric | value | result |", "|---|---|---:|---|"]
        for g in r["gates"]:
            lines.append(f"| `{g['gate']}` | {g['metric']} | {_f(g['value'], '.4f')} | "
                         f"{'pass' if g['passed'] else '**FAIL**'} |")
    if r.get("neurobench"):

        lines += ["", "## NeuroBench metrics (fixed-point inference)", "",
                  format_neurobench(r["neurobench"])]
    lines += ["", f"Wall time {r['wall_time_s']:.0f} s (Brian2 target {r['brian2_target']})."]
    return "\n".join(lines)


def _sweep_md(sw: dict) -> list[str]:
    failed = [row for row in sw["rows"] if "error" in row]
    rows = [row for row in sw["rows"] if "error" not in row]
    if not rows:
        return ["", f"## Sweep: {sw['what']}", ""] + [
            f"- {row['value']}: not realisable ({row['error']})" for row in failed]
    learn = any("learn" in row for row in rows)
    plastic = list(rows[0]["learn"]["weights_final_rms"]) if learn else []
    cols = [sw["option"], "fixed acc", "quantized acc", "same class as float"]
    if learn:
        cols += ["learned acc fixed", "learned acc quantized"]
        cols += [f"{p} final RMS Δw (fixed vs float)" for p in plastic]
    lines = ["", f"## Sweep: {sw['what']}", "", "| " + " | ".join(cols) + " |",
             "|---:|---:|---:|---:|" + "---:|" * ((2 if learn else 0) + len(plastic))]
    for row in rows:
        inf = row["infer"]
        cells = [f"{row['value']}" + (" (main run)" if row.get("reused") else ""),
                 _pct(inf["accuracy"].get("fixed")),
                 _pct(inf["accuracy"].get("quantized")),
                 _pct(inf["agreement"].get("fixed_vs_float"))]
        if learn:
            la = row["learn"]["learned_accuracy"]
            cells += [_pct(la.get("fixed")), _pct(la.get("quantized"))]
            cells += [_f(row["learn"]["weights_final_rms"][p]["fixed_vs_float"], ".4f")
                      for p in plastic]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"\nNot realisable on the fixed point: {row['value']} ({row['error']})"
              for row in failed]
    phase = sw.get("spike_phase", "infer")
    pops = list(rows[0][phase]["pops"])
    where = "inference" if phase == "infer" else "learning phase"
    lines += ["", f"Per layer, {where}, fixed vs float (quantized vs float in brackets):", "",
              f"| {sw['option']} | population | match rate | coincidence | count r | cosine | "
              "van Rossum | first diff step (median) |",
              "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        for p in pops:
            m, q = row[phase]["pops"][p], row[phase]["pops_quantized"][p]
            lines.append(
                f"| {row['value']} | {p} | {_f(m['match_rate'], '.4f')} "
                f"({_f(q['match_rate'], '.4f')}) | {_f(m['coincidence'])} "
                f"({_f(q['coincidence'])}) | {_f(m['count_corr'])} ({_f(q['count_corr'])}) | "
                f"{_f(m['cosine'])} ({_f(q['cosine'])}) | {_f(m['van_rossum'])} "
                f"({_f(q['van_rossum'])}) | {_f(m['first_diff_step_median'], '.0f')} |")
    return lines


# ---------------------------------------------------------------------------------------------
# files

def _write_arrays(out: Path, test, train, infer_recs, learn_runs) -> None:
    arrays = {f"infer/input/{k}": v for k, v in test.inputs.items()}
    arrays["infer/labels"] = test.labels
    arrays["infer/sample_ids"] = test.sample_ids
    for b, r in infer_recs.items():
        arrays.update({f"infer/{b}/{p}": s for p, s in r.spikes.items()})
    if learn_runs is not None:
        arrays.update({f"learn/input/{k}": v for k, v in train.inputs.items()})
        arrays["learn/labels"] = train.labels
        arrays["learn/sample_ids"] = train.sample_ids
        for b in BACKENDS:
            r = learn_runs[b]
            arrays.update({f"learn/{b}/{p}": s for p, s in r.recording.spikes.items()})
            arrays.update({f"weights/{b}/{p}": t for p, t in r.trajectory.items()})
            arrays[f"weights/{b}/checkpoints"] = np.asarray(r.checkpoints)
            arrays.update({f"learned/{b}/{p}": s
                           for p, s in learn_runs["_after"][b].spikes.items()})
    atomic_savez(out / "compare.npz", **arrays)


def _plots(out: Path, report, net, test, train, infer_recs, learn_runs, opts) -> None:

    k = opts.raster_sample
    name = report["backend"]
    plots.raster_overlay(
        out / "raster.png", {p: s[k] for p, s in infer_recs["float"].spikes.items()},
        {p: s[k] for p, s in infer_recs["fixed"].spikes.items()}, net.dt,
        f"{net.name}: test sample {k} (label {int(test.labels[k])}), inference — Brian2 float "
        f"vs fixed point ({name})", "float", "fixed",
        inputs={i: s[k] for i, s in test.inputs.items()})
    plots.metric_bars(out / "metrics.png", report["infer"]["pairs"],
                      f"{net.name}: inference, {report['samples']['infer']} test samples")
    if learn_runs is not None:
        last = len(train.labels) - 1
        plots.raster_overlay(
            out / "raster_learn.png",
            {p: s[last] for p, s in learn_runs["float"].recording.spikes.items()},
            {p: s[last] for p, s in learn_runs["fixed"].recording.spikes.items()}, net.dt,
            f"{net.name}: learning sample {last} (the last; label {int(train.labels[last])}) — "
            f"Brian2 float vs fixed point ({name})", "float", "fixed",
            inputs={i: s[last] for i, s in train.inputs.items()})
        plots.metric_bars(out / "metrics_learn.png", report["learn"]["pairs"],
                          f"{net.name}: learning phase, {report['samples']['learn']} samples")
        plots.weight_divergence(out / "weights.png", report["learn"]["weights"],
                                f"{net.name}: weight divergence while learning ({name})")
    for kind, sw in report["sweeps"].items():
        ref = {"infer": report["infer"]["accuracy"].get("float"),
               "learned": (report["learn"] or {}).get("learned_accuracy", {}).get("float")}
        plots.sweep_plot(out / f"sweep_{kind}.png", sw["rows"], sw["what"],
                         [p.name for p in net.populations], ref,
                         f"{net.name}: {sw['what']} sweep ({name})", sw["spike_phase"])
