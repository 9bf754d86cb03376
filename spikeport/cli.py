"""Command line: argument parsing only; every command calls a library function.

User errors (bad spec, bad data file, unsupported feature) print one line and exit 2;
Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from spikeport import __version__
from spikeport.errors import SpikeportError

DATASETS = ("digits", "mnist", "nettalk", "nmnist", "dvsgesture", "shd")


def _add_data_args(p: argparse.ArgumentParser, default_split: str | None = "test") -> None:
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="dataset to encode (default: chosen from the input size: 64 → digits, "
                        "784 → mnist, 189 → nettalk, 1024 → dvsgesture)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding the dataset files; for MNIST, IDX files named like the "
                        "official ones (*-images-idx3-ubyte[.gz], *-labels-idx1-ubyte[.gz])")
    if default_split is not None:
        p.add_argument("--split", choices=("train", "val", "test"), default=default_split,
                       help=f"which fixed split of the dataset to use (default: {default_split})")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikeport",
        description="Define a plastic spiking network once, simulate and train it in Brian2, "
                    "run it in Lava fixed point, and report drift and learning cost.",
        epilog="Run 'spikeport COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"spikeport {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "simulate", help="run the Brian2 float reference on encoded samples",
        description="Encode samples of a dataset with the spec's encoder and seed, run them "
                    "through the Brian2 reference in one run() and print spike statistics per "
                    "population and the (untrained) readout accuracy.")
    p.add_argument("spec", help="network spec (YAML, schema spikeport/1)")
    _add_data_args(p)
    p.add_argument("--samples", type=_positive_int, default=50,
                   help="number of samples from the start of the split (default: 50)")
    p.add_argument("--spikes", default=None, metavar="FILE",
                   help="run on your own input spikes instead of a dataset: an .npz with "
                        "'spikes' (n_samples, sample_steps, n_inputs) and optional 'labels'")
    p.add_argument("--target", choices=("numpy", "cython"), default="numpy",
                   help="Brian2 code-generation target (default: numpy, no compiler needed)")
    p.add_argument("-o", "--out", default=None, metavar="DIR",
                   help="write simulate.json and spikes.npz (input spikes included) to DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser(
        "train", help="train a spec in the Brian2 reference; writes a trained artefact",
        description="Train with the spec's learning rules, one Brian2 run per epoch over the "
                    "training split (seeded shuffle, fresh input noise per epoch), then score the "
                    "validation and test splits with learning off. OUT gets spec.yaml, "
                    "weights.npz and metrics.json after every epoch; rerunning resumes.")
    p.add_argument("spec", help="network spec (YAML), a zoo name (digits_sbp, mnist_sbp, "
                                "nettalk_sbp, dvsgesture_sbp, each also as NAME_nosbp and "
                                "NAME_dense) or a trained artefact to continue from")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="artefact directory")
    p.add_argument("--epochs", type=_positive_int, default=1,
                   help="train until this many epochs are done (default: 1)")
    _add_data_args(p, default_split=None)
    p.add_argument("--train-samples", type=_positive_int, default=None,
                   help="use only the first N training samples (default: all)")
    p.add_argument("--eval-samples", type=_positive_int, default=None,
                   help="score only the first N validation/test samples (default: all)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto = cython when a compiler works)")
    p.add_argument("--restart", action="store_true",
                   help="ignore an artefact already in OUT and start from the spec")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "evaluate", help="accuracy of a trained artefact on a dataset split",
        description="Score a trained artefact (learning off) on any dataset folder, e.g. "
                    "another pair of MNIST IDX files.")
    p.add_argument("artefact", help="a directory written by 'spikeport train'")
    _add_data_args(p)
    p.add_argument("--samples", type=_positive_int, default=None,
                   help="score only the first N samples of the split (default: all)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "convert", help="quantize a trained artefact to Lava fixed point",
        description="Quantize an artefact (or an untrained spec) to Lava's fixed-point "
                    "arithmetic (Loihi-1 bit widths). Writes OUT/fixed/ (network.json + "
                    "weights.npz) and the per-layer quantization report OUT/quantization.md/.json. "
                    "Rules Lava cannot express (STP, NACA for now) are refused, never dropped.")
    p.add_argument("source", help="trained artefact, spec YAML, or zoo name")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="run directory")
    p.add_argument("--sbp-epoch", choices=("sample", "step"), default="sample",
                   help="SBP learning epoch on Lava: once per sample, as a chip would "
                        "(default), or every step (exact eligibility traces, costlier)")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser(
        "run", help="run a converted network on Lava (inference or on-chip learning)",
        description="Run OUT/fixed on Lava's CPU simulator (Loihi2SimCfg, fixed_pt) in a "
                    "subprocess with a timeout. --infer (default) scores the test split; "
                    "--learn keeps learning on chip over training samples and writes "
                    "OUT/fixed_learned/.")
    p.add_argument("out", metavar="OUT", help="run directory written by convert or deploy")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--learn", action="store_true", help="learn on chip (train split)")
    mode.add_argument("--infer", action="store_true", help="inference only (default)")
    p.add_argument("--samples", type=_positive_int, default=100,
                   help="number of samples (default: 100)")
    _add_data_args(p, default_split=None)
    p.add_argument("--split", choices=("train", "val", "test"), default=None,
                   help="dataset split (default: train with --learn, test otherwise)")
    p.add_argument("--learned", action="store_true",
                   help="run OUT/fixed_learned (after --learn) instead of OUT/fixed")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="seconds before the Lava run is killed (default: 3600)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "deploy", help="train if needed, convert, run on Lava, compare with Brian2",
        description="One step from a spec to the emulated chip: train in Brian2 (when given a "
                    "spec), quantize, run inference on Lava, run the Brian2 reference on the "
                    "same input spikes and summarise both (OUT/deploy.md/.json).")
    p.add_argument("source", help="spec YAML, zoo name, or trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="run directory")
    p.add_argument("--epochs", type=_positive_int, default=8,
                   help="Brian2 training epochs when given a spec (default: 8)")
    p.add_argument("--samples", type=_positive_int, default=100,
                   help="test samples to run on Lava and Brian2 (default: 100)")
    _add_data_args(p, default_split=None)
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation for training (default: auto)")
    p.add_argument("--timeout", type=float, default=3600.0, help="Lava run timeout (s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_deploy)

    p = sub.add_parser(
        "energy", help="energy and time of a Lava run's measured op counts on chip profiles",
        description="Price the op counts measured inside a Lava run (OUT/lava_infer.json, "
                    "OUT/lava_learn.json) with hardware profiles: every figure a range with "
                    "its sources; operations without a published energy are counted and "
                    "reported as missing. Writes OUT/energy.json and OUT/energy.md.")
    p.add_argument("out", metavar="OUT", help="run directory with Lava runs")
    p.add_argument("--profile", action="append", default=None,
                   help="profile name (loihi1, loihi2) or a .toml path; repeatable "
                        "(default: loihi1 and loihi2)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_energy)

    p = sub.add_parser(
        "map", help="map a network onto a chip profile's cores, with hardware readiness",
        description="Assign populations and synapses to cores of a profile and report cores, "
                    "memory per core, fan-in/out; refuse what does not fit; say per process "
                    "whether a chip implementation exists.")
    p.add_argument("source", help="run directory, fixed-point network directory or spec YAML")
    p.add_argument("--profile", default="loihi2", help="profile name or .toml (default: loihi2)")
    p.add_argument("--infer-only", action="store_true", help="map for inference (no learning)")
    p.set_defaults(func=_cmd_map)

    p = sub.add_parser(
        "demo", help="the end-to-end demo on the digits network",
        description="Print the spike summary of examples/digits_sbp.yaml in the Brian2 "
                    "reference, then deploy it: train in Brian2 (5 epochs), convert to Lava "
                    "fixed point, run 100 test digits on Lava and compare with the Brian2 "
                    "reference on the same input spikes.")
    p.add_argument("--spec", default=None, help="spec to demo (default: examples/digits_sbp.yaml)")
    p.add_argument("-o", "--out", default=None, help="run directory (default: runs/demo)")
    p.set_defaults(func=_cmd_demo)

    # [parsers: compare (issue 5)]
    # [parsers: nir (issue 9)]
    # [parsers: continual (issue 8)]
    # [parsers: sweep (issue 10)]

    p = sub.add_parser("validate", help="check a spec file and print it with every default",
                       description="Load a spec, run every check, print the normalised YAML.")
    p.add_argument("spec")
    p.set_defaults(func=_cmd_validate)
    return parser


def _cmd_simulate(args) -> int:
    from spikeport.pipeline import format_summary, run_simulate

    summary = run_simulate(args.spec, dataset=args.dataset, data_dir=args.data_dir,
                           samples=args.samples, split=args.split, out=args.out,
                           target=args.target, progress=not args.no_progress,
                           spikes_file=args.spikes)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _cmd_train(args) -> int:
    from spikeport.models.trainer import train

    metrics = train(args.spec, args.out, dataset=args.dataset, data_dir=args.data_dir,
                    epochs=args.epochs, train_samples=args.train_samples,
                    eval_samples=args.eval_samples, target=args.target,
                    progress=not args.no_progress, resume=not args.restart)
    print("| epoch | val accuracy | test accuracy | train samples/s |")
    print("|---:|---:|---:|---:|")
    for row in metrics["epochs"]:
        rate = row.get("train_samples_per_s")
        print(f"| {row['epoch']} | {100 * row['val_accuracy']:.1f}% | "
              f"{100 * row['test_accuracy']:.1f}% | {'' if rate is None else f'{rate:.0f}'} |")
    print(f"artefact: {args.out}")
    return 0


def _cmd_evaluate(args) -> int:
    from spikeport.models.trainer import evaluate

    res = evaluate(args.artefact, dataset=args.dataset, data_dir=args.data_dir,
                   split=args.split, samples=args.samples, target=args.target,
                   progress=not args.no_progress)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['artefact']}: {100 * res['accuracy']:.1f}% on {res['samples']} samples of "
              f"{res['dataset']} ({res['split']})")
    return 0


def _cmd_convert(args) -> int:
    from spikeport.converters.quantize import QuantizeOptions, format_report
    from spikeport.deploy import convert

    report = convert(args.source, args.out, QuantizeOptions(sbp_epoch=args.sbp_epoch))
    print(format_report(report))
    print(f"\nfixed-point network: {args.out}/fixed")
    return 0


def _cmd_run(args) -> int:
    from spikeport.deploy import run_on_lava

    summary = run_on_lava(args.out, learn=args.learn, samples=args.samples,
                          dataset=args.dataset, data_dir=args.data_dir, split=args.split,
                          use_learned=args.learned, timeout=args.timeout)
    summary.pop("_result", None)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    acc = summary.get("accuracy", summary.get("accuracy_while_learning"))
    print(f"{summary['network']} on Lava ({summary['mode']}): {summary['samples']} samples of "
          f"{summary['dataset']} ({summary['split']}), {summary['steps_per_s']:.0f} steps/s")
    if acc is not None:
        label = "accuracy" if summary["mode"] == "infer" else "accuracy while learning"
        print(f"{label}: {100 * acc:.1f}%")
    for pop, rate in summary["rates_hz"].items():
        print(f"  {pop}: {rate:.1f} Hz")
    if "learned_network" in summary:
        print(f"learned network: {summary['learned_network']} (run it with --learned)")
    return 0


def _cmd_deploy(args) -> int:
    from spikeport.deploy import deploy, format_deploy

    summary = deploy(args.source, args.out, epochs=args.epochs, samples=args.samples,
                     dataset=args.dataset, data_dir=args.data_dir, target=args.target,
                     progress=not args.no_progress, timeout=args.timeout)
    print(format_deploy(summary))
    print(f"\neverything is in {args.out}")
    return 0


def _cmd_energy(args) -> int:
    from pathlib import Path

    from spikeport.hw_profiles.energy import energy_report, format_energy
    from spikeport.io import atomic_write_json, atomic_write_text

    report = energy_report(args.out, profiles=tuple(args.profile or ("loihi1", "loihi2")))
    text = format_energy(report)
    atomic_write_json(Path(args.out) / "energy.json", report)
    atomic_write_text(Path(args.out) / "energy.md", text + "\n")
    print(json.dumps(report, indent=2) if args.json else text)
    return 0


def _cmd_map(args) -> int:
    from spikeport.hw_profiles.mapping import (
        format_mapping,
        format_readiness,
        hardware_readiness,
        map_network,
    )

    learn = not args.infer_only
    print(format_readiness(hardware_readiness(args.source, args.profile, learn=learn),
                           profile=args.profile))
    print()
    print(format_mapping(map_network(args.source, args.profile, learn=learn)))
    return 0


def _cmd_demo(args) -> int:
    from spikeport.pipeline import demo

    print(demo(args.spec, args.out))
    return 0


def _cmd_validate(args) -> int:
    from spikeport.models.spec import dump_spec, load_spec

    print(dump_spec(load_spec(args.spec)), end="")
    return 0


# [commands: compare (issue 5)]

# [commands: nir (issue 9)]

# [commands: continual (issue 8)]

# [commands: sweep (issue 10)]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): not an error of ours; silence the final flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except SpikeportError as exc:
        print(f"spikeport: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("spikeport: interrupted", file=sys.stderr)
        return 130
    except Exception:
        # a bug in spikeport: keep Python's traceback (Brian2's import replaces the hook with
        # one that asks users to report spikeport's bugs to Brian2)
        sys.excepthook = sys.__excepthook__
        raise


if __name__ == "__main__":
    sys.exit(main())
