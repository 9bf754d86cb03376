"""`spikeport compare`: spike-level drift, Brian2 float vs quantized vs fixed point."""

from __future__ import annotations

import json
import sys

from spikeport.cli.options import (
    BACKEND_HELP,
    SPLIT_HELP,
    add_data_args,
    add_spikes_arg,
    count_or_all,
    positive_int,
)


def add_compare(sub) -> None:
    p = sub.add_parser(
        "compare", help="spike-level drift: Brian2 float vs quantized parameters vs fixed point",
        description="Run the same input spikes (same seed) through three backends — the Brian2 "
                    "float reference, the Brian2 reference with the quantizer's rounded "
                    "constants (float arithmetic: isolates parameter rounding) and the fixed "
                    "point (Lava or the emulator: integer arithmetic) — in inference (test "
                    "split) and learning (train split, then each learned network on the test "
                    "samples). Metrics per population: exact match rate, coincidence, per-neuron "
                    "spike-count correlation, cosine of time-averaged activity, first-spike "
                    "error, van Rossum distance, first differing step; accuracies and agreement; "
                    "weight divergence while learning. Writes OUT/compare.json, compare.md, "
                    "compare.npz and PNGs (raster, metric bars, weight divergence, sweeps); OUT "
                    "is also a run directory (fixed/, quantization.md).",
        epilog="Gates (exit 1 when one fails; the report is written first): --fail-under "
               "accuracy=0.8, agreement=0.95, learned_accuracy=0.5, hidden.match_rate=0.99, "
               "cosine=0.9 (worst population), learn.output.coincidence=0.5; --fail-over "
               "van_rossum=2, weight_rms=0.05. Any key listed under 'gate_metrics' in "
               "compare.json works too.")
    p.add_argument("source", help="spec YAML, zoo name or trained artefact")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
    p.add_argument("--samples", type=count_or_all, default=100, metavar="N",
                   help="samples for inference and scoring, or 'all' (the whole split) "
                        "(default: 100)")
    p.add_argument("--learn-samples", type=positive_int, default=None, metavar="N",
                   help="training samples for the learning phase (default: --samples)")
    p.add_argument("--no-learn", action="store_true", help="skip the learning phase")
    add_data_args(p, default_split=None)
    p.add_argument("--split", choices=("train", "val", "test", "all"), default="test",
                   help=SPLIT_HELP + "; the inference phase's (default: test; learning: train)")
    add_spikes_arg(p)
    p.add_argument("--backend", choices=("emulator", "lava"), default="emulator",
                   help=BACKEND_HELP)
    p.add_argument("--target", choices=("auto", "numpy", "cython"), default="auto",
                   help="Brian2 code generation (default: auto)")
    p.add_argument("--tau-vr", type=float, default=10.0, metavar="MS",
                   help="van Rossum time constant in ms (default: 10)")
    p.add_argument("--penalty", type=float, default=None, metavar="STEPS",
                   help="first-spike error charged for a missing first spike, in steps "
                        "(default: the sample length)")
    p.add_argument("--checkpoints", type=positive_int, default=10, metavar="K",
                   help="points on the weight trajectories while learning (default: 10)")
    p.add_argument("--raster-sample", type=int, default=0, metavar="I",
                   help="test sample drawn in raster.png (default: 0)")
    p.add_argument("--sbp-epoch", choices=("sample", "step"), default="sample",
                   help="SBP learning epoch on the fixed point (as for convert)")
    p.add_argument("--sweep-bits", default=None, metavar="LIST",
                   help="also compare at these weight precisions, e.g. 8,7,6,5,4,3")
    p.add_argument("--sweep-impulse", default=None, metavar="LIST",
                   help="also compare at these largest learning-trace impulses, e.g. "
                        "127,64,32,16,8")
    p.add_argument("--sweep-t-epoch", default=None, metavar="LIST",
                   help="also compare at these SBP learning epochs (steps dividing the sample "
                        "length), e.g. 1,10,50,100")
    p.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 if METRIC (larger is better) is below VALUE; repeatable")
    p.add_argument("--fail-over", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 if METRIC (smaller is better) is above VALUE; repeatable")
    p.add_argument("--timeout", type=float, default=3600.0, help="per Lava run timeout (s)")
    p.add_argument("--json", action="store_true", help="print compare.json instead")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args) -> int:
    from spikeport.workflows.compare import format_compare, run_compare

    report = run_compare(
        args.source, args.out, samples=args.samples, learn_samples=args.learn_samples,
        learn=not args.no_learn, backend=args.backend, target=args.target,
        dataset=args.dataset, data_dir=args.data_dir, tau_vr_ms=args.tau_vr,
        penalty=args.penalty, checkpoints=args.checkpoints, raster_sample=args.raster_sample,
        sbp_epoch=args.sbp_epoch, sweep_bits=args.sweep_bits, sweep_impulse=args.sweep_impulse,
        sweep_t_epoch=args.sweep_t_epoch, fail_under=args.fail_under,
        fail_over=args.fail_over, timeout=args.timeout, progress=not args.no_progress,
        split=args.split, spikes_file=args.spikes)
    print(json.dumps(report, indent=2) if args.json else format_compare(report))
    if not args.json:
        print(f"\nreport: {args.out}/compare.md (+ compare.json, PNGs)")
    for gate in report["gates"]:
        if not gate["passed"]:
            print(f"spikeport: gate failed: {gate['gate']} ({gate['metric']} = "
                  f"{gate['value']})", file=sys.stderr)
    return 0 if report["passed"] else 1
