"""Export: a spikeport network (spec + weights) as a NIR graph of CubaLIF and Affine nodes, with
the extras NIR does not carry in a sidecar YAML."""

from __future__ import annotations

import io
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from spikeport import __version__
from spikeport.converters.nir.common import (
    EXTRAS_SCHEMA,
    SIDECAR_SUFFIX,
    UPDATE_ORDER,
    Discretisation,
    NirWarning,
    _ms,
    _nir,
    _unique,
    swap_axes,
)
from spikeport.errors import SpecError
from spikeport.io import atomic_write_bytes, atomic_write_text
from spikeport.models._fields import to_dict
from spikeport.models.spec import Network
from spikeport.models.weights import check_weights

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


# the node names NIR clients look for: spyx builds its layers by walking the edges from a node
# named "input" to one named "output" (any other name: a model with no layers, no error); they
# are also the names snnTorch's and Norse's exporters (through nirtorch) give these nodes.
ENTRY, EXIT = "input", "output"


def _node_names(net: Network) -> dict[str, str]:
    """spikeport name -> NIR node name. A single input is the node ``input`` and the single
    Output node is ``output`` (added by the exporter); a population or projection already
    named ``input``/``output`` becomes ``NAME_population``/``NAME_projection`` in the graph.
    Every node records its spikeport name in its metadata, so import-nir restores them."""
    reserved = {ENTRY, EXIT}
    taken = set(reserved)
    names = {}
    single = len(net.inputs) == 1
    for i in net.inputs:
        names[i.name] = ENTRY if single else (
            _unique(f"{i.name}_input", taken) if i.name in reserved else _unique(i.name, taken))
    for kind, items in (("population", net.populations), ("projection", net.projections)):
        for x in items:
            base = f"{x.name}_{kind}" if x.name in reserved else x.name
            names[x.name] = _unique(base, taken)
    return names


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
               thresholds: dict[str, np.ndarray] | None = None,
               time_step: float | None = None) -> NirExport:
    """spikeport network (+ weights, optional per-neuron thresholds) → ``nir.NIRGraph``.

    Per population, with a = exp(−dt/τ) spikeport's per-step decays: ``tau_syn``/``tau_mem``
    = the NIR τ with that decay under ``discretisation`` (euler: dt/(1 − a); exp: τ itself),
    ``r = 1/g_m``, ``w_in = 1/g_s`` (gain 1), ``v_leak = bias/g_m``. Learning rules and
    homeostasis are dropped with a :class:`NirWarning`; ``extras`` keeps them.
    ``time_step``: write the ODE as stepped with this dt instead of the network's (the
    per-step decays and gains are kept; only the written τ, r and w_in change): snnTorch's
    importer assumes dt = 1e-4.
    """
    nir = _nir()
    step = net.dt if time_step is None else time_step
    disc = Discretisation(discretisation, step)
    _check_exportable(net)
    thresholds = dict(thresholds or {})
    nodes, edges, dropped = {}, [], []
    node = _node_names(net)
    for inp in net.inputs:
        nodes[node[inp.name]] = nir.Input(input_type={"input": np.array([inp.n])},
                                          metadata={"spikeport": {"input": inp.name}})
    for pop in net.populations:
        n = pop.n
        if disc.kind == "exp" and step == net.dt:   # the physical τ itself
            tau_syn, tau_mem = pop.tau_u, pop.tau_v
        else:                    # the τ whose Euler step decays as exp(−dt/τ) does
            tau_syn = disc.tau_for(math.exp(-net.dt / pop.tau_u))
            tau_mem = disc.tau_for(math.exp(-net.dt / pop.tau_v))
        g_s, g_m = float(disc.gain(tau_syn)), float(disc.gain(tau_mem))
        vth = np.full(n, float(pop.threshold))
        if pop.name in thresholds:
            vth = np.broadcast_to(np.asarray(thresholds[pop.name], np.float64), (n,)).copy()
        nodes[node[pop.name]] = nir.CubaLIF(
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
        nodes[node[proj.name]] = nir.Linear(weight=swap_axes(w),
                                            metadata={"spikeport": {"projection": proj.name}})
        edges += [(node[proj.pre], node[proj.name]), (node[proj.name], node[proj.post])]
        if proj.learning is not None:
            dropped.append(f"projection '{proj.name}': learning rule {proj.learning.TAG}")
    sinks = [p.name for p in net.populations
             if not any(q.pre == p.name and not q.is_recurrent for q in net.projections)]
    if net.readout is not None and net.readout.population not in sinks:
        sinks.append(net.readout.population)
    taken = set(nodes)
    for pop in sinks:
        out = _unique("output" if len(sinks) == 1 else f"{pop}_spikes", taken)
        nodes[out] = nir.Output(output_type={"output": np.array([net.size(pop)])})
        edges.append((node[pop], out))
    order = {"inputs": [i.name for i in net.inputs],
             "populations": [p.name for p in net.populations],
             "projections": [p.name for p in net.projections]}
    metadata = {"producer": f"spikeport {__version__}", "network": net.name, "dt": step,
                "discretisation": discretisation, "reset": "value",
                "update_order": UPDATE_ORDER, "synaptic_delay_steps": 1,
                "spikeport_order": json.dumps(order)}
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=True)
    if dropped:
        warnings.warn("not part of NIR, dropped from the graph (kept in the extras, which "
                      "import-nir --rules takes back): " + "; ".join(dropped), NirWarning,
                      stacklevel=2)
    summary = {"network": net.name, "dt": step, "discretisation": discretisation,
               "nodes": {k: type(v).__name__ for k, v in nodes.items()},
               "node_names": {k: v for k, v in node.items() if k != v},
               "edges": [list(e) for e in edges], "dropped": dropped,
               "populations": {p.name: {"n": p.n,
                                        "tau_syn": float(nodes[node[p.name]].tau_syn[0]),
                                        "tau_mem": float(nodes[node[p.name]].tau_mem[0]),
                                        "r": float(nodes[node[p.name]].r[0]),
                                        "w_in": float(nodes[node[p.name]].w_in[0]),
                                        "v_leak": float(nodes[node[p.name]].v_leak[0])}
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


def export_nir_to(source: str | Path, out: str | Path, discretisation: str = "euler",
                  time_step: float | None = None) -> dict:
    """``spikeport export-nir``: a spec, zoo name or artefact → ``OUT`` (.nir) and the extras
    beside it; returns the summary (its ``warnings`` list what was dropped)."""
    from spikeport.models.artefact import load_source

    art = load_source(source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NirWarning)
        result = export_nir(art.net, art.weights, discretisation, art.thresholds, time_step)
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
