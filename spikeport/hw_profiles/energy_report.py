"""The energy report for people: Markdown tables (:func:`format_energy`, the learning phase's
:func:`format_learning`), the stacked-bar plot, and the digest ``deploy`` shows."""

from __future__ import annotations

from spikeport.hw_profiles.baselines import format_ratio
from spikeport.hw_profiles.energy import epochs_to_threshold
from spikeport.hw_profiles.ranges import fmt_range, rscale

# ---------------------------------------------------------------------------------------------
# Markdown

CAT_LABEL = {"synaptic_ops": "synaptic ops", "synaptic_updates": "synaptic updates",
             "neuron_updates": "neuron updates", "relay_updates": "relay updates (SBP)",
             "spike_messages": "spike messages", "trace_updates": "trace updates"}


def _count(x) -> str:
    if isinstance(x, dict):
        a, b = f"{x['low']:,.0f}", f"{x['high']:,.0f}"
        return a if a == b else f"{a}–{b}"
    return f"{x:,}"


def format_energy(report: dict) -> str:
    """The report of :func:`energy_report` as Markdown (every figure a range)."""
    lines = [f"# Energy on chip profiles: {report.get('network')} ({report['run_dir']})", "",
             f"Method: {report['method']}.", ""]
    for phase, p in report["phases"].items():
        acc = p.get("accuracy", p.get("accuracy_while_learning"))
        lines.append(f"- {phase}: {p['samples']} {p.get('dataset') or ''} samples "
                     f"({p.get('split') or '?'} split)"
                     + (f", accuracy {100 * acc:.1f}%" if acc is not None else "")
                     + (f"; counts from {p['backend']} ({p['file']})" if p.get("backend")
                        else ""))
    for pname, entry in report["profiles"].items():
        lines += ["", f"## {pname}: {entry['title']}", ""]
        for phase, r in entry["phases"].items():
            lines += [f"### {phase}", ""]
            if "refused" in r:
                lines += [f"**Refused:** {r['refused']}", ""]
                bad = [e for e in r["readiness"] if e["status"] != "chip (stock Lava)"
                       and e["status"] != "host I/O"]
                lines += [f"- {e['process']} '{e['name']}': {e['status']} — {e['needs']}"
                          for e in bad]
                lines.append("")
                continue
            n = r["samples"]
            lines += [f"{n} samples, {r['steps']} steps, {r['cores_used']} cores.", "",
                      "| category | count | energy per op | energy (total) | per sample |",
                      "|---|---:|---|---:|---:|"]
            for k, v in r["categories"].items():
                per = "; ".join(s["value"] for s in v["per_op"])
                lines.append(f"| {CAT_LABEL.get(k, k)} | {_count(v['count'])} | {per} | "
                             f"{fmt_range(v['energy_J'])} | "
                             f"{fmt_range(rscale(v['energy_J'], 1 / n))} |")
            lines.append(f"| **dynamic (priced)** | | | {fmt_range(r['dynamic_J'])} | "
                         f"{fmt_range(r['dynamic_per_sample_J'])} |")
            for mi in r["missing"]:
                lines.append(f"| {mi['category']} | {_count(mi['count'])} | not published | "
                             "missing | missing |")
            lines += ["", "| pacing | time | static | total | per sample | latency/sample | "
                      "EDP/sample |", "|---|---:|---:|---:|---:|---:|---:|"]
            for k, v in r["pacing"].items():
                lines.append(f"| {k.replace('_', ' ')} | {fmt_range(v['time_s'], 's')} | "
                             f"{fmt_range(v['static_J'])} | {fmt_range(v['total_J'])} | "
                             f"{fmt_range(v['energy_per_sample_J'])} | "
                             f"{fmt_range(v['latency_per_sample_s'], 's')} | "
                             f"{fmt_range(v['edp_per_sample_Js'], 'J·s')} |")
            lines.append("")
            notes = [f"static power: {r['static_power']['value']}"]
            notes += [f"{CAT_LABEL.get(k, k)}: {v['note']}" for k, v in r["categories"].items()
                      if v.get("note")]
            notes += [f"{mi['category']}: {mi['reason']}" for mi in r["missing"]]
            notes += [f"{k.replace('_', ' ')}: {v['how']}" for k, v in r["pacing"].items()]
            notes += r["mapping"]["notes"]
            lines += [f"- {x}" for x in notes] + [""]
    lines += format_learning(report)
    lines += ["Missing categories are counted but not priced: totals exclude them. Ranges "
              "carry the profile's status (simulated, estimated, measured); Loihi 2 per-op "
              "energies are estimates derived from Loihi 1."]
    return "\n".join(lines)


def _pacing(k: str) -> str:
    return k.replace("_", " ")


def _thr_cell(c: dict, key: str, sub: str | None = None) -> str:
    """A to-threshold cell: the range, '> spent (not reached)', or both for mixed curves."""
    def pick(d):
        return d[key] if sub is None else d[key][sub]
    tt, low_b = c.get("to_threshold"), c.get("not_reached_lower_bound")
    parts = []
    if tt is not None:
        parts.append(fmt_range(pick(tt)))
    if low_b is not None:
        parts.append(f"> {fmt_range(pick(low_b))} (not reached on "
                     f"{c['curves'] - c['reached']} of {c['curves']} curves)")
    return "; ".join(parts) or "–"


def format_learning(report: dict) -> list[str]:
    """Markdown lines: learning per sample / per epoch / to threshold, the baselines, the
    papers' cost metric and the like-for-like comparisons."""

    lines = []
    chip = {name: e["phases"]["learning"]["learning_costs"]
            for name, e in report["profiles"].items()
            if "learning_costs" in e["phases"].get("learning", {})}
    learning = report.get("learning", {})
    if chip:
        thr = learning.get("threshold")
        curve = learning.get("curve")
        lines += ["## Learning phase: per sample, per epoch, to threshold", ""]
        meas = report["phases"]["learning"]["samples"]
        lines.append(f"Per sample: the mean over the {meas} samples of the measured learning "
                     "run. Per epoch and to threshold scale that mean (the counts of other "
                     "samples, and of the network at other stages of training, differ).")
        if curve is not None and thr:
            e = epochs_to_threshold(curve["val"], thr)
            ep = curve["epochs_trained"]
            lines.append(f"Training curve: {curve['source']} ({ep} epoch{'s' * (ep != 1)} "
                         f"of {curve['epoch_samples']} samples); {100 * thr:.0f}% validation "
                         "accuracy " + (f"first measured after epoch {e}." if e else
                                        "never reached."))
        lines += ["", "| profile | figure | per sample | per epoch | to threshold |",
                  "|---|---|---:|---:|---:|"]
        for name, c in chip.items():
            pe = c.get("per_epoch")
            lines.append(f"| {name} | dynamic | {fmt_range(c['per_sample']['dynamic_J'])} | "
                         f"{fmt_range(pe['dynamic_J']) if pe else '–'} | "
                         f"{_thr_cell(c, 'dynamic_J')} |")
            for k, v in c["per_sample"]["total_J"].items():
                lines.append(f"| {name} | total, {_pacing(k)} | {fmt_range(v)} | "
                             f"{fmt_range(pe['total_J'][k]) if pe else '–'} | "
                             f"{_thr_cell(c, 'total_J', k)} |")
        lines.append("")
    base = report.get("baselines", {})
    mlp, dev = base.get("mlp"), base.get("device")
    if base.get("skipped"):
        lines += ["## Baselines", "", f"Skipped: {base['skipped']}.", ""]
    if mlp is not None:
        e = mlp["energy"]
        shape = "-".join(map(str, mlp["sizes"]))
        reach = (f"reached {100 * mlp['threshold']:.0f}% validation accuracy after epoch "
                 f"{mlp['epochs_to_threshold']} (first check at threshold: "
                 f"{mlp['samples_to_threshold_fine']} samples)" if mlp["to_threshold"] else
                 f"did not reach {100 * mlp['threshold']:.0f}% in {mlp['max_epochs']} epochs")
        lines += ["## Backprop baseline, compute only (compare with the chip's dynamic energy)",
                  "",
                  f"numpy MLP {shape} (sigmoid, softmax + cross-entropy, SGD batch "
                  f"{mlp['batch']}, lr {mlp['lr']}, seed {mlp['seed']}) on the same "
                  f"{mlp['dataset']} train split ({mlp['epoch_samples']} samples per epoch): "
                  f"{reach}. {e['macs_per_sample']:,.0f} MACs per training sample, counted "
                  f"during the run; priced with {e['title']}.", "",
                  "| category | count (run) | energy per op | per sample |", "|---|---:|---|---:|"]
        n = e["samples"]
        for k, v in e["categories"].items():
            lines.append(f"| {k.replace('_', ' ')} | {v['count']:,} | {v['per_op'][0]['value']}"
                         f" | {fmt_range(rscale(v['energy_J'], 1 / n))} |")
        lines.append(f"| **compute only** | {e['macs']:,} MACs | | "
                     f"{fmt_range(e['compute_only_per_sample_J'])} |")
        for mi in e["missing"]:
            lines.append(f"| {mi['category']} | {mi['count']:,} | not published | missing |")
        for k, v in e["memory"].items():
            lines.append(f"| memory, {k} ({v['level']}, {v['working_set_bytes']:,} B) | "
                         f"{v['accesses_64b']:,.0f} accesses | {v['per_access']['value']} | "
                         f"{fmt_range(rscale(v['energy_J'], 1 / n))} |")
        tt = mlp["to_threshold"]
        lines += ["", f"Per epoch: compute only {fmt_range(mlp['per_epoch']['compute_only_J'])}"
                  f", weight memory {fmt_range(mlp['per_epoch']['memory_J'])}. To threshold: "
                  + (f"compute only {fmt_range(tt['compute_only_J'])}, weight memory "
                     f"{fmt_range(tt['memory_J'])}." if tt else "not reached."),
                  f"Method: {e['method']}.", ""]
    if dev is not None:
        lines += ["## Whole-device baseline, measured (compare with the chip's total energy)",
                  "", f"{dev['title']}: {dev['measurement'].get('network')} MLP on "
                  f"{dev['dataset']}, to {100 * dev['threshold']:.0f}% {dev['threshold_split']} "
                  f"accuracy; idle power {dev['idle_power']['value']}; raw numbers "
                  f"{dev['measurement'].get('raw')}, script {dev['measurement'].get('script')}."
                  + ("" if dev["applies"] else
                     f" **Measured on {dev['dataset']} only: not compared with "
                     f"{mlp['dataset'] if mlp else 'this dataset'}.**"), "",
                  "| batch | epochs to threshold | seconds | energy to threshold | per sample | "
                  "idle power × time |", "|---:|---:|---:|---:|---:|---:|"]
        for r in dev["runs"]:
            lines.append(f"| {r['batch']} | {r['epochs_to_threshold']} | {r['seconds']:.2f} | "
                         f"{fmt_range(r['energy_J'])} | {fmt_range(r['per_sample_J'])} | "
                         f"{fmt_range(r['idle_J'])} |")
        lines += ["", f"Method: {dev['method']}.", ""]
    pc_snn = base.get("paper_cost_snn")
    if pc_snn is not None:
        lines += ["## The papers' cost metric", "", "| network | epochs to threshold | "
                  "per-epoch complexity | cost to threshold |", "|---|---:|---:|---:|"]
        rows = [(f"spiking network ({report.get('network')})", pc_snn)]
        if mlp is not None:
            rows.append((f"backprop MLP {'-'.join(map(str, mlp['sizes']))}", mlp["paper_cost"]))
        for label, pc in rows:
            epochs = (f"{pc['epochs']:g}" if pc["epochs"] is not None else
                      "unknown (no curve)" if pc.get("note", "").startswith("no training")
                      else "not reached")
            cost = "–" if pc["to_threshold"] is None else f"{pc['to_threshold']:.3g}"
            lines.append(f"| {label} | {epochs} | {pc['per_epoch']:,} | {cost} |")
        lines += ["", f"Cost = {pc_snn['formula']} (the SBP paper's metric).", ""]
    if report.get("comparisons"):
        lines += ["## Like-for-like comparisons (baseline ÷ chip)", "",
                  "| quantity | chip | chip figure | chip energy | baseline | baseline energy "
                  "| baseline ÷ chip |", "|---|---|---|---:|---|---:|---:|"]
        for c in report["comparisons"]:
            lines.append(f"| {c['quantity']} | {c['chip']} | {c['chip_figure']} | "
                         f"{fmt_range(c['chip_J'])} | {c['baseline']} | "
                         f"{fmt_range(c['baseline_J'])} | {format_ratio(c['ratio'])} |")
        notes = sorted({c["note"] for c in report["comparisons"] if c.get("note")})
        lines += [""] + [f"- {x}" for x in notes] + ["- Backprop compute only is 45 nm; "
                                                     "Loihi 1 is 14 nm, Loihi 2 Intel 4: the "
                                                     "ratios include the process difference.",
                                                     ""]
    for note in report.get("notes", []):
        lines.append(f"- {note}")
    if report.get("notes"):
        lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# plot and files

PHASE_ORDER = ("inference", "learning")
MLP_LABEL = {"forward_macs": "MLP forward MACs", "backward_macs": "MLP backward MACs",
             "update_macs": "MLP weight-update MACs", "adds": "MLP adds", "mults": "MLP mults"}


def plot_energy(report: dict) -> bytes:
    """A PNG: per chip profile, dynamic energy per sample of each phase as two stacked bars
    (the low and the high end of every range), by category; beside them the backprop
    baseline's compute-only energy per training sample by category. Same y axis throughout."""
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    mlp = report.get("baselines", {}).get("mlp")
    panels = list(report["profiles"].items())
    top = [r["dynamic_per_sample_J"]["high"] for _, e in panels for r in e["phases"].values()
           if "dynamic_J" in r]
    if mlp is not None:
        top.append(mlp["energy"]["compute_only_per_sample_J"]["high"])
    scale, unit = 1.0, "J"
    for sc, pre in ((1e-12, "pJ"), (1e-9, "nJ"), (1e-6, "µJ"), (1e-3, "mJ"), (1.0, "J")):
        if max(top, default=0.0) >= sc:
            scale, unit = sc, pre
    n_panels = len(panels) + (mlp is not None)
    fig, axes = plt.subplots(1, n_panels, figsize=(3.6 * n_panels + 1.5, 4.2), sharey=True,
                             squeeze=False)
    axes = axes[0]
    cats = list(CAT_LABEL)
    colors = {k: plt.cm.tab20(i) for i, k in enumerate(cats + list(MLP_LABEL))}
    used = {}
    for ax, (pname, entry) in zip(axes, panels):
        x, labels = 0, []
        for phase in PHASE_ORDER:
            r = entry["phases"].get(phase)
            if r is None:
                continue
            if "refused" in r:
                ax.text(x + 0.5, 0.5, "refused:\ndoes not map\n(reason in the report)", ha="center",
                        va="center", fontsize=8, transform=ax.get_xaxis_transform())
                labels += [(x + 0.5, f"{phase}\nrefused")]
                x += 2
                continue
            n = r["samples"]
            for j, end in enumerate(("low", "high")):
                bottom = 0.0
                for k in cats:
                    v = r["categories"].get(k)
                    if v is None:
                        continue
                    h = v["energy_J"][end] / n / scale
                    used[k] = ax.bar(x + j, h, bottom=bottom, color=colors[k], width=0.8,
                                     label=CAT_LABEL[k])
                    bottom += h
            labels.append((x + 0.5, f"{phase}\nlow | high"))
            x += 2
        ax.set_xticks([p for p, _ in labels], [t for _, t in labels], fontsize=8)
        ax.set_xlim(-0.7, max(x - 0.3, 1.7))
        ax.set_title(f"{pname}", fontsize=10)
    if mlp is not None:
        ax = axes[-1]
        e = mlp["energy"]
        bottom = 0.0
        for k, lab in MLP_LABEL.items():
            v = e["categories"].get(k)
            if v is None:
                continue
            h = v["energy_J"]["low"] / e["samples"] / scale
            used[k] = ax.bar(0, h, bottom=bottom, color=colors[k], width=0.8, label=lab)
            bottom += h
        ax.set_xticks([0], [f"backprop MLP\n{'-'.join(map(str, mlp['sizes']))}"], fontsize=8)
        ax.set_xlim(-1, 1)
        ax.set_title(f"compute only ({e['profile']})", fontsize=10)
        mem = e["memory_per_sample_J"]
        ax.text(0, bottom, f"{fmt_range(e['compute_only_per_sample_J'])}\n(+ weight memory "
                f"{fmt_range(mem)},\nnot drawn)", ha="center", va="bottom", fontsize=7)
    axes[0].set_ylabel(f"dynamic energy per sample ({unit})")
    fig.legend(list(used.values()), [h.get_label() for h in used.values()], loc="center right",
               fontsize=8, frameon=False)
    fig.suptitle(f"{report.get('network')}: dynamic energy per sample by category and phase "
                 "(static energy not shown)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.8, 0.95))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def energy_digest(report: dict) -> dict:
    """The few figures deploy shows: per profile and phase, dynamic energy per sample (or
    the refusal), and where the full report is."""
    out = {"files": report.get("files", {}), "profiles": {}}
    for pname, entry in report["profiles"].items():
        out["profiles"][pname] = {
            phase: ({"refused": r["refused"]} if "refused" in r else
                    {"dynamic_per_sample_J": r["dynamic_per_sample_J"],
                     "total_per_sample_J": {k: v["energy_per_sample_J"]
                                            for k, v in r["pacing"].items()}})
            for phase, r in entry["phases"].items()}
    mlp = report.get("baselines", {}).get("mlp")
    if mlp is not None:
        out["mlp_compute_only_per_sample_J"] = mlp["energy"]["compute_only_per_sample_J"]
    return out


def format_energy_digest(d: dict) -> str:
    lines = ["| profile | phase | dynamic per sample | total per sample (real time) |",
             "|---|---|---:|---:|"]
    for pname, phases in d["profiles"].items():
        for phase, r in phases.items():
            if "refused" in r:
                lines.append(f"| {pname} | {phase} | refused | |")
                continue
            lines.append(f"| {pname} | {phase} | {fmt_range(r['dynamic_per_sample_J'])} | "
                         f"{fmt_range(r['total_per_sample_J']['real_time'])} |")
    if "mlp_compute_only_per_sample_J" in d:
        lines += ["", "Backprop MLP baseline, compute only, per training sample: "
                  f"{fmt_range(d['mlp_compute_only_per_sample_J'])}."]
    if d.get("files"):
        lines += ["", f"Energy report: {d['files'].get('md')} (plot {d['files'].get('png')})."]
    return "\n".join(lines)
