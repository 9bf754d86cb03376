"""PNG figures of a comparison (matplotlib, Agg backend; nothing is shown on screen).

* :func:`raster_overlay`: one sample's spikes per population, reference vs emulation:
  spikes in both recordings in grey, only in the reference in blue, only in the emulation in
  red, so drift shows up as colour.
* :func:`metric_bars`: per-population bars of the spike metrics, one bar per backend pair.
* :func:`weight_divergence`: RMS weight divergence (weight units) against samples learned.
* :func:`sweep_plot`: accuracy and per-layer spike agreement against a precision setting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport.io import atomic_write_bytes

PAIR_LABELS = {"quantized_vs_float": "quantized vs float (parameter rounding)",
               "fixed_vs_quantized": "fixed vs quantized (integer arithmetic)",
               "fixed_vs_float": "fixed vs float (total)"}
PAIR_COLOURS = {"quantized_vs_float": "#4c72b0", "fixed_vs_quantized": "#dd8452",
                "fixed_vs_float": "#c44e52"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    _plt().close(fig)
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def raster_overlay(path: str | Path, reference: dict[str, np.ndarray],
                   emulation: dict[str, np.ndarray], dt: float, title: str,
                   ref_label: str = "reference", emu_label: str = "emulation",
                   inputs: dict[str, np.ndarray] | None = None) -> Path:
    """One sample: ``reference``/``emulation`` map population -> bool ``(steps, n)``; optional
    ``inputs`` (the shared input spikes, drawn in black on top)."""
    plt = _plt()
    rows = list(inputs.items()) if inputs else []
    pops = list(reference)
    heights = [max(2.0, 0.02 * s.shape[1] + 1) for _, s in rows]
    heights += [max(2.0, 0.025 * reference[p].shape[1] + 1) for p in pops]
    fig, axes = plt.subplots(len(heights), 1, sharex=True, figsize=(9, sum(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = axes[:, 0]
    t_ms = 1e3 * dt
    for ax, (name, s) in zip(axes, rows):
        t, n = np.nonzero(s)
        ax.scatter(t * t_ms, n, s=4, c="black", marker="|", linewidths=0.8)
        ax.set_ylabel(f"{name}\n(input)")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(-0.5, s.shape[1] - 0.5)
    for ax, pop in zip(axes[len(rows):], pops):
        a, b = np.asarray(reference[pop], bool), np.asarray(emulation[pop], bool)
        for mask, colour, label, size in ((a & b, "0.55", "both", 10),
                                          (a & ~b, "#1f77b4", f"only {ref_label}", 14),
                                          (~a & b, "#d62728", f"only {emu_label}", 14)):
            t, n = np.nonzero(mask)
            ax.scatter(t * t_ms, n, s=size, c=colour, marker="|", linewidths=1.2,
                       label=f"{label} ({mask.sum()})")
        ax.set_ylabel(pop)
        ax.set_ylim(-0.5, a.shape[1] - 0.5)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False,
                  ncol=3, borderaxespad=0.1)
    axes[-1].set_xlabel("time in sample (ms)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def metric_bars(path: str | Path, pairs: dict[str, dict[str, dict]], title: str,
                metrics: tuple[tuple[str, str], ...] = (
                    ("match_rate", "exact match rate"), ("coincidence", "coincidence |a∧b|/|a∨b|"),
                    ("count_corr", "spike-count r (per neuron)"), ("cosine", "cosine of rates"),
                    ("van_rossum", "van Rossum distance"),
                    ("first_spike_error_ms", "first-spike error (ms)"))) -> Path:
    """``pairs``: pair -> population -> metric dict (:func:`~.metrics.population_metrics`)."""
    plt = _plt()
    pair_names = list(pairs)
    pops = list(next(iter(pairs.values()))) if pairs else []
    cols = 3
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    width = 0.8 / max(1, len(pair_names))
    x = np.arange(len(pops))
    for k, (key, label) in enumerate(metrics):
        ax = axes[k // cols, k % cols]
        for i, pair in enumerate(pair_names):
            vals = [pairs[pair][p].get(key) for p in pops]
            vals = [np.nan if v is None else v for v in vals]
            ax.bar(x + (i - (len(pair_names) - 1) / 2) * width, vals, width,
                   color=PAIR_COLOURS.get(pair), label=PAIR_LABELS.get(pair, pair))
        ax.set_xticks(x, pops)
        ax.set_title(label, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    for k in range(len(metrics), rows * cols):
        axes[k // cols, k % cols].axis("off")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(pair_names), fontsize=8,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return _save(fig, path)


def weight_divergence(path: str | Path, weights: dict[str, dict], title: str) -> Path:
    """``weights``: projection -> ``{"pairs": {pair: {"checkpoints": [...], "curve": [...]}},
    "range": [w_min, w_max]}``: one panel per projection, one line per pair."""
    plt = _plt()
    projs = list(weights)
    fig, axes = plt.subplots(1, max(1, len(projs)), figsize=(5 * max(1, len(projs)), 3.4),
                             squeeze=False)
    for ax, proj in zip(axes[0], projs):
        for pair, d in weights[proj]["pairs"].items():
            ck, curve = d["checkpoints"], d["curve"]
            style = "-o" if len(ck) > 2 else "s"  # start and end only: no line between
            ax.plot(ck, curve, style, ms=3 if len(ck) > 2 else 6, color=PAIR_COLOURS.get(pair),
                    label=PAIR_LABELS.get(pair, pair) + ("" if len(ck) > 2 else
                                                         " (start and end only)"))
        ax.set_title(proj, fontsize=9)
        ax.set_xlabel("samples learned")
        ax.set_ylabel("RMS weight divergence (weight units)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def sweep_plot(path: str | Path, rows: list[dict], setting: str, populations: list[str],
               reference: dict, title: str, phase: str = "infer") -> Path:
    """``rows``: one dict per setting value (see ``compare._sweep``); ``reference``: the
    float reference's accuracies (``infer``, ``learned``) drawn as horizontal lines;
    ``phase``: whose per-layer spike agreement the right panel shows (``infer``/``learn``)."""
    plt = _plt()
    rows = [r for r in rows if "error" not in r]  # settings the fixed point cannot realise
    values = [r["value"] for r in rows]
    x = np.arange(len(values))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))

    def series(getter):
        out = []
        for r in rows:
            try:
                v = getter(r)
            except (KeyError, TypeError):
                v = None
            out.append(np.nan if v is None else v)
        return out

    ax1.plot(x, series(lambda r: r["infer"]["accuracy"]["fixed"]), "-o", color="#c44e52",
             label="fixed point, inference")
    ax1.plot(x, series(lambda r: r["infer"]["accuracy"]["quantized"]), "--o", color="#4c72b0",
             label="Brian2 quantized, inference")
    if reference.get("infer") is not None:
        ax1.axhline(reference["infer"], color="0.3", lw=1, label="Brian2 float, inference")
    if any(r.get("learn") for r in rows):
        ax1.plot(x, series(lambda r: r["learn"]["learned_accuracy"]["fixed"]), "-s",
                 color="#8c1c13", label="fixed point, after learning")
        ax1.plot(x, series(lambda r: r["learn"]["learned_accuracy"]["quantized"]), "--s",
                 color="#223a70", label="Brian2 quantized, after learning")
        if reference.get("learned") is not None:
            ax1.axhline(reference["learned"], color="0.3", lw=1, ls=":",
                        label="Brian2 float, after learning")
    ax1.set_xticks(x, [str(v) for v in values])
    ax1.set_xlabel(setting)
    ax1.set_ylabel("accuracy")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7)
    for pop in populations:
        line = ax2.plot(x, series(lambda r, p=pop: r[phase]["pops"][p]["coincidence"]), "-o",
                        label=f"{pop}: coincidence")[0]
        ax2.plot(x, series(lambda r, p=pop: r[phase]["pops"][p]["cosine"]), "--^",
                 color=line.get_color(), label=f"{pop}: cosine of rates")
    ax2.set_xticks(x, [str(v) for v in values])
    ax2.set_xlabel(setting)
    ax2.set_ylabel(f"fixed vs float, {'inference' if phase == 'infer' else 'learning'}")
    ax2.set_ylim(0, 1.02)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
