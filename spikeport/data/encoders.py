"""Encoders: features in [0, 1] → input spikes, computed once and consumed by every backend.

``encode`` returns a bool array (n_samples, T, n_features): ``spikes[i, t, j]`` is True when
input ``j`` of sample ``i`` spikes in step ``t`` (DESIGN.md §3, "Input spikes are data").

Kinds (``x`` is one feature value, ``p = x · max_rate · dt`` the spike probability or the
expected spikes per step):

``poisson``
    Bernoulli per step: spike in step t iff ``u[t, j] < p`` with ``u`` uniform in [0, 1).
    Sample i draws ``u = rng.random((T, n_features))`` from its own generator
    ``default_rng(SeedSequence(seed, spawn_key=(STREAM_ID, sample_ids[i])))``, so its spikes
    depend only on (seed, sample id), never on the rest of the batch.
``regular``
    Deterministic, exact rate: the spike count by the end of step t is
    ``floor((t + 1) · p + phase)``; a spike marks each step where it increases. With
    ``phase = 0`` the first spike falls in step ``ceil(1/p) - 1`` and T steps hold
    ``floor(T·p)`` spikes. A tolerance of 1e-9 absorbs float error in ``(t + 1) · p``.
``latency``
    One spike per feature above ``threshold``, brighter earlier, linear in x: step
    ``t_min + round((1 - x) / (1 - threshold) · (t_max - t_min))`` (rounding half up), so
    x = 1 spikes at ``t_min`` and x just above the threshold near ``t_max``; x ≤ threshold
    never spikes.

Every bad parameter is a DataError naming it, its value and the allowed range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spikeport.errors import DataError
from spikeport.seeds import INPUT_SPIKES

STREAM_ID = INPUT_SPIKES  # spawn_key[0] of every input-spike stream (spikeport.seeds)
KINDS = ("poisson", "regular", "latency")
_EPS = 1e-9


# ----------------------------------------------------------------------------- validation
def _fail(name: str, value, allowed: str) -> DataError:
    return DataError(f"encoder: {name} = {value!r}; allowed: {allowed}")


def check_steps(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise _fail("T", T, "an integer >= 1 (steps per sample)")
    return int(T)


def check_dt(dt) -> float:
    if not isinstance(dt, (int, float, np.floating, np.integer)) or isinstance(dt, bool) \
            or not np.isfinite(dt) or dt <= 0:
        raise _fail("dt", dt, "a finite number > 0 (seconds per step)")
    return float(dt)


def check_rate(name: str, rate, dt: float) -> float:
    if not isinstance(rate, (int, float, np.floating, np.integer)) or isinstance(rate, bool) \
            or not np.isfinite(rate) or rate < 0 or rate * dt > 1.0 + _EPS:
        raise _fail(name, rate, f"[0, 1/dt] = [0, {1.0 / dt:g}] Hz (at most one spike per "
                                f"step of dt = {dt:g} s)")
    return float(rate)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise _fail("seed", seed, "an integer >= 0")
    return int(seed)


def check_features(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise _fail("X.shape", X.shape, "(n_samples, n_features)")
    if X.dtype == bool:
        X = X.astype(np.float64)
    if not np.issubdtype(X.dtype, np.number):
        raise _fail("X.dtype", str(X.dtype), "a numeric dtype")
    if X.size:
        if not np.isfinite(X).all():
            raise _fail("X", "non-finite values", "values in [0, 1]")
        lo, hi = float(X.min()), float(X.max())
        if lo < 0.0 or hi > 1.0:
            raise _fail("X", f"values in [{lo:g}, {hi:g}]", "values in [0, 1] (scale the "
                        "features first)")
    return X


def check_sample_ids(sample_ids, n: int) -> np.ndarray:
    if sample_ids is None:
        return np.arange(n, dtype=np.int64)
    ids = np.asarray(sample_ids)
    if ids.shape != (n,):
        raise _fail("sample_ids.shape", ids.shape, f"({n},), one id per sample")
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0):
        raise _fail("sample_ids", f"dtype {ids.dtype}, min {ids.min()}", "integers >= 0")
    return ids.astype(np.int64)


def sample_rng(seed: int, sample_id: int, stream: int = STREAM_ID) -> np.random.Generator:
    """The generator of one sample's spikes: a function of (seed, stream, sample id) only."""
    return np.random.default_rng(np.random.SeedSequence(int(seed),
                                                        spawn_key=(stream, int(sample_id))))


# ----------------------------------------------------------------------------- encoders
def poisson_rate(X, T: int, dt: float, max_rate_hz: float,
                 rng: np.random.Generator | Sequence[np.random.Generator]) -> np.ndarray:
    """Bernoulli spikes with probability ``x · max_rate_hz · dt`` per step.

    ``rng``: one generator per sample (as ``encode`` passes: batch-independent), or a single
    generator used for the samples in order (then sample i depends on samples before it).
    """
    X = check_features(X)
    T, dt = check_steps(T), check_dt(dt)
    rate = check_rate("max_rate", max_rate_hz, dt)
    n, f = X.shape
    rngs = [rng] * n if isinstance(rng, np.random.Generator) else list(rng)
    if len(rngs) != n:
        raise _fail("rng", f"{len(rngs)} generators", f"one per sample ({n})")
    p = np.minimum(X * (rate * dt), 1.0)
    out = np.empty((n, T, f), dtype=bool)
    for i in range(n):
        np.less(rngs[i].random((T, f)), p[i], out=out[i])
    return out


def regular_rate(X, T: int, dt: float, max_rate_hz: float, phase: float = 0.0) -> np.ndarray:
    """Deterministic trains at rate ``x · max_rate_hz``: count by step t = floor((t+1)p + phase)."""
    X = check_features(X)
    T, dt = check_steps(T), check_dt(dt)
    rate = check_rate("max_rate", max_rate_hz, dt)
    if not isinstance(phase, (int, float, np.floating, np.integer)) or not 0.0 <= phase < 1.0:
        raise _fail("phase", phase, "a number in [0, 1)")
    p = np.minimum(X * (rate * dt), 1.0)                # (n, f)
    steps = np.arange(T + 1, dtype=np.float64)[:, None]  # k = 0..T
    out = np.empty((X.shape[0], T, X.shape[1]), dtype=bool)
    for i in range(X.shape[0]):
        counts = np.floor(steps * p[i] + phase + _EPS)   # spikes by the end of step k-1
        np.greater(counts[1:], counts[:-1], out=out[i])
    return out


def latency(X, T: int, t_min_steps: int = 0, t_max_steps: int | None = None,
            threshold: float = 0.0) -> np.ndarray:
    """One spike per feature above ``threshold``, at a step linear in brightness (see module)."""
    X = check_features(X)
    T = check_steps(T)
    t_max = T - 1 if t_max_steps is None or t_max_steps == -1 else t_max_steps
    for name, v, lo in (("t_min", t_min_steps, 0), ("t_max", t_max, t_min_steps)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= T - 1:
            raise _fail(name, v, f"an integer in [{lo}, {T - 1}] (T = {T})")
    if not isinstance(threshold, (int, float, np.floating, np.integer)) \
            or not 0.0 <= threshold <= 1.0:
        raise _fail("threshold", threshold, "a number in [0, 1]")
    n, f = X.shape
    out = np.zeros((n, T, f), dtype=bool)
    fire = X > threshold
    if threshold >= 1.0 or not fire.any():
        return out
    frac = (1.0 - X) / (1.0 - threshold)
    step = t_min_steps + np.floor(frac * (t_max - t_min_steps) + 0.5).astype(np.int64)
    step = np.clip(step, t_min_steps, t_max)
    i, j = np.nonzero(fire)
    out[i, step[i, j], j] = True
    return out


_ALIASES = {"max_rate_hz": "max_rate", "t_min_steps": "t_min", "t_max_steps": "t_max"}
_PARAMS = {"poisson": {"max_rate": 100.0}, "regular": {"max_rate": 100.0, "phase": 0.0},
           "latency": {"t_min": 0, "t_max": None, "threshold": 0.0}}


def encode(X, kind: str, T: int, dt: float, seed: int = 0, sample_ids=None,
           **params) -> np.ndarray:
    """Encode features X (n_samples, n_features) in [0, 1] → bool (n_samples, T, n_features).

    ``kind``: ``poisson`` (params ``max_rate`` Hz, default 100), ``regular`` (``max_rate``,
    ``phase`` in [0, 1), default 0) or ``latency`` (``t_min``, ``t_max`` steps, default 0 and
    T-1 (-1 also means T-1), ``threshold``, default 0). ``max_rate_hz``, ``t_min_steps`` and
    ``t_max_steps`` are accepted as aliases. ``sample_ids``: one non-negative integer per
    sample (default 0..n-1); a Poisson sample's spikes depend only on (seed, its id).
    """
    if kind not in KINDS:
        raise _fail("kind", kind, ", ".join(KINDS))
    X = check_features(X)
    T, dt, seed = check_steps(T), check_dt(dt), check_seed(seed)
    ids = check_sample_ids(sample_ids, X.shape[0])
    given = {}
    for key, value in params.items():
        name = _ALIASES.get(key, key)
        if name not in _PARAMS[kind]:
            raise _fail(f"{kind}.{key}", value, f"parameters {', '.join(_PARAMS[kind])}")
        if name in given:
            raise _fail(key, value, f"only one of {name} and its alias")
        given[name] = value
    kw = {**_PARAMS[kind], **given}
    if kind == "poisson":
        return poisson_rate(X, T, dt, kw["max_rate"], [sample_rng(seed, i) for i in ids])
    if kind == "regular":
        return regular_rate(X, T, dt, kw["max_rate"], kw["phase"])
    return latency(X, T, kw["t_min"], kw["t_max"], kw["threshold"])
