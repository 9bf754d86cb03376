"""Provenance: the versions, machine and seeds a result was made with, written beside it."""

from __future__ import annotations

import platform
import sys

import numpy as np

from spikeport import __version__


def provenance(net, **extra) -> dict:
    """Versions, machine and the network's seed and timing (``net``: a spec Network), plus
    ``extra``."""
    import brian2

    return {"spikeport": __version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "brian2": brian2.__version__,
            "machine": f"{platform.machine()} {platform.system()} ({platform.node()})",
            "seed": net.seed, "dt": net.dt, "sample_steps": net.sample_steps, **extra}
