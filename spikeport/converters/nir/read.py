"""Reading a NIR graph: nodes checked one by one, nested graphs inlined, neuron parameters turned
into spikeport populations, the graph walked into populations and projections."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from spikeport.converters.nir.common import (
    _REFUSED,
    EXTRAS_INPUT,
    EXTRAS_NETWORK,
    EXTRAS_POPULATION,
    EXTRAS_PROJECTION,
    EXTRAS_SCHEMA,
    GAIN_ROUNDOFF,
    MIN_DECAY,
    PROVENANCE_RTOL,
    SUPPORTED,
    Discretisation,
    _nir,
    _unique,
    swap_axes,
)
from spikeport.errors import DataError, SpecError
from spikeport.models.artefact import Artefact
from spikeport.models.spec import Network

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
            notes: list[str], unit_gain: bool = False) -> _Pop:
    """One CubaLIF/LIF node as a population. ``unit_gain``: the file's r and w_in are not
    NIR's gains (spyx's convention: the input reaches v with gain 1)."""
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
    if unit_gain:
        g = np.ones(n)
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


