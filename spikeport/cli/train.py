"""`spikeport train` and `evaluate`: learning in Brian2 or in fixed point, scoring an artefact."""

from __future__ import annotations

import json

from spikeport.cli.options import add_data_args, add_spikes_arg, positive_int


def add_train(sub) -> None:
    p = sub.add_parser(
        "train", help="train a spec in the Brian2 reference (or in fixed point on the emulator)",
        description="Train with the spec's learning rules, one Brian2 run per epoch over the "
                    "training split (seeded shuffle, fresh input noise per epoch), then score the "
                    "validation and test splits with learning off. OUT gets spec.yaml, "
                    "weights.npz and metrics.json after every epoch; rerunning resumes. With "
                    "--backend emulator the same schedule runs in Lava fixed point (bit-exact "
                    "emulator) and OUT is a run directory (spec.yaml, fixed/, metrics.json).")
    p.add_argument("spec", help="network spec (YAML), a zoo name (digits_sbp, mnist_sbp, "
                                "nettalk_sbp, dvsgesture_sbp, each also as NAME_nosbp and "
                                "NAME_dense) or a trained artefact to continue from")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="artefact directory")
    p.add_argument("--epochs", type=positive_int, default=1,
                   help="train until this many epochs are done (default: 1)")
    add_data_args(p, default_split=None)
    p.add_argument("--train-samples", type=positive_int, default=None,
                   help="use only the first N training samples (default: all)")
    p.add_argument("--eval-samples", type=positive_int, default=None,
                   help="score only the first N validation/test samples (default: all)")
    p.add_argument("--target", choices=("auto", "numpy", "cython", "cpp_standalone"),
                   default="auto",
                   help="Brian2 code generation (default: auto = cython when a compiler works; "
                        "cpp_standalone trains in one compiled C++ program, after a build of "
                        "minutes, and evaluates with auto)")
    p.add_argument("--eta-decay", type=float, default=None, metavar="K",
                   help="learning-rate schedule (Brian2 backend): epoch e learns with every "
                        "rule's rate x K^(e-1), K in (0, 1] (default: 1, constant; a resumed "
                        "training keeps its own)")
    p.add_argument("--restart", action="store_true",
                   help="ignore an artefact already in OUT and start from the spec")
    p.add_argument("--backend", choices=("brian2", "emulator"), default="brian2",
                   help="brian2: the float reference (OUT is a trained artefact); emulator: "
                        "convert first and learn in Lava fixed point on the bit-exact emulator, "
                        "the chip's own arithmetic (OUT is a run directory with fixed/ for "
                        "'spikeport run'; --target does not apply) (default: brian2)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_train)


def add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="accuracy of a trained artefact on a dataset split",
        description="Score a trained artefact (learning off) on any dataset folder, e.g. "
                    "another pair of MNIST IDX files.")
    p.add_argument("artefact", help="a directory written by 'spikeport train'")
    add_data_args(p, with_all=True)
    add_spikes_arg(p)
    p.add_argument("--samples", type=positive_int, default=None,
                   help="score only the first N samples of the split (default: all)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_train(args) -> int:
    from spikeport.training.api import train

    metrics = train(args.spec, args.out, backend=args.backend, eta_decay=args.eta_decay,
                    target=args.target, dataset=args.dataset, data_dir=args.data_dir,
                    epochs=args.epochs, train_samples=args.train_samples,
                    eval_samples=args.eval_samples, progress=not args.no_progress,
                    resume=not args.restart)
    print("| epoch | val accuracy | test accuracy | train samples/s |")
    print("|---:|---:|---:|---:|")
    for row in metrics["epochs"]:
        rate = row.get("train_samples_per_s")
        print(f"| {row['epoch']} | {100 * row['val_accuracy']:.1f}% | "
              f"{100 * row['test_accuracy']:.1f}% | {'' if rate is None else f'{rate:.0f}'} |")
    # a fixed-point training names its backend and writes a run directory
    print(f"{'run directory' if 'backend' in metrics else 'artefact'}: {args.out}")
    return 0


def _cmd_evaluate(args) -> int:
    from spikeport.workflows.evaluate import evaluate, format_evaluate

    res = evaluate(args.artefact, dataset=args.dataset, data_dir=args.data_dir,
                   split=args.split, samples=args.samples, target=args.target,
                   progress=not args.no_progress, spikes_file=args.spikes)
    print(json.dumps(res, indent=2) if args.json else format_evaluate(res))
    return 0
