"""Accuracy benchmark of the Brian2 reference: SBP vs its frozen-hidden twin vs the best dense
network without SBP, on the same data, seeds and epochs.

For each dataset and seed, three networks of the same size are trained with ``spikeport
train`` (one Brian2 run per epoch):

* ``sbp``    — the zoo network: one-class hidden→output fan-out, supervised STDP at the output,
               SBP on the hidden layer;
* ``nosbp``  — the same with f = 0 (hidden layer frozen at its random weights);
* ``dense``  — no SBP, all-to-all hidden→output; its output learning rate is chosen on the
               validation split of the first seed from ``--dense-etas`` (the *best* no-SBP
               network of this size, not a straw man).

Reported per network: test accuracy at the epoch with the best validation accuracy (the test
split is never used to choose anything), epochs until the validation accuracy first reaches
``--threshold``, and the SBP paper's cost metric, epochs × (m·n + n·k + n) for an m-n-k
network. Results go to ``benchmarks/results/accuracy.json`` with the machine they ran on.

    .venv/bin/python benchmarks/accuracy.py --datasets digits --seeds 1,2,3 --epochs 8
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.io import atomic_write_json  # noqa: E402
from spikeport.models import zoo  # noqa: E402
from spikeport.models.rules import SupervisedSTDP  # noqa: E402
from spikeport.models.spec import save_spec  # noqa: E402
from spikeport.training.brian2 import train  # noqa: E402

ZOO_NAME = {"digits": "digits_sbp", "mnist": "mnist_sbp", "nettalk": "nettalk_sbp"}
DATA_DIRS = {"mnist": str(ROOT.parent / "shared" / "data" / "mnist"),
             "nettalk": str(ROOT.parent / "shared" / "data" / "nettalk")}


def with_output_eta(net, eta):
    projs = tuple(replace(p, learning=replace(p.learning, eta=eta))
                  if isinstance(p.learning, SupervisedSTDP) else p for p in net.projections)
    return replace(net, projections=projs)


def run_one(net, dataset, seed, args, tag, threshold):
    net = replace(net, seed=seed)
    workdir = Path(args.workdir) / dataset / f"{tag}_seed{seed}"
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir / "spec.yaml"
    save_spec(net, spec_path)
    t0 = time.perf_counter()
    metrics = train(spec_path, workdir / "artefact", dataset=dataset,
                    data_dir=DATA_DIRS.get(dataset), epochs=args.epochs,
                    train_samples=args.train_samples, eval_samples=args.eval_samples,
                    target=args.target, progress=False, resume=False,
                    eta_decay=args.eta_decay)
    wall = time.perf_counter() - t0
    rows = metrics["epochs"]
    best = max(rows[1:], key=lambda r: (r["val_accuracy"], -r["epoch"]))
    reach = next((r["epoch"] for r in rows if r["val_accuracy"] >= threshold), None)
    speed = float(np.mean([r["train_samples_per_s"] for r in rows[1:]]))
    print(f"  {dataset} {tag} seed {seed}: best val {best['val_accuracy']:.3f} at epoch "
          f"{best['epoch']}, test {best['test_accuracy']:.3f}, reaches {threshold} at "
          f"{reach}, {speed:.0f} train samples/s, {wall:.0f} s", flush=True)
    return {"seed": seed, "best_epoch": best["epoch"], "val_accuracy": best["val_accuracy"],
            "test_accuracy": best["test_accuracy"], "epochs_to_threshold": reach,
            "curve_val": [r["val_accuracy"] for r in rows],
            "curve_test": [r["test_accuracy"] for r in rows],
            "train_samples_per_s": speed, "wall_time_s": wall}


def summarise(runs, net, threshold):
    m = net.inputs[0].n
    n = next(p.n for p in net.populations if p.name != net.readout.population)
    k = net.size(net.readout.population)
    per_epoch = m * n + n * k + n
    test = [r["test_accuracy"] for r in runs]
    reached = [r["epochs_to_threshold"] for r in runs if r["epochs_to_threshold"] is not None]
    epochs = float(np.mean(reached)) if len(reached) == len(runs) else None
    return {"test_accuracy_mean": float(np.mean(test)), "test_accuracy_std": float(np.std(test)),
            "epochs_to_threshold_mean": epochs, "threshold": threshold,
            "cost_per_epoch": per_epoch,
            "cost_to_threshold": None if epochs is None else epochs * per_epoch,
            "train_samples_per_s": float(np.mean([r["train_samples_per_s"] for r in runs])),
            "runs": runs}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="digits")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threshold", type=float, default=None,
                    help="validation accuracy for epochs-to-threshold (default: per dataset)")
    ap.add_argument("--dense-etas", default="0.003,0.01,0.03")
    ap.add_argument("--networks", default="sbp,nosbp,dense",
                    help="which networks to (re)run; others keep their entry in --out")
    ap.add_argument("--eta-decay", type=float, default=None,
                    help="learning-rate schedule: epoch e learns with the rates x K^(e-1)")
    ap.add_argument("--train-samples", type=int, default=None)
    ap.add_argument("--eval-samples", type=int, default=None)
    ap.add_argument("--target", default="auto")
    ap.add_argument("--workdir", default=str(ROOT / "benchmarks" / "runs"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "accuracy.json"))
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    default_thresholds = {"digits": 0.8, "mnist": 0.85, "nettalk": 0.5}
    out_path = Path(args.out)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results["machine"] = {"node": platform.node(), "machine": platform.machine(),
                          "processor": platform.processor(), "python": platform.python_version()}
    results["command"] = "python benchmarks/accuracy.py " + " ".join(argv or sys.argv[1:])
    results.setdefault("datasets", {})
    for dataset in args.datasets.split(","):
        threshold = args.threshold or default_thresholds[dataset]
        base = zoo.load(ZOO_NAME[dataset])
        print(f"{dataset}: choosing the dense baseline's output eta on validation (seed "
              f"{seeds[0]})", flush=True)
        etas = [float(e) for e in args.dense_etas.split(",")]
        trials = {}
        for eta in (etas if "dense" in args.networks.split(",") else []):
            net = with_output_eta(zoo.dense_twin(base), eta)
            trials[eta] = run_one(net, dataset, seeds[0], args, f"dense_eta{eta}", threshold)
        best_eta = (max(etas, key=lambda e: trials[e]["val_accuracy"]) if trials else
                    results["datasets"].get(dataset, {}).get("dense_eta"))
        nets = {"sbp": base, "nosbp": zoo.no_sbp_twin(base)}
        if best_eta is not None:   # chosen here or by an earlier run of this file
            nets["dense"] = with_output_eta(zoo.dense_twin(base), best_eta)
        old = results["datasets"].get(dataset, {})
        entry = {"split": "see README: fixed split, test touched only for final numbers",
                 "epochs": args.epochs, "seeds": seeds, "dense_eta_search":
                 ({str(e): trials[e]["val_accuracy"] for e in etas} if trials else
                  old.get("dense_eta_search")), "dense_eta": best_eta,
                 "networks": dict(old.get("networks", {}))}
        wanted = args.networks.split(",")
        for tag, net in nets.items():
            if tag not in wanted:
                continue
            runs = []
            for seed in seeds:
                if tag == "dense" and seed == seeds[0]:
                    runs.append(trials[best_eta])
                    continue
                runs.append(run_one(net, dataset, seed, args, tag, threshold))
            entry["networks"][tag] = summarise(runs, base, threshold)
        if args.train_samples or args.eval_samples:
            entry["subset"] = {"train_samples": args.train_samples,
                               "eval_samples": args.eval_samples}
        entry["command"] = results["command"]
        entry["eta_decay"] = args.eta_decay
        # another invocation may have written other networks of this file meanwhile (run
        # them as parallel processes): keep theirs, replace only what ran here
        if out_path.exists():
            latest = json.loads(out_path.read_text())
            prev = latest.get("datasets", {}).get(dataset, {})
            theirs = prev.get("networks", {})
            if "dense" not in wanted:
                entry["dense_eta"] = prev.get("dense_eta", entry["dense_eta"])
                entry["dense_eta_search"] = prev.get("dense_eta_search",
                                                     entry["dense_eta_search"])
            entry["networks"] = {**theirs, **{t: entry["networks"][t] for t in wanted
                                              if t in entry["networks"]}}
            latest.setdefault("datasets", {})
            results = {**latest, "machine": results["machine"], "command": results["command"],
                       "datasets": {**latest["datasets"], dataset: entry}}
        else:
            results["datasets"][dataset] = entry
        atomic_write_json(out_path, results)
        print(markdown(dataset, entry), flush=True)


def markdown(dataset, entry):
    lines = [f"| {dataset} | test accuracy (mean ± sd, {len(entry['seeds'])} seeds) | "
             "epochs to threshold | cost to threshold | train samples/s |",
             "|---|---:|---:|---:|---:|"]
    for tag, s in entry["networks"].items():
        ep = s["epochs_to_threshold_mean"]
        cost = s["cost_to_threshold"]
        lines.append(f"| {tag} | {100 * s['test_accuracy_mean']:.1f} ± "
                     f"{100 * s['test_accuracy_std']:.1f}% | "
                     f"{'not reached' if ep is None else f'{ep:.1f}'} | "
                     f"{'–' if cost is None else f'{cost:.2e}'} | "
                     f"{s['train_samples_per_s']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
