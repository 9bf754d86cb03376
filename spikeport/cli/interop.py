"""`spikeport export-netx` and `report`: a network for lava-dl's netx (Loihi 2), a run folder as
one self-contained HTML page."""

from __future__ import annotations

import json


def add_export_netx(sub) -> None:
    p = sub.add_parser(
        "export-netx", help="export a converted run's network as a lava-dl netx HDF5 file",
        description="Write RUN/fixed (or RUN/fixed_learned with --learned) as the HDF5 file "
                    "lava-dl's netx loads (lava.lib.dl.netx.hdf5.Network) to run inference on "
                    "Loihi 2 or Lava: layer 0 the input, then one dense layer + CUBA neurons "
                    "per population, with the current integer weights (effective values in "
                    "vThMant units: mantissa after Lava's first-step truncation, shifted by "
                    "weight_exp), vThMant = vth, iDecay = du + 1, vDecay = dv, bias / 64. "
                    "Learning rules, SBP relays, NACA's dopamine source, homeostasis and the "
                    "teacher are left out with a note each. Refused with one line naming the "
                    "layer: anything but a feed-forward chain from one input, per-neuron "
                    "thresholds, weights beyond 8 bits after scaling, a negative weight_exp "
                    "that floors sums.",
        epilog="Each dense layer adds one step of delay, as in spikeport: an input spike at "
               "step t reaches layer k at step t + k. scripts/interop/run.sh loads the file "
               "with netx in a Python 3.10 side environment and checks its spikes on Lava "
               "against the emulator's.")
    p.add_argument("run", metavar="RUN", help="run directory written by convert, deploy or "
                                              "train --backend emulator")
    p.add_argument("-o", "--out", required=True, metavar="FILE.h5", help="netx file to write")
    p.add_argument("--learned", action="store_true",
                   help="export RUN/fixed_learned (after 'spikeport run RUN --learn')")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_export_netx)


def add_report(sub) -> None:
    p = sub.add_parser(
        "report", help="one self-contained HTML page for a run folder",
        description="Write RUN/report.html: the key numbers of every report the folder holds "
                    "(deploy, run summaries with their NeuroBench metrics, compare, energy and "
                    "SANA-FE's second opinion, quantization, continual, sweep), then each "
                    "Markdown report rendered, then every figure. Plots are embedded as data "
                    "URIs and paths are relative to the folder, so the page can be sent or "
                    "archived on its own.")
    p.add_argument("run", metavar="RUN", help="a run, compare, continual or sweep folder")
    p.add_argument("-o", "--out", default=None, metavar="FILE.html",
                   help="where to write the page (default: RUN/report.html)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args) -> int:
    from spikeport.analysis.html_report import write_report

    print(f"written: {write_report(args.run, args.out)}")
    return 0


def _cmd_export_netx(args) -> int:
    from spikeport.converters.netx import export_netx_run, format_netx

    summary = export_netx_run(args.run, args.out, learned=args.learned)
    print(json.dumps(summary, indent=2) if args.json else format_netx(summary))
    return 0
