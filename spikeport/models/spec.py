"""The network spec: a spiking network defined once, for every backend.

A :class:`Network` is populations (spike inputs and LIF neurons), projections between them,
an optional teacher and readout, and the time base (``dt``, samples of ``sample_steps``
steps, what happens between samples). Everything is a frozen dataclass with SI units;
invalid values raise :class:`~spikeport.errors.SpecError` naming the element, field, value and
allowed range. YAML files carry ``schema: spikeport/1`` and are read with ``yaml.safe_load``.

The neuron is the current-based LIF in Loihi order (DESIGN.md §3), one step of ``dt``::

    u[t] = u[t-1]·(1 − δu) + a_in[t]          δu = 1 − exp(−dt/τ_u)
    v[t] = v[t-1]·(1 − δv) + u[t] + bias      δv = 1 − exp(−dt/τ_v)
    spike if v[t] > threshold, then v[t] = reset (u is not reset)

``a_in[t]`` is the weighted sum of presynaptic spikes of step t−1 (one step of synaptic
delay). State is in weight units: one input spike through weight w adds w to ``u``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml

from spikeport.errors import SpecError
from spikeport.io import atomic_write_text, check_memory, parse_yaml, read_yaml
from spikeport.models._fields import (
    check_choice,
    check_finite,
    check_int,
    check_name,
    check_positive,
    check_range,
    fail,
    from_dict,
    quantity,
    to_dict,
)
from spikeport.models.rules import (
    EPOCH_PER_SAMPLE,
    SBP,
    STDP,
    STP,
    Homeostasis,
    LearningRule,
    SupervisedSTDP,
    rule_from_dict,
)

SCHEMA = "spikeport/1"
SIGN_MODES = ("mixed", "excitatory", "inhibitory")


@dataclass(frozen=True)
class Encoder:
    """How a sample's features in [0, 1] become input spikes (once, from the spec's seed).

    ``poisson``: each step spikes with probability ``x·max_rate·dt``. ``regular``: a
    deterministic train at rate ``x·max_rate``. ``latency``: one spike, earlier for larger x,
    between steps ``t_min`` and ``t_max``; features ≤ ``threshold`` stay silent.
    """

    kind: Literal["poisson", "regular", "latency"] = "poisson"
    max_rate: float = quantity("Hz", default=100.0)
    t_min: int = 0
    t_max: int = -1
    threshold: float = 0.0

    def validate(self, where: str, dt: float, sample_steps: int) -> None:
        check_choice(where, "kind", self.kind, ("poisson", "regular", "latency"))
        check_range(where, "max_rate", self.max_rate, 0.0, 1.0 / dt)
        check_int(where, "t_min", self.t_min, 0, sample_steps - 1)
        if self.t_max != -1:
            check_int(where, "t_max", self.t_max, self.t_min, sample_steps - 1)
        check_range(where, "threshold", self.threshold, 0.0, 1.0)


@dataclass(frozen=True)
class InputPopulation:
    """Spike sources: ``n`` channels whose spikes are data (an encoded dataset or a file)."""

    name: str
    n: int
    encoder: Encoder = field(default_factory=Encoder)


@dataclass(frozen=True)
class LIFPopulation:
    """``n`` current-based LIF neurons (the ODE is in the module docstring).

    ``tau_u``/``tau_v``: current and voltage time constants [s]. ``threshold``, ``reset``,
    ``bias`` are in weight units (one input spike through weight 1 adds 1 to u).
    ``refractory`` [s]: a whole number of steps during which v is held at ``reset``.
    """

    name: str
    n: int
    tau_u: float = quantity("s", default=0.005)
    tau_v: float = quantity("s", default=0.02)
    threshold: float = 1.0
    reset: float = 0.0
    refractory: float = quantity("s", default=0.0)
    bias: float = 0.0
    homeostasis: Homeostasis | None = None


@dataclass(frozen=True)
class WeightInit:
    """Initial weights of a projection, shape (n_pre, n_post).

    ``uniform`` in [low, high]; ``normal`` (mean, std; half-normal |·| under an excitatory or
    inhibitory sign mode); ``constant`` value; ``file``: array
    ``key`` of the ``.npz`` at ``path`` (relative to the YAML file), read without pickle.
    """

    kind: Literal["uniform", "normal", "constant", "file"] = "uniform"
    low: float = -0.1
    high: float = 0.1
    mean: float = 0.0
    std: float = 0.1
    value: float = 0.0
    path: str = ""
    key: str = ""


@dataclass(frozen=True)
class Connectivity:
    """Which synapses of the (n_pre, n_post) matrix exist; absent ones stay exactly zero.

    ``all``: every pair. ``random``: a fixed Bernoulli(p) mask from ``seed``. ``fan_out``: the
    post population is split into ``groups`` equal blocks (e.g. the neurons of each class) and
    pre neuron j reaches ``per_neuron`` blocks, ``(j + i·⌊groups/per_neuron⌋) mod groups`` for
    i < per_neuron — e.g. each hidden neuron reaching one class's output neurons.
    """

    kind: Literal["all", "random", "fan_out"] = "all"
    p: float = 1.0
    groups: int = 1
    per_neuron: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Projection:
    """Synapses from ``pre`` (input or LIF population) to ``post`` (LIF population).

    ``sign_mode`` bounds the weights as on Loihi: ``excitatory`` ≥ 0, ``inhibitory`` ≤ 0,
    ``mixed`` either. ``w_min``/``w_max`` clip learned weights (defaults from the sign mode
    and the initial range). ``delay`` is an axonal delay in steps on top of the one-step
    synaptic delay every projection has; backends without delays refuse a nonzero value.
    ``pre == post`` is a recurrent projection (static weights only).
    """

    pre: str
    post: str
    name: str = ""
    weights: WeightInit = field(default_factory=WeightInit)
    sign_mode: Literal["mixed", "excitatory", "inhibitory"] = "mixed"
    connectivity: Connectivity = field(default_factory=Connectivity)
    w_min: float = -math.inf
    w_max: float = math.inf
    delay: int = 0
    learning: LearningRule | None = None
    stp: STP | None = None

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", f"{self.pre}->{self.post}")

    @property
    def is_recurrent(self) -> bool:
        return self.pre == self.post


@dataclass(frozen=True)
class Teacher:
    """Teaching spike trains for supervised rules: the target class's neurons of
    ``population`` receive a ``kind`` train at ``rate``; the others none. ``drive`` > 0 also
    injects the teaching spikes as input current of that weight (0: a learning signal only)."""

    population: str
    rate: float = quantity("Hz", default=100.0)
    kind: Literal["regular", "poisson"] = "regular"
    drive: float = 0.0


@dataclass(frozen=True)
class Readout:
    """The class of a sample is the block of ``population`` (``n_classes`` equal blocks) with
    the most spikes; ties go to the lowest class index."""

    population: str
    n_classes: int


@dataclass(frozen=True)
class BetweenSamples:
    """What separates samples: ``reset`` zeroes u, v, synaptic input in flight, traces and
    last-spike times (thresholds adapted by homeostasis are kept); ``rest`` instead runs
    ``rest_steps`` silent steps, counted in time and energy."""

    mode: Literal["reset", "rest"] = "reset"
    rest_steps: int = 0


@dataclass(frozen=True)
class Network:
    """A whole network: the single source every backend is built from."""

    name: str
    inputs: tuple[InputPopulation, ...]
    populations: tuple[LIFPopulation, ...]
    projections: tuple[Projection, ...]
    dt: float = quantity("s", default=0.001)
    sample_steps: int = 100
    seed: int = 0
    teacher: Teacher | None = None
    readout: Readout | None = None
    between_samples: BetweenSamples = field(default_factory=BetweenSamples)
    description: str = ""

    def __post_init__(self):
        for attr in ("inputs", "populations", "projections"):
            value = getattr(self, attr)
            if isinstance(value, list):
                object.__setattr__(self, attr, tuple(value))
        validate(self)

    # -- lookups --------------------------------------------------------------------------
    def size(self, name: str) -> int:
        """Number of neurons of the input or LIF population ``name``."""
        for pop in self.inputs + self.populations:
            if pop.name == name:
                return pop.n
        raise SpecError(f"network '{self.name}': no population named {name!r}")

    def population(self, name: str) -> LIFPopulation:
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise SpecError(f"network '{self.name}': no LIF population named {name!r}")

    def projection(self, name: str) -> Projection:
        for proj in self.projections:
            if proj.name == name:
                return proj
        raise SpecError(f"network '{self.name}': no projection named {name!r}")

    def incoming(self, name: str) -> tuple[Projection, ...]:
        return tuple(p for p in self.projections if p.post == name)

    def outgoing(self, name: str) -> tuple[Projection, ...]:
        return tuple(p for p in self.projections if p.pre == name)

    def layer_order(self) -> tuple[str, ...]:
        """LIF populations in feed-forward order (recurrent projections ignored)."""
        done = {i.name for i in self.inputs}
        order: list[str] = []
        pending = [p.name for p in self.populations]
        while pending:
            ready = [n for n in pending
                     if all(p.pre in done for p in self.incoming(n) if not p.is_recurrent)]
            if not ready:
                raise SpecError(f"network '{self.name}': populations {pending} form a cycle of "
                                "non-recurrent projections; only self-projections may loop")
            for n in ready:
                order.append(n)
                done.add(n)
                pending.remove(n)
        return tuple(order)

    @property
    def steps_per_sample(self) -> int:
        """Steps one sample occupies, including a rest gap."""
        rest = self.between_samples.rest_steps if self.between_samples.mode == "rest" else 0
        return self.sample_steps + rest

    def epoch_steps(self, t_epoch) -> int:
        return self.sample_steps if t_epoch == EPOCH_PER_SAMPLE else int(t_epoch)

    def replace(self, **changes) -> "Network":
        return replace(self, **changes)


# ---------------------------------------------------------------------------------------------
# validation

def _validate_population(pop: LIFPopulation, dt: float) -> None:
    where = f"population '{pop.name}'"
    check_int(where, "n", pop.n, 1)
    # δ = 1 − exp(−dt/τ) must resolve on a 12-bit decay register: τ ≥ dt/ln(4096)≈dt/8.3
    tau_min = dt / math.log(4096)
    for name in ("tau_u", "tau_v"):
        tau = getattr(pop, name)
        check_positive(where, name, tau)
        if tau < tau_min:
            raise fail(where, name, tau, f">= {tau_min:.3g} s (dt/ln 4096; faster decays "
                                         "than one step cannot be represented)")
    check_positive(where, "threshold", pop.threshold)
    check_finite(where, "reset", pop.reset)
    if pop.reset >= pop.threshold:
        raise fail(where, "reset", pop.reset, f"< threshold ({pop.threshold})")
    check_range(where, "refractory", pop.refractory, 0.0, math.inf)
    steps = pop.refractory / dt
    if abs(steps - round(steps)) > 1e-6:
        raise fail(where, "refractory", pop.refractory, f"a whole number of steps of dt={dt} s")
    check_finite(where, "bias", pop.bias)
    if pop.homeostasis is not None:
        pop.homeostasis.validate(f"{where}.homeostasis")


def _validate_weights_init(where: str, w: WeightInit) -> None:
    check_choice(where, "kind", w.kind, ("uniform", "normal", "constant", "file"))
    if w.kind == "uniform":
        check_finite(where, "low", w.low)
        check_finite(where, "high", w.high)
        if w.high < w.low:
            raise fail(where, "high", w.high, f">= low ({w.low})")
    elif w.kind == "normal":
        check_finite(where, "mean", w.mean)
        check_range(where, "std", w.std, 0.0, math.inf)
    elif w.kind == "constant":
        check_finite(where, "value", w.value)
    elif not w.path:
        raise fail(where, "path", w.path, "the path of a .npz file (kind: file)")


def _validate_connectivity(where: str, c: Connectivity, n_pre: int, n_post: int) -> None:
    check_choice(where, "kind", c.kind, ("all", "random", "fan_out"))
    check_int(where, "seed", c.seed, 0)
    if c.kind == "random":
        check_range(where, "p", c.p, 0.0, 1.0)
    if c.kind == "fan_out":
        check_int(where, "groups", c.groups, 1, n_post)
        if n_post % c.groups:
            raise fail(where, "groups", c.groups, f"a divisor of n_post={n_post}")
        check_int(where, "per_neuron", c.per_neuron, 1, c.groups)


def _validate_projection(net: Network, proj: Projection, names: dict) -> None:
    where = f"projection '{proj.name}'"
    if proj.pre not in names:
        raise fail(where, "pre", proj.pre, "one of " + ", ".join(names))
    lif_names = [p.name for p in net.populations]
    if proj.post not in lif_names:
        raise fail(where, "post", proj.post, "a LIF population: " + ", ".join(lif_names))
    check_choice(where, "sign_mode", proj.sign_mode, SIGN_MODES)
    _validate_weights_init(f"{where}.weights", proj.weights)
    _validate_connectivity(f"{where}.connectivity", proj.connectivity, names[proj.pre],
                           names[proj.post])
    for f in ("w_min", "w_max"):
        v = getattr(proj, f)
        if math.isnan(v):
            raise fail(where, f, v, "a number or ±inf")
    if not proj.w_max > proj.w_min:
        raise fail(where, "w_max", proj.w_max, f"> w_min ({proj.w_min})")
    if proj.sign_mode == "excitatory" and proj.w_min < 0 and math.isfinite(proj.w_min):
        raise fail(where, "w_min", proj.w_min, ">= 0 for an excitatory projection")
    if proj.sign_mode == "inhibitory" and proj.w_max > 0 and math.isfinite(proj.w_max):
        raise fail(where, "w_max", proj.w_max, "<= 0 for an inhibitory projection")
    w = proj.weights
    if proj.sign_mode != "mixed" and w.kind in ("uniform", "constant"):
        lo, hi = (w.low, w.high) if w.kind == "uniform" else (w.value, w.value)
        if proj.sign_mode == "excitatory" and lo < 0:
            raise fail(f"{where}.weights", "low" if w.kind == "uniform" else "value", lo,
                       ">= 0 for an excitatory projection")
        if proj.sign_mode == "inhibitory" and hi > 0:
            raise fail(f"{where}.weights", "high" if w.kind == "uniform" else "value", hi,
                       "<= 0 for an inhibitory projection")
    check_int(where, "delay", proj.delay, 0, 62)
    if proj.stp is not None:
        proj.stp.validate(f"{where}.stp")
    rule = proj.learning
    if rule is None:
        return
    rwhere = f"{where}.learning"
    if proj.is_recurrent:
        raise SpecError(f"{rwhere}: recurrent projections are static in spikeport; remove the "
                        "learning rule or make the projection feed-forward")
    rule.validate(rwhere)
    if isinstance(rule, SupervisedSTDP):
        if net.teacher is None or net.teacher.population != proj.post:
            raise SpecError(f"{rwhere}: supervised_stdp needs a teacher on population "
                            f"'{proj.post}' (network.teacher.population)")
    if isinstance(rule, SBP):
        src = sbp_source(net, proj)
        if src.pre != proj.post:
            raise fail(rwhere, "source", rule.source,
                       f"a projection leaving '{proj.post}' (it leaves '{src.pre}')")
        if not isinstance(src.learning, SupervisedSTDP):
            raise SpecError(f"{rwhere}: SBP propagates the modification of '{src.name}', which "
                            "must learn with supervised_stdp")


def sbp_source(net: Network, proj: Projection) -> Projection:
    """The projection whose per-sample modification an SBP rule on ``proj`` propagates."""
    rule = proj.learning
    if rule.source:
        for p in net.projections:
            if p.name == rule.source:
                return p
        raise fail(f"projection '{proj.name}'.learning", "source", rule.source,
                   "the name of a projection: " + ", ".join(p.name for p in net.projections))
    candidates = [p for p in net.outgoing(proj.post) if isinstance(p.learning, SupervisedSTDP)]
    if len(candidates) != 1:
        raise SpecError(f"projection '{proj.name}'.learning: SBP needs exactly one "
                        f"supervised_stdp projection leaving '{proj.post}' (found "
                        f"{len(candidates)}); name it in 'source'")
    return candidates[0]


def validate(net: Network) -> None:
    """Check the whole network; raise the first SpecError found."""
    where = f"network '{net.name}'"
    if not isinstance(net.name, str) or not net.name:
        raise fail("network", "name", net.name, "a non-empty string")
    check_positive(where, "dt", net.dt)
    check_int(where, "sample_steps", net.sample_steps, 1)
    check_int(where, "seed", net.seed, 0, 2**32 - 1)
    if not net.inputs:
        raise fail(where, "inputs", [], "at least one input population")
    if not net.populations:
        raise fail(where, "populations", [], "at least one LIF population")
    names: dict[str, int] = {}
    for pop in net.inputs + net.populations:
        kind = "input" if isinstance(pop, InputPopulation) else "population"
        check_name(f"{kind} '{pop.name}'", "name", pop.name)
        if pop.name in names:
            raise fail(where, "populations", pop.name, "unique names (this one appears twice)")
        names[pop.name] = pop.n
    for inp in net.inputs:
        check_int(f"input '{inp.name}'", "n", inp.n, 1)
        inp.encoder.validate(f"input '{inp.name}'.encoder", net.dt, net.sample_steps)
    for pop in net.populations:
        _validate_population(pop, net.dt)
    seen = set()
    for proj in net.projections:
        if proj.name in seen:
            raise fail(where, "projections", proj.name, "unique names (this one appears twice)")
        seen.add(proj.name)
        _validate_projection(net, proj, names)
    if net.teacher is not None:
        t = net.teacher
        twhere = f"{where}.teacher"
        if t.population not in [p.name for p in net.populations]:
            raise fail(twhere, "population", t.population, "a LIF population name")
        check_range(twhere, "rate", t.rate, 0.0, 1.0 / net.dt)
        check_choice(twhere, "kind", t.kind, ("regular", "poisson"))
        check_finite(twhere, "drive", t.drive)
    if net.readout is not None:
        r = net.readout
        rwhere = f"{where}.readout"
        if r.population not in [p.name for p in net.populations]:
            raise fail(rwhere, "population", r.population, "a LIF population name")
        check_int(rwhere, "n_classes", r.n_classes, 2)
        n = net.size(r.population)
        if n % r.n_classes:
            raise fail(rwhere, "n_classes", r.n_classes, f"a divisor of the population size {n}")
    if net.teacher is not None and net.readout is None:
        raise SpecError(f"{where}: a teacher needs a readout (which block of neurons is which "
                        "class)")
    if net.teacher is not None and net.teacher.population != net.readout.population:
        raise fail(f"{where}.teacher", "population", net.teacher.population,
                   f"the readout population '{net.readout.population}'")
    b = net.between_samples
    check_choice(f"{where}.between_samples", "mode", b.mode, ("reset", "rest"))
    check_int(f"{where}.between_samples", "rest_steps", b.rest_steps, 0)
    net.layer_order()
    check_size(net)


#: bytes per synapse the backends hold at least: float64 weights and a bool connectivity mask
BYTES_PER_SYNAPSE = 9


def check_size(net: Network) -> None:
    """Refuse, before anything is allocated, a network whose weight matrices and one sample's
    spikes (a bool per neuron and step) alone need more memory than this machine has."""

    synapses = sum(net.size(p.pre) * net.size(p.post) for p in net.projections)
    neurons = sum(p.n for p in net.inputs + net.populations)
    check_memory(synapses * BYTES_PER_SYNAPSE + neurons * net.steps_per_sample,
                 f"network '{net.name}': {synapses:,} synapses and {neurons:,} neurons over "
                 f"{net.steps_per_sample:,} steps", SpecError)


# ---------------------------------------------------------------------------------------------
# YAML

def _network_from_dict(data: dict, where: str) -> Network:
    resolvers = {LearningRule: rule_from_dict}
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the top level must be a mapping, got {type(data).__name__}")
    body = dict(data)
    schema = body.pop("schema", None)
    if schema != SCHEMA:
        raise SpecError(f"{where}: schema = {schema!r} is not supported; allowed: {SCHEMA!r} "
                        "(write `schema: spikeport/1` at the top)")
    return from_dict(Network, body, where, resolvers)


def spec_to_dict(net: Network) -> dict:
    """Plain structures for YAML (every field written, defaults included)."""
    out = {"schema": SCHEMA}
    out.update(to_dict(net))
    return out


def load_spec(path: str | Path) -> Network:
    """Read a spec file. Weight files it names are resolved against its folder later."""

    path = Path(path)
    data = read_yaml(path, "spec")
    try:
        return _network_from_dict(data, str(path))
    except SpecError as exc:
        msg = str(exc)
        raise SpecError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def dump_spec(net: Network) -> str:
    return yaml.safe_dump(spec_to_dict(net), sort_keys=False, allow_unicode=True)


def save_spec(net: Network, path: str | Path) -> None:
    atomic_write_text(Path(path), dump_spec(net))


def spec_from_yaml(text: str, where: str = "<string>") -> Network:

    data = parse_yaml(text, where)
    return _network_from_dict(data, where)


__all__ = ["SCHEMA", "Encoder", "InputPopulation", "LIFPopulation", "WeightInit",
           "Connectivity", "Projection", "Teacher", "Readout", "BetweenSamples", "Network",
           "STDP", "SBP", "STP", "Homeostasis", "SupervisedSTDP", "load_spec", "save_spec",
           "dump_spec", "spec_from_yaml", "spec_to_dict", "sbp_source", "validate"]
