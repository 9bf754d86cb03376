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
        "demo", help="the end-to-end demo on the digits network",
        description="Run the reference simulation of examples/digits_sbp.yaml on 50 digits and "
                    "print its spike summary.")
    p.add_argument("--spec", default=None, help="spec to demo (default: examples/digits_sbp.yaml)")
    p.set_defaults(func=_cmd_demo)

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


def _cmd_demo(args) -> int:
    from spikeport.pipeline import demo

    print(demo(args.spec))
    return 0


def _cmd_validate(args) -> int:
    from spikeport.models.spec import dump_spec, load_spec

    print(dump_spec(load_spec(args.spec)), end="")
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
