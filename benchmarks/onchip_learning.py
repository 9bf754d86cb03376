"""On-chip learning on Lava: does learning *on the emulated chip* improve a partly trained
digits network, with SBP on and off, and do masked synapses stay exactly where they started?

For each seed (the spec's seed replaced) and each variant

* ``sbp``   — ``examples/digits_sbp.yaml``: supervised STDP at the output, SBP on the hidden layer;
* ``nosbp`` — its twin ``zoo.no_sbp_twin`` (f_ltp = f_ltd = 0: the quantizer builds no SBP rule
              and no relay, so the hidden projection is static on Lava; the output still learns);
* ``dense`` — ``zoo.dense_twin`` (no hidden learning, all-to-all hidden->output) with the output
              rate ``DENSE_ETA`` (see there why not the validation-best one): the other network
              "without SBP" (run with ``--variants dense --out …/onchip_learning_dense.json``),

the script

1. partly trains the network in the Brian2 reference (``--partial-epochs`` over the first
   ``--partial-samples`` samples of the training split; default 1 epoch on 100 samples);
2. converts it to Lava fixed point (``deploy.convert``; ``--sbp-epoch``, default ``sample``);
3. runs Lava inference on the held-back samples: the first ``--eval-samples`` of the
   *validation* split (default 200), encoded with the spec seed — the same spikes before and
   after;
4. learns on Lava on ``--learn-samples`` *other* training samples (default 300: training
   samples ``partial_samples … partial_samples + learn_samples − 1``, none of them seen in
   step 1), through ``deploy.run_on_lava(learn=True)`` (what ``spikeport run --learn`` runs);
5. runs inference of ``OUT/fixed_learned`` on the same held-back samples;
6. runs the float reference of the same experiment: Brian2 on the same held-back spikes,
   Brian2 learning on the same learning spikes from the same start (what Lava should track);
7. checks that every synapse outside the learn mask (absent synapses, SBP's masked synapses,
   the whole hidden projection of the no-SBP twin) holds exactly its starting mantissa, in
   the raw learned weights and in the reloaded ``fixed_learned`` network.

``--well-trained-epochs N`` (default 5; 0 skips it) adds the investigation of the "well-trained
network drops after on-chip learning" report: seed 1's SBP network trained N full epochs in
Brian2, then 300 learning samples (the first 300 of the training split, as
``spikeport run OUT --learn --samples 300`` takes them) on Lava *and* in Brian2 from the same
start, both scored on the same held-back samples; the weight changes are compared (L2 ratio,
correlation, regression slope), with a Brian2-vs-Brian2 noise ceiling (the same 300 samples,
other Poisson input spikes) and Brian2 on two further 300-sample windows.

Everything goes to ``benchmarks/results/onchip_learning.json``::

    .venv/bin/python benchmarks/onchip_learning.py --seeds 1,2,3

(``--keep`` reuses the Brian2 artefacts already in ``--workdir``.)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport import seeds  # noqa: E402
from spikeport.converters.quantize import QuantizeOptions  # noqa: E402
from spikeport.converters.run_folder import FIXED, FIXED_LEARNED, convert  # noqa: E402
from spikeport.flow.fixed import FixedNetwork  # noqa: E402
from spikeport.io import atomic_write_json  # noqa: E402
from spikeport.models import zoo  # noqa: E402
from spikeport.models.artefact import load_artefact  # noqa: E402
from spikeport.models.inputs import encode_batch, load_split  # noqa: E402
from spikeport.models.spec import save_spec  # noqa: E402
from spikeport.training.brian2 import train  # noqa: E402
from spikeport.workflows.deploy import run_on_lava  # noqa: E402

DATASET = "digits"
TARGET_POINTS = 5.0


def machine_info() -> dict:
    import brian2
    import lava

    info = {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__, "brian2": brian2.__version__,
            "lava": getattr(lava, "__version__", "0.10.0")}
    try:
        info["load_average_at_start"] = list(os.getloadavg())
    except OSError:
        pass
    return info


# The dense network's best Brian2 rate (0.001, benchmarks/results/accuracy.json) cannot be
# realised in Lava fixed point (closest 0.0018: the rule scale m·2^e bottoms out at 2^-7 per
# trace unit), so the on-chip dense variant uses the next grid rate, which Lava can realise.
DENSE_ETA = 0.002


def variant_net(variant: str, seed: int):
    net = zoo.load("digits_sbp")
    if variant == "nosbp":
        net = zoo.no_sbp_twin(net)
    elif variant == "dense":
        # the other "SBP off" network: no hidden learning, all-to-all hidden->output
        net = zoo.dense_twin(net)
        projs = tuple(replace(p, learning=replace(p.learning, eta=DENSE_ETA))
                      if p.learning is not None else p for p in net.projections)
        net = replace(net, projections=projs)
    return replace(net, seed=seed)


def public(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def masked_check(fixed: FixedNetwork, learned_raw: dict, learned_fixed: FixedNetwork) -> dict:
    """Every synapse outside the learn mask keeps its starting mantissa exactly (raw learned
    weights from the run, and the reloaded fixed_learned network); absent synapses stay 0."""
    out = {}
    for p in fixed.projections:
        start = np.asarray(p.weights, dtype=np.int64)
        plastic = (np.zeros_like(p.connectivity) if p.rule is None else
                   (p.learn_mask if p.learn_mask is not None else p.connectivity.copy()))
        frozen = ~plastic
        raw = np.asarray(learned_raw[p.name], dtype=np.int64)
        reloaded = np.asarray(learned_fixed.projection(p.name).weights, dtype=np.int64)
        moved_raw = int(np.sum(raw[frozen] != start[frozen]))
        moved_reloaded = int(np.sum(reloaded[frozen] != start[frozen]))
        absent_nonzero = int(np.sum(raw[~p.connectivity] != 0))
        out[p.name] = {
            "plastic_synapses": int(plastic.sum()),
            "frozen_synapses": int(frozen.sum()),
            "frozen_present_synapses": int((frozen & p.connectivity).sum()),
            "absent_synapses": int((~p.connectivity).sum()),
            "frozen_changed_raw": moved_raw, "frozen_changed_reloaded": moved_reloaded,
            "absent_nonzero": absent_nonzero,
            "plastic_changed": int(np.sum(raw[plastic] != start[plastic])),
            "plastic_mean_abs_change_lsb": float(np.abs(raw[plastic] - start[plastic]).mean())
            if plastic.any() else 0.0,
            "ok": moved_raw == 0 and moved_reloaded == 0 and absent_nonzero == 0}
    return out


def rates_of(report: dict) -> dict:
    return {name: [{k: r[k] for k in ("name", "target", "realised", "rel_error")}
                   for r in p.get("rates", [])] for name, p in report["projections"].items()}


def brian2_reference(net, art, ev, lb, target: str) -> dict:
    """The float reference of the same experiment: Brian2 inference on the held-back samples,
    Brian2 learning on the same learning samples (same input spikes) from the same start."""
    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.readout import readout_labels

    def accuracy(weights, thresholds) -> float:
        r = simulate(net, ev.inputs, weights, ev.teacher, target=target, thresholds=thresholds)
        return float((readout_labels(net, r.counts(net.readout.population)) == ev.labels).mean())

    th0 = art.thresholds or None
    before = accuracy(art.weights, th0)
    learned = simulate(net, lb.inputs, art.weights, lb.teacher, target=target, learn=True,
                       thresholds=th0)
    after = accuracy(learned.weights, learned.thresholds)
    return {"before_accuracy": before, "after_accuracy": after,
            "improvement_points": 100.0 * (after - before)}


def run_case(variant: str, seed: int, args, eval_batch_for, learn_batch_for) -> dict:
    net = variant_net(variant, seed)
    wd = Path(args.workdir) / f"{variant}_seed{seed}"
    if wd.exists() and not args.keep:
        shutil.rmtree(wd)
    wd.mkdir(parents=True, exist_ok=True)
    save_spec(net, wd / "spec.yaml")
    t0 = time.perf_counter()
    metrics = train(wd / "spec.yaml", wd / "artefact", dataset=DATASET,
                    epochs=args.partial_epochs, train_samples=args.partial_samples,
                    eval_samples=50, target=args.target, progress=False)
    train_s = time.perf_counter() - t0
    last = metrics["epochs"][-1]
    out = wd / "run"
    report = convert(wd / "artefact", out, QuantizeOptions(sbp_epoch=args.sbp_epoch))
    ev = eval_batch_for(net)
    lb = learn_batch_for(net)
    before = run_on_lava(out, learn=False, batch=ev, timeout=args.timeout)
    learn = run_on_lava(out, learn=True, batch=lb, timeout=args.timeout)
    after = run_on_lava(out, learn=False, use_learned=True, batch=ev, timeout=args.timeout)
    fixed = FixedNetwork.load(out / FIXED)
    learned_fixed = FixedNetwork.load(out / FIXED_LEARNED)
    masked = masked_check(fixed, learn["_result"].weights, learned_fixed)
    ref = brian2_reference(net, load_artefact(wd / "artefact"), ev, lb, args.target)
    row = {
        "variant": variant, "seed": seed,
        "brian2_partial_training": {
            "epochs": args.partial_epochs, "train_samples": args.partial_samples,
            "val_accuracy_first_50": last.get("val_accuracy"),
            "test_accuracy_first_50": last.get("test_accuracy"), "wall_time_s": train_s},
        "hidden_rule_on_lava": report["projections"]["pixels->hidden"].get("rule"),
        "realised_rates": rates_of(report),
        "lava_before_accuracy": before["accuracy"],
        "lava_accuracy_while_learning": learn["accuracy_while_learning"],
        "lava_after_accuracy": after["accuracy"],
        "improvement_points": 100.0 * (after["accuracy"] - before["accuracy"]),
        "brian2_reference_same_samples": ref,
        "steps_per_s": {"infer_before": before["steps_per_s"], "learn": learn["steps_per_s"],
                        "infer_after": after["steps_per_s"]},
        "wall_time_s": {"infer_before": before["wall_time_s"], "learn": learn["wall_time_s"],
                        "infer_after": after["wall_time_s"]},
        "learn_ops": learn["ops"],
        "masked_synapses": masked,
        "masked_synapses_ok": all(m["ok"] for m in masked.values()),
        "run_dir": str(out)}
    print(f"{variant:6s} seed {seed}: Lava {100 * row['lava_before_accuracy']:.1f}% -> "
          f"{100 * row['lava_after_accuracy']:.1f}% ({row['improvement_points']:+.1f} points; "
          f"while learning {100 * row['lava_accuracy_while_learning']:.1f}%); masked synapses "
          f"{'unchanged' if row['masked_synapses_ok'] else 'CHANGED'}; Brian2 from the same "
          f"start on the same samples {100 * ref['before_accuracy']:.1f}% -> "
          f"{100 * ref['after_accuracy']:.1f}% ({ref['improvement_points']:+.1f}); "
          f"learn {learn['steps_per_s']:.0f} steps/s, infer {before['steps_per_s']:.0f} steps/s",
          flush=True)
    return row


def weight_change_stats(fixed: FixedNetwork, w_start: dict, d_a: dict, d_b: dict) -> dict:
    """Compare two weight changes (float units) on each projection's plastic synapses."""
    out = {}
    for p in fixed.projections:
        if p.rule is None:
            continue
        m = p.learn_mask if p.learn_mask is not None else p.connectivity
        a, b = d_a[p.name][m], d_b[p.name][m]
        out[p.name] = {
            "l2_ratio": float(np.linalg.norm(a) / np.linalg.norm(b)),
            "correlation": float(np.corrcoef(a, b)[0, 1]),
            "slope_a_on_b": float(np.dot(a, b) / np.dot(b, b)),
            "mean_change_a": float(a.mean()), "mean_change_b": float(b.mean()),
            "mean_abs_change_a": float(np.abs(a).mean()),
            "mean_abs_change_b": float(np.abs(b).mean()),
            "weight_lsb": 1.0 / p.lsb_per_unit,
            "mean_abs_start": float(np.abs(w_start[p.name][m]).mean())}
    return out


def well_trained(args, ev_split, tr_split) -> dict:
    """The 'well-trained network drops after on-chip learning' investigation (seed 1, SBP)."""
    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.readout import readout_labels

    seed = 1
    net = variant_net("sbp", seed)
    wd = Path(args.workdir) / f"well_trained_seed{seed}"
    wd.mkdir(parents=True, exist_ok=True)
    save_spec(net, wd / "spec.yaml")
    t0 = time.perf_counter()
    metrics = train(wd / "spec.yaml", wd / "artefact", dataset=DATASET,
                    epochs=args.well_trained_epochs, eval_samples=args.eval_samples,
                    target=args.target, progress=False)
    train_s = time.perf_counter() - t0
    art = load_artefact(wd / "artefact")
    out = wd / "run"
    convert(wd / "artefact", out, QuantizeOptions(sbp_epoch=args.sbp_epoch))
    ev = encode_batch(net, ev_split.X, ev_split.y, ev_split.ids, DATASET, "val")
    n = args.learn_samples
    lb = encode_batch(net, tr_split.X[:n], tr_split.y[:n], tr_split.ids[:n], DATASET, "train")
    before = run_on_lava(out, batch=ev, timeout=args.timeout)
    learn = run_on_lava(out, learn=True, batch=lb, timeout=args.timeout)
    after = run_on_lava(out, use_learned=True, batch=ev, timeout=args.timeout)
    fixed = FixedNetwork.load(out / FIXED)
    th0 = art.thresholds or None

    def b2_accuracy(weights, thresholds) -> float:
        r = simulate(net, ev.inputs, weights, ev.teacher, target=args.target,
                     thresholds=thresholds)
        return float((readout_labels(net, r.counts(net.readout.population)) == ev.labels).mean())

    def b2_learn(batch):
        return simulate(net, batch.inputs, art.weights, batch.teacher, target=args.target,
                        learn=True, thresholds=th0)

    b2_before = b2_accuracy(art.weights, th0)
    b2 = b2_learn(lb)
    b2_after = b2_accuracy(b2.weights, b2.thresholds)
    # noise ceiling: the same 300 samples with other Poisson input spikes
    lb_other = encode_batch(net, tr_split.X[:n], tr_split.y[:n], tr_split.ids[:n], DATASET,
                            "train", seed=seeds.int_seed(net.seed, seeds.INPUT_SPIKES, 1000))
    b2_other = b2_learn(lb_other)
    b2_other_after = b2_accuracy(b2_other.weights, b2_other.thresholds)
    windows = []
    for k in (1, 2):
        sl = slice(k * n, (k + 1) * n)
        wb = encode_batch(net, tr_split.X[sl], tr_split.y[sl], tr_split.ids[sl], DATASET,
                          "train")
        r = b2_learn(wb)
        windows.append({"train_samples": [k * n, (k + 1) * n - 1],
                        "brian2_after_accuracy": b2_accuracy(r.weights, r.thresholds)})
    w0 = {p.name: p.dequantized() for p in fixed.projections}
    d_lava = {p.name: p.dequantized(learn["_result"].weights[p.name]) - w0[p.name]
              for p in fixed.projections}
    d_b2 = {k: b2.weights[k] - art.weights[k] for k in art.weights}
    d_b2_other = {k: b2_other.weights[k] - art.weights[k] for k in art.weights}
    res = {
        "network": "digits_sbp seed 1", "brian2_training_epochs": args.well_trained_epochs,
        "brian2_training_wall_time_s": train_s,
        "brian2_val_accuracy_per_epoch": [r.get("val_accuracy") for r in metrics["epochs"]],
        "learning_samples": f"train split 0..{n - 1} (as `spikeport run OUT --learn "
                            f"--samples {n}` takes them), spec-seed input spikes",
        "held_back": f"first {len(ev.labels)} samples of the validation split",
        "lava_before_accuracy": before["accuracy"],
        "lava_after_accuracy": after["accuracy"],
        "lava_accuracy_while_learning": learn["accuracy_while_learning"],
        "brian2_before_accuracy": b2_before,
        "brian2_after_accuracy": b2_after,
        "brian2_after_accuracy_other_input_spikes": b2_other_after,
        "brian2_after_accuracy_other_windows": windows,
        "weight_change_lava_vs_brian2": weight_change_stats(fixed, w0, d_lava, d_b2),
        "weight_change_brian2_vs_brian2_other_spikes": weight_change_stats(fixed, w0,
                                                                           d_b2_other, d_b2),
        "masked_synapses": masked_check(fixed, learn["_result"].weights,
                                        FixedNetwork.load(out / FIXED_LEARNED))}
    print(f"well-trained (seed 1, {args.well_trained_epochs} Brian2 epochs): Lava "
          f"{100 * res['lava_before_accuracy']:.1f}% -> {100 * res['lava_after_accuracy']:.1f}%;"
          f" Brian2 on the same {n} samples {100 * b2_before:.1f}% -> {100 * b2_after:.1f}% "
          f"(other input spikes: {100 * b2_other_after:.1f}%; other windows: "
          f"{', '.join('%.1f%%' % (100 * w['brian2_after_accuracy']) for w in windows)})",
          flush=True)
    for name, s in res["weight_change_lava_vs_brian2"].items():
        c = res["weight_change_brian2_vs_brian2_other_spikes"][name]
        print(f"  {name}: Δw Lava vs Brian2 corr {s['correlation']:.2f}, L2 ratio "
              f"{s['l2_ratio']:.2f}, slope {s['slope_a_on_b']:.2f}; Brian2 vs Brian2 (other "
              f"spikes) corr {c['correlation']:.2f}, L2 ratio {c['l2_ratio']:.2f}", flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--variants", default="sbp,nosbp")
    ap.add_argument("--partial-epochs", type=int, default=1)
    ap.add_argument("--partial-samples", type=int, default=100)
    ap.add_argument("--learn-samples", type=int, default=300)
    ap.add_argument("--eval-samples", type=int, default=200)
    ap.add_argument("--sbp-epoch", choices=("sample", "step"), default="sample")
    ap.add_argument("--well-trained-epochs", type=int, default=5)
    ap.add_argument("--target", default="cython")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--workdir", default=str(ROOT / "benchmarks" / "runs" / "onchip"))
    ap.add_argument("--keep", action="store_true",
                    help="reuse existing partial-training artefacts in the workdir")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" /
                                         "onchip_learning.json"))
    args = ap.parse_args(argv)
    seeds_ = [int(s) for s in args.seeds.split(",")]
    variants = args.variants.split(",")
    t_start = time.perf_counter()
    info = machine_info()

    # the held-back and learning samples: the same dataset positions for every case
    probe = variant_net("sbp", 1)
    ev_split = load_split(probe, DATASET, None, "val", args.eval_samples)
    tr_split = load_split(probe, DATASET, None, "train",
                          max(args.partial_samples + args.learn_samples,
                              3 * args.learn_samples))
    lo, hi = args.partial_samples, args.partial_samples + args.learn_samples
    if len(tr_split.y) < hi:
        raise SystemExit(f"the training split has only {len(tr_split.y)} samples")

    def eval_batch_for(net):
        return encode_batch(net, ev_split.X, ev_split.y, ev_split.ids, DATASET, "val")

    def learn_batch_for(net):
        return encode_batch(net, tr_split.X[lo:hi], tr_split.y[lo:hi], tr_split.ids[lo:hi],
                            DATASET, "train")

    rows = [run_case(v, s, args, eval_batch_for, learn_batch_for)
            for s in seeds_ for v in variants]
    summary = {}
    for v in variants:
        imp = [r["improvement_points"] for r in rows if r["variant"] == v]
        summary[v] = {
            "mean_before_accuracy": float(np.mean([r["lava_before_accuracy"] for r in rows
                                                   if r["variant"] == v])),
            "mean_after_accuracy": float(np.mean([r["lava_after_accuracy"] for r in rows
                                                  if r["variant"] == v])),
            "improvement_points_per_seed": imp, "mean_improvement_points": float(np.mean(imp)),
            "min_improvement_points": float(np.min(imp)),
            "every_seed_at_least_target": bool(min(imp) >= TARGET_POINTS),
            "brian2_reference_improvement_points_per_seed": [
                r["brian2_reference_same_samples"]["improvement_points"] for r in rows
                if r["variant"] == v],
            "brian2_reference_mean_improvement_points": float(np.mean(
                [r["brian2_reference_same_samples"]["improvement_points"] for r in rows
                 if r["variant"] == v])),
            "mean_learn_steps_per_s": float(np.mean([r["steps_per_s"]["learn"] for r in rows
                                                     if r["variant"] == v])),
            "mean_infer_steps_per_s": float(np.mean(
                [r["steps_per_s"][k] for r in rows if r["variant"] == v
                 for k in ("infer_before", "infer_after")]))}
    doc = {
        "benchmark": "on-chip learning on Lava (lava-nc 0.10 fixed_pt, Loihi2SimCfg CPU "
                     "simulator) after partial Brian2 training",
        "command": " ".join([sys.executable] + sys.argv),
        "machine": info,
        "setup": {
            "network": "examples/digits_sbp.yaml (64-100-10); nosbp = zoo.no_sbp_twin "
                       "(f_ltp = f_ltd = 0: no SBP rule or relay on Lava, hidden static)",
            "seeds": seeds_, "dataset": DATASET,
            "partial_training": f"Brian2 ({args.target}), {args.partial_epochs} epoch(s) on "
                                f"training samples 0..{args.partial_samples - 1}",
            "held_back": f"validation split samples 0..{args.eval_samples - 1} (spec-seed "
                         "input spikes; identical before and after)",
            "lava_learning": f"training samples {lo}..{hi - 1} ({args.learn_samples}, disjoint "
                             "from the partial-training and held-back samples), one pass",
            "sbp_epoch": args.sbp_epoch,
            "target_improvement_points": TARGET_POINTS},
        "results": rows, "summary": summary,
        "all_masked_synapses_unchanged": all(r["masked_synapses_ok"] for r in rows)}
    if args.well_trained_epochs > 0:
        full_tr = load_split(probe, DATASET, None, "train", 3 * args.learn_samples)
        doc["well_trained_investigation"] = well_trained(args, ev_split, full_tr)
    doc["wall_time_s"] = time.perf_counter() - t_start
    atomic_write_json(Path(args.out), doc)
    print()
    print("| variant | seed | Lava before | Lava after | Δ points | Brian2 Δ (same samples) "
          "| masked unchanged |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['seed']} | {100 * r['lava_before_accuracy']:.1f}% | "
              f"{100 * r['lava_after_accuracy']:.1f}% | {r['improvement_points']:+.1f} | "
              f"{r['brian2_reference_same_samples']['improvement_points']:+.1f} | "
              f"{r['masked_synapses_ok']} |")
    for v, s in summary.items():
        print(f"{v}: mean improvement {s['mean_improvement_points']:+.1f} points (Brian2 "
              f"reference {s['brian2_reference_mean_improvement_points']:+.1f}; min "
              f"{s['min_improvement_points']:+.1f}; target ≥ {TARGET_POINTS:g} every seed: "
              f"{s['every_seed_at_least_target']}); learn {s['mean_learn_steps_per_s']:.0f} "
              f"steps/s, infer {s['mean_infer_steps_per_s']:.0f} steps/s")
    print(f"results: {args.out}")
    return 0 if doc["all_masked_synapses_unchanged"] else 1


if __name__ == "__main__":
    sys.exit(main())
