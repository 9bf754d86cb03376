"""The fixed-point network every fixed-point backend runs: populations (LIF integers), projections
(8-bit mantissas + exponent, connectivity, learn mask, rule and relay plans), the teacher and
the readout — the hand-off from the quantizer (:mod:`spikeport.converters.quantize`) to the
emulator and Lava.

Saved as a directory: ``network.json`` + ``weights.npz``, each written atomically; the JSON holds
the npz's SHA-256 so a reader knows both halves belong together.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from spikeport.errors import DataError, SpecError
from spikeport.flow.plans import DopaminePlan, RelayPlan, RulePlan
from spikeport.io import (
    atomic_savez,
    atomic_write_json,
    check_regular_file,
    load_npz,
    read_json_object,
)
from spikeport.kernels.dense import NUM_WEIGHT_BITS_RANGE, SignMode, as_sign_mode
from spikeport.kernels.homeostasis import HomeostasisParams
from spikeport.kernels.lif import (
    BIAS_EXP_RANGE,
    BIAS_MANT_RANGE,
    DU_RANGE,
    DV_RANGE,
    VTH_RANGE,
    LifParams,
)

SCHEMA = "spikeport-fixed/1"
MANT_MAX = 255  # largest 8-bit weight mantissa magnitude
WEIGHT_EXP_RANGE = (-8, 7)
VTH_MAX = VTH_RANGE[1]
# what an *initial* mantissa can be after Lava's first-step truncation: (low, high, step)
INIT_RANGE = {SignMode.MIXED: (-256, 254, 2), SignMode.EXCITATORY: (0, 255, 1),
              SignMode.INHIBITORY: (-255, 0, 1)}
LEARN_RANGE = {SignMode.MIXED: (-256, 255), SignMode.EXCITATORY: (0, 255),
               SignMode.INHIBITORY: (-255, 0)}


@dataclass
class FixedPopulation:
    """A LIF population in Lava fixed point; ``scale`` = weight LSB per float weight unit.
    ``vth``: one mantissa, or a list of n (thresholds adapted by homeostasis)."""

    name: str
    n: int
    scale: float
    du: int
    dv: int
    vth: int | list
    bias_mant: int = 0
    bias_exp: int = 0
    homeostasis: dict | None = None  # eta_q, target_q, acc_min, acc_max
    third_factor: str | None = None  # "teacher", "relay" or None

    def lif_params(self) -> LifParams:
        return LifParams(du=self.du, dv=self.dv, vth=self.vth, bias_mant=self.bias_mant,
                         bias_exp=self.bias_exp)

    def homeostasis_params(self) -> HomeostasisParams | None:
        if self.homeostasis is None:
            return None
        return HomeostasisParams(**self.homeostasis)


@dataclass
class FixedProjection:
    """A projection's integer weights ``(n_pre, n_post)`` (spikeport/Brian2 orientation; the
    Lava builder transposes), its stored synapses, learn mask, rule and SBP relay."""

    name: str
    pre: str
    post: str
    sign_mode: str
    weight_exp: int
    lsb_per_unit: float  # mantissa LSB per float weight unit = scale_post / 2**weight_exp
    weights: np.ndarray
    connectivity: np.ndarray
    learn_mask: np.ndarray | None = None
    rule: RulePlan | None = None
    relay: RelayPlan | None = None
    relay_fanout: np.ndarray | None = None  # (n_post, n_out) of the SBP source
    num_weight_bits: int = 8  # synaptic weight precision (Lava's Dense truncates to it)
    dopamine: DopaminePlan | None = None  # NACA's dopamine source
    dopamine_table: np.ndarray | None = None  # (n_classes, n_post) int: q sent per class

    @property
    def mode(self) -> SignMode:
        return as_sign_mode(self.sign_mode)

    @property
    def step(self) -> float:
        """Quantization step of an initial weight in float units."""
        return (INIT_RANGE[self.mode][2] << (8 - self.num_weight_bits)) / self.lsb_per_unit

    def dequantized(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Float weights ``(n_pre, n_post)`` of integer mantissas (default: the initial ones)."""
        w = self.weights if weights is None else np.asarray(weights)
        return w.astype(np.float64) / self.lsb_per_unit


@dataclass
class FixedTeacher:
    """The teaching source: ``y_value`` is the third-factor value a teaching spike carries
    (0: no supervised rule), ``drive`` = (mantissa, weight_exp, sign_mode) of the optional
    one-to-one input drive into the population."""

    population: str
    n: int
    y_value: int = 0
    drive: tuple | None = None
    gate_value: int = 0  # y3 sent to the sample's taught neurons every step (gated rule)


@dataclass
class FixedNetwork:
    """A whole network in Lava fixed point (integers + exponents) with its report."""

    name: str
    dt: float
    sample_steps: int
    rest_steps: int
    reset: bool
    seed: int
    inputs: tuple  # ((name, n), ...)
    populations: tuple[FixedPopulation, ...]
    projections: tuple[FixedProjection, ...]
    teacher: FixedTeacher | None = None
    readout: tuple | None = None  # (population, n_classes)
    report: dict = field(default_factory=dict)

    @property
    def steps_per_sample(self) -> int:
        return self.sample_steps + self.rest_steps

    def population(self, name: str) -> FixedPopulation:
        for p in self.populations:
            if p.name == name:
                return p
        raise SpecError(f"fixed network '{self.name}': no LIF population {name!r}")

    def projection(self, name: str) -> FixedProjection:
        for p in self.projections:
            if p.name == name:
                return p
        raise SpecError(f"fixed network '{self.name}': no projection {name!r}")

    def size(self, name: str) -> int:
        for inp, n in self.inputs:
            if inp == name:
                return n
        return self.population(name).n

    def with_learned(self, weights: dict | None = None,
                     thresholds: dict | None = None) -> "FixedNetwork":
        """A copy carrying learned integer weights (projection -> ``(n_pre, n_post)``
        mantissas) and thresholds (population -> ``(n,)`` vth), e.g. a Lava run's result, to
        run inference with. Loading weights goes through Lava's first-step truncation again, as
        on a chip: an odd MIXED mantissa written by learning loses its lowest bit."""
        projections = []
        for p in self.projections:
            if weights is not None and p.name in weights:
                w = np.asarray(weights[p.name])
                lo, hi = LEARN_RANGE[p.mode]
                if w.shape != p.weights.shape or not np.issubdtype(w.dtype, np.integer):
                    raise SpecError(f"projection '{p.name}': learned weights must be integers "
                                    f"of shape {p.weights.shape}, got {w.dtype} {w.shape}")
                if w.min() < lo or w.max() > hi or np.any(w[~p.connectivity] != 0):
                    raise SpecError(f"projection '{p.name}': learned weights outside "
                                    f"[{lo}, {hi}] or on absent synapses")
                p = replace(p, weights=w.astype(np.int64))
            projections.append(p)
        populations = []
        for pop in self.populations:
            if thresholds is not None and pop.name in thresholds:
                th = np.broadcast_to(np.asarray(thresholds[pop.name]), (pop.n,))
                if th.min() < VTH_RANGE[0] or th.max() > VTH_RANGE[1]:
                    raise SpecError(f"population '{pop.name}': thresholds outside {VTH_RANGE}")
                pop = replace(pop, vth=int(th[0]) if np.all(th == th[0])
                              else [int(v) for v in th])
            populations.append(pop)
        return replace(self, projections=tuple(projections), populations=tuple(populations))

    # ---------------------------------------------------------------- files
    def save(self, directory: str | Path) -> Path:
        """Write ``network.json`` + ``weights.npz`` into ``directory`` (each atomically)."""
        d = Path(directory)
        arrays = {}
        projs = []
        for i, p in enumerate(self.projections):
            arrays[f"p{i}_weights"] = np.asarray(p.weights, dtype=np.int64)
            arrays[f"p{i}_connectivity"] = np.asarray(p.connectivity, dtype=bool)
            if p.learn_mask is not None:
                arrays[f"p{i}_learn_mask"] = np.asarray(p.learn_mask, dtype=bool)
            if p.relay_fanout is not None:
                arrays[f"p{i}_relay_fanout"] = np.asarray(p.relay_fanout, dtype=bool)
            if p.dopamine_table is not None:
                arrays[f"p{i}_dopamine_table"] = np.asarray(p.dopamine_table, dtype=np.int64)
            projs.append({"name": p.name, "pre": p.pre, "post": p.post,
                          "sign_mode": p.sign_mode, "weight_exp": p.weight_exp,
                          "lsb_per_unit": p.lsb_per_unit, "num_weight_bits": p.num_weight_bits,
                          "rule": p.rule.to_dict() if p.rule else None,
                          "relay": p.relay.to_dict() if p.relay else None,
                          "dopamine": p.dopamine.to_dict() if p.dopamine else None})
        atomic_savez(d / "weights.npz", **arrays)
        digest = hashlib.sha256((d / "weights.npz").read_bytes()).hexdigest()
        t = self.teacher
        doc = {"schema": SCHEMA, "name": self.name, "dt": self.dt,
               "sample_steps": self.sample_steps, "rest_steps": self.rest_steps,
               "reset": self.reset, "seed": self.seed,
               "inputs": [[n, k] for n, k in self.inputs],
               "populations": [vars(p) for p in self.populations],
               "projections": projs,
               "teacher": None if t is None else {"population": t.population, "n": t.n,
                                                  "y_value": t.y_value,
                                                  "gate_value": t.gate_value,
                                                  "drive": list(t.drive) if t.drive else None},
               "readout": list(self.readout) if self.readout else None,
               "weights_sha256": digest, "report": self.report}
        atomic_write_json(d / "network.json", doc)
        return d

    @classmethod
    def load(cls, directory: str | Path) -> "FixedNetwork":
        """Read and check a saved network: every field's type and range against the limits the
        quantizer writes within (Loihi widths from :mod:`spikeport.kernels`), the weights'
        SHA-256 against the one stored, each array's dtype, shape and range. A bad file is a
        one-line DataError naming the file, the field, the value and what is allowed."""
        d = Path(directory)
        path = d / "network.json"
        if not path.exists():
            raise DataError(f"{d}: no network.json (not a fixed-point network directory)")
        doc = read_json_object(path, "fixed-point network")
        return _read_network(doc, path, d / "weights.npz")


def _read_network(doc: dict, path: Path, npz: Path) -> "FixedNetwork":

    f = _Fields(str(path))
    if doc.get("schema") != SCHEMA:
        raise DataError(f"{path}: schema {doc.get('schema')!r}, expected {SCHEMA!r}")
    digest_stored = f.str(doc, "weights_sha256")
    if not _is_hex64(digest_stored):
        raise f.bad("weights_sha256", digest_stored, "64 hexadecimal digits")
    check_regular_file(npz, "fixed-point weights")
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()
    if digest != digest_stored:
        raise DataError(f"{npz}: contents do not match network.json (SHA-256 differs; "
                        "an interrupted or mixed write?)")
    arrays = load_npz(npz)
    name = f.str(doc, "name")
    dt = f.number(doc, "dt", 0.0, math.inf, lo_open=True)
    sample_steps = f.int(doc, "sample_steps", 1, None)
    rest_steps = f.int(doc, "rest_steps", 0, None)
    reset = f.bool(doc, "reset")
    seed = f.int(doc, "seed", 0, None)
    sizes: dict[str, int] = {}
    inputs = []
    for i, item in enumerate(f.list(doc, "inputs")):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            raise f.bad(f"inputs[{i}]", item, "[name, n]")
        n = f.int({"n": item[1]}, "n", 1, None, where=f"inputs[{i}]")
        inputs.append((item[0], n))
        sizes[item[0]] = n
    populations = []
    for i, p in enumerate(f.list(doc, "populations")):
        populations.append(_read_population(f, p, f"populations[{i}]"))
        sizes[populations[-1].name] = populations[-1].n
    lif = {p.name: p for p in populations}
    projections = []
    for i, p in enumerate(f.list(doc, "projections")):
        projections.append(_read_projection(f, p, i, f"projections[{i}]", sizes, lif, arrays,
                                            npz))
    t = doc.get("teacher", None)
    teacher = None
    if t is not None:
        w = "teacher"
        f.object(t, w)
        tpop = f.choice(t, "population", tuple(lif), where=w)
        teacher = FixedTeacher(tpop, f.int(t, "n", lif[tpop].n, lif[tpop].n, where=w),
                               f.int(t, "y_value", 0, 127, where=w),
                               None, f.int(t, "gate_value", 0, 127, where=w, default=0))
        drive = t.get("drive")
        if drive is not None:
            if not (isinstance(drive, list) and len(drive) == 3):
                raise f.bad(f"{w}.drive", drive, "null or [mantissa, weight_exp, sign_mode]")
            mant = f.int({"m": drive[0]}, "m", -256, 255, where=f"{w}.drive[0]")
            wexp = f.int({"e": drive[1]}, "e", *WEIGHT_EXP_RANGE, where=f"{w}.drive[1]")
            mode = f.choice({"s": drive[2]}, "s", tuple(m.name.lower() for m in SignMode),
                            where=f"{w}.drive[2]")
            teacher = replace(teacher, drive=(mant, wexp, mode))
    readout = doc.get("readout", None)
    if readout is not None:
        if not (isinstance(readout, list) and len(readout) == 2 and readout[0] in lif):
            raise f.bad("readout", readout, "null or [LIF population, n_classes]")
        nc = f.int({"n_classes": readout[1]}, "n_classes", 1, lif[readout[0]].n,
                   where="readout")
        if lif[readout[0]].n % nc:
            raise f.bad("readout.n_classes", nc, f"a divisor of {lif[readout[0]].n}")
        readout = (readout[0], nc)
    report = doc.get("report", {})
    if not isinstance(report, dict):
        raise f.bad("report", report, "an object")
    return FixedNetwork(name=name, dt=dt, sample_steps=sample_steps, rest_steps=rest_steps,
                        reset=reset, seed=seed, inputs=tuple(inputs),
                        populations=tuple(populations), projections=tuple(projections),
                        teacher=teacher, readout=readout, report=report)


_POP_KEYS = {"name", "n", "scale", "du", "dv", "vth", "bias_mant", "bias_exp", "homeostasis",
             "third_factor"}


def _read_population(f: "_Fields", p, w: str) -> FixedPopulation:

    f.object(p, w)
    extra = sorted(set(p) - _POP_KEYS)
    if extra:
        raise f.bad(f"{w}", extra[0], "known keys: " + ", ".join(sorted(_POP_KEYS)),
                    kind="key")
    name = f.str(p, "name", where=w)
    w = f"population '{name}'"
    n = f.int(p, "n", 1, None, where=w)
    vth = p.get("vth")
    if isinstance(vth, list):
        if len(vth) != n:
            raise f.bad(f"{w}.vth", f"a list of {len(vth)}", f"one integer or a list of n={n}")
        vth = [f.int({"vth": v}, "vth", *VTH_RANGE, where=w) for v in vth]
    else:
        vth = f.int(p, "vth", *VTH_RANGE, where=w)
    homeo = p.get("homeostasis")
    if homeo is not None:
        f.object(homeo, f"{w}.homeostasis")
        keys = ("eta_q", "target_q", "acc_min", "acc_max")
        if set(homeo) != set(keys):
            raise f.bad(f"{w}.homeostasis", sorted(homeo), "the keys " + ", ".join(keys))
        homeo = {k: f.int(homeo, k, 0, None, where=f"{w}.homeostasis") for k in keys}
        try:
            HomeostasisParams(**homeo)
        except ValueError as exc:
            raise DataError(f"{f.path}: {w}.homeostasis: {exc}") from None
    third = p.get("third_factor")
    if third not in (None, "teacher", "relay", "dopamine"):
        raise f.bad(f"{w}.third_factor", third, "null, 'teacher', 'relay' or 'dopamine'")
    return FixedPopulation(name=name, n=n,
                           scale=f.number(p, "scale", 0.0, math.inf, lo_open=True, where=w),
                           du=f.int(p, "du", *DU_RANGE, where=w),
                           dv=f.int(p, "dv", *DV_RANGE, where=w), vth=vth,
                           bias_mant=f.int(p, "bias_mant", *BIAS_MANT_RANGE, where=w, default=0),
                           bias_exp=f.int(p, "bias_exp", *BIAS_EXP_RANGE, where=w, default=0),
                           homeostasis=homeo, third_factor=third)


def _read_projection(f: "_Fields", p, i: int, w: str, sizes: dict, lif: dict, arrays: dict,
                     npz: Path) -> FixedProjection:

    f.object(p, w)
    name = f.str(p, "name", where=w)
    w = f"projection '{name}'"
    pre = f.choice(p, "pre", tuple(sizes), where=w)
    post = f.choice(p, "post", tuple(lif), where=w)
    mode = f.choice(p, "sign_mode", tuple(m.name.lower() for m in SignMode), where=w)
    weight_exp = f.int(p, "weight_exp", *WEIGHT_EXP_RANGE, where=w)
    lsb = f.number(p, "lsb_per_unit", 0.0, math.inf, lo_open=True, where=w)
    nwb = f.int(p, "num_weight_bits", *NUM_WEIGHT_BITS_RANGE, where=w, default=8)
    shape = (sizes[pre], lif[post].n)

    def array(key, kind, required=True, shape_=shape):
        k = f"p{i}_{key}"
        a = arrays.get(k)
        if a is None:
            if required:
                raise DataError(f"{npz}: no array {k!r} ({w}.{key})")
            return None
        ok_dtype = a.dtype == bool if kind == "bool" else np.issubdtype(a.dtype, np.integer)
        if not ok_dtype or (shape_ is not None and a.shape != shape_) or \
                (shape_ is None and a.ndim != 2):
            want = f"{kind} of shape {shape_}" if shape_ else f"a 2-D {kind} array"
            raise DataError(f"{npz}: {k} ({w}.{key}) is {a.dtype} {a.shape}; allowed: {want}")
        return a

    weights = array("weights", "integers")
    conn = array("connectivity", "bool")
    lo, hi = LEARN_RANGE[as_sign_mode(mode)]
    if weights.size and (weights.min() < lo or weights.max() > hi):
        bad = weights.min() if weights.min() < lo else weights.max()
        raise DataError(f"{npz}: p{i}_weights ({w}.weights) has {int(bad)}; allowed: "
                        f"[{lo}, {hi}] ({mode} sign mode, 8-bit mantissas)")
    if np.any(weights[~conn] != 0):
        raise DataError(f"{npz}: p{i}_weights ({w}.weights) is nonzero on synapses "
                        "connectivity says are absent")
    weights = weights.astype(np.int64)
    learn_mask = array("learn_mask", "bool", required=False)
    relay_fanout = array("relay_fanout", "bool", required=False, shape_=None)
    table = array("dopamine_table", "integers", required=False, shape_=None)
    plans = {}
    for key, plan in (("rule", RulePlan), ("relay", RelayPlan), ("dopamine", DopaminePlan)):
        v = p.get(key)
        if v is None:
            plans[key] = None
            continue
        f.object(v, f"{w}.{key}")
        try:
            plans[key] = plan.from_dict(v)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataError(f"{f.path}: {w}.{key} is not a valid {plan.__name__} "
                            f"({type(exc).__name__}: {exc})") from None
    if table is not None and table.shape[1] != lif[post].n:
        raise DataError(f"{npz}: p{i}_dopamine_table ({w}) has shape {table.shape}; allowed: "
                        f"(n_classes, {lif[post].n})")
    return FixedProjection(name=name, pre=pre, post=post, sign_mode=mode, weight_exp=weight_exp,
                           lsb_per_unit=lsb, weights=weights, connectivity=conn,
                           learn_mask=learn_mask, rule=plans["rule"], relay=plans["relay"],
                           relay_fanout=relay_fanout, num_weight_bits=nwb,
                           dopamine=plans["dopamine"], dopamine_table=table)


def _is_hex64(v) -> bool:
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


_MISSING = object()


class _Fields:
    """Typed field access for one JSON file: each getter checks the value it returns."""

    def __init__(self, path: str):
        self.path = path

    def bad(self, field_: str, value, allowed: str, kind: str = "") -> DataError:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        what = f"unknown {kind} {shown}" if kind else f"{field_} = {shown} is invalid"
        where = f"{field_}: " if kind else ""
        return DataError(f"{self.path}: {where}{what}; allowed: {allowed}")

    def object(self, v, where: str) -> dict:
        if not isinstance(v, dict):
            raise self.bad(where, v if not isinstance(v, (list, dict)) else type(v).__name__,
                           "an object")
        return v

    def get(self, d: dict, key: str, where: str, default=_MISSING):
        if key not in d:
            if default is not _MISSING:
                return default
            raise DataError(f"{self.path}: {where + '.' if where else ''}{key} is missing")
        return d[key]

    def str(self, d, key, where="", default=_MISSING) -> str:
        v = self.get(d, key, where, default)
        if not isinstance(v, str) or not v:
            raise self.bad(f"{where + '.' if where else ''}{key}", v, "a non-empty string")
        return v

    def bool(self, d, key, where="") -> bool:
        v = self.get(d, key, where)
        if not isinstance(v, bool):
            raise self.bad(f"{where + '.' if where else ''}{key}", v, "true or false")
        return v

    def int(self, d, key, lo, hi, where="", default=_MISSING) -> int:
        v = self.get(d, key, where, default)
        name = f"{where + '.' if where else ''}{key}"
        if isinstance(v, bool) or not isinstance(v, int) or \
                (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"integers in [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
            raise self.bad(name, v, rng)
        return v

    def number(self, d, key, lo, hi, lo_open=False, where="") -> float:
        v = self.get(d, key, where)
        name = f"{where + '.' if where else ''}{key}"
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) \
            and (v > lo if lo_open else v >= lo) and v <= hi
        if not ok:
            raise self.bad(name, v, f"finite numbers {'>' if lo_open else '>='} {lo}"
                           + (f" and <= {hi}" if math.isfinite(hi) else ""))
        return float(v)

    def choice(self, d, key, allowed: tuple, where="") -> str:
        v = self.get(d, key, where)
        if not isinstance(v, str) or v not in allowed:
            raise self.bad(f"{where + '.' if where else ''}{key}", v,
                           "one of " + ", ".join(allowed))
        return v

    def list(self, d, key, where="") -> list:
        v = self.get(d, key, where)
        if not isinstance(v, list):
            raise self.bad(f"{where + '.' if where else ''}{key}", type(v).__name__, "a list")
        return v


# ---------------------------------------------------------------------------------------------
# what a batch must be to run on a fixed network (every fixed-point backend checks it)

def check_batch(fixed: FixedNetwork, inputs: dict, teacher) -> int:
    """Validate the encoded batch against the network; return the number of samples."""
    n_samples = None
    for name, n in fixed.inputs:
        if name not in inputs:
            raise SpecError(f"fixed network '{fixed.name}': no input spikes for '{name}'")
        arr = np.asarray(inputs[name])
        if arr.ndim != 3 or arr.shape[1:] != (fixed.sample_steps, n):
            raise SpecError(f"input '{name}': spike array shape {arr.shape} does not match "
                            f"(n_samples, sample_steps={fixed.sample_steps}, n={n})")
        if n_samples is not None and arr.shape[0] != n_samples:
            raise SpecError(f"input '{name}': {arr.shape[0]} samples, others have {n_samples}")
        n_samples = arr.shape[0]
    if teacher is not None:
        t = fixed.teacher
        if t is None:
            raise SpecError(f"fixed network '{fixed.name}' has no teacher, but teaching spikes "
                            "were given")
        arr = np.asarray(teacher)
        if arr.shape != (n_samples, fixed.sample_steps, t.n):
            raise SpecError(f"teacher spike array shape {arr.shape} does not match (n_samples="
                            f"{n_samples}, sample_steps={fixed.sample_steps}, n={t.n})")
    return int(n_samples)


def check_learnable(fixed: FixedNetwork, labels, n_samples: int) -> None:
    """NACA learning needs one label per sample."""
    naca = [p.name for p in fixed.projections if p.dopamine_table is not None
            and p.rule is not None]
    if naca:
        if labels is None:
            raise SpecError(f"projection '{naca[0]}': NACA learning needs the samples' labels "
                            "(labels=, one class per sample)")
        labels = np.asarray(labels)
        if labels.shape != (n_samples,) or not np.issubdtype(labels.dtype, np.integer):
            raise SpecError(f"labels: shape {labels.shape} dtype {labels.dtype}; expected "
                            f"{n_samples} integer classes")
