"""NIR interoperability: spikeport networks to and from the Neuromorphic Intermediate
Representation (``nir`` 1.0; read and written by snnTorch, Norse, Sinabs, Rockpool, Spyx,
Nengo and lava-dl).

**Graph.** Each input population is an ``Input`` node, each LIF population a ``CubaLIF`` node,
each projection a ``Linear`` node between its pre and post nodes (a self-projection is a loop
through one ``Linear``); populations without outgoing projections, and the readout, feed
``Output`` nodes. Node names are the spikeport names.

**Weights.** NIR's ``weight`` is (out, in) = (post, pre); spikeport's are (pre, post).
:func:`swap_axes` is the one place where either direction is converted.

**Neuron.** NIR's CubaLIF is the ODE pair ::

    τ_syn·dI/dt = −I + w_in·S            τ_mem·dv/dt = (v_leak − v) + r·I

with S the output of the Affine/Linear node feeding it; spike if v > v_threshold, then
v ← v_reset. spikeport runs it as a discrete update of one step dt (the *discretisation*),
the current first and then the voltage from the new current (Loihi order)::

    I[t] = a_s·I[t−1] + g_s·w_in·S[t]
    v[t] = a_m·v[t−1] + g_m·(v_leak + r·I[t])

    euler (forward Euler, snnTorch's convention):        a = 1 − dt/τ      g = dt/τ
    exp   (exponential Euler, input held over the step):  a = exp(−dt/τ)   g = 1 − exp(−dt/τ)

With u = g_m·r·I this *is* spikeport's update (:mod:`spikeport.models.spec`)::

    τ_u = −dt_spec / ln a_s      τ_v = −dt_spec / ln a_m
    w[pre, post] = G_post · W[post, pre]      G = g_m·r·g_s·w_in   (the gain, per neuron)
    bias = g_m·v_leak      threshold = v_threshold      reset = v_reset

The Loihi update adds ``a_in`` to u and u to v with gain 1, so export writes ``r = 1/g_m``
and ``w_in = 1/g_s`` (G = 1: r ≈ τ_mem/dt and w_in ≈ τ_syn/dt, exactly snnTorch's convention
under euler) and leaves the weights as they are; import folds any G into the weight columns
(a G within 1e-12 of 1 is float round-off of such reciprocals and counts as 1). A ``nir.LIF``
has no synaptic current (S drives v, G = g_m·r): spikeport's current then decays as fast as
Loihi's 12-bit decay register allows, to 1/4096 per step (τ_u = dt_spec/ln 4096), so 1/4096
of each input still reaches v one step later — import warns.

**Timing.** spikeport delivers a spike to its targets one step after it is emitted (Lava's
Dense delay, DESIGN.md §3); frameworks that deliver within the step (snnTorch) produce the
same spikes one step earlier per layer. The graph metadata says
``synaptic_delay_steps: 1``.

**Metadata is provenance.** Export writes ``dt``, ``discretisation``, ``reset``, the update
order and the delay into the graph metadata, and each population's τ_u, τ_v and bias into
its node's. Import takes ``dt``, ``discretisation`` and ``reset`` as arguments and only
compares them with the metadata (a mismatch is a warning). A node's recorded τ_u, τ_v or bias
replaces the value computed from the NIR fields only when both agree to 1e-9 (it undoes float
round-off, so a round trip is exact); otherwise it is ignored.

**Not in NIR**: learning rules, homeostasis, encoder, teacher, readout, sign modes, weight
bounds, connectivity, sample length, seed. Export drops them from the graph with a warning
and returns them as *extras* (a YAML mapping, schema ``spikeport-nir-extras/1``; ``spikeport
export-nir`` writes it beside the ``.nir`` file) that import takes back (``--rules``).

**Refused** with a one-line :class:`~spikeport.errors.SpecError` naming the node and the
reason: convolutions, pooling, scaling, bare thresholds, non-spiking or leak-free neurons,
delay nodes, Affine biases (a constant input current has no spikeport equivalent), chains of
linear maps, loops through more than one population, neuron parameters that vary across a
population (τ, reset, v_leak; thresholds may vary: they become per-neuron thresholds of the
artefact), decays faster than 1/4096 per step, subtractive reset. On export: refractory
periods, STP and axonal delays (CubaLIF has none of them).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from spikeport import __version__
from spikeport.errors import DataError, SpecError
from spikeport.io import atomic_savez, atomic_write_bytes, atomic_write_json, atomic_write_text
from spikeport.models._fields import from_dict, to_dict
from spikeport.models.artefact import METRICS, SPEC, THRESHOLD_PREFIX, WEIGHTS, Artefact
from spikeport.models.rules import LearningRule, rule_from_dict
from spikeport.models.spec import Network, WeightInit, save_spec
from spikeport.models.weights import check_weights, connectivity_mask

DISCRETISATIONS = ("euler", "exp")
RESETS = ("value", "subtract")
EXTRAS_SCHEMA = "spikeport-nir-extras/1"
UPDATE_ORDER = "I[t] from S[t], then v[t] from I[t]; spike if v > v_threshold, v <- v_reset"
GAIN_ROUNDOFF = 1e-12     # |G − 1| below this is round-off of r = 1/g, w_in = 1/g
PROVENANCE_RTOL = 1e-9    # recorded spikeport values replace computed ones only this close
MIN_DECAY = 1.0 / 4096    # fastest per-step decay a 12-bit du/dv register represents
SIDECAR_SUFFIX = ".spikeport.yaml"
REPORT = "nir_import.json"   # the import report, in an imported artefact's directory

# what an extras mapping may set, per section (everything else comes from the NIR graph)
EXTRAS_NETWORK = ("name", "description", "sample_steps", "seed", "between_samples", "teacher",
                  "readout")
EXTRAS_INPUT = ("encoder",)
EXTRAS_POPULATION = ("homeostasis", "threshold")
EXTRAS_PROJECTION = ("learning", "sign_mode", "w_min", "w_max", "connectivity")

_REFUSED = {
    "Conv1d": "a convolution (shared kernels): spikeport projections are dense (pre, post) "
              "matrices without weight sharing",
    "Conv2d": "a convolution (shared kernels): spikeport projections are dense (pre, post) "
              "matrices without weight sharing",
    "SumPool2d": "pooling: spikeport has no node that sums spikes without a neuron",
    "AvgPool2d": "pooling: spikeport has no node that averages spikes without a neuron",
    "Scale": "elementwise scaling between nodes: fold it into the Affine/Linear before export",
    "Threshold": "a bare threshold without membrane dynamics: no spikeport neuron computes it",
    "I": "a non-spiking integrator: spikeport populations are spiking LIF neurons",
    "IF": "integrate-and-fire without leak (tau = inf): spikeport's LIF needs a finite tau_v",
    "LI": "a non-spiking leaky integrator: spikeport populations spike (readouts count spikes)",
    "CubaLI": "a non-spiking leaky integrator: spikeport populations spike (readouts count "
              "spikes)",
    "Delay": "a delay node: spikeport's Brian2 and Lava backends run projections without "
             "axonal delays",
}
SUPPORTED = "Input, Output, Affine (zero bias), Linear, CubaLIF, LIF, Flatten, NIRGraph"


class NirWarning(UserWarning):
    """Something an import or export could not carry over exactly (also in the report)."""


def _nir():
    import nir

    return nir


def swap_axes(w: np.ndarray) -> np.ndarray:
    """(pre, post) ↔ (out, in) = (post, pre): the one place weights change orientation.

    NIR's Affine/Linear ``weight`` maps input to output, ``y = W·x``, so it is (post, pre);
    spikeport and Brian2 index synapses (pre, post). The swap is its own inverse and is used
    in both directions."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"a weight matrix must be 2-D, got shape {w.shape}")
    return np.ascontiguousarray(w.T)


@dataclass(frozen=True)
class Discretisation:
    """One step ``dt`` [s] of ``τ·dx/dt = −x + drive``: ``x[t] = a·x[t−1] + g·drive[t]``.

    ``euler``: a = 1 − dt/τ, g = dt/τ.  ``exp``: a = exp(−dt/τ), g = 1 − exp(−dt/τ).
    """

    kind: str
    dt: float

    def __post_init__(self):
        if self.kind not in DISCRETISATIONS:
            raise SpecError(f"discretisation = {self.kind!r} is invalid; allowed: "
                            + ", ".join(repr(d) for d in DISCRETISATIONS))
        if not isinstance(self.dt, (int, float)) or isinstance(self.dt, bool) \
                or not math.isfinite(self.dt) or self.dt <= 0:
            raise SpecError(f"dt = {self.dt!r} is invalid; allowed: a time step > 0 in seconds")

    def decay(self, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        return 1.0 - self.dt / tau if self.kind == "euler" else np.exp(-self.dt / tau)

    def gain(self, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        return self.dt / tau if self.kind == "euler" else -np.expm1(-self.dt / tau)

    def tau_for(self, decay: float) -> float:
        """The NIR τ whose per-step decay is ``decay`` (the inverse of :meth:`decay`)."""
        if self.kind == "euler":
            return self.dt / (1.0 - decay)
        return -self.dt / math.log(decay)


# ---------------------------------------------------------------------------------------------
# export

@dataclass
class NirExport:
    """An exported graph, what NIR could not carry (``extras``) and what was dropped."""

    graph: object
    extras: dict
    dropped: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def _check_exportable(net: Network) -> None:
    names = {i.name for i in net.inputs} | {p.name for p in net.populations}
    for pop in net.populations:
        if pop.refractory > 0:
            raise SpecError(f"population '{pop.name}': refractory = {pop.refractory} s cannot "
                            "be exported (NIR's CubaLIF has no refractory period); allowed: 0")
    for proj in net.projections:
        where = f"projection '{proj.name}'"
        if proj.stp is not None:
            raise SpecError(f"{where}: stp (short-term plasticity) cannot be exported (NIR has "
                            "no dynamic synapse node); remove it")
        if proj.delay:
            raise SpecError(f"{where}: delay = {proj.delay} steps cannot be exported (spikeport "
                            "writes no NIR Delay nodes); allowed: 0")
        if proj.name in names:
            raise SpecError(f"{where}: its name is also a population's, but NIR node names must "
                            "be unique; rename the projection")
    for name in names | {p.name for p in net.projections}:
        if "/" in name or name in (".", ""):
            raise SpecError(f"name {name!r} cannot be a NIR node name (HDF5 paths); allowed: "
                            "no '/'")


def _unique(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def extras_of(net: Network, thresholds: dict | None = None) -> dict:
    """What NIR does not carry, as a YAML-ready mapping that :func:`import_nir` takes back."""
    thresholds = thresholds or {}
    return {
        "schema": EXTRAS_SCHEMA,
        "network": {"name": net.name, "description": net.description,
                    "sample_steps": net.sample_steps, "seed": net.seed,
                    "between_samples": to_dict(net.between_samples),
                    "teacher": to_dict(net.teacher), "readout": to_dict(net.readout)},
        "inputs": {i.name: {"encoder": to_dict(i.encoder)} for i in net.inputs},
        "populations": {p.name: {"homeostasis": to_dict(p.homeostasis),
                                 **({"threshold": p.threshold} if p.name in thresholds else {})}
                        for p in net.populations},
        "projections": {p.name: {"learning": to_dict(p.learning), "sign_mode": p.sign_mode,
                                 "w_min": p.w_min, "w_max": p.w_max,
                                 "connectivity": to_dict(p.connectivity)}
                        for p in net.projections},
    }


def export_nir(net: Network, weights: dict[str, np.ndarray], discretisation: str = "euler",
               thresholds: dict[str, np.ndarray] | None = None) -> NirExport:
    """spikeport network (+ weights, optional per-neuron thresholds) → ``nir.NIRGraph``.

    Per population, with a = exp(−dt/τ) spikeport's per-step decays: ``tau_syn``/``tau_mem``
    = the NIR τ with that decay under ``discretisation`` (euler: dt/(1 − a); exp: τ itself),
    ``r = 1/g_m``, ``w_in = 1/g_s`` (gain 1), ``v_leak = bias/g_m``. Learning rules and
    homeostasis are dropped with a :class:`NirWarning`; ``extras`` keeps them.
    """
    nir = _nir()
    disc = Discretisation(discretisation, net.dt)
    _check_exportable(net)
    thresholds = dict(thresholds or {})
    nodes, edges, dropped = {}, [], []
    for inp in net.inputs:
        nodes[inp.name] = nir.Input(input_type={"input": np.array([inp.n])})
    for pop in net.populations:
        n = pop.n
        if disc.kind == "exp":   # the physical τ itself
            tau_syn, tau_mem = pop.tau_u, pop.tau_v
        else:                    # the τ whose Euler step decays as exp(−dt/τ) does
            tau_syn = disc.tau_for(math.exp(-net.dt / pop.tau_u))
            tau_mem = disc.tau_for(math.exp(-net.dt / pop.tau_v))
        g_s, g_m = float(disc.gain(tau_syn)), float(disc.gain(tau_mem))
        vth = np.full(n, float(pop.threshold))
        if pop.name in thresholds:
            vth = np.broadcast_to(np.asarray(thresholds[pop.name], np.float64), (n,)).copy()
        nodes[pop.name] = nir.CubaLIF(
            tau_syn=np.full(n, tau_syn), tau_mem=np.full(n, tau_mem), r=np.full(n, 1.0 / g_m),
            v_leak=np.full(n, pop.bias / g_m), v_threshold=vth,
            v_reset=np.full(n, float(pop.reset)), w_in=np.full(n, 1.0 / g_s),
            metadata={"spikeport": {"population": pop.name, "tau_u": pop.tau_u,
                                    "tau_v": pop.tau_v, "bias": pop.bias}})
        if pop.homeostasis is not None:
            dropped.append(f"population '{pop.name}': homeostasis")
    for proj in net.projections:
        if proj.name not in weights:
            raise SpecError(f"network '{net.name}': no weights given for projection "
                            f"'{proj.name}'")
        w = check_weights(net, proj, weights[proj.name])
        nodes[proj.name] = nir.Linear(weight=swap_axes(w),
                                      metadata={"spikeport": {"projection": proj.name}})
        edges += [(proj.pre, proj.name), (proj.name, proj.post)]
        if proj.learning is not None:
            dropped.append(f"projection '{proj.name}': learning rule {proj.learning.TAG}")
    sinks = [p.name for p in net.populations
             if not any(q.pre == p.name and not q.is_recurrent for q in net.projections)]
    if net.readout is not None and net.readout.population not in sinks:
        sinks.append(net.readout.population)
    taken = set(nodes)
    for pop in sinks:
        single = len(sinks) == 1 and "output" not in taken
        out = _unique("output" if single else f"{pop}_spikes", taken)
        nodes[out] = nir.Output(output_type={"output": np.array([net.size(pop)])})
        edges.append((pop, out))
    order = {"inputs": [i.name for i in net.inputs],
             "populations": [p.name for p in net.populations],
             "projections": [p.name for p in net.projections]}
    metadata = {"producer": f"spikeport {__version__}", "network": net.name, "dt": net.dt,
                "discretisation": discretisation, "reset": "value",
                "update_order": UPDATE_ORDER, "synaptic_delay_steps": 1,
                "spikeport_order": json.dumps(order)}
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=True)
    if dropped:
        warnings.warn("not part of NIR, dropped from the graph (kept in the extras, which "
                      "import-nir --rules takes back): " + "; ".join(dropped), NirWarning,
                      stacklevel=2)
    summary = {"network": net.name, "dt": net.dt, "discretisation": discretisation,
               "nodes": {k: type(v).__name__ for k, v in nodes.items()},
               "edges": [list(e) for e in edges], "dropped": dropped,
               "populations": {p.name: {"n": p.n, "tau_syn": float(nodes[p.name].tau_syn[0]),
                                        "tau_mem": float(nodes[p.name].tau_mem[0]),
                                        "r": float(nodes[p.name].r[0]),
                                        "w_in": float(nodes[p.name].w_in[0]),
                                        "v_leak": float(nodes[p.name].v_leak[0])}
                               for p in net.populations}}
    return NirExport(graph, extras_of(net, thresholds), dropped, summary)


def write_nir(graph, path: str | Path) -> None:
    """``nir.write`` into memory, then an atomic replace of ``path``."""
    buf = io.BytesIO()
    _nir().write(buf, graph)
    atomic_write_bytes(Path(path), buf.getvalue())


def sidecar_path(nir_path: str | Path) -> Path:
    """``net.nir`` → ``net.spikeport.yaml``: where export-nir writes the extras."""
    p = Path(nir_path)
    stem = p.stem if p.suffix == ".nir" else p.name
    return p.parent / (stem + SIDECAR_SUFFIX)


def export_nir_to(source: str | Path, out: str | Path, discretisation: str = "euler") -> dict:
    """``spikeport export-nir``: a spec, zoo name or artefact → ``OUT`` (.nir) and the extras
    beside it; returns the summary (its ``warnings`` list what was dropped)."""
    from spikeport.models.artefact import load_source

    art = load_source(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NirWarning)
        result = export_nir(art.net, art.weights, discretisation, art.thresholds)
    out = Path(out)
    write_nir(result.graph, out)
    side = sidecar_path(out)
    atomic_write_text(side, "# what NIR does not carry; spikeport import-nir --rules takes it\n"
                      + yaml.safe_dump(result.extras, sort_keys=False, allow_unicode=True))
    summary = dict(result.summary)
    summary.update({"source": str(source), "nir_file": str(out), "extras_file": str(side),
                    "warnings": [str(w.message) for w in caught
                                 if issubclass(w.category, NirWarning)]})
    return summary


# ---------------------------------------------------------------------------------------------
# import

@dataclass
class NirImport:
    """An imported network: spec, (pre, post) weights, per-neuron thresholds where they vary,
    and the import report."""

    net: Network
    weights: dict[str, np.ndarray]
    thresholds: dict[str, np.ndarray]
    report: dict

    def artefact(self) -> Artefact:
        """As an artefact (no training metrics: nothing was trained here)."""
        return Artefact(self.net, self.weights, self.thresholds, {})


def read_nir(path: str | Path):
    """Read a ``.nir`` file (types are checked by the importer, node by node)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such NIR file")
    try:
        return _nir().read(path, type_check=False)
    except Exception as exc:  # h5py/nir raise OSError, KeyError, ValueError, AssertionError
        raise DataError(f"{path}: not a readable NIR file ({type(exc).__name__}: {exc})") \
            from None


def load_extras(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SpecError(f"{path}: cannot read extras: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {str(exc).splitlines()[0]}") from None
    return data


def _refuse(where: str, name: str, node, reason: str) -> SpecError:
    return SpecError(f"{where}: node {name!r} ({type(node).__name__}): {reason}")


def _identifier(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "node"
    if base[0].isdigit():
        base = "n_" + base
    return _unique(base, taken)


def _inline(nodes: dict, edges: list, where: str) -> tuple[dict, list]:
    """Replace every nested NIRGraph node by its inner nodes (``outer.inner``), wiring the
    outer edges through its single Input and (optional) single Output."""
    nir = _nir()
    nodes, edges = dict(nodes), [(str(a), str(b)) for a, b in edges]
    for name in [k for k, n in nodes.items() if isinstance(n, nir.NIRGraph)]:
        sub = nodes.pop(name)
        inner, inner_edges = _inline(sub.nodes, sub.edges, where)
        ins = [k for k, n in inner.items() if isinstance(n, nir.Input)]
        outs = [k for k, n in inner.items() if isinstance(n, nir.Output)]
        if len(ins) != 1 or len(outs) > 1:
            raise _refuse(where, name, sub, f"a subgraph with {len(ins)} Input and {len(outs)} "
                          "Output nodes cannot be inlined; allowed: one Input, at most one "
                          "Output")
        preds = [a for a, b in edges if b == name]
        succs = [b for a, b in edges if a == name]
        edges = [e for e in edges if name not in e]
        for k, n in inner.items():
            if k not in ins and k not in outs:
                nodes[f"{name}.{k}"] = n
        for a, b in inner_edges:
            srcs = preds if a == ins[0] else [f"{name}.{a}"]
            dsts = succs if b in outs else [f"{name}.{b}"]
            edges += [(s, d) for s in srcs for d in dsts]
    return nodes, edges


def _finite(where, name, node, fname, value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.size == 1 and n != 1:
        arr = np.full(n, arr[0])
    if arr.size != n or not np.all(np.isfinite(arr)):
        raise _refuse(where, name, node, f"{fname} must be {n} finite numbers (one per neuron), "
                      f"got shape {np.shape(value)}")
    return arr


def _uniform(where, name, node, fname, arr: np.ndarray, why: str) -> float:
    if arr.min() != arr.max():
        raise _refuse(where, name, node, f"{fname} varies across neurons ({arr.min():.6g} to "
                      f"{arr.max():.6g}); {why}")
    return float(arr[0])


def _recorded(node, key: str, computed: float) -> float:
    """The node's recorded spikeport value when it agrees with ``computed`` (round-off)."""
    meta = getattr(node, "metadata", None) or {}
    rec = meta.get("spikeport", {}).get(key) if isinstance(meta.get("spikeport"), dict) else None
    try:
        rec = float(rec)
    except (TypeError, ValueError):
        return computed
    if math.isfinite(rec) and abs(rec - computed) <= PROVENANCE_RTOL * abs(computed):
        return rec
    return computed


@dataclass
class _Pop:
    node: str
    kind: str
    n: int
    tau_u: float
    tau_v: float
    threshold: np.ndarray
    reset: float
    bias: float
    gain: np.ndarray           # per neuron: S → u
    decays: tuple[float, float]


def _neuron(where: str, name: str, node, disc: Discretisation, spec_dt: float,
            notes: list[str]) -> _Pop:
    nir = _nir()
    n = int(np.asarray(node.v_threshold).size)
    if n < 1:
        raise _refuse(where, name, node, "no neurons (v_threshold is empty)")
    f = {k: _finite(where, name, node, k, getattr(node, k), n)
         for k in ("r", "v_leak", "v_threshold", "v_reset")}
    taus = {"tau_syn": node.tau_syn, "tau_mem": node.tau_mem} \
        if isinstance(node, nir.CubaLIF) else {"tau": node.tau}
    decay, gain = {}, {}
    for key, value in taus.items():
        tau = _uniform(where, name, node, key, _finite(where, name, node, key, value, n),
                       "a spikeport population shares one time constant")
        if tau <= 0:
            raise _refuse(where, name, node, f"{key} = {tau} s; allowed: > 0")
        a = float(disc.decay(tau))
        if not MIN_DECAY <= a < 1.0:
            rule = "1 − dt/tau" if disc.kind == "euler" else "exp(−dt/tau)"
            raise _refuse(where, name, node, f"{key} = {tau:.6g} s with dt = {disc.dt:.6g} s "
                          f"({disc.kind}) gives a per-step decay {rule} = {a:.6g}; allowed: "
                          "[1/4096, 1) (spikeport's 12-bit decay registers)")
        decay[key], gain[key] = a, float(disc.gain(tau))
    reset = _uniform(where, name, node, "v_reset", f["v_reset"],
                     "a spikeport population resets to one value")
    v_leak = _uniform(where, name, node, "v_leak", f["v_leak"],
                      "it becomes the population's bias (g_m·v_leak), one value per population")
    if isinstance(node, nir.CubaLIF):
        w_in = _finite(where, name, node, "w_in", node.w_in, n)
        a_s, a_m, g_m = decay["tau_syn"], decay["tau_mem"], gain["tau_mem"]
        g = g_m * f["r"] * gain["tau_syn"] * w_in
        tau_u = _recorded(node, "tau_u", -spec_dt / math.log(a_s))
    else:
        a_m, g_m = decay["tau"], gain["tau"]
        a_s = MIN_DECAY
        g = g_m * f["r"]
        tau_u = spec_dt / math.log(4096.0)
        notes.append(f"node {name!r} (LIF) has no synaptic current: spikeport's current decays "
                     "to 1/4096 per step (tau_u = dt/ln 4096, the fastest Loihi decay), so "
                     "1/4096 of each input reaches v one step later than in NIR")
    g = np.where(np.abs(g - 1.0) <= GAIN_ROUNDOFF, 1.0, g)
    tau_v = _recorded(node, "tau_v", -spec_dt / math.log(a_m))
    bias = _recorded(node, "bias", g_m * v_leak)
    return _Pop(name, type(node).__name__, n, tau_u, tau_v, f["v_threshold"], reset, bias, g,
                (a_s, a_m))


def _order(keys: list[str], hint, edges: list) -> list[str]:
    """``keys`` in the exporter's recorded order when it names exactly them (order carries no
    dynamics), else in order of first appearance in the edge list."""
    if isinstance(hint, list) and sorted(hint) == sorted(keys):
        return list(hint)
    seen = []
    for a, b in edges:
        for k in (a, b):
            if k in keys and k not in seen:
                seen.append(k)
    return seen + [k for k in keys if k not in seen]


def _check_loops(where: str, projections: list[dict], node_of: dict) -> None:
    """Refuse a cycle through more than one population (self-projections are allowed)."""
    succ: dict[str, list[str]] = {}
    for p in projections:
        if p["pre"] != p["post"]:
            succ.setdefault(p["pre"], []).append(p["post"])
    state: dict[str, int] = {}

    def visit(v, path):
        state[v] = 1
        for w in succ.get(v, []):
            if state.get(w) == 1:
                loop = path[path.index(w):] + [w]
                raise SpecError(f"{where}: node {node_of[w]!r}: recurrent loop "
                                + " -> ".join(node_of[x] for x in loop) + " through several "
                                "populations; spikeport allows only self-projections (a "
                                "population back to itself through one Affine/Linear)")
            if state.get(w) is None:
                visit(w, path + [w])
        state[v] = 2

    for v in list(succ):
        if state.get(v) is None:
            visit(v, [v])


def _meta_str(meta: dict, key: str):
    v = meta.get(key) if isinstance(meta, dict) else None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v.item()
    if isinstance(v, np.generic):
        v = v.item()
    return v


def _apply_extras(body: dict, extras, where: str) -> dict:
    if extras is None:
        return body
    if not isinstance(extras, dict):
        raise SpecError(f"{where}: extras must be a mapping, got {type(extras).__name__}")
    schema = extras.get("schema")
    if schema != EXTRAS_SCHEMA:
        raise SpecError(f"{where}: schema = {schema!r} is not supported; allowed: "
                        f"{EXTRAS_SCHEMA!r}")
    allowed = {"schema", "network", "inputs", "populations", "projections"}
    for key in extras:
        if key not in allowed:
            raise SpecError(f"{where}: unknown section {key!r}; allowed: "
                            + ", ".join(sorted(allowed)))
    section = extras.get("network") or {}
    for key, value in section.items():
        if key not in EXTRAS_NETWORK:
            raise SpecError(f"{where}: network.{key} cannot be set here (NIR carries it or it "
                            f"is not a spec field); allowed: {', '.join(EXTRAS_NETWORK)}")
        body[key] = value
    for sec, listkey, fields_ in (("inputs", "inputs", EXTRAS_INPUT),
                                  ("populations", "populations", EXTRAS_POPULATION),
                                  ("projections", "projections", EXTRAS_PROJECTION)):
        items = {d["name"]: d for d in body[listkey]}
        for name, values in (extras.get(sec) or {}).items():
            if name not in items:
                raise SpecError(f"{where}: {sec}.{name} names nothing imported; allowed: "
                                + ", ".join(items))
            if not isinstance(values, dict):
                raise SpecError(f"{where}: {sec}.{name} must be a mapping of fields")
            for key, value in values.items():
                if key not in fields_:
                    raise SpecError(f"{where}: {sec}.{name}.{key} cannot be set here (it comes "
                                    f"from the NIR graph); allowed: {', '.join(fields_)}")
                items[name][key] = value
    return body


@dataclass
class _Proj:
    """One projection found in the graph: ``w`` is (pre, post) with the post gain folded in."""

    node: str | None        # the Affine/Linear node, None for a direct edge
    name: str
    pre: str
    post: str
    w: np.ndarray


class _GraphView:
    """A flattened NIR graph with the checks that decide whether spikeport can express it."""

    def __init__(self, graph, where: str):
        nir = _nir()
        self.where = where
        self.nodes, self.edges = _inline(graph.nodes, graph.edges, where)
        for k, node in self.nodes.items():
            tname = type(node).__name__
            if tname in _REFUSED:
                raise _refuse(where, k, node, _REFUSED[tname])
            if not isinstance(node, (nir.Input, nir.Output, nir.Affine, nir.Linear,
                                     nir.CubaLIF, nir.LIF, nir.Flatten)):
                raise _refuse(where, k, node, f"node type {tname} is not supported; allowed: "
                              + SUPPORTED)
        for a, b in self.edges:
            for k in (a, b):
                if k not in self.nodes:
                    raise SpecError(f"{where}: edge ({a!r}, {b!r}) names no node {k!r}")
        self.preds = {k: [a for a, b in self.edges if b == k] for k in self.nodes}
        self.succs = {k: [b for a, b in self.edges if a == k] for k in self.nodes}
        self.inputs = [k for k, n in self.nodes.items() if isinstance(n, nir.Input)]
        self.spiking = [k for k, n in self.nodes.items() if isinstance(n, (nir.CubaLIF, nir.LIF))]
        if not self.inputs:
            raise SpecError(f"{where}: no Input node; spikeport networks are driven by input "
                            "spikes")
        if not self.spiking:
            raise SpecError(f"{where}: no CubaLIF/LIF node; allowed neuron nodes: CubaLIF, LIF")
        for k in self.inputs:
            if self.preds[k]:
                raise self.refuse(k, f"an Input with incoming edges from {self.preds[k]}")
        self.sizes = {}
        for k in self.inputs:
            shape = np.asarray(self.nodes[k].input_type["input"], dtype=np.int64)
            self.sizes[k] = int(np.prod(shape))
            if self.sizes[k] < 1:
                raise self.refuse(k, f"input shape {shape.tolist()} holds no channel")

    def refuse(self, k: str, reason: str) -> SpecError:
        return _refuse(self.where, k, self.nodes[k], reason)

    def is_matrix(self, k: str) -> bool:
        nir = _nir()
        return isinstance(self.nodes[k], (nir.Affine, nir.Linear))

    def source_of(self, k: str, via: str) -> str:
        """The Input or LIF node whose spikes reach ``via`` through ``k`` (Flatten is a
        no-op on spike vectors: populations are 1-D, flattened in C order)."""
        nir = _nir()
        seen = []
        while isinstance(self.nodes[k], nir.Flatten):
            if len(self.preds[k]) != 1:
                raise self.refuse(k, f"{len(self.preds[k])} incoming edges; allowed: 1")
            seen.append(k)
            k = self.preds[k][0]
            if k in seen:
                raise self.refuse(k, "a loop of Flatten nodes")
        if k in self.inputs or k in self.spiking:
            return k
        kind = type(self.nodes[k]).__name__
        chain = ": chains of linear maps are not folded" if self.is_matrix(k) else ""
        raise self.refuse(via, f"it is fed by {kind} {k!r}{chain}; allowed sources: Input or "
                          "CubaLIF/LIF nodes")

    def check_outputs(self) -> list[str]:
        """Refuse non-spiking readouts; return the nodes that feed Output nodes."""
        nir = _nir()
        fed = []
        for k, node in self.nodes.items():
            if not isinstance(node, nir.Output):
                continue
            if self.succs[k]:
                raise self.refuse(k, f"an Output with outgoing edges to {self.succs[k]}")
            for p in self.preds[k]:
                if self.is_matrix(p):
                    raise self.refuse(p, f"it feeds Output {k!r} directly: a non-spiking "
                                      "readout; spikeport readouts are spiking LIF populations")
                fed.append(self.source_of(p, k))
        return list(dict.fromkeys(fed))

    def projections(self, pops: dict[str, _Pop]) -> list[_Proj]:
        """Every Affine/Linear between spike sources and LIF nodes, and every direct edge into
        a LIF node (identity weights), as (pre, post) weights times the post gain."""
        nir = _nir()
        sizes = dict(self.sizes)
        sizes.update({k: p.n for k, p in pops.items()})
        out: list[_Proj] = []
        for k, node in self.nodes.items():
            if not self.is_matrix(k):
                continue
            if isinstance(node, nir.Affine) and np.any(np.asarray(node.bias) != 0):
                raise self.refuse(k, "nonzero bias: a constant input current has no spikeport "
                                  "equivalent (its bias acts on v); export the layer without "
                                  "bias (e.g. torch.nn.Linear(..., bias=False))")
            W = np.asarray(node.weight, dtype=np.float64)
            if W.ndim != 2 or not np.all(np.isfinite(W)):
                raise self.refuse(k, f"weight must be a finite 2-D (out, in) matrix, got shape "
                                  f"{W.shape}")
            if not self.preds[k] or not self.succs[k]:
                side = "input" if not self.preds[k] else "output"
                raise self.refuse(k, f"not connected on both sides (no {side} edge)")
            for s in self.succs[k]:
                kind = type(self.nodes[s]).__name__
                if self.is_matrix(s):
                    raise self.refuse(k, f"it feeds {kind} {s!r}: chains of linear maps are not "
                                      "folded; allowed targets: CubaLIF/LIF nodes")
                if s not in pops:
                    raise self.refuse(k, f"it feeds {kind} {s!r}; allowed targets: CubaLIF/LIF "
                                      "nodes")
            pairs = [(self.source_of(p, k), s) for p in self.preds[k] for s in self.succs[k]]
            for a, b in pairs:
                if W.shape != (sizes[b], sizes[a]):
                    raise self.refuse(k, f"weight shape {W.shape} does not match (out, in) = "
                                      f"({sizes[b]}, {sizes[a]}) of {a!r} -> {b!r}")
                name = k if len(pairs) == 1 else f"{k}[{a}->{b}]"
                out.append(_Proj(k, name, a, b, swap_axes(W) * pops[b].gain[None, :]))
        for k in self.spiking:
            for p in self.preds[k]:
                if self.is_matrix(p):
                    continue
                a = self.source_of(p, k)
                if sizes[a] != sizes[k]:
                    raise self.refuse(k, f"a direct edge from {a!r} ({sizes[a]} neurons) needs "
                                      f"as many neurons, has {sizes[k]}")
                out.append(_Proj(None, f"{a}->{k}", a, k, np.eye(sizes[k]) * pops[k].gain))
        _check_loops(self.where, [{"pre": p.pre, "post": p.post} for p in out],
                     {k: k for k in self.nodes})
        return out


def _check_arguments(dt, discretisation, reset, spec_dt, where) -> Discretisation:
    disc = Discretisation(discretisation, dt)
    if not isinstance(spec_dt, (int, float)) or isinstance(spec_dt, bool) \
            or not math.isfinite(spec_dt) or spec_dt <= 0:
        raise SpecError(f"spec_dt = {spec_dt!r} is invalid; allowed: a time step > 0 in seconds")
    if reset not in RESETS:
        raise SpecError(f"reset = {reset!r} is invalid; allowed: " + ", ".join(map(repr, RESETS)))
    if reset == "subtract":
        raise SpecError(f"{where}: reset = 'subtract' cannot be expressed: spikeport (like "
                        "Loihi) sets v to the reset value after a spike; allowed: 'value'")
    return disc


def _metadata_notes(meta: dict, used: dict) -> tuple[dict, list[str]]:
    """What the file's metadata records for the arguments in ``used``, and a note per value
    that differs from the one the import uses (metadata is provenance, not an input)."""
    recorded, notes = {}, []
    for key, value in used.items():
        rec = _meta_str(meta, key)
        if rec is None:
            continue
        recorded[key] = rec
        if key == "dt":
            same = isinstance(rec, (int, float)) and math.isclose(float(rec), value,
                                                                   rel_tol=1e-9)
        else:
            same = rec == value
        if not same:
            notes.append(f"the file's metadata says {key} = {rec!r} but the import used "
                         f"{key} = {value!r} (metadata is provenance; pass --{key} to change)")
    return recorded, notes


def import_nir(source, *, dt: float, discretisation: str = "euler", reset: str = "value",
               spec_dt: float | None = None, extras: dict | str | Path | None = None,
               name: str | None = None, sample_steps: int | None = None,
               readout_classes: int | None = None,
               readout_population: str | None = None) -> NirImport:
    """A NIR graph (a ``.nir`` path or a ``nir.NIRGraph``) → spikeport network and weights.

    ``dt`` [s] and ``discretisation`` say how the source framework stepped NIR's ODE (module
    docstring); ``reset`` how it reset v (``value``: v ← v_reset, NIR's definition;
    ``subtract`` cannot be expressed and is refused). ``spec_dt`` is the spikeport network's
    time step (default ``dt``): per-step decays are kept, τ scales with it. ``extras`` (a
    mapping or a YAML path, see :func:`extras_of`) adds what NIR does not carry; ``name``,
    ``sample_steps`` and ``readout_classes``/``readout_population`` override it. Population
    names are the node names made identifiers; projections keep their node names.
    """
    path = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        graph, where = read_nir(path), str(path)
    else:
        graph, where = source, "<NIR graph>"
    spec_dt = dt if spec_dt is None else spec_dt
    disc = _check_arguments(dt, discretisation, reset, spec_dt, where)
    extras_where = where + " (extras)"
    if isinstance(extras, (str, Path)):
        extras_where = str(extras)
        extras = load_extras(extras)
        if extras is None:
            raise SpecError(f"{extras_where}: empty; expected a mapping with schema: "
                            f"{EXTRAS_SCHEMA}")
    meta = graph.metadata if isinstance(getattr(graph, "metadata", None), dict) else {}
    recorded, notes = _metadata_notes(meta, {"dt": dt, "discretisation": discretisation,
                                             "reset": reset})

    view = _GraphView(graph, where)
    pops = {k: _neuron(where, k, view.nodes[k], disc, spec_dt, notes) for k in view.spiking}
    fed_outputs = view.check_outputs()
    projs = view.projections(pops)

    # names and order (order carries no dynamics: the exporter's recorded order if it names
    # exactly these, else first appearance in the edge list)
    try:
        hint = json.loads(_meta_str(meta, "spikeport_order") or "{}")
    except (TypeError, ValueError):
        hint = {}
    hint = hint if isinstance(hint, dict) else {}
    taken: set[str] = set()
    ident = {k: _identifier(k, taken) for k in _order(view.inputs + view.spiking, None,
                                                      view.edges)}
    named_edges = [(ident.get(a, a), ident.get(b, b)) for a, b in view.edges]
    in_order = _order([ident[k] for k in view.inputs], hint.get("inputs"), named_edges)
    pop_order = _order([ident[k] for k in view.spiking], hint.get("populations"), named_edges)
    node_of = {v: k for k, v in ident.items()}
    for p in projs:
        if p.node is None:
            p.name = f"{ident[p.pre]}->{ident[p.post]}"
    by_name: dict[str, _Proj] = {}
    for p in projs:
        if p.name in by_name:
            raise SpecError(f"{where}: two projections would be named {p.name!r}")
        by_name[p.name] = p
    proj_order = _order(list(by_name), hint.get("projections"),
                        view.edges + [(p.name, p.name) for p in projs])

    body: dict = {
        "name": name or (re.sub(r"\W", "_", path.stem) if path is not None else "nir_import"),
        "dt": spec_dt,
        "inputs": [{"name": n, "n": view.sizes[node_of[n]]} for n in in_order],
        "populations": [{"name": n, "n": pops[node_of[n]].n, "tau_u": pops[node_of[n]].tau_u,
                         "tau_v": pops[node_of[n]].tau_v,
                         "threshold": float(pops[node_of[n]].threshold.max()),
                         "reset": pops[node_of[n]].reset, "bias": pops[node_of[n]].bias}
                        for n in pop_order],
        "projections": [{"pre": ident[by_name[n].pre], "post": ident[by_name[n].post],
                         "name": n, "weights": {"kind": "file", "path": WEIGHTS, "key": n},
                         "sign_mode": _sign_mode(by_name[n].w)} for n in proj_order],
    }
    body = _apply_extras(body, extras, extras_where)
    if name is not None:
        body["name"] = name
    if sample_steps is not None:
        body["sample_steps"] = sample_steps
    if readout_classes is not None:
        outs = [ident[k] for k in fed_outputs if k in pops]
        if readout_population is None and len(outs) != 1:
            raise SpecError(f"{where}: readout_population is needed: Output nodes are fed by "
                            f"{outs or 'no LIF population'}; allowed: one of "
                            + ", ".join(pop_order))
        body["readout"] = {"population": readout_population or outs[0],
                           "n_classes": readout_classes}
    elif readout_population is not None:
        raise SpecError("readout_population needs readout_classes (the number of classes)")
    try:
        net = from_dict(Network, body, extras_where if extras is not None else where,
                        {LearningRule: rule_from_dict})
    except SpecError as exc:
        msg = str(exc)
        raise SpecError(msg if msg.startswith(where) else f"{where}: {msg}") from None

    weights = {proj.name: _checked_weights(net, proj, by_name[proj.name].w, where)
               for proj in net.projections}
    thresholds = {}
    for pop in net.populations:
        vth = pops[node_of[pop.name]].threshold
        if np.any(vth != pop.threshold):
            thresholds[pop.name] = vth.copy()
    for note in notes:
        warnings.warn(note, NirWarning, stacklevel=2)
    report = _import_report(net, weights, thresholds, pops, by_name, node_of, notes)
    report.update({"source": where, "sha256": _sha256(path) if path is not None else None,
                   "nir_version": _read_version(path) if path is not None else None,
                   "dt": dt, "spec_dt": spec_dt, "discretisation": discretisation,
                   "reset": reset, "metadata": recorded, "synaptic_delay_steps": 1})
    return NirImport(net, weights, thresholds, report)


def _sign_mode(w: np.ndarray) -> str:
    """The Loihi sign mode the weights allow: excitatory (all ≥ 0) and inhibitory (all ≤ 0)
    keep every weight bit; mixed loses the lowest one (DESIGN.md §4)."""
    if w.min() >= 0 and w.max() > 0:
        return "excitatory"
    if w.max() <= 0 and w.min() < 0:
        return "inhibitory"
    return "mixed"


def _checked_weights(net: Network, proj, w: np.ndarray, where: str) -> np.ndarray:
    w = check_weights(net, proj, w, where)
    mask = connectivity_mask(net, proj)
    if np.any(w[~mask] != 0):
        raise SpecError(f"{where}: projection '{proj.name}': {int(np.sum(w[~mask] != 0))} "
                        f"nonzero weights lie outside its connectivity "
                        f"({proj.connectivity.kind}); allowed: zeros there")
    if w[mask].size and (w[mask].min() < proj.w_min or w[mask].max() > proj.w_max):
        raise SpecError(f"{where}: projection '{proj.name}': weights span "
                        f"[{w[mask].min():.6g}, {w[mask].max():.6g}], outside [w_min, w_max] = "
                        f"[{proj.w_min}, {proj.w_max}]")
    return w


def _import_report(net, weights, thresholds, pops, by_name, node_of, notes) -> dict:
    def span(a):
        return [float(np.min(a)), float(np.max(a))]

    return {
        "inputs": {i.name: {"node": node_of[i.name], "n": i.n} for i in net.inputs},
        "populations": {
            p.name: {"node": node_of[p.name], "type": pops[node_of[p.name]].kind, "n": p.n,
                     "tau_u": p.tau_u, "tau_v": p.tau_v,
                     "decay_u": pops[node_of[p.name]].decays[0],
                     "decay_v": pops[node_of[p.name]].decays[1],
                     "threshold": span(pops[node_of[p.name]].threshold),
                     "per_neuron_thresholds": p.name in thresholds,
                     "reset": p.reset, "bias": p.bias,
                     "gain": span(pops[node_of[p.name]].gain)}
            for p in net.populations},
        "projections": {
            p.name: {"node": by_name[p.name].node, "pre": p.pre, "post": p.post,
                     "shape": list(weights[p.name].shape), "sign_mode": p.sign_mode,
                     "weight_range": span(weights[p.name]),
                     "learning": p.learning.TAG if p.learning is not None else None}
            for p in net.projections},
        "warnings": list(notes),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_version(path: Path):
    try:
        return _nir().read_version(path)
    except Exception:  # older files carry no version dataset
        return None


def save_import(result: NirImport, out: str | Path) -> Path:
    """Write an import: a directory becomes a trained artefact (spec.yaml + weights.npz, as
    :func:`spikeport.models.artefact.load_artefact` reads them, and the import report
    ``nir_import.json``; no metrics.json: nothing was trained here, and a stale one from an
    earlier artefact in that directory is removed). Its spec reads the weights from
    weights.npz, so it also loads on its own. A ``.yaml``/``.yml`` path becomes that spec plus
    a ``.npz`` of weights beside it."""
    out = Path(out)
    if out.suffix in (".yaml", ".yml"):
        if result.thresholds:
            raise SpecError(f"{out}: populations {sorted(result.thresholds)} have per-neuron "
                            "thresholds, which a spec cannot hold; write an artefact "
                            "directory instead (-o DIR)")
        npz = out.with_suffix(".npz")
        projs = tuple(replace(p, weights=WeightInit(kind="file", path=npz.name, key=p.name))
                      for p in result.net.projections)
        atomic_savez(npz, **result.weights)
        save_spec(result.net.replace(projections=projs), out)
        return out
    out.mkdir(parents=True, exist_ok=True)
    arrays = dict(result.weights)
    arrays.update({THRESHOLD_PREFIX + k: v for k, v in result.thresholds.items()})
    atomic_savez(out / WEIGHTS, **arrays)
    save_spec(result.net, out / SPEC)
    atomic_write_json(out / REPORT, result.report)
    if (out / METRICS).exists():
        (out / METRICS).unlink()
    return out


def import_nir_to(nir_file: str | Path, out: str | Path, **options) -> dict:
    """``spikeport import-nir``: :func:`import_nir` then :func:`save_import`; the report's
    ``warnings`` carry what did not map exactly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NirWarning)
        result = import_nir(nir_file, **options)
    path = save_import(result, out)
    report = dict(result.report)
    report["out"] = str(path)
    report["network"] = result.net.name
    return report


# ---------------------------------------------------------------------------------------------
# reports

def _ms(seconds: float) -> str:
    return f"{1e3 * seconds:.4g}"


def format_import(report: dict) -> str:
    """Markdown summary of an import."""
    lines = [f"# NIR import: {report['source']} → {report.get('out', '')}", "",
             f"Discretised with dt = {report['dt']:.6g} s ({report['discretisation']}), reset "
             f"to value; spikeport dt = {report['spec_dt']:.6g} s. Spikes reach their targets "
             "one step after they are emitted (Lava's Dense delay): one step later per layer "
             "than in frameworks that deliver within the step.", "",
             "| population | node | type | n | τ_u (ms) | τ_v (ms) | threshold | reset | bias "
             "| gain S→u |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, p in report["populations"].items():
        th = p["threshold"]
        th_s = f"{th[0]:.4g}" if th[0] == th[1] else f"{th[0]:.4g}…{th[1]:.4g}"
        g = p["gain"]
        g_s = f"{g[0]:.4g}" if g[0] == g[1] else f"{g[0]:.4g}…{g[1]:.4g}"
        lines.append(f"| {name} | {p['node']} | {p['type']} | {p['n']} | {_ms(p['tau_u'])} | "
                     f"{_ms(p['tau_v'])} | {th_s} | {p['reset']:.4g} | {p['bias']:.4g} | "
                     f"{g_s} |")
    lines += ["", "| projection | node | pre → post | (n_pre, n_post) | weights | sign mode "
              "| learning |", "|---|---|---|---|---|---|---|"]
    for name, p in report["projections"].items():
        lo, hi = p["weight_range"]
        lines.append(f"| {name} | {p['node'] or '(direct edge)'} | {p['pre']} → {p['post']} | "
                     f"{tuple(p['shape'])} | {lo:.4g} … {hi:.4g} | {p['sign_mode']} | "
                     f"{p['learning'] or '—'} |")
    if report["warnings"]:
        lines += ["", "Warnings:"] + [f"- {w}" for w in report["warnings"]]
    out = report.get("out", "OUT")
    lines += ["", f"Next: `spikeport convert {out} -o RUN` (Lava fixed point), "
              f"`spikeport deploy {out} -o RUN --dataset NAME` (no retraining of an artefact), "
              "then `spikeport energy RUN`."]
    return "\n".join(lines)


def format_export(summary: dict) -> str:
    """Markdown summary of an export."""
    lines = [f"# NIR export: {summary['network']} → {summary['nir_file']}", "",
             f"dt = {summary['dt']:.6g} s, discretisation {summary['discretisation']}; weights "
             "(out, in); r = 1/g_m and w_in = 1/g_s give spikeport's input gain of 1.", "",
             "| population | n | tau_syn (ms) | tau_mem (ms) | r | w_in | v_leak |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, p in summary["populations"].items():
        lines.append(f"| {name} | {p['n']} | {_ms(p['tau_syn'])} | {_ms(p['tau_mem'])} | "
                     f"{p['r']:.6g} | {p['w_in']:.6g} | {p['v_leak']:.4g} |")
    lines += ["", "Nodes: " + ", ".join(f"{k} ({v})" for k, v in summary["nodes"].items())]
    if summary["dropped"]:
        lines += ["", "Not part of NIR, dropped from the graph (kept in the extras file):"]
        lines += [f"- {d}" for d in summary["dropped"]]
    lines += ["", f"Extras (encoder, readout, learning rules, …): {summary['extras_file']} — "
              f"`spikeport import-nir {summary['nir_file']} -o OUT --dt {summary['dt']:.6g} "
              f"--discretisation {summary['discretisation']} --rules {summary['extras_file']}` "
              "restores the network."]
    return "\n".join(lines)


__all__ = ["DISCRETISATIONS", "Discretisation", "NirExport", "NirImport", "NirWarning",
           "export_nir", "export_nir_to", "extras_of", "format_export", "format_import",
           "import_nir", "import_nir_to", "load_extras", "read_nir", "save_import",
           "sidecar_path", "swap_axes", "write_nir"]
