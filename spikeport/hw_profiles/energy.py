"""Energy and time of a run on a chip profile, from the op counts measured in the Lava run.

Pure functions ``profile × counts × mapping → report``. Counts come from the ``ops`` dict
counted inside spikeport's Lava ProcessModels (``OUT/lava_infer.json``, ``lava_learn.json``);
nothing here assumes an activity level. Every figure is a range ``{"low", "high"}`` with the
sources and status of the profile values behind it; a quantity the profile marks ``unknown``
(trace updates) is counted and listed under ``missing`` as "energy not published", never
priced.

Dynamic energy, per category (E = profile energy per op, a range where the profile gives one):

* ``synaptic_ops`` = Σ projections ``syn_ops`` (spikes × stored nonzero fan-out, NeuroBench's
  effective ACs) (+ the teacher drive's) × E[synaptic_op];
* ``synaptic_updates`` = Σ ``syn_updates`` × the mapping's epoch-split factor (a per-sample
  epoch longer than ``max_learning_epoch`` runs as k chip epochs; a ``u``-dependent rule then
  touches every plastic synapse k times) × E[synaptic_update];
* ``neuron_updates``: our models do not split active from inactive updates, but a neuron that
  spiked was active, so low = spikes·E[active].low + (updates − spikes)·E[inactive].low and
  high = updates·E[active].high;
* ``relay_updates`` (SBP relay, microcoded neurons on Loihi 2): priced as neuron updates,
  low = all inactive, high = all active (an assumption, stated in the report);
* ``spike_messages``: every spike (and graded relay value, and host-injected input/teacher
  spike) is one message per destination core (the mapping's min/max per sender); low = all
  within a tile, high = each crosses the compact placement's diameter in tile hops
  (E[spike_in_tile].high + hops·E[spike_hop].high).

Missing (counted, not priced): trace updates (``trace_update`` unknown), threshold updates
(homeostasis: microcode or a host write; no per-op figure), host I/O values (inputs, teacher,
readout spikes; no host-interface figure in the profiles).

Static energy = ``static_power`` × time, with two pacings:

* ``real_time``: one step lasts ``dt``;
* ``as_fast_as_possible``: a step lasts as long as its busiest core plus a barrier sync. From
  per-core work W_c (the mapping's share of each op × the profile's time per op):
  low = max_c ΣW_c(low times) + steps·barrier.low (the busiest core's total is a lower bound on
  Σ_t max_c), high = Σ_c ΣW_c(high times, message hops serialised) + steps·barrier.high (all
  cores' work serialised). Trace-update times are not published and are left out.

Per phase (inference, learning): totals, per sample, latency per sample and energy-delay product
(EDP = energy per sample × latency per sample, both ends multiplied).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from spikeport.errors import BackendError, DataError
from spikeport.hw_profiles.mapping import hardware_readiness, load_network, map_network
from spikeport.hw_profiles.profile import Profile, Quantity, load_profile

PJ = 1e-12
NS = 1e-9
CORES_PER_TILE = 4
CORES_PER_TILE_SOURCE = ("Loihi: 128 cores, barrier sync quoted for 1-32 tiles (Davies et al. "
                         "2018, Table 2), so 4 cores per tile; assumed the same on Loihi 2")
PHASES = {"inference": "lava_infer.json", "learning": "lava_learn.json"}


# ---------------------------------------------------------------------------------------------
# ranges

def rng(low: float, high: float | None = None) -> dict:
    return {"low": float(low), "high": float(low if high is None else high)}


def radd(*rs: dict) -> dict:
    return rng(sum(r["low"] for r in rs), sum(r["high"] for r in rs))


def rscale(r: dict, k: float) -> dict:
    return rng(r["low"] * k, r["high"] * k)


def rmul(a: dict, b: dict) -> dict:
    return rng(a["low"] * b["low"], a["high"] * b["high"])


def _qr(q: Quantity, unit: float = 1.0) -> dict:
    return rng(q.low * unit, q.high * unit)


def _src(q: Quantity) -> dict:
    return {"value": q.describe(), "status": q.status, "source": q.source,
            **({"note": q.note} if q.note else {})}


def fmt_range(r: dict, unit: str = "J", digits: int = 3) -> str:
    """``1.2–3.4 µJ`` (engineering prefix chosen from the high end)."""
    lo, hi = r["low"], r["high"]
    top = max(abs(hi), abs(lo))
    prefixes = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1, "")]
    scale, pre = 1.0, ""
    for s, p in prefixes:
        if top >= s:
            scale, pre = s, p
    if top == 0:
        scale, pre = 1.0, ""
    a, b = f"{lo / scale:.{digits}g}", f"{hi / scale:.{digits}g}"
    return f"{a} {pre}{unit}" if a == b else f"{a}–{b} {pre}{unit}"


# ---------------------------------------------------------------------------------------------
# counts from an ops dict

def collect_counts(ops: dict, mapping: dict) -> dict:
    """Per category totals from a Lava run's ``ops`` (keys as written by
    :mod:`spikeport.lava_processes.run`), with the epoch split applied to synaptic updates."""
    c = {"syn_ops": 0, "syn_updates_measured": 0, "syn_updates": 0, "trace_updates": 0,
         "epochs": 0, "neuron_updates": 0, "spikes": 0, "threshold_updates": 0,
         "relay_updates": 0, "relay_values": 0, "input_values": 0, "teacher_values": 0,
         "readout_spikes": 0}
    splits = mapping.get("epoch_split", {})
    senders = mapping["senders"]
    msg_lo = msg_hi = 0.0
    for key, d in ops.items():
        kind, _, name = key.partition(":")
        if kind == "population":
            c["neuron_updates"] += d.get("neuron_updates", 0)
            c["spikes"] += d.get("spikes", 0)
            c["threshold_updates"] += d.get("threshold_updates", 0)
            s = senders.get(name)
            if s:
                msg_lo += d.get("spikes", 0) * s["dest_cores_min"]
                msg_hi += d.get("spikes", 0) * s["dest_cores_max"]
            if name == mapping.get("readout"):
                c["readout_spikes"] += d.get("spikes", 0)
        elif kind == "projection":
            c["syn_ops"] += d.get("syn_ops", 0)
            su = d.get("syn_updates", 0)
            c["syn_updates_measured"] += su
            c["syn_updates"] += su * splits.get(name, {}).get("syn_update_factor", 1)
            c["trace_updates"] += d.get("trace_updates", 0)
            c["epochs"] += d.get("epochs", 0)
        elif kind == "relay":
            c["relay_updates"] += d.get("relay_updates", 0)
            c["relay_values"] += d.get("values_sent", 0)
            s = senders.get(f"relay:{name}")
            if s:
                msg_lo += d.get("values_sent", 0) * s["dest_cores_min"]
                msg_hi += d.get("values_sent", 0) * s["dest_cores_max"]
        elif kind == "input":
            c["input_values"] += d.get("values_sent", 0)
            s = senders.get(name)
            if s:
                msg_lo += d.get("values_sent", 0) * s["dest_cores_min"]
                msg_hi += d.get("values_sent", 0) * s["dest_cores_max"]
        elif key == "teacher":
            c["teacher_values"] += d.get("values_sent", 0)
            s = senders.get("teacher")
            if s:
                msg_lo += d.get("values_sent", 0) * s["dest_cores_min"]
                msg_hi += d.get("values_sent", 0) * s["dest_cores_max"]
        elif key == "teacher_drive":
            c["syn_ops"] += d.get("syn_ops", 0)
    c["spike_messages"] = rng(msg_lo, msg_hi)
    return c


def mesh_hops(cores_used: int) -> int:
    """Largest tile-hop distance between two of ``cores_used`` cores placed compactly
    (``CORES_PER_TILE`` per tile, tiles in a near-square block of the mesh)."""
    tiles = max(1, math.ceil(cores_used / CORES_PER_TILE))
    w = math.ceil(math.sqrt(tiles))
    h = math.ceil(tiles / w)
    return (w - 1) + (h - 1)


# ---------------------------------------------------------------------------------------------
# one phase

def phase_energy(ops: dict, mapping: dict, profile, samples: int, steps: int | None = None,
                 dt: float | None = None) -> dict:
    """Energy and time of one phase: ``ops`` (a Lava run's counters) on ``profile`` with the
    ``mapping`` of the same network and phase (:func:`~spikeport.hw_profiles.mapping.
    map_network`). ``steps`` defaults to ``samples × steps_per_sample``, ``dt`` to the
    mapping's."""
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    steps = samples * mapping["steps_per_sample"] if steps is None else steps
    dt = mapping["dt"] if dt is None else dt
    E, T = prof.energy, prof.time
    c = collect_counts(ops, mapping)
    hops = mesh_hops(mapping["cores_used"])
    cats = {}

    def cat(name, count, energy, per_op, note=""):
        cats[name] = {"count": count, "energy_J": energy, "per_op": per_op,
                      **({"note": note} if note else {})}

    cat("synaptic_ops", c["syn_ops"], rscale(_qr(E["synaptic_op"], PJ), c["syn_ops"]),
        [_src(E["synaptic_op"])], "spikes × stored nonzero fan-out (NeuroBench effective ACs)")
    su_note = "synaptic updates (per epoch, synapses whose rule had an active dependency)"
    if c["syn_updates"] != c["syn_updates_measured"]:
        su_note += (f"; measured {c['syn_updates_measured']}, ×epoch split on chip: "
                    + "; ".join(s["note"] for s in mapping["epoch_split"].values()))
    cat("synaptic_updates", c["syn_updates"],
        rscale(_qr(E["synaptic_update"], PJ), c["syn_updates"]), [_src(E["synaptic_update"])],
        su_note)
    n, s = c["neuron_updates"], min(c["spikes"], c["neuron_updates"])
    ea, ei = E["neuron_update_active"], E["neuron_update_inactive"]
    cat("neuron_updates", n,
        rng((s * ea.low + (n - s) * ei.low) * PJ, n * ea.high * PJ), [_src(ea), _src(ei)],
        f"active vs inactive not counted: low = {s} spiking updates active + the rest "
        "inactive, high = all active")
    if c["relay_updates"]:
        r = c["relay_updates"]
        cat("relay_updates", r, rng(r * ei.low * PJ, r * ea.high * PJ), [_src(ea), _src(ei)],
            "SBP relay as microcoded neurons (Loihi 2): priced as neuron updates, all inactive "
            "to all active (an assumption: no microcode figure is published)")
    m = c["spike_messages"]
    et, eh = E["spike_in_tile"], E["spike_hop"]
    cat("spike_messages", m,
        rng(m["low"] * et.low * PJ, m["high"] * (et.high + hops * eh.high) * PJ),
        [_src(et), _src(eh)],
        f"one message per destination core; low: all within a tile, high: {hops} tile hops "
        f"(diameter of {mapping['cores_used']} cores placed compactly; {CORES_PER_TILE_SOURCE})")
    missing = []
    if c["trace_updates"]:
        q = E["trace_update"]
        if q.known:
            cat("trace_updates", c["trace_updates"],
                rscale(_qr(q, PJ), c["trace_updates"]), [_src(q)])
        else:
            missing.append({"category": "trace_updates", "count": c["trace_updates"],
                            "reason": f"energy not published ({q.source})"})
    if c["threshold_updates"]:
        missing.append({"category": "threshold_updates", "count": c["threshold_updates"],
                        "reason": "energy not published (homeostasis threshold update: "
                                  "microcode or a host write once per sample)"})
    host = c["input_values"] + c["teacher_values"] + c["readout_spikes"]
    if host:
        missing.append({"category": "host_io", "count": host,
                        "reason": f"energy not published (no host-interface figure in profile "
                                  f"'{prof.name}'): {c['input_values']} input spikes, "
                                  f"{c['teacher_values']} teacher values, "
                                  f"{c['readout_spikes']} readout spikes"})
    dynamic = radd(*(v["energy_J"] for v in cats.values()))

    # time: per-core work
    work = _core_work(c, ops, mapping, prof)
    barrier = _qr(T["barrier_sync"], NS)
    fast_time = rng(max((w["low"] for w in work), default=0.0) + steps * barrier["low"],
                    sum(w["high"] for w in work) + steps * barrier["high"])
    static_p = _qr(E["static_power"])
    pacings = {}
    for pname, time_s, how in (
            ("real_time", rng(steps * dt), f"1 step = dt = {dt:g} s"),
            ("as_fast_as_possible", fast_time,
             "busiest core's work + barrier per step (low) to all cores' work serialised + "
             "barrier (high); trace-update time not published, left out")):
        static = rmul(static_p, time_s)
        total = radd(dynamic, static)
        per_sample = rscale(total, 1.0 / samples) if samples else rng(0)
        latency = rscale(time_s, 1.0 / samples) if samples else rng(0)
        pacings[pname] = {"how": how, "time_s": time_s,
                          "step_time_s": rscale(time_s, 1.0 / steps) if steps else rng(0),
                          "static_J": static, "total_J": total,
                          "energy_per_sample_J": per_sample, "latency_per_sample_s": latency,
                          "edp_per_sample_Js": rmul(per_sample, latency)}
    return {"profile": prof.name, "samples": samples, "steps": steps, "dt": dt,
            "cores_used": mapping["cores_used"], "counts": {k: v for k, v in c.items()},
            "categories": cats, "missing": missing, "dynamic_J": dynamic,
            "dynamic_per_sample_J": rscale(dynamic, 1.0 / samples) if samples else rng(0),
            "static_power": _src(E["static_power"]), "pacing": pacings,
            "time_sources": {k: _src(q) for k, q in T.items()},
            "epoch_split": mapping.get("epoch_split", {})}


def _core_work(c: dict, ops: dict, mapping: dict, prof: Profile) -> list[dict]:
    """Per core, seconds of work over the phase (low, high), sharing each op count among the
    cores by neurons (neuron ops) or stored synapses (synaptic ops and updates)."""
    T = prof.time
    hops = mesh_hops(mapping["cores_used"])
    proj_syn = {name: p["synapses"] for name, p in mapping["projections"].items()}
    splits = mapping.get("epoch_split", {})
    out = []
    for core in mapping["cores"]:
        pop = core["population"]
        n_pop = mapping["populations"][pop]["n"]
        share = core["n"] / n_pop
        lo = hi = 0.0
        d = ops.get(f"population:{pop}", {})
        nu, sp = d.get("neuron_updates", 0) * share, d.get("spikes", 0) * share
        sp = min(sp, nu)
        lo += (sp * T["neuron_update_active"].low + (nu - sp) * T["neuron_update_inactive"].low)
        hi += nu * T["neuron_update_active"].high
        if pop.startswith("relay:"):
            r = ops.get(pop, {}).get("relay_updates", 0) * share
            lo += r * T["neuron_update_inactive"].low
            hi += r * T["neuron_update_active"].high
        sender = mapping["senders"].get(pop, {})
        msgs = d.get("spikes", 0) * share * sender.get("dest_cores_max", 0)
        hi += msgs * max(1, hops) * T["spike_hop"].high
        for pname, n_syn in core["synapses"].items():
            if not proj_syn.get(pname):
                continue
            f = n_syn / proj_syn[pname]
            pd = ops.get(f"projection:{pname}", {})
            so = pd.get("syn_ops", 0) * f
            su = pd.get("syn_updates", 0) * f * splits.get(pname, {}).get("syn_update_factor", 1)
            lo += so * T["synaptic_op"].low + su * T["synaptic_update"].low
            hi += so * T["synaptic_op"].high + su * T["synaptic_update"].high
        out.append({"core": core["core"], "low": lo * NS, "high": hi * NS})
    return out


# ---------------------------------------------------------------------------------------------
# a run directory

def _phase_network(run_dir: Path, summary: dict, phase: str):
    """The fixed network a phase ran: the path its summary names, else the run's own copy."""
    recorded = summary.get("fixed_network")
    cands = []
    if recorded:
        cands += [Path(recorded), run_dir / Path(recorded).name]
    cands.append(run_dir / "fixed")
    for p in cands:
        if (p / "network.json").is_file():
            return load_network(p)
    raise DataError(f"{run_dir}: no fixed-point network for the {phase} phase (looked in "
                    f"{', '.join(str(p) for p in cands)})")


def energy_report(run_dir, profiles=("loihi1", "loihi2")) -> dict:
    """Energy of the inference and learning phases of a run directory (``lava_infer.json``,
    ``lava_learn.json``, whichever exist) on each profile; a phase a profile cannot map is
    reported as refused, with the reason and the readiness of each process."""
    run_dir = Path(run_dir)
    summaries = {}
    for phase, fname in PHASES.items():
        path = run_dir / fname
        if path.is_file():
            try:
                summaries[phase] = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: not valid JSON ({exc})") from None
            if not isinstance(summaries[phase], dict) or "ops" not in summaries[phase]:
                raise DataError(f"{path}: no 'ops' (op counts); rerun `spikeport run`")
    if not summaries:
        raise DataError(f"{run_dir}: no lava_infer.json or lava_learn.json (run `spikeport run "
                        "OUT` and `spikeport run OUT --learn` first)")
    report = {"run_dir": str(run_dir), "network": None, "phases": {}, "profiles": {},
              "method": "measured op counts (Lava ProcessModels) × profile per-op energy, + "
                        "static power × time; ranges throughout",
              "notes": []}
    for phase, summary in summaries.items():
        report["phases"][phase] = {"samples": summary.get("samples"),
                                   "dataset": summary.get("dataset"),
                                   "split": summary.get("split"),
                                   "ops": summary["ops"],
                                   **({"accuracy": summary["accuracy"]} if "accuracy" in summary
                                      else {}),
                                   **({"accuracy_while_learning":
                                       summary["accuracy_while_learning"]}
                                      if "accuracy_while_learning" in summary else {})}
        report["network"] = summary.get("network", report["network"])
    for pname in profiles:
        prof = pname if isinstance(pname, Profile) else load_profile(pname)
        entry = {"title": prof.title, "path": prof.path, "pacing_note": prof.pacing_note,
                 "phases": {}}
        for phase, summary in summaries.items():
            learn = phase == "learning"
            net = _phase_network(run_dir, summary, phase)
            try:
                mapping = map_network(net, prof, learn=learn)
            except BackendError as exc:
                entry["phases"][phase] = {
                    "refused": str(exc),
                    "readiness": hardware_readiness(net, prof, learn=learn)}
                continue
            readout = getattr(net, "readout", None)
            mapping["readout"] = readout[0] if isinstance(readout, (tuple, list)) else (
                readout.population if readout is not None else None)
            res = phase_energy(summary["ops"], mapping, prof, int(summary["samples"]))
            res["mapping"] = {k: mapping[k] for k in ("cores_used", "cores_available",
                                                      "populations", "assumptions", "notes")}
            res["readiness"] = mapping["readiness"]
            entry["phases"][phase] = res
        report["profiles"][prof.name] = entry
    return report


# ---------------------------------------------------------------------------------------------
# Markdown

CAT_LABEL = {"synaptic_ops": "synaptic ops", "synaptic_updates": "synaptic updates",
             "neuron_updates": "neuron updates", "relay_updates": "relay updates (SBP)",
             "spike_messages": "spike messages", "trace_updates": "trace updates"}


def _count(x) -> str:
    if isinstance(x, dict):
        a, b = f"{x['low']:,.0f}", f"{x['high']:,.0f}"
        return a if a == b else f"{a}–{b}"
    return f"{x:,}"


def format_energy(report: dict) -> str:
    """The report of :func:`energy_report` as Markdown (every figure a range)."""
    lines = [f"# Energy on chip profiles: {report.get('network')} ({report['run_dir']})", "",
             f"Method: {report['method']}.", ""]
    for phase, p in report["phases"].items():
        acc = p.get("accuracy", p.get("accuracy_while_learning"))
        lines.append(f"- {phase}: {p['samples']} {p.get('dataset') or ''} samples "
                     f"({p.get('split') or '?'} split)"
                     + (f", accuracy {100 * acc:.1f}%" if acc is not None else ""))
    for pname, entry in report["profiles"].items():
        lines += ["", f"## {pname}: {entry['title']}", ""]
        for phase, r in entry["phases"].items():
            lines += [f"### {phase}", ""]
            if "refused" in r:
                lines += [f"**Refused:** {r['refused']}", ""]
                bad = [e for e in r["readiness"] if e["status"] != "chip (stock Lava)"
                       and e["status"] != "host I/O"]
                lines += [f"- {e['process']} '{e['name']}': {e['status']} — {e['needs']}"
                          for e in bad]
                lines.append("")
                continue
            n = r["samples"]
            lines += [f"{n} samples, {r['steps']} steps, {r['cores_used']} cores.", "",
                      "| category | count | energy per op | energy (total) | per sample |",
                      "|---|---:|---|---:|---:|"]
            for k, v in r["categories"].items():
                per = "; ".join(s["value"] for s in v["per_op"])
                lines.append(f"| {CAT_LABEL.get(k, k)} | {_count(v['count'])} | {per} | "
                             f"{fmt_range(v['energy_J'])} | "
                             f"{fmt_range(rscale(v['energy_J'], 1 / n))} |")
            lines.append(f"| **dynamic (priced)** | | | {fmt_range(r['dynamic_J'])} | "
                         f"{fmt_range(r['dynamic_per_sample_J'])} |")
            for mi in r["missing"]:
                lines.append(f"| {mi['category']} | {_count(mi['count'])} | not published | "
                             "missing | missing |")
            lines += ["", "| pacing | time | static | total | per sample | latency/sample | "
                      "EDP/sample |", "|---|---:|---:|---:|---:|---:|---:|"]
            for k, v in r["pacing"].items():
                lines.append(f"| {k.replace('_', ' ')} | {fmt_range(v['time_s'], 's')} | "
                             f"{fmt_range(v['static_J'])} | {fmt_range(v['total_J'])} | "
                             f"{fmt_range(v['energy_per_sample_J'])} | "
                             f"{fmt_range(v['latency_per_sample_s'], 's')} | "
                             f"{fmt_range(v['edp_per_sample_Js'], 'J·s')} |")
            lines.append("")
            notes = [f"static power: {r['static_power']['value']}"]
            notes += [f"{CAT_LABEL.get(k, k)}: {v['note']}" for k, v in r["categories"].items()
                      if v.get("note")]
            notes += [f"{mi['category']}: {mi['reason']}" for mi in r["missing"]]
            notes += [f"{k.replace('_', ' ')}: {v['how']}" for k, v in r["pacing"].items()]
            notes += r["mapping"]["notes"]
            lines += [f"- {x}" for x in notes] + [""]
    lines += ["Missing categories are counted but not priced: totals exclude them. Ranges "
              "carry the profile's status (simulated, estimated, measured); Loihi 2 per-op "
              "energies are estimates derived from Loihi 1."]
    return "\n".join(lines)


__all__ = ["energy_report", "format_energy", "phase_energy", "collect_counts", "mesh_hops",
           "rng", "radd", "rscale", "rmul", "fmt_range"]
