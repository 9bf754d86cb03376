"""Learning-phase energy of the digits and MNIST networks, with and without SBP, on the Loihi 1
and Loihi 2 profiles, beside the backprop baselines; per sample and to the threshold accuracy.

For each dataset and network (the zoo's ``<name>``, ``<name>_nosbp`` and ``<name>_dense``, the
dense one with the output learning rate ``benchmarks/accuracy.py`` chose on validation):

1. **Op counts, measured.** The network is converted to fixed point at two stages of training
   — ``start`` (the spec's initial weights, where training begins) and ``trained`` (after one
   Brian2 training epoch, where the SBP networks reach the threshold) — and learns on chip
   over the first ``--samples`` training samples (``spikeport run OUT --learn``, or the
   bit-exact emulator with ``--backend emulator``). The ops counted inside the run, divided by
   the samples, are the per-sample counts; per sample energy spans both stages
   (low = the lower stage's low end, high = the higher stage's high end).
2. **Priced** with ``spikeport/hw_profiles/loihi1.toml`` and ``loihi2.toml`` (every per-op
   value, its status and source in the JSON); networks a profile cannot map are refused, with
   the reason.
3. **Per epoch** = per-sample energy × epoch size; **to threshold** = per-sample energy ×
   e·N, e = the first epoch whose validation accuracy reached the threshold in
   ``benchmarks/results/accuracy.json`` (3 seeds: the range spans them; seeds that never
   reached it give a lower bound, the energy of every epoch trained).
4. **Baselines**: a numpy MLP m-n-C (same input, hidden and class counts) trained with
   backprop to the same validation threshold on the same split, one run per seed, every
   operation counted and priced with ``horowitz_45nm.toml`` (compute only, compared with the
   chip's dynamic energy); the measured H100 (``gpu_h100.toml``, MNIST only, whole board,
   compared with the chip's total energy); and the papers' cost metric.

Per-epoch figures are the measured per-sample mean × epoch size, not a measured epoch (a Lava
learning epoch on MNIST takes tens of minutes). Writes
``benchmarks/results/energy_learning.json`` and ``.md``.

    .venv/bin/python benchmarks/energy_learning.py
    .venv/bin/python benchmarks/energy_learning.py --backend emulator --samples 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.converters.run_folder import convert  # noqa: E402
from spikeport.data.registry import load_dataset  # noqa: E402
from spikeport.errors import BackendError  # noqa: E402
from spikeport.hw_profiles import baselines as bl  # noqa: E402
from spikeport.hw_profiles.energy import comparisons, learning_costs, price_phase  # noqa: E402
from spikeport.hw_profiles.profile import load_profile  # noqa: E402
from spikeport.hw_profiles.ranges import fmt_range, rng  # noqa: E402
from spikeport.io import atomic_write_json, atomic_write_text  # noqa: E402
from spikeport.models import zoo  # noqa: E402
from spikeport.models.rules import SupervisedSTDP  # noqa: E402
from spikeport.models.spec import save_spec  # noqa: E402
from spikeport.training.brian2 import train  # noqa: E402
from spikeport.workflows.deploy import run_on_lava  # noqa: E402
from spikeport.workflows.energy import mlp_shape  # noqa: E402

ZOO_NAME = {"digits": "digits_sbp", "mnist": "mnist_sbp"}
DATA_DIRS = {"mnist": str(ROOT.parent / "shared" / "data" / "mnist")}
VARIANT_LABEL = {"sbp": "SBP (one-class fan-out)", "nosbp": "same, f = 0 (frozen hidden)",
                 "dense": "dense signed readout, no SBP"}
PROFILES = ("loihi1", "loihi2")


def with_output_eta(net, eta):
    projs = tuple(replace(p, learning=replace(p.learning, eta=eta))
                  if isinstance(p.learning, SupervisedSTDP) else p for p in net.projections)
    return replace(net, projections=projs)


def network(dataset: str, variant: str, acc: dict, dense_chip_eta: float):
    """The zoo network; for ``dense``, (network with the rate accuracy.json chose, network
    with the rate it learns at on chip) — they differ when that rate has no fixed-point
    realisation (0.001: Lava's rule scale bottoms out near 0.0018)."""
    base = zoo.load(ZOO_NAME[dataset])
    if variant == "sbp":
        return base, base
    if variant == "nosbp":
        return zoo.no_sbp_twin(base), zoo.no_sbp_twin(base)
    eta = acc["datasets"][dataset].get("dense_eta")
    if eta is None:
        raise SystemExit(f"accuracy.json has no dense_eta for {dataset}: run "
                         "benchmarks/accuracy.py first")
    dense = zoo.dense_twin(base)
    try:
        from spikeport.converters.quantize import quantize
        from spikeport.models.weights import initial_weights

        quantize(with_output_eta(dense, eta), initial_weights(dense))
        chip_eta = eta
    except BackendError:
        chip_eta = dense_chip_eta
    return with_output_eta(dense, eta), with_output_eta(dense, chip_eta)


def rate_of(net) -> float:
    return next(p.learning.eta for p in net.projections
                if isinstance(p.learning, SupervisedSTDP))


def measure(run_dir: Path, net, dataset: str, samples: int, backend: str,
            timeout: float) -> dict:
    """Learn on chip over the first ``samples`` training samples; the run's op counts."""
    data_dir = DATA_DIRS.get(dataset)
    if backend == "lava":
        s = run_on_lava(run_dir, learn=True, samples=samples, dataset=dataset,
                        data_dir=data_dir, timeout=timeout)
        return {"samples": s["samples"], "ops": s["ops"], "wall_time_s": s["wall_time_s"],
                "steps_per_s": s["steps_per_s"],
                "accuracy_while_learning": s.get("accuracy_while_learning"),
                "rates_hz": s["rates_hz"]}
    try:
        from spikeport.backends.emulator import run_emulator
    except ImportError as exc:
        raise SystemExit(f"--backend emulator: spikeport.backends.emulator.run_emulator is not "
                         f"available ({exc}); use --backend lava") from None
    from spikeport.flow.fixed import FixedNetwork
    from spikeport.models.inputs import load_batch
    from spikeport.models.readout import predict

    fixed = FixedNetwork.load(run_dir / "fixed")
    batch = load_batch(net, dataset, data_dir, "train", samples)
    t0 = time.perf_counter()
    res = run_emulator(fixed, batch.inputs, teacher=batch.teacher, learn=True)
    wall = time.perf_counter() - t0
    n = len(batch.labels)
    return {"samples": n, "ops": res.ops.to_json(), "wall_time_s": wall,
            "steps_per_s": n * fixed.steps_per_sample / wall,
            "accuracy_while_learning": float((predict(net, res) == batch.labels).mean()),
            "rates_hz": {p: float(s.mean() / net.dt) for p, s in res.spikes.items()}}


def per_sample_counts(ops: dict, samples: int) -> dict:
    """Counter totals of an ops dict over its components, per sample; values sent are kept
    apart by sender kind (input, teacher, relay)."""
    out = {}
    for key, d in ops.items():
        kind = key.partition(":")[0]
        for k, v in d.items():
            name = f"{kind}_values_sent" if k == "values_sent" else k
            out[name] = out.get(name, 0) + v
    return {k: v / samples for k, v in sorted(out.items())}


def envelope(priced: list[dict]) -> dict:
    """One priced learning phase from several stages: per-sample figures span them."""
    pacings = priced[0]["pacing"].keys()
    return {"dynamic_per_sample_J": rng(min(r["dynamic_per_sample_J"]["low"] for r in priced),
                                        max(r["dynamic_per_sample_J"]["high"] for r in priced)),
            "pacing": {k: {"energy_per_sample_J":
                           rng(min(r["pacing"][k]["energy_per_sample_J"]["low"] for r in priced),
                               max(r["pacing"][k]["energy_per_sample_J"]["high"]
                                   for r in priced)),
                           "latency_per_sample_s":
                           rng(min(r["pacing"][k]["latency_per_sample_s"]["low"] for r in priced),
                               max(r["pacing"][k]["latency_per_sample_s"]["high"]
                                   for r in priced))}
                       for k in pacings}}


def profile_values() -> dict:
    """Every per-op value the pricing used, with status and source (for traceability)."""
    out = {}
    for name in PROFILES:
        prof = load_profile(name)
        out[name] = {"path": prof.path, "energy": {k: q.describe() for k, q in prof.energy.items()},
                     "time": {k: q.describe() for k, q in prof.time.items()}}
    for name in ("horowitz_45nm", "gpu_h100"):
        out[name] = {"path": bl.load_baseline(name).path}
    return out


def mlp_seeds(dataset: str, sizes, threshold: float, seeds: list[int], batch: int, lr: float,
              max_epochs: int) -> dict:
    """The MLP baseline once per seed, and the span over seeds."""
    runs = [bl.mlp_baseline(dataset, sizes, threshold, s, data_dir=DATA_DIRS.get(dataset),
                            batch=batch, lr=lr, max_epochs=max_epochs) for s in seeds]
    reached = [r for r in runs if r["to_threshold"]]
    agg = dict(runs[0])
    agg["seed"] = seeds
    agg["epochs_to_threshold"] = [r["epochs_to_threshold"] for r in runs]
    agg["samples_to_threshold_fine"] = [r["samples_to_threshold_fine"] for r in runs]
    agg["to_threshold"] = ({"epochs": [r["to_threshold"]["epochs"] for r in reached],
                            "compute_only_J": rng(
                                min(r["to_threshold"]["compute_only_J"]["low"] for r in reached),
                                max(r["to_threshold"]["compute_only_J"]["high"] for r in reached)),
                            "memory_J": rng(
                                min(r["to_threshold"]["memory_J"]["low"] for r in reached),
                                max(r["to_threshold"]["memory_J"]["high"] for r in reached)),
                            "reached": len(reached), "seeds": len(runs)}
                           if reached else None)
    ep = [r["epochs_to_threshold"] for r in reached]
    agg["paper_cost"] = bl.paper_cost(*sizes, float(np.mean(ep)) if len(ep) == len(runs)
                                      else None)
    agg["runs"] = runs
    return agg


def run_network(dataset: str, variant: str, net, args, acc: dict) -> dict:
    workdir = Path(args.workdir) / dataset / variant
    workdir.mkdir(parents=True, exist_ok=True)
    spec = workdir / "spec.yaml"
    save_spec(net, spec)
    entry = {"network": net.name, "label": VARIANT_LABEL[variant], "seed": net.seed,
             "stages": {}}
    stages = [s for s in args.stages.split(",") if s]
    for stage in stages:
        run_dir = workdir / stage
        if stage == "start":
            convert(spec, run_dir)
            how = "the spec's initial weights (where training starts)"
        elif stage == "trained":
            metrics = train(spec, workdir / "artefact_1epoch", dataset=dataset,
                            data_dir=DATA_DIRS.get(dataset), epochs=1, progress=False,
                            eval_samples=args.eval_samples)
            convert(workdir / "artefact_1epoch", run_dir)
            row = metrics["epochs"][-1]
            how = (f"after 1 Brian2 training epoch (validation accuracy "
                   f"{100 * row['val_accuracy']:.1f}% on {metrics['splits']['val']} samples)")
        else:
            raise SystemExit(f"--stages: unknown stage {stage!r}; allowed: start, trained")
        m = measure(run_dir, net, dataset, args.samples, args.backend, args.timeout)
        fixed_dir = run_dir / "fixed"
        priced = {p: price_phase(fixed_dir, m["ops"], m["samples"], p, learn=True)
                  for p in PROFILES}
        for p in priced.values():
            p.pop("mapping", None)
        entry["stages"][stage] = {"how": how, "run_dir": str(run_dir), **m,
                                  "counts_per_sample": per_sample_counts(m["ops"], m["samples"]),
                                  "profiles": priced}
        print(f"  {dataset} {variant} {stage}: {m['samples']} samples, "
              f"{m['steps_per_s']:.0f} steps/s, " + ", ".join(
                  f"{p}: " + ("refused" if "refused" in r else
                              fmt_range(r["dynamic_per_sample_J"]) + "/sample dynamic")
                  for p, r in priced.items()), flush=True)
    entry["shape"] = list(mlp_shape(net))
    return entry


def summarise(dataset: str, entry: dict, acc_net: dict, epoch_samples: int, epochs_trained: int,
              threshold: float, mlp: dict, device: dict | None) -> None:
    """Per-profile learning costs over the stages, the papers' metric and the comparisons."""
    epochs = [r["epochs_to_threshold"] for r in acc_net["runs"]]
    chip = {}
    for p in PROFILES:
        priced = [s["profiles"][p] for s in entry["stages"].values()]
        refused = [r for r in priced if "refused" in r]
        if refused:
            chip_entry = {"refused": refused[0]["refused"]}
        else:
            env = envelope(priced)
            chip_entry = learning_costs(env, epoch_samples, epochs, epochs_trained, threshold,
                                        "benchmarks/results/accuracy.json (Brian2, "
                                        f"{len(epochs)} seeds)")
            chip_entry["per_sample"] = {"dynamic_J": env["dynamic_per_sample_J"],
                                        "total_J": {k: v["energy_per_sample_J"]
                                                    for k, v in env["pacing"].items()}}
            chip[p] = chip_entry
        entry.setdefault("profiles", {})[p] = chip_entry
    m, n, _, k = entry["shape"]
    reached = [e for e in epochs if e is not None]
    entry["paper_cost"] = bl.paper_cost(m, n, k, float(np.mean(reached))
                                        if len(reached) == len(epochs) else None)
    entry["epochs_to_threshold"] = epochs
    entry["accuracy_benchmark"] = {"test_accuracy_mean": acc_net["test_accuracy_mean"],
                                   "test_accuracy_std": acc_net["test_accuracy_std"]}
    entry["comparisons"] = comparisons(chip, mlp, device)


def machine() -> dict:
    return {"node": platform.node(), "machine": platform.machine(),
            "processor": platform.processor(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_avg_1_5_15": list(os.getloadavg())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="digits,mnist")
    ap.add_argument("--variants", default="sbp,nosbp,dense")
    ap.add_argument("--samples", type=int, default=300,
                    help="training samples of on-chip learning measured per stage")
    ap.add_argument("--stages", default="start,trained",
                    help="network states to measure from: start, trained (after 1 epoch)")
    ap.add_argument("--backend", choices=("lava", "emulator"), default="lava")
    ap.add_argument("--accuracy", default=str(ROOT / "benchmarks" / "results" / "accuracy.json"))
    ap.add_argument("--mlp-batch", type=int, default=1)
    ap.add_argument("--mlp-lr", type=float, default=0.05)
    ap.add_argument("--mlp-max-epochs", type=int, default=20)
    ap.add_argument("--eval-samples", type=int, default=None,
                    help="validation/test samples scored after the 1-epoch Brian2 training")
    ap.add_argument("--dense-chip-eta", type=float, default=0.002,
                    help="output rate of the dense network on chip when accuracy.json's has no "
                         "fixed-point realisation (default 0.002, as onchip_learning.py)")
    ap.add_argument("--timeout", type=float, default=7200.0)
    ap.add_argument("--workdir", default=str(ROOT / "benchmarks" / "runs" / "energy_learning"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "energy_learning"))
    ap.add_argument("--markdown-only", action="store_true",
                    help="re-render OUT.md from an existing OUT.json, measuring nothing")
    ap.add_argument("--compare-with", default=None, metavar="JSON",
                    help="another result of this script (e.g. 300 Lava samples vs a full "
                         "emulator epoch): record the per-sample dynamic energy differences")
    args = ap.parse_args(argv)
    if args.markdown_only:
        result = json.loads(Path(args.out + ".json").read_text())
        if args.compare_with:
            result["compared_with"] = compare(result, args.compare_with)
            atomic_write_json(Path(args.out + ".json"), result)
        text = markdown(result)
        atomic_write_text(Path(args.out + ".md"), text + "\n")
        print(text)
        return
    acc = json.loads(Path(args.accuracy).read_text())
    t0 = time.perf_counter()
    result = {"command": "python benchmarks/energy_learning.py " + " ".join(argv or sys.argv[1:]),
              "machine": machine(), "backend": args.backend, "samples_per_stage": args.samples,
              "method": {
                  "per_sample": "op counts measured inside the on-chip learning run / samples, "
                                "priced with the profile; the range spans the profile's ranges "
                                "and the measured stages",
                  "per_epoch": "measured per-sample mean × epoch size (not a measured epoch)",
                  "to_threshold": "per-sample × e·N, e = first epoch at threshold (validation, "
                                  "checked once per epoch) in accuracy.json, per seed; range over "
                                  "seeds",
                  "mlp": "numpy MLP m-n-C, backprop, SGD, trained per seed to the same "
                         "validation threshold; counted ops × horowitz_45nm (compute only)",
                  "device": "gpu_h100.toml, measured whole-board energy (MNIST only)",
                  "ratios": "baseline ÷ chip, ranges end to end (low = baseline.low / "
                            "chip.high, high = baseline.high / chip.low)"},
              "profiles": profile_values(), "datasets": {}}
    jobs = [(d, v) for d in args.datasets.split(",") for v in args.variants.split(",")]
    bar = tqdm(jobs, desc="networks", disable=not sys.stderr.isatty())
    for dataset, variant in bar:
        bar.set_postfix_str(f"{dataset} {variant}")
        a = acc["datasets"][dataset]
        d = result["datasets"].setdefault(dataset, {"networks": {}})
        threshold = a["networks"]["sbp"]["threshold"]
        epoch_samples = len(load_dataset(dataset, "train", DATA_DIRS.get(dataset)).y)
        d.update(threshold=threshold, epoch_samples=epoch_samples,
                 epochs_trained=a["epochs"], seeds=a["seeds"])
        brian_net, net = network(dataset, variant, acc, args.dense_chip_eta)
        entry = run_network(dataset, variant, net, args, acc)
        if brian_net != net:
            entry["note"] = ("learns on chip at output eta "
                             f"{rate_of(net)}: the rate of the accuracy.json curve, "
                             f"{rate_of(brian_net)}, has no fixed-point realisation")
        if "mlp" not in d:
            m, n, c, _ = entry["shape"]
            d["mlp"] = mlp_seeds(dataset, (m, n, c), threshold, a["seeds"], args.mlp_batch,
                                 args.mlp_lr, args.mlp_max_epochs)
            dev = bl.device_baseline(dataset)
            d["device"] = dev if dev["applies"] else {"applies": False,
                                                      "reason": f"measured on {dev['dataset']} "
                                                                "only"}
            print(f"  {dataset} backprop MLP {m}-{n}-{c}: epochs to threshold "
                  f"{d['mlp']['epochs_to_threshold']}, compute only "
                  f"{fmt_range(d['mlp']['energy']['compute_only_per_sample_J'])}/sample",
                  flush=True)
        summarise(dataset, entry, a["networks"][variant], epoch_samples, a["epochs"], threshold,
                  d["mlp"], d["device"] if d["device"].get("applies") else None)
        d["networks"][variant] = entry
        result["wall_time_s"] = time.perf_counter() - t0
        atomic_write_json(Path(args.out + ".json"), result)
    if args.compare_with:
        result["compared_with"] = compare(result, args.compare_with)
        atomic_write_json(Path(args.out + ".json"), result)
    text = markdown(result)
    atomic_write_text(Path(args.out + ".md"), text + "\n")
    print(text)


def compare(result: dict, other_path: str) -> dict:
    """Per stage, profile and range end: (this − other) / other of the dynamic energy per
    sample, for every network both results measured; and the largest |difference|."""
    other = json.loads(Path(other_path).read_text())
    rows = []
    for ds, d in result["datasets"].items():
        for v, e in d["networks"].items():
            eo = other.get("datasets", {}).get(ds, {}).get("networks", {}).get(v)
            if eo is None:
                continue
            for st, s in e["stages"].items():
                so = eo["stages"].get(st)
                if so is None:
                    continue
                for p in PROFILES:
                    a, b = s["profiles"][p], so["profiles"][p]
                    if "refused" in a or "refused" in b:
                        continue
                    for end in ("low", "high"):
                        x, y = a["dynamic_per_sample_J"][end], b["dynamic_per_sample_J"][end]
                        rows.append({"dataset": ds, "network": v, "stage": st, "profile": p,
                                     "end": end, "this_J": x, "other_J": y,
                                     "relative_difference": (x - y) / y})
    return {"other": str(other_path), "other_command": other.get("command"),
            "other_samples_per_stage": other.get("samples_per_stage"),
            "other_backend": other.get("backend"), "rows": rows,
            "max_abs_relative_difference": max((abs(r["relative_difference"]) for r in rows),
                                               default=None)}


# ---------------------------------------------------------------------------------------------
# Markdown

def _cell(c: dict, fig: str, pacing: str | None = None) -> str:
    """``fig``: per_sample or per_epoch; dynamic energy, or total for a pacing."""
    if "refused" in c:
        return "refused"
    d = c[fig]
    return fmt_range(d["dynamic_J"] if pacing is None else d["total_J"][pacing])


def _thr(c: dict, pacing: str | None = None) -> str:
    if "refused" in c:
        return "refused"

    def pick(d):
        return d["dynamic_J"] if pacing is None else d["total_J"][pacing]
    parts = []
    if c.get("to_threshold"):
        parts.append(fmt_range(pick(c["to_threshold"])))
    if c.get("not_reached_lower_bound"):
        parts.append(f"not reached ({c['curves'] - c['reached']}/{c['curves']} seeds; "
                     f"> {fmt_range(pick(c['not_reached_lower_bound']))} in "
                     f"{c['epochs_trained']} epochs)")
    return "; ".join(parts)


def markdown(result: dict) -> str:
    lines = ["# Learning-phase energy: digits and MNIST, with and without SBP", "",
             f"`{result['command']}` — backend {result['backend']}, "
             f"{result['samples_per_stage']} training samples of on-chip learning measured per "
             "stage; machine " + f"{result['machine']['node']} ({result['machine']['cpus']} "
             f"cpus, load {result['machine']['load_avg_1_5_15'][0]:.1f}).", ""]
    for key, text in result["method"].items():
        lines.append(f"- {key.replace('_', ' ')}: {text}")
    lines.append("")
    lines += ["## Summary (learning phase)", "",
              "| network | Loihi 1 dynamic / sample | Loihi 2 dynamic / sample | Loihi 2 total / "
              "sample (as fast as possible) | Loihi 1 dynamic to threshold | Loihi 2 dynamic "
              "to threshold | Loihi 2 total to threshold (as fast as possible) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for ds, d in result["datasets"].items():
        for e in d["networks"].values():
            l1, l2 = e["profiles"]["loihi1"], e["profiles"]["loihi2"]
            lines.append(f"| {ds} {e['label']} | {_cell(l1, 'per_sample')} | "
                         f"{_cell(l2, 'per_sample')} | "
                         f"{_cell(l2, 'per_sample', 'as_fast_as_possible')} | {_thr(l1)} | "
                         f"{_thr(l2)} | {_thr(l2, 'as_fast_as_possible')} |")
    lines += ["", "| baseline | per sample | to threshold |", "|---|---:|---:|"]
    for ds, d in result["datasets"].items():
        mlp = d["mlp"]
        tt = mlp["to_threshold"]
        lines.append(f"| {ds}: backprop MLP {'-'.join(map(str, mlp['sizes']))}, compute only "
                     f"(45 nm) | {fmt_range(mlp['energy']['compute_only_per_sample_J'])} | "
                     + (fmt_range(tt["compute_only_J"]) + f" (epochs {tt['epochs']})" if tt
                        else "not reached") + " |")
        lines.append(f"| {ds}: same, weight memory (Horowitz access energies) | "
                     f"{fmt_range(mlp['energy']['memory_per_sample_J'])} | "
                     + (fmt_range(tt["memory_J"]) if tt else "–") + " |")
        dev = d["device"]
        if dev.get("applies"):
            lines.append(f"| {ds}: H100 whole device, measured (batch "
                         f"{', '.join(str(r['batch']) for r in dev['runs'])}) | "
                         f"{fmt_range(dev['per_sample_J'])} | {fmt_range(dev['to_threshold_J'])} "
                         f"(to {100 * dev['threshold']:.0f}% {dev['threshold_split']}) |")
        else:
            lines.append(f"| {ds}: H100 whole device | not measured ({dev['reason']}) | – |")
    for ds, d in result["datasets"].items():
        lines += ["", f"## {ds}", "",
                  f"Threshold {100 * d['threshold']:.0f}% validation accuracy; epoch = "
                  f"{d['epoch_samples']} training samples; curves: {d['epochs_trained']} "
                  f"epochs × seeds {d['seeds']}.", ""]
        for e in d["networks"].values():
            lines += [f"### {e['label']} ({e['network']})", ""]
            if e.get("note"):
                lines += [f"Note: {e['note']}.", ""]
            lines += [
                      f"Epochs to threshold per seed (accuracy.json): {e['epochs_to_threshold']}"
                      f"; papers' cost to threshold: "
                      + ("not reached" if e["paper_cost"]["to_threshold"] is None
                         else f"{e['paper_cost']['to_threshold']:.3g}")
                      + f" ({e['paper_cost']['formula']}).", "",
                      "| stage | samples | steps/s | syn ops | syn updates | neuron updates | "
                      "relay updates | trace updates | spikes | Loihi 1 dynamic / sample | "
                      "Loihi 2 dynamic / sample |", "|---|---:|---:|---:|---:|---:|---:|---:|"
                      "---:|---:|---:|"]
            for st, s in e["stages"].items():
                c = s["counts_per_sample"]
                pr = s["profiles"]
                lines.append(
                    f"| {st}: {s['how']} | {s['samples']} | {s['steps_per_s']:.0f} | "
                    f"{c.get('syn_ops', 0):,.0f} | {c.get('syn_updates', 0):,.0f} | "
                    f"{c.get('neuron_updates', 0):,.0f} | {c.get('relay_updates', 0):,.0f} | "
                    f"{c.get('trace_updates', 0):,.0f} | {c.get('spikes', 0):,.0f} | "
                    + " | ".join("refused" if "refused" in pr[p] else
                                 fmt_range(pr[p]["dynamic_per_sample_J"]) for p in PROFILES)
                    + " |")
            lines += ["", "| profile | figure | per sample | per epoch | to threshold |",
                      "|---|---|---:|---:|---:|"]
            for p in PROFILES:
                c = e["profiles"][p]
                if "refused" in c:
                    lines.append(f"| {p} | refused: {c['refused']} | | | |")
                    continue
                lines.append(f"| {p} | dynamic | {_cell(c, 'per_sample')} | "
                             f"{_cell(c, 'per_epoch')} | {_thr(c)} |")
                for pacing in c["per_sample"]["total_J"]:
                    lines.append(f"| {p} | total, {pacing.replace('_', ' ')} | "
                                 f"{_cell(c, 'per_sample', pacing)} | "
                                 f"{_cell(c, 'per_epoch', pacing)} | {_thr(c, pacing)} |")
            if e["comparisons"]:
                lines += ["", "| quantity | chip | baseline | baseline ÷ chip |",
                          "|---|---|---|---:|"]
                for cmp in e["comparisons"]:
                    lines.append(f"| {cmp['quantity']} | {cmp['chip']} {cmp['chip_figure']} "
                                 f"{fmt_range(cmp['chip_J'])} | {cmp['baseline']} "
                                 f"{fmt_range(cmp['baseline_J'])} | "
                                 f"{bl.format_ratio(cmp['ratio'])} |")
                notes = sorted({c["note"] for c in e["comparisons"] if c.get("note")})
                lines += [""] + [f"- {x}" for x in notes]
            lines.append("")
        mlp = d["mlp"]
        e = mlp["energy"]
        lines += [f"### Backprop MLP {'-'.join(map(str, mlp['sizes']))} ({ds})", "",
                  f"SGD batch {mlp['batch']}, lr {mlp['lr']}, seeds {mlp['seed']}: epochs to "
                  f"threshold {mlp['epochs_to_threshold']} (first check at threshold, checked "
                  f"{mlp['checks_per_epoch']}× per epoch: {mlp['samples_to_threshold_fine']} "
                  f"samples); {e['macs_per_sample']:,.0f} MACs per training sample (counted, "
                  f"seed {mlp['runs'][0]['seed']}).", "",
                  "| category | per sample (count) | energy per op | per sample |",
                  "|---|---:|---|---:|"]
        n = e["samples"]
        for k, v in e["categories"].items():
            lines.append(f"| {k.replace('_', ' ')} | {v['count'] / n:,.0f} | "
                         f"{v['per_op'][0]['value']} | {fmt_range(rng(v['energy_J']['low'] / n))}"
                         " |")
        for mi in e["missing"]:
            lines.append(f"| {mi['category']} | {mi['count'] / n:,.0f} | not published | "
                         "missing |")
        for k, v in e["memory"].items():
            lines.append(f"| weight memory {k} ({v['level']}) | {v['accesses_64b'] / n:,.0f} "
                         f"accesses | {v['per_access']['value']} | "
                         f"{fmt_range(rng(v['energy_J']['low'] / n, v['energy_J']['high'] / n))}"
                         " |")
        lines += ["", "Papers' cost to threshold: "
                  + ("not reached" if mlp["paper_cost"]["to_threshold"] is None
                     else f"{mlp['paper_cost']['to_threshold']:.3g}")
                  + f" ({mlp['paper_cost']['formula']}).", ""]
    cmp = result.get("compared_with")
    if cmp and cmp["rows"]:
        lines += ["## Per-sample counts vs another measurement", "",
                  f"Against `{cmp['other_command']}` ({cmp['other_backend']}, "
                  f"{cmp['other_samples_per_stage']} samples per stage): dynamic energy per "
                  "sample differs by at most "
                  f"{100 * cmp['max_abs_relative_difference']:.2f}% (every network, stage, "
                  "profile and range end both measured).", ""]
    lines += ["## Profile values used", ""]
    for name, pv in result["profiles"].items():
        lines.append(f"- {name}: {pv['path']}")
        for k, v in pv.get("energy", {}).items():
            lines.append(f"  - {k}: {v}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
