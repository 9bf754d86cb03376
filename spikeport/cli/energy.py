"""`spikeport energy` and `map`: op counts on chip profiles, cores and readiness."""

from __future__ import annotations

import json

from spikeport.cli.options import positive_int


def add_energy(sub) -> None:
    p = sub.add_parser(
        "energy", help="energy and time of a fixed-point run's measured op counts on chip "
                       "profiles",
        description="Price the op counts measured inside a fixed-point run "
                    "(OUT/{emulator,lava}_{infer,learn}.json) with hardware profiles: every "
                    "figure a range with its sources; operations without a published energy "
                    "are counted and reported as missing. The learning phase is also given "
                    "per epoch and to a threshold accuracy (from OUT/artefact/metrics.json), "
                    "beside backprop baselines: a numpy MLP of the same shape trained to the "
                    "same threshold (compute only, Horowitz 45 nm) and a measured H100 (whole "
                    "device). "
                    "Writes OUT/energy.json, OUT/energy.md and OUT/energy.png.")
    p.add_argument("out", metavar="OUT", help="run directory with fixed-point runs")
    p.add_argument("--profile", action="append", default=None,
                   help="profile name (loihi1, loihi2) or a .toml path; repeatable "
                        "(default: loihi1 and loihi2)")
    p.add_argument("--threshold", type=float, default=None, metavar="ACC",
                   help="validation accuracy for 'to threshold' (default: digits 0.8, "
                        "mnist 0.85, nettalk 0.5)")
    p.add_argument("--no-baselines", action="store_true",
                   help="skip the backprop baselines (the MLP trains for a few seconds)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="dataset folder for the MLP baseline (default: the artefact's, else "
                        "the dataset's default)")
    p.add_argument("--backend", choices=("lava", "emulator"), default=None,
                   help="whose run summaries to price (default: the emulator's, else Lava's; "
                        "both count the same operations)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--second-opinion", choices=("sanafe",), default=None,
                   help="also replay the inference run's input spikes on SANA-FE's Loihi "
                        "description (optional package sanafe, GPL-3.0), check its spike "
                        "rasters against the run's, and print its joules per sample beside "
                        "spikeport's ranges; writes OUT/sanafe.json and OUT/sanafe.md")
    p.add_argument("--sanafe-connections", choices=("sparse", "dense"), default="sparse",
                   help="SANA-FE synapses: sparse = nonzero weights only, as spikeport counts "
                        "(default); dense = every matrix entry, zeros included")
    p.add_argument("--sanafe-samples", type=positive_int, default=None, metavar="N",
                   help="replay only the first N samples on SANA-FE (default: all of the run)")
    p.set_defaults(func=_cmd_energy)


def add_map(sub) -> None:
    p = sub.add_parser(
        "map", help="map a network onto a chip profile's cores, with hardware readiness",
        description="Assign populations and synapses to cores of a profile and report cores, "
                    "memory per core, fan-in/out; refuse what does not fit; say per process "
                    "whether a chip implementation exists.")
    p.add_argument("source", help="run directory, fixed-point network directory or spec YAML")
    p.add_argument("--profile", default="loihi2", help="profile name or .toml (default: loihi2)")
    p.add_argument("--infer-only", action="store_true", help="map for inference (no learning)")
    p.set_defaults(func=_cmd_map)


def _cmd_energy(args) -> int:
    from spikeport.hw_profiles.energy_report import format_energy
    from spikeport.workflows.energy import run_energy

    report = run_energy(args.out, args.profile or ("loihi1", "loihi2"),
                        second_opinion=args.second_opinion,
                        sanafe_connections=args.sanafe_connections,
                        sanafe_samples=args.sanafe_samples, progress=not args.json,
                        baselines=not args.no_baselines, threshold=args.threshold,
                        data_dir=args.data_dir, backend=args.backend)
    markdown = report.pop("second_opinion_markdown", None)
    print(json.dumps(report, indent=2) if args.json else format_energy(report))
    if not args.json:
        if markdown is not None:
            print("\n" + markdown)
        print(f"\nwritten: {', '.join(report['files'].values())}")
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
