"""The random numbers Lava 0.10's fixed-point learning engine uses, as indexable streams.

``LearningConnectionModelBitApproximate`` (the CPU model behind ``LearningDense`` with
``select_tag="fixed_pt"``) draws its rounding randomness from numpy ``default_rng``
generators. To be bit-exact we reproduce the same generators and the same *positions* in them.
What we found in ``lava/magma/core/learning/random.py`` and ``model/py/connection.py``:

Trace streams (seeded from the rule's ``rng_seed``)
    x traces: a float stream seeded ``rng_seed`` (decay rounding) and an integer stream in
    ``[0, 128)`` seeded ``rng_seed + 1`` (impulse rounding); y traces: ``rng_seed + 2`` and
    ``rng_seed + 3``. Each generator draws one value when created (position 0) and one more at
    every *advance*. The connection advances all four **twice per time step** (once after the
    pre-synaptic spikes are processed, once after the post-synaptic ones), whatever the rule.
    One value is shared by every neuron and by both (x1, x2) or all three (y1..y3) traces; the
    learning phase replays a whole epoch of trace decay with the *single* value current at the
    epoch's end (position ``2 * time_step``), so within an epoch every step uses the same
    random number. A second post-synaptic spike in an epoch rounds its impulse with the integer
    value at position ``2 * time_step - 1``.

Synaptic-variable stream (``ConnVarRandom``)
    One float per learning epoch, shared by all synapses and by dw, dd and dt, used for the
    stochastic rounding of the updated variable. Lava seeds it with the **constant 2** and
    ignores ``rng_seed``; it advances once at the start of each learning phase, so epoch ``e``
    (1-based) uses position ``e``. This is not seedable in Lava, and we do not pretend it is.

``rng_seed`` defaults to a random integer in Lava: set it, or runs are not reproducible.

Positions are explicit state (counters in :class:`~spikeport.kernels.engine.PlasticState`);
:class:`RandomStreams` maps a position to a value, caching the draws, so it behaves as a pure
function of ``(seed, position)``. Drawing a block of values from a fresh generator gives the
same sequence as Lava's one-at-a-time draws (checked in the tests).
"""

from __future__ import annotations

import numpy as np

TRACE_IMPULSE_RANDOM_HIGH = 1 << 7  # integers drawn from [0, 2**7)
CONN_VAR_SEED = 2  # ConnVarRandom's default seed, the one Lava 0.10 always uses
_BLOCK = 1024


class _Stream:
    """A lazily extended table of one generator's draws (position 0 = the draw at creation)."""

    def __init__(self, seed: int, integers: bool) -> None:
        self._rng = np.random.default_rng(seed)
        self._integers = integers
        self._values = np.empty(0, dtype=np.int64 if integers else np.float64)

    def _draw(self, count: int) -> np.ndarray:
        if self._integers:
            return self._rng.integers(0, TRACE_IMPULSE_RANDOM_HIGH, size=count, dtype=np.int64)
        return self._rng.random(count)

    @property
    def values(self) -> np.ndarray:
        """The draws made so far (read-only view)."""
        view = self._values.view()
        view.flags.writeable = False
        return view

    def at(self, position: int) -> int | float:
        if position < 0:
            raise ValueError(
                f"random stream position={position} is outside the allowed range [0, inf]"
            )
        if position >= self._values.size:
            need = max(_BLOCK, position + 1 - self._values.size)
            self._values = np.concatenate([self._values, self._draw(need)])
        return self._values[position]


class RandomStreams:
    """Lava's rounding streams for a batch of independent replicas.

    ``rng_seeds``: one trace seed per batch element (a scalar means one shared seed).
    The synaptic-variable stream is seeded with 2 for everyone, as in Lava.
    """

    def __init__(self, rng_seeds) -> None:
        seeds = np.atleast_1d(np.asarray(rng_seeds))
        if seeds.ndim != 1 or not np.issubdtype(seeds.dtype, np.integer) or seeds.min() < 0:
            raise ValueError(
                f"rng_seed={rng_seeds!r} must be a non-negative integer or a 1-D sequence of them"
            )
        self.seeds = tuple(int(s) for s in seeds)
        cache: dict[int, _Stream] = {}

        def stream(seed: int, integers: bool) -> _Stream:
            key = (seed, integers)
            if key not in cache:
                cache[key] = _Stream(seed, integers)
            return cache[key]

        self._x_decay = [stream(s, False) for s in self.seeds]
        self._x_impulse = [stream(s + 1, True) for s in self.seeds]
        self._y_decay = [stream(s + 2, False) for s in self.seeds]
        self._y_impulse = [stream(s + 3, True) for s in self.seeds]
        self._conn_var = _Stream(CONN_VAR_SEED, False)

    @property
    def batch(self) -> int:
        return len(self.seeds)

    def x_decay(self, position: int) -> np.ndarray:
        """Float in [0, 1) per batch element: rounds the decay of x1 and x2."""
        return np.array([s.at(position) for s in self._x_decay])

    def x_impulse(self, position: int) -> np.ndarray:
        """Integer in [0, 128) per batch element: rounds fractional x impulses."""
        return np.array([s.at(position) for s in self._x_impulse])

    def y_decay(self, position: int) -> np.ndarray:
        """Float in [0, 1) per batch element: rounds the decay of y1, y2 and y3."""
        return np.array([s.at(position) for s in self._y_decay])

    def y_impulse(self, position: int) -> np.ndarray:
        """Integer in [0, 128) per batch element: rounds fractional y impulses."""
        return np.array([s.at(position) for s in self._y_impulse])

    def table(self, name: str, last: int) -> np.ndarray:
        """Positions 0..last of one trace stream (``x_decay``, ``x_impulse``, ``y_decay``,
        ``y_impulse``) for every batch element, ``(B, last + 1)``: a whole run's draws at once
        for the emulator."""
        if name not in ("x_decay", "x_impulse", "y_decay", "y_impulse"):
            raise ValueError(f"stream name={name!r} is not one of x_decay, x_impulse, y_decay, "
                             "y_impulse")
        rows = []
        for stream in getattr(self, f"_{name}"):
            stream.at(last)
            rows.append(stream.values[:last + 1])
        return np.stack(rows)

    def synaptic_table(self, last: int) -> np.ndarray:
        """Positions 0..last of the synaptic stream (``(last + 1,)``): a whole run's draws."""
        self._conn_var.at(last)
        return self._conn_var.values[:last + 1].copy()

    def synaptic(self, position: int) -> float:
        """Float in [0, 1) shared by all synapses (seed 2): rounds dw/dd/dt at an epoch end."""
        return float(self._conn_var.at(position))
