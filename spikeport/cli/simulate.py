"""`spikeport simulate`: the Brian2 reference on encoded samples."""

from __future__ import annotations

import json

from spikeport.cli.options import add_data_args, positive_int


def add_simulate(sub) -> None:
    p = sub.add_parser(
        "simulate", help="run the Brian2 float reference on encoded samples",
        description="Encode samples of a dataset with the spec's encoder and seed, run them "
                    "through the Brian2 reference in one run() and print spike statistics per "
                    "population and the (untrained) readout accuracy.")
    p.add_argument("spec", help="network spec (YAML, schema spikeport/1)")
    add_data_args(p)
    p.add_argument("--samples", type=positive_int, default=50,
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


def _cmd_simulate(args) -> int:
    from spikeport.workflows.simulate import format_summary, run_simulate

    summary = run_simulate(args.spec, dataset=args.dataset, data_dir=args.data_dir,
                           samples=args.samples, split=args.split, out=args.out,
                           target=args.target, progress=not args.no_progress,
                           spikes_file=args.spikes)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
