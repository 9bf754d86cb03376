"""The fixed-point network every fixed-point backend runs: populations (LIF integers), projections
(8-bit mantissas + exponent, connectivity, learn mask, rule and relay plans), the teacher and
the readout — the hand-off from the quantizer (:mod:`spikeport.converters.quantize`) to the
emulator and Lava.

Saved as a directory: ``network.json`` + ``weights.npz``, each written atomically; the JSON holds
the npz's SHA-256 so a reader knows both halves belong together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from spikeport.errors import DataError, SpecError
from spikeport.flow.plans import DopaminePlan, RelayPlan, RulePlan
from spikeport.io import atomic_savez, atomic_write_json, load_npz
from spikeport.kernels.dense import SignMode, as_sign_mode
from spikeport.kernels.homeostasis import HomeostasisParams
from spikeport.kernels.lif import VTH_RANGE, LifParams

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
        d = Path(directory)
        try:
            doc = json.loads((d / "network.json").read_text())
        except FileNotFoundError:
            raise DataError(f"{d}: no network.json (not a fixed-point network directory)") \
                from None
        except json.JSONDecodeError as exc:
            raise DataError(f"{d / 'network.json'}: not valid JSON ({exc})") from None
        if doc.get("schema") != SCHEMA:
            raise DataError(f"{d / 'network.json'}: schema {doc.get('schema')!r}, expected "
                            f"{SCHEMA!r}")
        npz = d / "weights.npz"
        if npz.exists():
            digest = hashlib.sha256(npz.read_bytes()).hexdigest()
            if digest != doc["weights_sha256"]:
                raise DataError(f"{npz}: contents do not match network.json (SHA-256 differs; "
                                "an interrupted or mixed write?)")
        arrays = load_npz(npz)
        projections = []
        for i, p in enumerate(doc["projections"]):
            projections.append(FixedProjection(
                name=p["name"], pre=p["pre"], post=p["post"], sign_mode=p["sign_mode"],
                weight_exp=int(p["weight_exp"]), lsb_per_unit=float(p["lsb_per_unit"]),
                weights=arrays[f"p{i}_weights"], connectivity=arrays[f"p{i}_connectivity"],
                learn_mask=arrays.get(f"p{i}_learn_mask"),
                rule=RulePlan.from_dict(p["rule"]) if p["rule"] else None,
                relay=RelayPlan.from_dict(p["relay"]) if p["relay"] else None,
                relay_fanout=arrays.get(f"p{i}_relay_fanout"),
                num_weight_bits=int(p.get("num_weight_bits", 8)),
                dopamine=DopaminePlan.from_dict(p["dopamine"]) if p.get("dopamine") else None,
                dopamine_table=arrays.get(f"p{i}_dopamine_table")))
        t = doc["teacher"]
        teacher = None if t is None else FixedTeacher(
            t["population"], int(t["n"]), int(t["y_value"]),
            tuple(t["drive"]) if t["drive"] else None, int(t.get("gate_value", 0)))
        return cls(name=doc["name"], dt=float(doc["dt"]), sample_steps=int(doc["sample_steps"]),
                   rest_steps=int(doc["rest_steps"]), reset=bool(doc["reset"]),
                   seed=int(doc["seed"]), inputs=tuple((n, int(k)) for n, k in doc["inputs"]),
                   populations=tuple(FixedPopulation(**p) for p in doc["populations"]),
                   projections=tuple(projections), teacher=teacher,
                   readout=tuple(doc["readout"]) if doc["readout"] else None,
                   report=doc.get("report", {}))


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
