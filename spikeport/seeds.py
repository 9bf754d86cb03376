"""Every random stream in spikeport, derived from the spec's seed.

A stream is ``SeedSequence(seed, spawn_key=(STREAM, *keys))``: independent of every other
stream, and of the order in which things are built — sample 17's input spikes are the same
whether it is simulated alone or in a batch of 6,000.
"""

from __future__ import annotations

import zlib

import numpy as np

# stream ids (never renumber: they are part of what a seed means)
WEIGHTS = 1
CONNECTIVITY = 2
INPUT_SPIKES = 3
TEACHER_SPIKES = 4
SBP_MASK = 5
NACA_NI = 6
LAVA_RNG = 7
SHUFFLE = 8


def name_key(name: str) -> int:
    """A stable integer for a name (CRC-32), for per-projection streams."""
    return zlib.crc32(name.encode("utf-8"))


def rng(seed: int, stream: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(stream, *keys)))


def int_seed(seed: int, stream: int, *keys: int, bits: int = 31) -> int:
    """An integer seed for libraries that take one (Lava's ``rng_seed``)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(stream, *keys))
    return int(ss.generate_state(1, np.uint32)[0]) % (1 << bits)
