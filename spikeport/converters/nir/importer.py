"""Import: a NIR graph into a spikeport network (spec + weights + per-neuron thresholds) with
its report, saved as an artefact."""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from spikeport.converters.nir.common import (
    EXTRAS_SCHEMA,
    REPORT,
    RESETS,
    Discretisation,
    NirWarning,
    _ms,
    _nir,
)
from spikeport.converters.nir.read import (
    NirImport,
    _apply_extras,
    _GraphView,
    _identifier,
    _inline,
    _meta_str,
    _neuron,
    _order,
    _Proj,
    load_extras,
    read_nir,
)
from spikeport.errors import SpecError
from spikeport.io import atomic_savez, atomic_write_json
from spikeport.models._fields import from_dict
from spikeport.models.artefact import METRICS, SPEC, THRESHOLD_PREFIX, WEIGHTS
from spikeport.models.rules import LearningRule, rule_from_dict
from spikeport.models.spec import Network, WeightInit, save_spec
from spikeport.models.weights import check_weights, connectivity_mask


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


CONVENTIONS = ("auto", "nir", "spyx")
SPYX_RESET_NOTE = (
    "spyx resets by subtracting the threshold and tests v against it one step late; spikeport "
    "(like Loihi) sets v to v_reset = 0: the two agree spike for spike while what is left above "
    "the threshold at a spike, times the membrane decay, does not decide a later spike")


def _spikeport_name(node, key: str):
    """The spikeport name an exporter recorded in a node's metadata (``spikeport.<key>``)."""
    meta = getattr(node, "metadata", None)
    inner = meta.get("spikeport") if isinstance(meta, dict) else None
    name = _meta_str(inner, key) if isinstance(inner, dict) else None
    return name if isinstance(name, str) and name else None


def detect_convention(graph, where: str = "<NIR graph>") -> tuple[str, float | None, str]:
    """Which client wrote the graph, from its shape: ``("spyx", dt, why)`` for spyx's
    ``to_nir`` (nodes ``input`` and ``output``, no metadata, every neuron with
    ``r = beta = 1 − dt/tau_mem`` for one dt, ``w_in = 1``, ``v_leak = 0``: spyx integrates
    ``I ← αI + x; V ← βV + I``, a gain of 1 that NIR's equations would read as
    β(1−β)(1−α)); else ``("nir", None, why)``: NIR's equations as written (snnTorch, Norse,
    Sinabs, Rockpool and spikeport itself write files in that form)."""
    nir = _nir()
    meta = graph.metadata if isinstance(getattr(graph, "metadata", None), dict) else {}
    if meta:
        return "nir", None, "the graph has metadata (spyx writes none)"
    nodes, _ = _inline(graph.nodes, graph.edges, where)
    if not (isinstance(nodes.get("input"), nir.Input) and isinstance(nodes.get("output"),
                                                                     nir.Output)):
        return "nir", None, "no Input 'input' and Output 'output' (spyx names them so)"
    dts = []
    for k, node in nodes.items():
        if not isinstance(node, (nir.CubaLIF, nir.LIF)):
            continue
        r = np.asarray(node.r, np.float64).ravel()
        tau = np.asarray(node.tau_mem if isinstance(node, nir.CubaLIF) else node.tau,
                         np.float64).ravel()
        if not (r.size and np.all((r > 0) & (r < 1)) and np.all(tau > 0)
                and np.all(np.asarray(node.v_leak) == 0)):
            return "nir", None, f"node {k!r}: r is not a decay in (0, 1) with v_leak = 0"
        if isinstance(node, nir.CubaLIF) and not np.allclose(np.asarray(node.w_in), 1.0,
                                                             rtol=0, atol=1e-6):
            return "nir", None, f"node {k!r}: w_in is not 1"
        dts.append(tau * (1.0 - r))
    if not dts:
        return "nir", None, "no CubaLIF/LIF node"
    d = np.concatenate(dts)
    if not np.allclose(d, d[0], rtol=1e-4, atol=0):
        return "nir", None, "tau_mem·(1 − r) differs between neurons (spyx: one dt)"
    dt = float(f"{float(np.median(d)):.6g}")
    return "spyx", dt, (f"nodes 'input'/'output', no metadata, r = 1 − dt/tau_mem with one "
                        f"dt = {dt:g} s, w_in = 1, v_leak = 0: spyx's to_nir")


def import_nir(source, *, dt: float | None = None, discretisation: str = "euler",
               reset: str = "value", convention: str = "auto",
               spec_dt: float | None = None, extras: dict | str | Path | None = None,
               name: str | None = None, sample_steps: int | None = None,
               readout_classes: int | None = None,
               readout_population: str | None = None) -> NirImport:
    """A NIR graph (a ``.nir`` path or a ``nir.NIRGraph``) → spikeport network and weights.

    ``convention``: how the file's neuron parameters are meant. ``nir``: NIR's equations
    as written (snnTorch, Norse, spikeport), stepped with ``dt`` (default: the dt in the
    file's metadata, else 1 ms) and
    ``discretisation``. ``spyx``: spyx's ``r = β`` and ``w_in = 1`` are decays, not gains
    (input gain 1, α = 1 − dt/τ_syn, β = r; dt from the file unless given; spyx's
    subtractive reset becomes a reset to 0, with a warning). ``auto`` (default): spyx when
    :func:`detect_convention` recognises its files, else nir.

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
    if convention not in CONVENTIONS:
        raise SpecError(f"convention = {convention!r} is invalid; allowed: "
                        + ", ".join(CONVENTIONS))
    detected, file_dt, why = detect_convention(graph, where)
    chosen = detected if convention == "auto" else convention
    conv_notes = []
    if chosen == "spyx":
        if dt is None and file_dt is None:
            raise SpecError(f"{where}: convention spyx but {why}; pass --dt (spyx's dt)")
        if dt is not None and file_dt is not None and not math.isclose(dt, file_dt,
                                                                       rel_tol=1e-4):
            conv_notes.append(f"dt = {dt:g} s given, but the file's r = 1 − dt/tau_mem says "
                              f"{file_dt:g} s")
        dt = file_dt if dt is None else dt
        discretisation = "euler"
        conv_notes.append(SPYX_RESET_NOTE)
        if spec_dt is None and dt > 0.1:    # spyx's default dt is 1 (steps): keep the decays
            spec_dt = 1e-3
    if dt is None:      # the dt the file records (spikeport's exports do), else 1 ms
        rec = _meta_str(graph.metadata if isinstance(getattr(graph, "metadata", None), dict)
                        else {}, "dt")
        dt = float(rec) if isinstance(rec, (int, float)) and not isinstance(rec, bool) \
            and math.isfinite(rec) and rec > 0 else 1e-3
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

    notes += conv_notes
    view = _GraphView(graph, where)
    pops = {k: _neuron(where, k, view.nodes[k], disc, spec_dt, notes,
                       unit_gain=chosen == "spyx") for k in view.spiking}
    fed_outputs = view.check_outputs()
    projs = view.projections(pops)
    for p in projs:     # the name an exporter recorded (spikeport's own, before renaming)
        recorded_name = _spikeport_name(view.nodes[p.node], "projection") if p.node else None
        if recorded_name and p.name == p.node:
            p.name = recorded_name

    # names and order (order carries no dynamics: the exporter's recorded order if it names
    # exactly these, else first appearance in the edge list)
    try:
        hint = json.loads(_meta_str(meta, "spikeport_order") or "{}")
    except (TypeError, ValueError):
        hint = {}
    hint = hint if isinstance(hint, dict) else {}
    taken: set[str] = set()
    ident = {k: _identifier(_spikeport_name(view.nodes[k], "input" if k in view.inputs
                                            else "population") or k, taken)
             for k in _order(view.inputs + view.spiking, None, view.edges)}
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
                   "convention": chosen, "convention_detected": detected,
                   "convention_reason": why,
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

def _convention_text(report: dict) -> str:
    conv, found = report.get("convention", "nir"), report.get("convention_detected", "nir")
    why = report.get("convention_reason", "")
    if conv == found:
        return f"{conv} (detected: {why})"
    return f"{conv} (given; the graph looks like {found}: {why})"


def format_import(report: dict) -> str:
    """Markdown summary of an import."""
    lines = [f"# NIR import: {report['source']} → {report.get('out', '')}", "",
             f"Convention: {_convention_text(report)}. Discretised with dt = "
             f"{report['dt']:.6g} s ({report['discretisation']}), reset "
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
    probe = report.get("probe")
    if probe:
        lines += ["", f"Probe ({probe['samples']} samples of random input spikes): fraction of "
                  "neuron-steps with a spike " + ", ".join(f"{k} {v:.3f}" for k, v in
                                                          probe["rates"].items())
                  + ("" if probe["warnings"] else "; neither silent nor saturated.")]
        lines += [f"- {w}" for w in probe["warnings"]]
    out = report.get("out", "OUT")
    lines += ["", f"Next: `spikeport convert {out} -o RUN` (Lava fixed point), "
              f"`spikeport deploy {out} -o RUN --dataset NAME` (no retraining of an artefact), "
              "then `spikeport energy RUN`."]
    return "\n".join(lines)


