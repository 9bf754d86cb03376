"""What every command shares: the data arguments, the fixed-point ``--backend`` help, integer
checks. Defined once here, used by every command module."""

from __future__ import annotations

import argparse

DATASETS = ("digits", "mnist", "nettalk", "nmnist", "dvsgesture", "shd")


def add_data_args(p: argparse.ArgumentParser, default_split: str | None = "test") -> None:
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="dataset to encode (default: chosen from the input size: 64 → digits, "
                        "784 → mnist, 189 → nettalk, 1024 → dvsgesture)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding the dataset files; for MNIST, IDX files named like the "
                        "official ones (*-images-idx3-ubyte[.gz], *-labels-idx1-ubyte[.gz])")
    if default_split is not None:
        p.add_argument("--split", choices=("train", "val", "test"), default=default_split,
                       help=f"which fixed split of the dataset to use (default: {default_split})")


BACKEND_HELP = ("fixed-point backend: emulator, spikeport's compiled emulator, bit-exact to Lava "
                "(same spikes, weights and op counts) and tens to hundreds of times faster "
                "(default); lava, Lava's CPU simulator (Loihi2SimCfg fixed_pt) in a subprocess, "
                "the reference (installed by `python -m spikeport.lava_processes.install`)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value
