"""`spikeport continual`: class-incremental learning against baselines."""

from __future__ import annotations

import argparse
import json

from spikeport.cli.options import add_data_args, positive_int


def add_continual(sub) -> None:
    p = sub.add_parser(
        "continual", help="class-incremental learning: a spec (e.g. NACA) vs SGD, EWC and "
                          "nearest-class-mean baselines",
        description="Learn the classes of a dataset task by task with a single head (no "
                    "replay), scoring every sample on its own against all classes seen so far "
                    "after each task. Runs the spec in the Brian2 reference and, on the same "
                    "task order and seed, its twins (hidden layer frozen; no neuromodulation at "
                    "all: NACA replaced by SBP, readout ungated), a numpy MLP with SGD and with "
                    "EWC (lambda "
                    "chosen on the validation split) and a frozen random hidden layer with a "
                    "nearest-class-mean readout; with --methods ...,snn_chip also the spec "
                    "learning in Loihi fixed point on the emulator (bit-exact to Lava), which "
                    "adds the learning phase's op counts and energy on the Loihi profiles. "
                    "Writes OUT/continual.json, OUT/continual.md, OUT/accuracy_matrix.png "
                    "(final mean accuracy, the accuracy matrix, backward transfer, forgetting, "
                    "epochs per task) and each spiking network as trained, OUT/networks/NAME/ "
                    "(convert/deploy it, or `spikeport run` the fixed-point one).",
        epilog="Example: spikeport continual mnist_naca --tasks 1 --twin-init=-0.3,0.6 -o "
               "runs/cil (one class per task; the README's table, one seed); --tasks 2 for two "
               "classes per task; --tasks 0,1/2,3/... for your own order. Every accuracy comes "
               "with the share of samples abstained on (no output spike, counted as an "
               "error); a method that never decides has no BWT or forgetting (n/a).")
    p.add_argument("spec", help="network spec (YAML), zoo name (digits_naca, mnist_naca, ...) "
                                "or a trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--tasks", default="1", metavar="K|SCHEDULE",
                   help="K classes per task in a seeded random order (default 1), or an "
                        "explicit schedule like 3,7/1,9/0,2 (tasks split by '/')")
    p.add_argument("--methods", default="snn,snn_frozen,snn_sbp,mlp_sgd,mlp_ewc,ncm",
                   help="comma-separated subset of snn, snn_frozen, snn_sbp, snn_chip, "
                        "mlp_sgd, mlp_ewc, ncm (default: all but snn_chip)")
    add_data_args(p, default_split=None)
    p.add_argument("--epochs", type=positive_int, default=1,
                   help="maximum epochs per task (default: 1)")
    p.add_argument("--early-stop", type=float, default=None, metavar="ACC",
                   help="stop a task's training once its validation accuracy reaches ACC in "
                        "(0, 1] (checked after each epoch; default: off)")
    p.add_argument("--train-per-class", type=positive_int, default=None, metavar="N",
                   help="use at most N training samples of each class (default: all)")
    p.add_argument("--val-per-class", type=positive_int, default=None, metavar="N",
                   help="validation samples per class for early stopping and EWC's lambda")
    p.add_argument("--test-per-class", type=positive_int, default=None, metavar="N",
                   help="test samples per class (default: all)")
    p.add_argument("--seed", type=int, default=None,
                   help="replace the spec's seed (task order, initial weights, input spikes, "
                        "baselines)")
    p.add_argument("--ewc-lambda", type=float, default=None, metavar="LAMBDA",
                   help="use this EWC lambda instead of choosing it on the validation split")
    p.add_argument("--twin-init", type=_float_pair, default=None, metavar="LOW,HIGH",
                   help="uniform initial weights of the twins' hidden projection (default: the "
                        "spec's; a NACA spec may start near zero, where a frozen or SBP hidden "
                        "layer would stay silent)")
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto = cython when a compiler works)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_continual)


def _float_pair(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not two numbers LOW,HIGH") from None
    return low, high


def _cmd_continual(args) -> int:
    from spikeport.continual.experiment import run_continual
    from spikeport.continual.report import format_table

    result = run_continual(args.spec, out=args.out, tasks=args.tasks, methods=args.methods,
                           dataset=args.dataset, data_dir=args.data_dir, max_epochs=args.epochs,
                           early_stop=args.early_stop, train_per_class=args.train_per_class,
                           val_per_class=args.val_per_class,
                           test_per_class=args.test_per_class, seed=args.seed,
                           ewc_lambda=args.ewc_lambda, target=args.target,
                           twin_init=args.twin_init,
                           progress=not args.no_progress)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['network']} on {result['dataset']}, tasks "
          + " → ".join("+".join(str(c) for c in t) for t in result["tasks"]))
    print(format_table(result["methods"]))
    print(f"\nwritten: {args.out}/continual.json, continual.md, accuracy_matrix.png, "
          "networks/")
    return 0
