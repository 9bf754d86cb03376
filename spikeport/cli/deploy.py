"""`spikeport convert`, `run`, `deploy` and `demo`: from an artefact to the emulated chip."""

from __future__ import annotations

import json

from spikeport.cli.options import (
    BACKEND_HELP,
    SPLIT_HELP,
    add_data_args,
    add_spikes_arg,
    count_or_all,
    positive_int,
)


def add_convert(sub) -> None:
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
    p.add_argument("--weight-exp", type=int, default=None, metavar="E",
                   help="pin every projection's weight exponent to E in -8..7 (default: each "
                        "the smallest that holds its range); 0 gives integer weights in "
                        "threshold units, which export-netx needs")
    p.set_defaults(func=_cmd_convert)


def add_run(sub) -> None:
    p = sub.add_parser(
        "run", help="run a converted network in fixed point, emulator or Lava (inference or "
                    "on-chip learning)",
        description="Run OUT/fixed on the bit-exact emulator (default) or on Lava's CPU "
                    "simulator (--backend lava: Loihi2SimCfg, fixed_pt, in a subprocess with a "
                    "timeout). --infer (default) scores the test split; --learn keeps learning "
                    "on chip over training samples and writes OUT/{emulator,lava}_learned/ (one "
                    "per backend). Results: OUT/{emulator,lava}_{infer,learn}.json/.npz.")
    p.add_argument("out", metavar="OUT", help="run directory written by convert or deploy")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--learn", action="store_true", help="learn on chip (train split)")
    mode.add_argument("--infer", action="store_true", help="inference only (default)")
    p.add_argument("--samples", type=count_or_all, default=100, metavar="N",
                   help="number of samples, or 'all' (the whole split) (default: 100)")
    add_data_args(p, default_split=None)
    p.add_argument("--split", choices=("train", "val", "test", "all"), default=None,
                   help=SPLIT_HELP + " (default: train with --learn, test otherwise)")
    add_spikes_arg(p)
    p.add_argument("--learned", nargs="?", const=True, default=False, metavar="BACKEND",
                   choices=("emulator", "lava"),
                   help="run the network learned by `run --learn` instead of OUT/fixed: "
                        "BACKEND's (OUT/BACKEND_learned), by default this backend's, else the "
                        "only one there (older runs: OUT/fixed_learned)")
    p.add_argument("--backend", choices=("emulator", "lava"), default="emulator",
                   help=BACKEND_HELP)
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="seconds before the Lava run is killed (default: 3600)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true",
                   help="hide the emulator's progress bar")
    p.set_defaults(func=_cmd_run)


def add_deploy(sub) -> None:
    p = sub.add_parser(
        "deploy", help="train if needed, convert, run in fixed point, compare with Brian2",
        description="One step from a spec to the emulated chip: train in Brian2 (when given a "
                    "spec), quantize, run inference in fixed point (the bit-exact emulator, or "
                    "Lava with --backend lava), run the Brian2 reference on the same input "
                    "spikes and summarise both (OUT/deploy.md/.json).")
    p.add_argument("source", help="spec YAML, zoo name, or trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="run directory")
    p.add_argument("--epochs", type=positive_int, default=8,
                   help="Brian2 training epochs when given a spec (default: 8)")
    p.add_argument("--samples", type=positive_int, default=100,
                   help="test samples to run on Lava and Brian2 (default: 100)")
    add_data_args(p, default_split=None)
    add_spikes_arg(p)
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation for training (default: auto)")
    p.add_argument("--backend", choices=("emulator", "lava"), default="emulator",
                   help=BACKEND_HELP)
    p.add_argument("--timeout", type=float, default=3600.0, help="Lava run timeout (s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_cmd_deploy)


def add_demo(sub) -> None:
    p = sub.add_parser(
        "demo", help="the end-to-end demo on the digits network",
        description="Print the spike summary of examples/digits_sbp.yaml in the Brian2 "
                    "reference, then deploy it: train in Brian2 (5 epochs), convert to Loihi "
                    "fixed point, run 100 test digits on the bit-exact emulator (or Lava, "
                    "--backend lava) and compare with the Brian2 reference on the same input "
                    "spikes.")
    p.add_argument("--spec", default=None, help="spec to demo (default: examples/digits_sbp.yaml)")
    p.add_argument("-o", "--out", default=None, help="run directory (default: runs/demo)")
    p.add_argument("--backend", choices=("emulator", "lava"), default="emulator",
                   help=BACKEND_HELP)
    p.set_defaults(func=_cmd_demo)


def _cmd_convert(args) -> int:
    from spikeport.converters.quantize import QuantizeOptions, format_report
    from spikeport.converters.run_folder import convert

    report = convert(args.source, args.out, QuantizeOptions(sbp_epoch=args.sbp_epoch,
                                                            weight_exp=args.weight_exp))
    print(format_report(report))
    print(f"\nfixed-point network: {args.out}/fixed")
    return 0


def _cmd_run(args) -> int:
    from spikeport.models.inputs import describe_samples
    from spikeport.workflows.deploy import run_fixed

    summary = run_fixed(args.out, learn=args.learn,
                        samples=args.samples,
                        dataset=args.dataset, data_dir=args.data_dir, split=args.split,
                        use_learned=args.learned, timeout=args.timeout, backend=args.backend,
                        progress=not args.no_progress, spikes_file=args.spikes)
    summary.pop("_result", None)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    acc = summary.get("accuracy", summary.get("accuracy_while_learning"))
    where = {"lava": "Lava", "emulator": "the emulator"}.get(args.backend, args.backend)
    print(f"{summary['network']} on {where} ({summary['mode']}): {describe_samples(summary)}, "
          f"{summary['steps_per_s']:.0f} steps/s")
    if acc is not None:
        label = "accuracy" if summary["mode"] == "infer" else "accuracy while learning"
        print(f"{label}: {100 * acc:.1f}% on {summary['samples']} samples "
              f"(abstained: {100 * summary.get('abstained', 0.0):.1f}%)")
    for pop, rate in summary["rates_hz"].items():
        print(f"  {pop}: {rate:.1f} Hz")
    if "learned_network" in summary:
        print(f"learned network: {summary['learned_network']} (run it with --learned)")
    if summary.get("neurobench"):
        from spikeport.analysis.neurobench import format_neurobench

        print()
        print(format_neurobench(summary["neurobench"]))
    return 0


def _cmd_deploy(args) -> int:
    from spikeport.workflows.deploy import deploy, format_deploy

    summary = deploy(args.source, args.out, epochs=args.epochs, samples=args.samples,
                     dataset=args.dataset, data_dir=args.data_dir, target=args.target,
                     progress=not args.no_progress, timeout=args.timeout,
                     backend=args.backend, spikes_file=args.spikes)
    print(format_deploy(summary))
    print(f"\neverything is in {args.out}")
    return 0


def _cmd_demo(args) -> int:
    from spikeport.workflows.deploy import demo

    print(demo(args.spec, args.out, backend=args.backend))
    return 0
