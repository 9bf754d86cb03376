"""`spikeport validate` and `doctor`: a spec with every default; this installation."""

from __future__ import annotations

import json


def add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a spec file and print it with every default",
                       description="Load a spec, run every check, print the normalised YAML.")
    p.add_argument("spec")
    p.set_defaults(func=_cmd_validate)


def add_doctor(sub) -> None:
    p = sub.add_parser(
        "doctor", help="describe this installation (paste it into a bug report)",
        description="One screen: Python and platform, the versions of the packages spikeport "
                    "uses, whether Lava is installed, fixed for Python >= 3.11 and importable, "
                    "whether Brian2's Cython target compiles here, and the data folders "
                    "found. Exit 0 when spikeport is usable, 1 with the reason when not.")
    p.add_argument("--no-cython", action="store_true",
                   help="skip the Cython compile check (it compiles a tiny network, ~10 s the "
                        "first time)")
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    p.set_defaults(func=_cmd_doctor)


def _cmd_validate(args) -> int:
    from pathlib import Path

    from spikeport.models.spec import dump_spec, load_spec
    from spikeport.models.weights import initial_weights

    net = load_spec(args.spec)
    initial_weights(net, Path(args.spec).parent)   # weight files named by the spec: read, checked
    print(dump_spec(net), end="")
    return 0


def _cmd_doctor(args) -> int:
    from spikeport.doctor import diagnose, format_doctor

    report = diagnose(cython=not args.no_cython)
    print(json.dumps(report, indent=2) if args.json else format_doctor(report))
    return 1 if report["problems"] else 0
