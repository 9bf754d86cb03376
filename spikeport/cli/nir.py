"""`spikeport import-nir` and `export-nir`: networks in and out through NIR."""

from __future__ import annotations

import json
import sys

from spikeport.cli.options import positive_int


def add_import_nir(sub) -> None:
    p = sub.add_parser(
        "import-nir", help="import a NIR graph (snnTorch, Norse, Sinabs, ...) as a network",
        description="Read a Neuromorphic Intermediate Representation file (Input, Affine/Linear, "
                    "CubaLIF/LIF, Output; nested subgraphs and Flatten are inlined) and write a "
                    "spikeport network. OUT is a trained-artefact directory (spec.yaml + "
                    "weights.npz, and the import report nir_import.json) that convert, deploy, "
                    "evaluate, map and train take as is: deploy does not retrain an artefact, "
                    "so 'spikeport deploy OUT -o RUN' and then 'spikeport energy RUN' cost the "
                    "imported network directly; OUT/spec.yaml also loads on its own. An OUT "
                    "ending in .yaml writes a spec and a .npz of weights beside it instead "
                    "(deploy would train such a spec first). NIR's ODE is discretised with "
                    "--dt and --discretisation and its gain (r, w_in) folded into the weights; "
                    "the file's metadata is only compared with them. Graphs spikeport cannot "
                    "express (convolutions, pooling, Affine biases, loops through several "
                    "populations, non-spiking or leak-free neurons, per-neuron time "
                    "constants, ...) are refused with one line naming the node.",
        epilog="spikeport delivers spikes one step after they are emitted (Lava's Dense "
               "delay): one step later per layer than in snnTorch, which delivers within "
               "the step.")
    p.add_argument("nir_file", metavar="FILE.nir", help="the NIR file (HDF5, nir 1.0)")
    p.add_argument("-o", "--out", required=True, metavar="OUT",
                   help="artefact directory (recommended), or SPEC.yaml for spec + .npz")
    p.add_argument("--dt", type=float, default=None, metavar="SECONDS",
                   help="time step the source framework stepped the ODE with (default: 0.001; "
                        "a spyx file's own, from r = 1 - dt/tau_mem; snnTorch writes tau = "
                        "dt/(1 - beta) with dt = 1e-4)")
    p.add_argument("--convention", choices=("auto", "nir", "spyx"), default="auto",
                   help="what the file's neuron parameters mean: nir, NIR's equations as "
                        "written (snnTorch, Norse, spikeport); spyx, r = beta and w_in = 1 are "
                        "decays and the input gain is 1 (spyx's to_nir); auto, spyx when the "
                        "graph looks written by spyx (nodes input/output, no metadata, r = 1 - "
                        "dt/tau_mem for one dt, w_in = 1), else nir (default: auto)")
    p.add_argument("--discretisation", choices=("euler", "exp"), default="euler",
                   help="euler: decay 1 - dt/tau, input gain dt/tau (snnTorch's "
                        "convention; default); exp: decay exp(-dt/tau), input gain "
                        "1 - exp(-dt/tau)")
    p.add_argument("--reset", choices=("value", "subtract"), default="value",
                   help="how the source reset v after a spike: value (NIR's v <- v_reset, "
                        "snnTorch reset_mechanism='zero'; default) or subtract (refused: "
                        "spikeport and Loihi reset to a value)")
    p.add_argument("--spec-dt", type=float, default=None, metavar="SECONDS",
                   help="time step of the spikeport network (default: --dt); per-step "
                        "decays are kept, so the time constants scale with it")
    p.add_argument("--rules", default=None, metavar="YAML",
                   help="what NIR does not carry: learning rules, homeostasis, sign modes, "
                        "weight bounds, connectivity, encoder, teacher, readout, sample length "
                        "(the FILE.spikeport.yaml that export-nir writes)")
    p.add_argument("--name", default=None, help="network name (default: the file's stem)")
    p.add_argument("--sample-steps", type=positive_int, default=None, metavar="N",
                   help="steps per sample (default: from --rules, else 100)")
    p.add_argument("--classes", type=positive_int, default=None, metavar="N",
                   help="add a readout with N classes on the population feeding the Output "
                        "node")
    p.add_argument("--readout", default=None, metavar="POP",
                   help="the readout population when several feed Output nodes")
    p.add_argument("--no-probe", action="store_true",
                   help="skip the probe run (a few samples of random input through the "
                        "Brian2 reference) that warns when the imported network is silent or "
                        "saturated")
    p.add_argument("--json", action="store_true", help="print the import report as JSON")
    p.set_defaults(func=_cmd_import_nir)


def add_export_nir(sub) -> None:
    p = sub.add_parser(
        "export-nir", help="export a spec, zoo network or artefact as a NIR graph",
        description="Write the network as a NIR graph (Input -> Linear -> CubaLIF -> Output) "
                    "for snnTorch, Norse, Sinabs, Rockpool, lava-dl, ...: weights (out, in), "
                    "tau in seconds, r = 1/g_m and w_in = 1/g_s so that the ODE, stepped with "
                    "the dt and discretisation written in the graph metadata, adds input "
                    "with gain 1 as spikeport does; the bias becomes v_leak. Learning rules "
                    "and homeostasis are not part of NIR: they are dropped from the graph "
                    "with a warning and written, with the encoder, readout and the rest NIR "
                    "does not carry, to FILE.spikeport.yaml beside it (import-nir --rules "
                    "takes it back). Refractory periods, STP and axonal delays are refused.")
    p.add_argument("source", help="spec YAML, zoo name, or trained artefact (its per-neuron "
                                  "thresholds are exported)")
    p.add_argument("-o", "--out", required=True, metavar="FILE.nir", help="NIR file to write")
    p.add_argument("--discretisation", choices=("euler", "exp"), default="euler",
                   help="how the written tau should be stepped: euler writes tau = "
                        "dt/(1 - decay) as snnTorch reads it (default), exp writes tau itself")
    p.add_argument("--time-step", type=float, default=None, metavar="SECONDS",
                   help="write the ODE as stepped with this dt (default: the network's); the "
                        "per-step decays are kept. snnTorch's importer assumes 1e-4")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_export_nir)


def _cmd_import_nir(args) -> int:
    from spikeport.converters.nir import format_import
    from spikeport.workflows.nir import import_and_probe

    report = import_and_probe(args.nir_file, args.out, probe=not args.no_probe, dt=args.dt,
                              discretisation=args.discretisation, reset=args.reset,
                              convention=args.convention, spec_dt=args.spec_dt,
                              extras=args.rules, name=args.name,
                              sample_steps=args.sample_steps, readout_classes=args.classes,
                              readout_population=args.readout)
    print(json.dumps(report, indent=2) if args.json else format_import(report))
    for warning in report.get("probe", {}).get("warnings", []):
        print(f"spikeport: warning: {warning}", file=sys.stderr)
    return 0


def _cmd_export_nir(args) -> int:
    from spikeport.converters.nir import export_nir_to, format_export

    summary = export_nir_to(args.source, args.out, discretisation=args.discretisation,
                            time_step=args.time_step)
    print(json.dumps(summary, indent=2) if args.json else format_export(summary))
    for warning in summary["warnings"]:
        print(f"spikeport: warning: {warning}", file=sys.stderr)
    return 0
