"""What every command shares: the data arguments, the fixed-point ``--backend`` help, integer
checks. Defined once here, used by every command module."""

from __future__ import annotations

import argparse

DATASETS = ("digits", "mnist", "nettalk", "nmnist", "dvsgesture", "shd")


SPLIT_HELP = ("which fixed split of the dataset to use; all = the whole file (for a single "
              "MNIST IDX pair: train = first 5/8, val = next 1/8, test = last 2/8)")


def add_data_args(p: argparse.ArgumentParser, default_split: str | None = "test",
                  with_all: bool = False) -> None:
    p.add_argument("--dataset", choices=DATASETS, default=None,
                   help="dataset to encode (default: chosen from the input size: 64 → digits, "
                        "784 → mnist, 189 → nettalk, 1024 → dvsgesture)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder holding the dataset files; for MNIST, IDX files named like the "
                        "official ones (*-images-idx3-ubyte[.gz], *-labels-idx1-ubyte[.gz])")
    if default_split is not None:
        choices = ("train", "val", "test", "all") if with_all else ("train", "val", "test")
        p.add_argument("--split", choices=choices, default=default_split,
                       help=(SPLIT_HELP if with_all else "which fixed split of the dataset to "
                             "use") + f" (default: {default_split})")


def add_spikes_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spikes", default=None, metavar="FILE.npz",
                   help="run these input spikes instead of a dataset (the format `simulate` "
                        "takes: spikes (n, T, n_inputs), optional labels and sample_ids)")


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


def count_or_all(text: str) -> int | None:
    """A positive sample count, or ``all`` (None: every sample of the split)."""
    return None if text == "all" else positive_int(text)
