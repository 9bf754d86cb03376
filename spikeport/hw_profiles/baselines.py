"""Backprop baselines for the learning-phase energy reports, costed two ways.

**Compute only** (compared with a chip's *dynamic* energy): a numpy MLP of the spiking
network's shape, m-n-C (input size, hidden size, number of classes), sigmoid hidden layer,
softmax + cross-entropy, plain SGD, trains on the same split of the same dataset until its
validation accuracy reaches the same threshold as the spiking network's. Every arithmetic
operation it performs is counted from the shapes of the arrays it actually multiplies, and
priced with an operations profile (``horowitz_45nm.toml``: 4.6 pJ per 32-bit float MAC, 0.9 pJ
per add, 3.7 pJ per mult; exp and division have no figure and are counted, not priced). For
a minibatch of b samples:

* forward MACs = b·m·n + b·n·C (``x·W1``, ``h·W2``);
* backward MACs = b·n·C (``hᵀ·δ2``) + b·n·C (``δ2·W2ᵀ``) + b·m·n (``xᵀ·δ1``);
* update MACs = m·n + n·C + n + C (``W -= lr·dW``, one multiply-add per parameter and step);
* adds: bias b·(n + C), sigmoid b·n, softmax max-shift and sum 2·b·C, ``p − y`` b·C,
  ``1 − h`` b·n, bias gradients b·(n + C); mults: ``δ2/b`` b·C, ``δ·h·(1−h)`` 2·b·n;
  exp: b·(n + C); div: b·(n + C). Comparisons (the softmax's max) are not counted.

Validation checks (forward passes over the validation split) are counted apart and not
included, as the spiking network's validation runs are not in its learning energy.

An optional memory term (reported separately, never mixed into "compute only"): per step each
weight matrix moves 32-bit words — W1: read forward, written as dW1, then W1 and dW1 read and
W1 written by the update (5·m·n words); W2: the same plus its read in backward (6·n·C) — at
two words per 64-bit access, priced at the smallest memory level of the profile that holds
the matrix and its gradient (8 bytes per parameter), or at DRAM beyond the last level.
Activation and gradient vectors (a few hundred words per sample) are left out and the
method says so.

**Whole device** (compared with a chip's *total* energy, dynamic + static): the measured
NVIDIA H100 runs in ``gpu_h100.toml`` (NVML whole-board counter; ``../shared/measurements``):
energy per training sample = J / training samples of each run, to threshold = J of each run;
ranges span the measured batch sizes.

The papers' cost metric is reported beside both: epochs to threshold × (m·n + n·k + n).

Ratios are never a single number: :func:`ratio` divides ranges end to end
(low = a.low / b.high, high = a.high / b.low) and carries its method.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from spikeport import seeds
from spikeport.data.registry import load_dataset
from spikeport.errors import DataError, SpecError
from spikeport.hw_profiles.profile import (
    HERE,
    Quantity,
    parse_quantity,
    profile_kind,
    read_profile_toml,
)

PJ = 1e-12
WORD_BYTES = 4            # float32
ACCESS_BYTES = 8          # one 64-bit access moves two float32 words
MLP_KEY = seeds.name_key("mlp_baseline")
# validation-accuracy thresholds per dataset (as benchmarks/accuracy.py uses)
DEFAULT_THRESHOLDS = {"digits": 0.8, "mnist": 0.85, "nettalk": 0.5}
OPS_KEYS = {"fp32_mac": "pJ", "fp32_add": "pJ", "fp32_mult": "pJ", "fp32_exp": "pJ",
            "fp32_div": "pJ"}


# ---------------------------------------------------------------------------------------------
# baseline profiles

@dataclass(frozen=True)
class OpsProfile:
    """Energy per arithmetic operation and per 64-bit memory access (by capacity)."""

    name: str
    title: str
    path: str
    ops: dict[str, Quantity]
    memory: tuple[tuple[int, Quantity], ...]      # (capacity in bytes, energy per access)
    dram: Quantity

    def access(self, working_set_bytes: int) -> tuple[str, Quantity]:
        """The smallest memory level holding ``working_set_bytes``, and its access energy."""
        for cap, q in self.memory:
            if working_set_bytes <= cap:
                size = f"{cap / 2**20:g} MB" if cap >= 2**20 else f"{cap / 2**10:g} KB"
                return f"{size} SRAM", q
        return "DRAM", self.dram


@dataclass(frozen=True)
class DeviceRun:
    batch: int
    epochs_to_threshold: int
    accuracy: float
    train_samples: int
    seconds: Quantity
    energy: Quantity


@dataclass(frozen=True)
class DeviceProfile:
    """A whole-device measurement of backprop training (what, how, and each run's numbers)."""

    name: str
    title: str
    path: str
    measurement: dict
    idle_power: Quantity
    runs: tuple[DeviceRun, ...]


def _int(where: str, key: str, x, low: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < low:
        raise SpecError(f"{where}: {key} = {x!r} is invalid; allowed: an integer >= {low}")
    return x


def _frac(where: str, key: str, x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x <= 1:
        raise SpecError(f"{where}: {key} = {x!r} is invalid; allowed: a number in (0, 1]")
    return float(x)


def _ops_profile(where: str, data: dict) -> OpsProfile:
    ops_t = data.get("ops")
    if not isinstance(ops_t, dict):
        raise SpecError(f"{where}: missing table [ops]")
    ops = {}
    for key, unit in OPS_KEYS.items():
        if key not in ops_t:
            raise SpecError(f"{where}: [ops] is missing {key!r} (give it with status 'unknown' "
                            "if no figure exists)")
        ops[key] = parse_quantity(where, f"ops.{key}", ops_t[key], unit)
    extra = sorted(set(ops_t) - set(OPS_KEYS))
    if extra:
        raise SpecError(f"{where}: [ops] has unknown key {extra[0]!r}; allowed: "
                        f"{', '.join(OPS_KEYS)}")
    if not ops["fp32_mac"].known:
        raise SpecError(f"{where}: ops.fp32_mac must have a number (it prices every MAC)")
    levels = data.get("memory")
    if not isinstance(levels, list) or not levels:
        raise SpecError(f"{where}: missing [[memory]] levels (capacity_bytes, access_64b)")
    memory = []
    for i, lev in enumerate(levels):
        w = f"memory[{i}]"
        if not isinstance(lev, dict) or set(lev) != {"capacity_bytes", "access_64b"}:
            raise SpecError(f"{where}: {w} needs exactly capacity_bytes and access_64b")
        cap = _int(where, f"{w}.capacity_bytes", lev["capacity_bytes"])
        q = parse_quantity(where, f"{w}.access_64b", lev["access_64b"], "pJ")
        if not q.known:
            raise SpecError(f"{where}: {w}.access_64b must have a number")
        if memory and cap <= memory[-1][0]:
            raise SpecError(f"{where}: {w}.capacity_bytes = {cap} is invalid; allowed: > "
                            f"{memory[-1][0]} (levels from small to large)")
        memory.append((cap, q))
    dram_t = data.get("dram")
    if not isinstance(dram_t, dict) or "access_64b" not in dram_t:
        raise SpecError(f"{where}: missing [dram] access_64b")
    dram = parse_quantity(where, "dram.access_64b", dram_t["access_64b"], "pJ")
    if not dram.known:
        raise SpecError(f"{where}: dram.access_64b must have a number")
    return OpsProfile(data["name"], data["title"], where, ops, tuple(memory), dram)


def _device_profile(where: str, data: dict) -> DeviceProfile:
    m = data.get("measurement")
    if not isinstance(m, dict):
        raise SpecError(f"{where}: missing table [measurement]")
    for key in ("device", "script", "raw", "dataset", "threshold_split"):
        if not isinstance(m.get(key), str):
            raise SpecError(f"{where}: measurement.{key} is missing (a string)")
    net = m.get("network")
    if not (isinstance(net, list) and len(net) >= 2
            and all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in net)):
        raise SpecError(f"{where}: measurement.network = {net!r} is invalid; allowed: a list "
                        "of layer sizes, each an integer >= 1")
    _int(where, "measurement.train_samples_per_epoch", m.get("train_samples_per_epoch"))
    _frac(where, "measurement.threshold", m.get("threshold"))
    if "idle_power" not in m:
        raise SpecError(f"{where}: measurement.idle_power is missing")
    idle = parse_quantity(where, "measurement.idle_power", m["idle_power"], "W")
    facts = {k: v for k, v in m.items() if k != "idle_power"}
    runs_t = data.get("runs")
    if not isinstance(runs_t, list) or not runs_t:
        raise SpecError(f"{where}: missing [[runs]] (each: batch, epochs_to_threshold, "
                        "accuracy, train_samples, seconds, energy)")
    runs = []
    allowed = {"batch", "epochs_to_threshold", "accuracy", "train_samples", "seconds", "energy"}
    for i, r in enumerate(runs_t):
        w = f"runs[{i}]"
        if not isinstance(r, dict) or set(r) != allowed:
            got = sorted(set(r) ^ allowed) if isinstance(r, dict) else [r]
            raise SpecError(f"{where}: {w} needs exactly {', '.join(sorted(allowed))} "
                            f"(wrong or missing: {got[0]})")
        sec = parse_quantity(where, f"{w}.seconds", r["seconds"], "s")
        en = parse_quantity(where, f"{w}.energy", r["energy"], "J")
        if not (sec.known and en.known):
            raise SpecError(f"{where}: {w}: seconds and energy must have numbers")
        runs.append(DeviceRun(_int(where, f"{w}.batch", r["batch"]),
                              _int(where, f"{w}.epochs_to_threshold", r["epochs_to_threshold"]),
                              _frac(where, f"{w}.accuracy", r["accuracy"]),
                              _int(where, f"{w}.train_samples", r["train_samples"]), sec, en))
    return DeviceProfile(data["name"], data["title"], where, facts, idle, tuple(runs))


def load_baseline(name_or_path: str | Path) -> OpsProfile | DeviceProfile:
    """A bundled baseline profile by name (``horowitz_45nm``, ``gpu_h100``) or a TOML path.
    The top-level ``kind`` says which: ``baseline_ops`` or ``baseline_device``."""
    where, data = read_profile_toml(name_or_path, "baseline profile", available_baselines())
    kind = data.get("kind")
    if kind == "baseline_ops":
        return _ops_profile(where, data)
    if kind == "baseline_device":
        return _device_profile(where, data)
    raise SpecError(f"{where}: kind = {kind!r} is invalid for a baseline profile; allowed: "
                    "'baseline_ops', 'baseline_device'")


def available_baselines() -> list[str]:
    """Bundled baseline profiles (files whose ``kind`` is a baseline kind)."""
    return sorted(p.stem for p in HERE.glob("*.toml")
                  if profile_kind(p) in ("baseline_ops", "baseline_device"))


# ---------------------------------------------------------------------------------------------
# ranges (the same {"low", "high"} form as the chip reports)

def _r(low: float, high: float | None = None) -> dict:
    return {"low": float(low), "high": float(low if high is None else high)}


def _qr(q: Quantity, unit: float = 1.0) -> dict:
    return _r(q.low * unit, q.high * unit)


def _src(q: Quantity) -> dict:
    return {"value": q.describe(), "status": q.status, "source": q.source}


def ratio(a: dict, b: dict, method: str) -> dict:
    """a / b for ranges, end to end: low = a.low / b.high, high = a.high / b.low (the widest
    honest interval), with the method that produced it."""
    if b["low"] <= 0 or b["high"] <= 0:
        raise ValueError(f"ratio: the denominator range {b} must be > 0")
    return {"low": a["low"] / b["high"], "high": a["high"] / b["low"], "method": method}


def paper_cost(m: int, n: int, k: int, epochs: float | None) -> dict:
    """The SBP paper's cost metric: epochs to threshold × per-epoch complexity m·n + n·k + n."""
    per_epoch = m * n + n * k + n
    return {"per_epoch": per_epoch, "epochs": epochs,
            "to_threshold": None if epochs is None else epochs * per_epoch,
            "formula": f"epochs × (m·n + n·k + n) = epochs × ({m}·{n} + {n}·{k} + {n})"}


# ---------------------------------------------------------------------------------------------
# the MLP, counting its own operations

@dataclass
class OpCounts:
    """Arithmetic and weight traffic of an MLP run (32-bit floats)."""

    forward_mac: int = 0
    backward_mac: int = 0
    update_mac: int = 0
    add: int = 0
    mult: int = 0
    exp: int = 0
    div: int = 0
    words_w1: int = 0
    words_w2: int = 0

    def __add__(self, other: OpCounts) -> OpCounts:
        return OpCounts(*(getattr(self, f.name) + getattr(other, f.name)
                          for f in fields(self)))

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def macs(self) -> int:
        return self.forward_mac + self.backward_mac + self.update_mac


class MLP:
    """m-n-C, sigmoid hidden, softmax output; weights U(±√(6/(fan_in+fan_out))), biases 0,
    drawn from the spec seed's WEIGHTS stream (key ``mlp_baseline``)."""

    def __init__(self, sizes: tuple[int, int, int], seed: int):
        m, n, c = sizes
        if min(sizes) < 1:
            raise ValueError(f"MLP sizes {sizes} must all be >= 1")
        rng = seeds.rng(seed, seeds.WEIGHTS, MLP_KEY)
        b1, b2 = math.sqrt(6 / (m + n)), math.sqrt(6 / (n + c))
        self.sizes = sizes
        self.W1 = rng.uniform(-b1, b1, (m, n)).astype(np.float32)
        self.W2 = rng.uniform(-b2, b2, (n, c)).astype(np.float32)
        self.b1 = np.zeros(n, np.float32)
        self.b2 = np.zeros(c, np.float32)

    def forward(self, x: np.ndarray, k: OpCounts) -> tuple[np.ndarray, np.ndarray]:
        b, (m, n, c) = x.shape[0], self.sizes
        z1 = x @ self.W1 + self.b1
        h = 1.0 / (1.0 + np.exp(-z1))
        z2 = h @ self.W2 + self.b2
        z2 = z2 - z2.max(axis=1, keepdims=True)
        e = np.exp(z2)
        p = e / e.sum(axis=1, keepdims=True)
        k.forward_mac += b * m * n + b * n * c
        k.add += b * (n + c) + b * n + 2 * b * c      # biases, 1 + exp(-z), max shift + sum
        k.exp += b * (n + c)
        k.div += b * (n + c)
        k.words_w1 += m * n
        k.words_w2 += n * c
        return h, p

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float, k: OpCounts) -> None:
        b, (m, n, c) = x.shape[0], self.sizes
        h, p = self.forward(x, k)
        d2 = p
        d2[np.arange(b), y] -= 1.0
        d2 *= np.float32(1.0 / b)
        dW2 = h.T @ d2
        db2 = d2.sum(axis=0)
        dh = d2 @ self.W2.T
        d1 = dh * h * (1.0 - h)
        dW1 = x.T @ d1
        db1 = d1.sum(axis=0)
        self.W1 -= np.float32(lr) * dW1
        self.W2 -= np.float32(lr) * dW2
        self.b1 -= np.float32(lr) * db1
        self.b2 -= np.float32(lr) * db2
        k.backward_mac += 2 * b * n * c + b * m * n
        k.update_mac += m * n + n * c + n + c
        k.add += b * c + b * n + b * (n + c)           # p − y, 1 − h, bias gradients
        k.mult += b * c + 2 * b * n                    # δ2/b, δ·h·(1−h)
        k.words_w1 += 4 * m * n                        # write dW1; read W1, dW1; write W1
        k.words_w2 += n * c + 4 * n * c                # read in backward; dW2 and update

    def predict(self, X: np.ndarray, k: OpCounts) -> np.ndarray:
        return self.forward(X, k)[1].argmax(axis=1)


@dataclass
class MLPRun:
    """A backprop run to a validation-accuracy threshold."""

    sizes: tuple[int, int, int]
    batch: int
    lr: float
    seed: int
    threshold: float
    epoch_samples: int
    max_epochs: int
    checks_per_epoch: int
    curve: list[tuple[int, float]] = field(default_factory=list)   # (samples seen, val acc)
    epoch_curve: list[float] = field(default_factory=list)         # val acc after epoch e
    epochs_to_threshold: int | None = None
    samples_to_threshold_fine: int | None = None
    train_counts: OpCounts = field(default_factory=OpCounts)       # up to the stop
    eval_counts: OpCounts = field(default_factory=OpCounts)
    samples_trained: int = 0
    wall_time_s: float = 0.0

    @property
    def reached(self) -> bool:
        return self.epochs_to_threshold is not None

    def as_dict(self) -> dict:
        per_sample = {k: v / self.samples_trained for k, v in self.train_counts.as_dict().items()}
        return {"sizes": list(self.sizes), "batch": self.batch, "lr": self.lr, "seed": self.seed,
                "threshold": self.threshold, "threshold_split": "val",
                "epoch_samples": self.epoch_samples, "max_epochs": self.max_epochs,
                "checks_per_epoch": self.checks_per_epoch,
                "epochs_to_threshold": self.epochs_to_threshold,
                "samples_to_threshold_fine": self.samples_to_threshold_fine,
                "samples_trained": self.samples_trained,
                "epoch_curve_val": self.epoch_curve,
                "curve_val": [list(x) for x in self.curve],
                "train_counts": self.train_counts.as_dict(),
                "train_counts_per_sample": per_sample,
                "train_macs_per_sample": self.train_counts.macs / self.samples_trained,
                "eval_counts": self.eval_counts.as_dict(), "wall_time_s": self.wall_time_s}


def train_mlp(X: np.ndarray, y: np.ndarray, Xv: np.ndarray, yv: np.ndarray, n_hidden: int,
              n_classes: int, threshold: float, seed: int, batch: int = 1, lr: float = 0.05,
              max_epochs: int = 20, checks_per_epoch: int = 10) -> MLPRun:
    """SGD (shuffled per epoch from the seed's SHUFFLE stream) until the validation accuracy,
    checked at the end of every epoch, first reaches ``threshold`` (or ``max_epochs``).
    Validation is also checked ``checks_per_epoch`` times within each epoch, for the finer
    ``samples_to_threshold_fine``; validation work is counted apart from training."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold = {threshold} must be in (0, 1]")
    if batch < 1 or lr <= 0 or max_epochs < 1 or checks_per_epoch < 1:
        raise ValueError("batch, max_epochs, checks_per_epoch must be >= 1 and lr > 0")
    X = np.ascontiguousarray(X, np.float32)
    Xv = np.ascontiguousarray(Xv, np.float32)
    if X.ndim != 2 or Xv.shape[1:] != X.shape[1:] or len(y) != len(X) or len(yv) != len(Xv):
        raise DataError(f"MLP baseline: inconsistent data shapes {X.shape}, {Xv.shape}")
    sizes = (X.shape[1], n_hidden, n_classes)
    net = MLP(sizes, seed)
    run = MLPRun(sizes, batch, lr, seed, threshold, len(X), max_epochs, checks_per_epoch)
    n_steps = math.ceil(len(X) / batch)
    check_at = {math.ceil(n_steps * (i + 1) / checks_per_epoch) for i in range(checks_per_epoch)}
    t0 = time.perf_counter()
    seen = 0
    for epoch in range(1, max_epochs + 1):
        order = seeds.rng(seed, seeds.SHUFFLE, MLP_KEY, epoch).permutation(len(X))
        for step in range(1, n_steps + 1):
            idx = order[(step - 1) * batch: step * batch]
            net.train_step(X[idx], y[idx], lr, run.train_counts)
            seen += len(idx)
            if step in check_at:
                acc = float((net.predict(Xv, run.eval_counts) == yv).mean())
                run.curve.append((seen, acc))
                if acc >= threshold and run.samples_to_threshold_fine is None:
                    run.samples_to_threshold_fine = seen
        run.epoch_curve.append(run.curve[-1][1])
        if run.epoch_curve[-1] >= threshold:
            run.epochs_to_threshold = epoch
            break
    run.samples_trained = seen
    run.wall_time_s = time.perf_counter() - t0
    return run


# ---------------------------------------------------------------------------------------------
# pricing

def mac_energy(counts: OpCounts, samples: int, sizes: tuple[int, int, int],
               profile: OpsProfile | str = "horowitz_45nm", batch: int = 1) -> dict:
    """Compute-only energy of ``counts`` (over ``samples`` training samples) on an operations
    profile, per category, plus the separate weight-memory term (module docstring)."""
    prof = profile if isinstance(profile, OpsProfile) else load_baseline(profile)
    if not isinstance(prof, OpsProfile):
        raise SpecError(f"{prof.path}: a '{prof.name}' profile has no per-operation energies; "
                        "allowed: an operations profile (kind = 'baseline_ops')")
    if samples < 1:
        raise ValueError(f"samples = {samples} must be >= 1")
    O = prof.ops
    cats = {}

    def cat(name, count, q, note):
        cats[name] = {"count": int(count), "energy_J": _r(count * q.low * PJ, count * q.high *
                                                           PJ), "per_op": [_src(q)],
                      "note": note}

    cat("forward_macs", counts.forward_mac, O["fp32_mac"], "x·W1 and h·W2")
    cat("backward_macs", counts.backward_mac, O["fp32_mac"], "hᵀ·δ2, δ2·W2ᵀ, xᵀ·δ1")
    cat("update_macs", counts.update_mac, O["fp32_mac"], "W -= lr·dW, every parameter per step")
    cat("adds", counts.add, O["fp32_add"], "biases, sigmoid, softmax, p − y, 1 − h, bias grads")
    cat("mults", counts.mult, O["fp32_mult"], "δ2/b and δ·h·(1−h)")
    missing = []
    for key, cnt in (("fp32_exp", counts.exp), ("fp32_div", counts.div)):
        q = O[key]
        if q.known:
            cat(key.split("_")[1], cnt, q, "sigmoid and softmax")
        elif cnt:
            missing.append({"category": key.split("_")[1], "count": int(cnt),
                            "reason": f"energy not published ({q.source})"})
    compute = _r(sum(c["energy_J"]["low"] for c in cats.values()),
                 sum(c["energy_J"]["high"] for c in cats.values()))
    m, n, c = sizes
    memory = {}
    mem_total = _r(0.0)
    for name, words, params in (("W1", counts.words_w1, m * n), ("W2", counts.words_w2, n * c)):
        level, q = prof.access(2 * WORD_BYTES * params)
        accesses = words * WORD_BYTES / ACCESS_BYTES
        e = _r(accesses * q.low * PJ, accesses * q.high * PJ)
        memory[name] = {"words": int(words), "accesses_64b": accesses,
                        "working_set_bytes": 2 * WORD_BYTES * params, "level": level,
                        "energy_J": e, "per_access": _src(q)}
        mem_total = _r(mem_total["low"] + e["low"], mem_total["high"] + e["high"])
    per = 1.0 / samples
    return {"profile": prof.name, "title": prof.title, "samples": samples, "batch": batch,
            "macs": counts.macs, "macs_per_sample": counts.macs * per, "categories": cats,
            "missing": missing, "compute_only_J": compute,
            "compute_only_per_sample_J": _r(compute["low"] * per, compute["high"] * per),
            "memory": memory, "memory_J": mem_total,
            "memory_per_sample_J": _r(mem_total["low"] * per, mem_total["high"] * per),
            "method": "counted operations of the training run × per-op energy (compute only); "
                      "memory: weight words moved per step, 2 per 64-bit access, at the smallest "
                      "level holding the matrix and its gradient (activation vectors left out)"}


def device_baseline(dataset: str, profile: DeviceProfile | str = "gpu_h100") -> dict:
    """The measured whole-device figures: per training sample and to the measurement's own
    threshold, one entry per run and the range over runs. For another dataset than the
    measurement's, ``applies`` is False and the figures are still listed for reference."""
    prof = profile if isinstance(profile, DeviceProfile) else load_baseline(profile)
    if not isinstance(prof, DeviceProfile):
        raise SpecError(f"{prof.path}: '{prof.name}' is not a whole-device measurement; "
                        "allowed: kind = 'baseline_device'")
    m = prof.measurement
    runs = []
    for r in prof.runs:
        runs.append({"batch": r.batch, "epochs_to_threshold": r.epochs_to_threshold,
                     "accuracy": r.accuracy, "train_samples": r.train_samples,
                     "seconds": r.seconds.value, "energy_J": _qr(r.energy),
                     "per_sample_J": _r(r.energy.low / r.train_samples,
                                        r.energy.high / r.train_samples),
                     "idle_J": _r(prof.idle_power.low * r.seconds.low,
                                  prof.idle_power.high * r.seconds.high),
                     "sources": [_src(r.energy), _src(r.seconds)]})
    per_sample = _r(min(x["per_sample_J"]["low"] for x in runs),
                    max(x["per_sample_J"]["high"] for x in runs))
    to_thr = _r(min(x["energy_J"]["low"] for x in runs), max(x["energy_J"]["high"] for x in runs))
    return {"profile": prof.name, "title": prof.title, "path": prof.path,
            "applies": dataset == m["dataset"], "dataset": m["dataset"],
            "network": m["network"], "threshold": m["threshold"],
            "threshold_split": m["threshold_split"],
            "train_samples_per_epoch": m["train_samples_per_epoch"],
            "idle_power": _src(prof.idle_power), "runs": runs,
            "per_sample_J": per_sample, "to_threshold_J": to_thr,
            "measurement": {k: v for k, v in m.items()},
            "method": "measured whole-board energy (NVML) / training samples; range over the "
                      f"batch sizes {', '.join(str(r.batch) for r in prof.runs)}"}


def mlp_baseline(dataset: str, sizes: tuple[int, int, int], threshold: float, seed: int,
                 data_dir=None, batch: int = 1, lr: float = 0.05, max_epochs: int = 20,
                 ops_profile: OpsProfile | str = "horowitz_45nm", k_snn: int | None = None,
                 ) -> dict:
    """Train the m-n-C MLP on ``dataset``'s train split to ``threshold`` validation accuracy
    and price it: per sample, per epoch, to threshold; with the papers' cost metric."""

    tr = load_dataset(dataset, "train", data_dir)
    va = load_dataset(dataset, "val", data_dir)
    m, n, c = sizes
    if tr.n_features != m or tr.n_classes != c:
        raise DataError(f"dataset {dataset!r} has {tr.n_features} features and {tr.n_classes} "
                        f"classes; the MLP baseline {m}-{n}-{c} needs {m} and {c}")
    run = train_mlp(tr.X, tr.y, va.X, va.y, n, c, threshold, seed, batch=batch, lr=lr,
                    max_epochs=max_epochs)
    e = mac_energy(run.train_counts, run.samples_trained, sizes, ops_profile, batch)
    out = run.as_dict()
    out.update(dataset=dataset, energy=e)
    ps, mem = e["compute_only_per_sample_J"], e["memory_per_sample_J"]
    out["per_epoch"] = {"samples": run.epoch_samples,
                        "compute_only_J": _r(ps["low"] * run.epoch_samples,
                                             ps["high"] * run.epoch_samples),
                        "memory_J": _r(mem["low"] * run.epoch_samples,
                                       mem["high"] * run.epoch_samples)}
    if run.reached:
        # every epoch costs the same operations: to threshold = the counted run itself
        out["to_threshold"] = {"epochs": run.epochs_to_threshold,
                               "samples": run.samples_trained,
                               "compute_only_J": e["compute_only_J"], "memory_J": e["memory_J"]}
    else:
        out["to_threshold"] = None
    out["paper_cost"] = paper_cost(m, n, c, run.epochs_to_threshold)
    if k_snn is not None and k_snn != c:
        out["paper_cost"]["note"] = (f"the MLP has {c} outputs (one per class); the spiking "
                                     f"network's readout has {k_snn}")
    return out


def format_ratio(r: dict) -> str:
    return f"{_g(r['low'])}–{_g(r['high'])}× ({r['method']})"


def _g(x: float) -> str:
    return f"{x:.2g}" if x < 10 else f"{x:,.0f}"


__all__ = ["OpsProfile", "DeviceProfile", "DeviceRun", "load_baseline", "available_baselines",
           "MLP", "MLPRun", "OpCounts", "train_mlp", "mac_energy", "device_baseline",
           "mlp_baseline", "paper_cost", "ratio", "format_ratio", "DEFAULT_THRESHOLDS"]
