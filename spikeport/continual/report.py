"""Continual-learning metrics and reports (JSON for machines, Markdown and PNG for people).

For an accuracy matrix ``A`` (T×T; ``A[t, k]`` = accuracy on task k's test samples after
training task t, defined for k ≤ t):

* final mean accuracy ``ACC = (1/T)·Σ_k A[T−1, k]`` (each task weighs the same);
* backward transfer ``BWT = (1/(T−1))·Σ_{k<T−1} (A[T−1, k] − A[k, k])`` (negative: forgetting);
* forgetting ``F = (1/(T−1))·Σ_{k<T−1} (max_{t<T−1} A[t, k] − A[T−1, k])``;
* epochs per task (mean and per task), the accuracy over all seen test samples after each
  task, and the fraction of abstentions (test samples without a decision: a spiking readout
  with no output spike for any seen class), after each task and per cell of the matrix.

An abstention counts as an error in every accuracy, and is reported beside it. A task the method
never decided on (it abstained on all of that task's samples after every task) says nothing
about memory: it is left out of BWT and forgetting, and when no task is left they are None
(printed "n/a"), never 0 — a silent network does not "forget nothing".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport.continual.protocol import MethodRun
from spikeport.hw_profiles.ranges import fmt_range
from spikeport.io import atomic_write_bytes


def summarize(run: MethodRun) -> dict:
    """The metrics of one method's run (module docstring), JSON-ready."""
    A = np.asarray(run.matrix, np.float64)
    T = A.shape[0]
    final = A[T - 1]
    B = (np.zeros_like(A) if run.abstained_matrix is None
         else np.asarray(run.abstained_matrix, np.float64))
    # tasks the method decided on at least once: the only ones that say anything about memory
    decided = [k for k in range(T - 1) if np.nanmin(B[k:, k]) < 1.0]
    out = {"method": run.name, "final_mean_accuracy": float(np.mean(final)),
           "final_seen_accuracy": run.seen_accuracy[-1],
           "bwt": (float(np.mean([final[k] - A[k, k] for k in decided])) if decided else None)
           if T > 1 else 0.0,
           "forgetting": (float(np.mean([np.max(A[k:T - 1, k]) - final[k] for k in decided]))
                          if decided else None) if T > 1 else 0.0,
           "tasks_never_decided": [k for k in range(T) if np.nanmin(B[k:, k]) >= 1.0],
           "mean_epochs_per_task": float(np.mean(run.epochs)), "epochs_per_task": run.epochs,
           "mean_accuracy_after_task": [float(np.mean(A[t, :t + 1])) for t in range(T)],
           "seen_accuracy_after_task": run.seen_accuracy,
           "abstained_after_task": run.abstained, "final_abstained": run.abstained[-1],
           "accuracy_matrix": [[None if np.isnan(v) else float(v) for v in row] for row in A],
           "abstained_matrix": [[None if np.isnan(v) else float(v) for v in row] for row in B],
           "train_samples_presented": run.train_samples, "wall_time_s": run.wall_time_s,
           "learning_cost": run.learning_cost}
    out.update(run.info)
    return out


def aggregate(per_seed: list[dict]) -> dict:
    """Mean and standard deviation over seeds of the scalar metrics, and the mean matrix."""
    keys = ("final_mean_accuracy", "final_seen_accuracy", "bwt", "forgetting",
            "mean_epochs_per_task", "final_abstained")
    out = {"seeds": len(per_seed)}
    for k in keys:
        vals = [r[k] for r in per_seed]
        v = np.array([x for x in vals if x is not None], np.float64)
        if not v.size:       # every seed abstained throughout: no value, never a 0
            out[k] = {"mean": None, "std": None, "values": vals}
            continue
        out[k] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  "values": vals}
    mats = np.array([[[np.nan if x is None else x for x in row] for row in r["accuracy_matrix"]]
                     for r in per_seed], np.float64)
    known = ~np.isnan(mats)
    mean = np.where(known.all(axis=0), np.where(known, mats, 0.0).sum(axis=0)
                    / max(len(per_seed), 1), np.nan)
    out["mean_accuracy_matrix"] = [[None if np.isnan(v) else float(v) for v in row]
                                   for row in mean]
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def format_table(methods: dict[str, dict]) -> str:
    """Markdown: one row per method (values in %, ± std over seeds when aggregated)."""
    lines = ["| method | final mean accuracy (%) | abstained (%) | BWT (points) | forgetting "
             "(points) | epochs per task |", "|---|---:|---:|---:|---:|---:|"]

    def cell(m, key, scale=True):
        v = m[key]
        if isinstance(v, dict):
            mean, std = v["mean"], v["std"]
            if mean is None:
                return "n/a (abstained)"
            return f"{_pct(mean)} ± {_pct(std)}" if scale else f"{mean:.2f} ± {std:.2f}"
        if v is None:
            return "n/a (abstained)"
        return _pct(v) if scale else f"{v:.2f}"

    for name, m in methods.items():
        lines.append(f"| {name} | {cell(m, 'final_mean_accuracy')} | "
                     f"{cell(m, 'final_abstained')} | {cell(m, 'bwt')} | "
                     f"{cell(m, 'forgetting')} | {cell(m, 'mean_epochs_per_task', False)} |")
    return "\n".join(lines)


def chip_costs(m: dict) -> list[dict]:
    """Per seed (or the one run): the fixed-point learning phase's counts and energy."""
    runs = m.get("per_seed") or [m]
    return [r["learning_cost"] for r in runs if (r.get("learning_cost") or {}).get("ops")]


def format_costs(methods: dict[str, dict]) -> str:
    """Markdown: the learning phase of every fixed-point method on the chip profiles —
    synaptic ops and updates counted in its learning runs, dynamic energy per training sample
    (range of the profile's per-op energies; mean over seeds), or the mapper's refusal."""
    lines = ["| method | samples | synaptic ops | synaptic updates | profile | dynamic energy "
             "per sample | not priced |", "|---|---:|---:|---:|---|---:|---|"]

    for name, m in methods.items():
        costs = chip_costs(m)
        if not costs:
            continue
        samples = np.mean([c["samples"] for c in costs])
        for prof in costs[0]["energy"]:
            es = [c["energy"][prof] for c in costs]
            if es[0].get("refused"):
                why = es[0]["refused"].split(";")[0]
                lines.append(f"| {name} | {samples:.0f} | | | {prof} | refused by the mapper: "
                             f"{why} | |")
                continue
            syn = np.mean([e["counts"].get("syn_ops", 0) for e in es])
            upd = np.mean([e["counts"].get("syn_updates", 0) for e in es])
            rng = {k: float(np.mean([e["dynamic_per_sample_J"][k] for e in es]))
                   for k in ("low", "high")}
            lines.append(f"| {name} | {samples:.0f} | {syn:.3g} | {upd:.3g} | {prof} | "
                         f"{fmt_range(rng)} | {', '.join(es[0]['missing']) or '–'} |")
    return "\n".join(lines)


def format_matrix(matrix, tasks) -> str:
    """Markdown accuracy matrix (rows: after task t; columns: task k), in %."""
    head = "| after task | " + " | ".join(
        "+".join(str(c) for c in t) for t in tasks) + " | mean |"
    lines = [head, "|---" * (len(tasks) + 2) + "|"]
    for t, row in enumerate(matrix):
        vals = [v for v in row if v is not None and not (isinstance(v, float) and np.isnan(v))]
        cells = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else _pct(v)
                 for v in row]
        lines.append(f"| {t} ({'+'.join(str(c) for c in tasks[t])}) | " + " | ".join(cells)
                     + f" | {_pct(float(np.mean(vals)))} |")
    return "\n".join(lines)


def format_report(result: dict) -> str:
    """The Markdown report of one ``spikeport continual`` run."""
    tasks = [tuple(t) for t in result["tasks"]]
    lines = [f"# Class-incremental learning: {result['network']} on {result['dataset']}", "",
             f"Tasks (single head, in this order): "
             f"{' → '.join('+'.join(str(c) for c in t) for t in tasks)}; seed {result['seed']}; "
             f"evaluation per sample on the test samples of every class seen so far "
             f"({result['test_samples']} test samples in all); up to {result['max_epochs']} "
             f"epoch(s) per task"
             + (f", early stop at {_pct(result['early_stop'])}% validation accuracy"
                if result.get("early_stop") else "") + ".", "",
             format_table(result["methods"]), ""]
    for name, m in result["methods"].items():
        lines += [f"## {name}", "", "Accuracy (%):", "",
                  format_matrix(m["accuracy_matrix"], tasks), ""]
        if m.get("abstained_matrix"):
            lines += ["Abstained (%, no decision: counted as errors above):", "",
                      format_matrix(m["abstained_matrix"], tasks), ""]
        cost = m.get("learning_cost") or {}
        if cost.get("backend", "").startswith("brian2"):
            lines += [f"Learning phase: {cost['samples']} samples, {cost['steps']} steps, "
                      f"spikes {cost['spikes']}; op counts and energy on the hardware profiles "
                      "come from the fixed-point run (method snn_chip).", ""]
        elif cost.get("ops"):
            lines += [format_costs({name: m}), ""]
    if "ewc_search" in result:
        lines += [f"EWC λ = {result['ewc_lambda']:g}, chosen on the validation split from "
                  + ", ".join(f"{float(k):g}: {_pct(v)}%" for k, v in result["ewc_search"].items())
                  + " (final mean validation accuracy).", ""]
    elif "ewc_lambda" in result:
        lines += [f"EWC λ = {result['ewc_lambda']:g} (given, not tuned).", ""]
    return "\n".join(lines)


def plot_matrices(methods: dict[str, dict], tasks, path: str | Path, key="accuracy_matrix",
                  title: str = "") -> None:
    """A heatmap per method of its accuracy matrix (PNG, Agg backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(methods)
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.8 * rows), squeeze=False)
    labels = ["+".join(str(c) for c in t) for t in tasks]
    for ax, name in zip(axes.flat, names):
        A = np.array([[np.nan if v is None else v for v in row] for row in methods[name][key]],
                     np.float64)
        im = ax.imshow(100 * A, vmin=0, vmax=100, cmap="viridis")
        ax.set_title(name, fontsize=10)
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("task (classes)")
        ax.set_ylabel("after training task")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="accuracy (%)")
    if title:
        fig.suptitle(title, fontsize=11)
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(Path(path), buf.getvalue())
