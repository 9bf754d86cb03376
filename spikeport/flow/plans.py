"""Learning rules lowered to integer plans: what the quantizer hands to every fixed-point
backend (the emulator, Lava) and what ``fixed/network.json`` stores (``to_dict``/``from_dict``).

* :class:`RulePlan` — one projection's rule: products of traces and factors with mantissas
  and exponents, trace impulses and time constants, the rule's random seed, and the rates it
  realises (:class:`Rate`) with its traces (:class:`Trace`) for the report.
* :class:`RelayPlan` — SBP's relay: trace decay and impulse, the two gains (mantissa, shift).
* :class:`DopaminePlan` — NACA's dopamine source: the gain per unit of modulation.

Records only: the planning (float rule -> integers) is :mod:`spikeport.converters.lava_rules`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spikeport.kernels.engine import LearningEngine
from spikeport.kernels.learning import Factor, LearningRule, Product
from spikeport.kernels.lif import DECAY_UNITY
from spikeport.kernels.relay import Y_MAX, RelayParams
from spikeport.kernels.traces import TRACE_MAX


@dataclass(frozen=True)
class Rate:
    """One learning rate: spec value and what the fixed-point rule realises (spec units)."""

    name: str
    field: str
    target: float
    realised: float
    mantissa: int
    exponent: int
    shift: int

    @property
    def rel_error(self) -> float:
        return self.realised / self.target - 1.0 if self.target else 0.0

    def to_dict(self) -> dict:
        return {"name": self.name, "field": self.field, "target": self.target,
                "realised": self.realised, "rel_error": self.rel_error,
                "mantissa": self.mantissa, "exponent": self.exponent, "shift": self.shift}


@dataclass(frozen=True)
class Trace:
    """A Lava trace: impulse per spike, tau in steps, and what it means in float units."""

    name: str
    impulse: int
    tau_steps: int
    tau_target_steps: float

    @property
    def tau_rel_error(self) -> float:
        return self.tau_steps / self.tau_target_steps - 1.0

    @property
    def saturation(self) -> float:
        """Float trace value (spikes) at which the 7-bit trace saturates."""
        return TRACE_MAX / self.impulse if self.impulse else math.inf

    def to_dict(self) -> dict:
        return {"trace": self.name, "impulse": self.impulse, "tau_steps": self.tau_steps,
                "tau_target_steps": self.tau_target_steps, "tau_rel_error": self.tau_rel_error,
                "saturates_at_spikes": self.saturation}


@dataclass(frozen=True)
class RulePlan:
    """A quantized learning rule of one projection (JSON-serialisable via to_dict)."""

    kind: str
    t_epoch: int
    post: str  # "2F" (bAP traces) or "3F" (y values from the neuron)
    products: tuple  # ((dependency, (factor vars...), mantissa, exponent), ...)
    x_impulse: tuple[int, int]
    x_tau: tuple[int, int]
    y_impulse: tuple[int, int, int] = (0, 0, 0)
    y_tau: tuple[int, int, int] = (0, 0, 0)
    rng_seed: int = 0
    teacher_y: int = 0
    rates: tuple[Rate, ...] = ()
    traces: tuple[Trace, ...] = ()
    notes: tuple[str, ...] = ()

    def learning_rule(self) -> LearningRule:
        """Factors are a variable name, or ``(name, const)`` for ``(var + const)``."""
        return LearningRule([Product(dep, [Factor(v) if isinstance(v, str)
                                           else Factor(v[0], const=int(v[1])) for v in factors],
                                     m, e)
                             for dep, factors, m, e in self.products])

    def to_lava_string(self) -> str:
        return self.learning_rule().to_lava_string()

    def dependencies(self) -> set[str]:
        """Dependency kinds used: subset of {"x0", "y0", "u"}."""
        return {"u" if dep.startswith("u") else dep for dep, _, _, _ in self.products}

    def engine(self, sign_mode) -> LearningEngine:
        """The kernel engine that runs this rule (what Lava's LearningDense computes)."""
        return LearningEngine(dw=self.learning_rule(), t_epoch=self.t_epoch,
                              x_impulse=self.x_impulse, x_tau=self.x_tau,
                              y_impulse=self.y_impulse, y_tau=self.y_tau,
                              sign_mode=sign_mode, post=self.post, rng_seed=self.rng_seed)

    def lava_kwargs(self) -> dict:
        """Keyword arguments of Lava's Loihi2F/Loihi3FLearningRule for this plan."""
        kw = dict(dw=self.to_lava_string(), x1_impulse=self.x_impulse[0],
                  x1_tau=self.x_tau[0], x2_impulse=self.x_impulse[1], x2_tau=self.x_tau[1],
                  t_epoch=self.t_epoch, rng_seed=self.rng_seed)
        if self.post == "2F":
            for i in range(3):
                kw[f"y{i + 1}_impulse"] = self.y_impulse[i]
                kw[f"y{i + 1}_tau"] = self.y_tau[i]
        return kw

    def to_dict(self) -> dict:
        return {"kind": self.kind, "t_epoch": self.t_epoch, "post": self.post,
                "products": [[d, [v if isinstance(v, str) else list(v) for v in f], m, e]
                             for d, f, m, e in self.products],
                "x_impulse": list(self.x_impulse), "x_tau": list(self.x_tau),
                "y_impulse": list(self.y_impulse), "y_tau": list(self.y_tau),
                "rng_seed": self.rng_seed, "teacher_y": self.teacher_y,
                "lava_string": self.to_lava_string(),
                "rates": [r.to_dict() for r in self.rates],
                "traces": [t.to_dict() for t in self.traces], "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict) -> "RulePlan":
        rates = tuple(Rate(r["name"], r["field"], r["target"], r["realised"], r["mantissa"],
                           r["exponent"], r["shift"]) for r in d.get("rates", ()))
        traces = tuple(Trace(t["trace"], t["impulse"], t["tau_steps"], t["tau_target_steps"])
                       for t in d.get("traces", ()))
        return cls(kind=d["kind"], t_epoch=int(d["t_epoch"]), post=d["post"],
                   products=tuple((p[0], tuple(f if isinstance(f, str) else
                                                 (f[0], int(f[1])) for f in p[1]),
                                   int(p[2]), int(p[3])) for p in d["products"]),
                   x_impulse=tuple(int(v) for v in d["x_impulse"]),
                   x_tau=tuple(int(v) for v in d["x_tau"]),
                   y_impulse=tuple(int(v) for v in d["y_impulse"]),
                   y_tau=tuple(int(v) for v in d["y_tau"]), rng_seed=int(d["rng_seed"]),
                   teacher_y=int(d["teacher_y"]), rates=rates, traces=traces,
                   notes=tuple(d.get("notes", ())))


@dataclass(frozen=True)
class RelayPlan:
    """The SBP relay's integers and what they realise (the fan-out matrix lives with the
    fixed network's arrays)."""

    source: str
    decay: int
    impulse: int
    gain_ltp: tuple[int, int]
    gain_ltd: tuple[int, int]
    tau_target_steps: float
    m_sat: float  # |M| (float weight units) at which y saturates at 127
    rates: tuple[Rate, ...] = field(default=())

    @property
    def tau_steps(self) -> float:
        """Realised trace time constant in steps (inf for decay 0)."""
        if self.decay == 0:
            return math.inf
        if self.decay >= DECAY_UNITY:
            return 0.0
        return -1.0 / math.log(1.0 - self.decay / DECAY_UNITY)

    def params(self, fanout: np.ndarray) -> RelayParams:
        return RelayParams(fanout=np.asarray(fanout).astype(np.int64), decay=self.decay,
                           impulse=self.impulse, gain_ltp=self.gain_ltp,
                           gain_ltd=self.gain_ltd)

    def to_dict(self) -> dict:
        return {"source": self.source, "decay": self.decay, "impulse": self.impulse,
                "gain_ltp": list(self.gain_ltp), "gain_ltd": list(self.gain_ltd),
                "tau_target_steps": self.tau_target_steps, "tau_steps": self.tau_steps,
                "m_sat": self.m_sat, "m_per_y_unit": self.m_sat / Y_MAX,
                "rates": [r.to_dict() for r in self.rates]}

    @classmethod
    def from_dict(cls, d: dict) -> "RelayPlan":
        rates = tuple(Rate(r["name"], r["field"], r["target"], r["realised"], r["mantissa"],
                           r["exponent"], r["shift"]) for r in d.get("rates", ()))
        return cls(source=d["source"], decay=int(d["decay"]), impulse=int(d["impulse"]),
                   gain_ltp=tuple(int(v) for v in d["gain_ltp"]),
                   gain_ltd=tuple(int(v) for v in d["gain_ltd"]),
                   tau_target_steps=float(d["tau_target_steps"]), m_sat=float(d["m_sat"]),
                   rates=rates)


@dataclass(frozen=True)
class DopaminePlan:
    """NACA's dopamine source: the signed third factor each postsynaptic neuron receives at a
    sample's last step, per class (the table lives with the fixed network's arrays)."""

    gain: float           # y units per unit of modulation m (G = 127 / θ_max)
    n_classes: int
    rates: tuple[Rate, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"gain": self.gain, "n_classes": self.n_classes,
                "rates": [r.to_dict() for r in self.rates]}

    @classmethod
    def from_dict(cls, d: dict) -> "DopaminePlan":
        rates = tuple(Rate(r["name"], r["field"], r["target"], r["realised"], r["mantissa"],
                           r["exponent"], r["shift"]) for r in d.get("rates", ()))
        return cls(gain=float(d["gain"]), n_classes=int(d["n_classes"]), rates=rates)
