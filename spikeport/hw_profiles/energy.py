"""Energy and time of a run on a chip profile, from the op counts measured in the Lava run.

Pure functions ``profile × counts × mapping → report``. Counts come from the ``ops`` dict
counted inside spikeport's Lava ProcessModels (``OUT/lava_infer.json``, ``lava_learn.json``)
or, identically, by the bit-exact emulator (``OUT/emulator_infer.json``, ``…_learn.json``);
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

Learning phase, scaled from the measured per-sample mean (counts depend on the network's state,
so the mean holds for the samples measured; reports say how many):

* per epoch = per-sample energy × epoch size (the training split the curve was measured on);
* to threshold = per-sample energy × e·N, where e is the first epoch whose validation accuracy
  on the run's training curve (``OUT/artefact/metrics.json``, or a curve given by the caller)
  reaches the threshold and N the epoch size. The curve is evaluated once per epoch, so e·N is
  the first *measured* point at threshold (it may have been crossed earlier in that epoch). A
  curve that never reaches it gives the energy spent over all its epochs as a lower bound.

Baselines (:mod:`spikeport.hw_profiles.baselines`) and like-for-like comparisons: chip dynamic
vs backprop compute-only (MACs × pJ), chip total (dynamic + static) vs a measured whole-device
GPU; every ratio is a range, ``baseline ÷ chip``, low = baseline.low / chip.high, high =
baseline.high / chip.low, with its method.
"""

from __future__ import annotations

import math
from pathlib import Path

from spikeport.errors import BackendError, DataError, SpecError, SpikeportError
from spikeport.flow.ops import OpCounts
from spikeport.flow.summary import read_run_summary
from spikeport.hw_profiles.mapping import hardware_readiness, load_network, map_network
from spikeport.hw_profiles.profile import Profile, Quantity, load_profile
from spikeport.io import check_complete, read_json_object

PJ = 1e-12
NS = 1e-9
CORES_PER_TILE = 4
CORES_PER_TILE_SOURCE = ("Loihi: 128 cores, barrier sync quoted for 1-32 tiles (Davies et al. "
                         "2018, Table 2), so 4 cores per tile; assumed the same on Loihi 2")
PHASES = {"inference": "infer", "learning": "learn"}
RUN_BACKENDS = ("emulator", "lava")   # run summaries OUT/{backend}_{infer,learn}.json


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


def _prefix(x: float) -> tuple[float, str]:
    scale, pre = 1.0, ""
    for s, p in ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1, ""),
                 (1e3, "k")):
        if abs(x) >= s:
            scale, pre = s, p
    return scale, pre


def fmt_range(r: dict, unit: str = "J", digits: int = 3) -> str:
    """``1.2–3.4 µJ``: one engineering prefix, chosen from the high end, unless the low end
    would print below 0.1 of it (then each end has its own: ``58.9 mJ–1.06 J``)."""
    lo, hi = r["low"], r["high"]
    top = max(abs(hi), abs(lo))
    scale, pre = _prefix(top) if top else (1.0, "")
    if lo and abs(lo) / scale < 0.1:
        s_lo, p_lo = _prefix(lo)
        return f"{lo / s_lo:.{digits}g} {p_lo}{unit}–{hi / scale:.{digits}g} {pre}{unit}"
    a, b = f"{lo / scale:.{digits}g}", f"{hi / scale:.{digits}g}"
    return f"{a} {pre}{unit}" if a == b else f"{a}–{b} {pre}{unit}"


# ---------------------------------------------------------------------------------------------
# counts from an ops dict

def collect_counts(ops, mapping: dict) -> dict:
    """Per category totals from a run's op counts (an :class:`~spikeport.flow.ops.OpCounts`
    or its JSON form), with the epoch split applied to synaptic updates."""
    ops = OpCounts.from_json(ops)
    c = {"syn_ops": 0, "syn_updates_measured": 0, "syn_updates": 0, "trace_updates": 0,
         "epochs": 0, "neuron_updates": 0, "spikes": 0, "threshold_updates": 0,
         "relay_updates": 0, "relay_values": 0, "input_values": 0, "teacher_values": 0,
         "readout_spikes": 0}
    splits = mapping.get("epoch_split", {})
    senders = mapping["senders"]
    msg = [0.0, 0.0]

    def send(sender: str, values: int) -> None:
        s = senders.get(sender)
        if s:
            msg[0] += values * s["dest_cores_min"]
            msg[1] += values * s["dest_cores_max"]

    for name, d in ops.population.items():
        c["neuron_updates"] += d.get("neuron_updates", 0)
        c["spikes"] += d.get("spikes", 0)
        c["threshold_updates"] += d.get("threshold_updates", 0)
        send(name, d.get("spikes", 0))
        if name == mapping.get("readout"):
            c["readout_spikes"] += d.get("spikes", 0)
    for name, d in ops.projection.items():
        c["syn_ops"] += d.get("syn_ops", 0)
        su = d.get("syn_updates", 0)
        c["syn_updates_measured"] += su
        c["syn_updates"] += su * splits.get(name, {}).get("syn_update_factor", 1)
        c["trace_updates"] += d.get("trace_updates", 0)
        c["epochs"] += d.get("epochs", 0)
    for name, d in ops.relay.items():
        c["relay_updates"] += d.get("relay_updates", 0)
        c["relay_values"] += d.get("values_sent", 0)
        send(f"relay:{name}", d.get("values_sent", 0))
    for name, d in ops.input.items():
        c["input_values"] += d.get("values_sent", 0)
        send(name, d.get("values_sent", 0))
    for name, d in ops.dopamine.items():   # NACA: graded third factors, a label per sample
        c["relay_values"] += d.get("values_sent", 0)
        c["teacher_values"] += d.get("labels_received", 0)
        send(f"dopamine:{name}", d.get("values_sent", 0))
    if ops.teacher is not None:
        # teaching spikes (and a gated rule's per-step gate values) come from the host
        d = ops.teacher
        c["teacher_values"] += d.get("values_sent", 0) + d.get("gate_values_sent", 0)
        send("teacher", d.get("values_sent", 0))
    if ops.teacher_drive is not None:
        c["syn_ops"] += ops.teacher_drive.get("syn_ops", 0)
    msg_lo, msg_hi = msg
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
    ops = OpCounts.from_json(ops)
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


def _core_work(c: dict, ops: OpCounts, mapping: dict, prof: Profile) -> list[dict]:
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
        d = ops.population.get(pop, {})
        nu, sp = d.get("neuron_updates", 0) * share, d.get("spikes", 0) * share
        sp = min(sp, nu)
        lo += (sp * T["neuron_update_active"].low + (nu - sp) * T["neuron_update_inactive"].low)
        hi += nu * T["neuron_update_active"].high
        if pop.startswith("relay:"):
            r = ops.relay.get(pop.partition(":")[2], {}).get("relay_updates", 0) * share
            lo += r * T["neuron_update_inactive"].low
            hi += r * T["neuron_update_active"].high
        sender = mapping["senders"].get(pop, {})
        msgs = d.get("spikes", 0) * share * sender.get("dest_cores_max", 0)
        hi += msgs * max(1, hops) * T["spike_hop"].high
        for pname, n_syn in core["synapses"].items():
            if not proj_syn.get(pname):
                continue
            f = n_syn / proj_syn[pname]
            pd = ops.projection.get(pname, {})
            so = pd.get("syn_ops", 0) * f
            su = pd.get("syn_updates", 0) * f * splits.get(pname, {}).get("syn_update_factor", 1)
            lo += so * T["synaptic_op"].low + su * T["synaptic_update"].low
            hi += so * T["synaptic_op"].high + su * T["synaptic_update"].high
        out.append({"core": core["core"], "low": lo * NS, "high": hi * NS})
    return out


# ---------------------------------------------------------------------------------------------
# one phase of a network on one profile

def price_phase(net, ops: dict, samples: int, profile, learn: bool) -> dict:
    """Map ``net`` (a FixedNetwork, or a path :func:`~spikeport.hw_profiles.mapping.
    load_network` reads) for the phase and price its measured ``ops``; a network the profile
    cannot hold is ``{"refused": reason, "readiness": [...]}``."""
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    net = load_network(net)
    try:
        mapping = map_network(net, prof, learn=learn)
    except BackendError as exc:
        return {"refused": str(exc), "readiness": hardware_readiness(net, prof, learn=learn)}
    readout = getattr(net, "readout", None)
    mapping["readout"] = readout[0] if isinstance(readout, (tuple, list)) else (
        readout.population if readout is not None else None)
    res = phase_energy(ops, mapping, prof, int(samples))
    res["mapping"] = {k: mapping[k] for k in ("cores_used", "cores_available", "populations",
                                              "assumptions", "notes")}
    res["readiness"] = mapping["readiness"]
    return res


# ---------------------------------------------------------------------------------------------
# learning: per epoch and to a threshold accuracy

def epochs_to_threshold(val_curve, threshold: float) -> int | None:
    """First epoch e >= 1 whose validation accuracy ``val_curve[e]`` reaches ``threshold``
    (``val_curve[0]`` is the untrained network), or None."""
    for e, acc in enumerate(val_curve):
        if e >= 1 and acc is not None and acc >= threshold:
            return e
    return None


def scale_learning(res: dict, samples: float) -> dict:
    """``samples`` samples at the measured per-sample mean of a priced learning phase:
    dynamic energy, and total energy and time for each pacing."""
    return {"samples": samples,
            "dynamic_J": rscale(res["dynamic_per_sample_J"], samples),
            "total_J": {k: rscale(v["energy_per_sample_J"], samples)
                        for k, v in res["pacing"].items()},
            "time_s": {k: rscale(v["latency_per_sample_s"], samples)
                       for k, v in res["pacing"].items()}}


def _span(parts: list[dict]) -> dict:
    """The envelope of several scaled figures (min of lows, max of highs), key by key."""
    out = {"samples": rng(min(p["samples"] for p in parts), max(p["samples"] for p in parts)),
           "dynamic_J": rng(min(p["dynamic_J"]["low"] for p in parts),
                            max(p["dynamic_J"]["high"] for p in parts))}
    for key in ("total_J", "time_s"):
        out[key] = {k: rng(min(p[key][k]["low"] for p in parts),
                           max(p[key][k]["high"] for p in parts)) for k in parts[0][key]}
    return out


def learning_costs(res: dict, epoch_samples: int, epochs: list, epochs_trained: int,
                   threshold: float, curve_source: str) -> dict:
    """Per epoch and to threshold for a priced learning phase. ``epochs``: epochs to threshold
    from one or more training curves (None where a curve never reached it, after
    ``epochs_trained`` epochs). To threshold spans the curves that reached it
    (low = min e · N · E.low, high = max e · N · E.high); when some did not, the energy of
    all ``epochs_trained`` epochs is a lower bound for them."""
    if epoch_samples < 1:
        raise ValueError(f"epoch_samples = {epoch_samples} must be >= 1")
    reached = [e for e in epochs if e is not None]
    out = {"per_epoch": scale_learning(res, epoch_samples),
           "epoch_samples": int(epoch_samples), "threshold": threshold,
           "epochs_to_threshold": list(epochs), "reached": len(reached), "curves": len(epochs),
           "curve_source": curve_source,
           "method": "measured per-sample mean × samples; samples to threshold = first epoch "
                     "at threshold (validation, checked once per epoch) × epoch size"}
    out["to_threshold"] = (_span([scale_learning(res, e * epoch_samples) for e in reached])
                           if reached else None)
    if len(reached) < len(epochs):
        out["not_reached_lower_bound"] = scale_learning(res, epochs_trained * epoch_samples)
        out["epochs_trained"] = int(epochs_trained)
    return out


def training_curve(run_dir) -> dict | None:
    """The Brian2 training curve of a run directory's artefact: validation accuracy per epoch
    and the epoch size, from ``OUT/artefact/metrics.json`` (deploy trains there), else from
    the artefact ``convert`` recorded as its source (``OUT/quantization.json``), else from a
    fixed-point training in the run directory itself (``train --backend emulator``). An
    artefact that was never trained (no epochs) has no curve: None."""
    run_dir = Path(run_dir)
    cands = [run_dir / "artefact" / "metrics.json"]
    q = run_dir / "quantization.json"
    if q.is_file():
        src = read_json_object(q, "quantization report").get("source")
        if isinstance(src, str):
            cands.append(Path(src) / "metrics.json")
    cands.append(run_dir / "metrics.json")
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        return None
    m = read_json_object(path, "training metrics")
    epochs = m.get("epochs")
    if not epochs:
        return None
    if not isinstance(epochs, list):
        raise DataError(f"{path}: epochs = {type(epochs).__name__}; allowed: a list of rows")
    val = []
    for i, row in enumerate(epochs):
        v = row.get("val_accuracy") if isinstance(row, dict) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise DataError(f"{path}: epochs[{i}].val_accuracy = {v!r} is invalid; allowed: "
                            "an accuracy in [0, 1]")
        val.append(float(v))
    splits = m.get("splits")
    n = splits.get("train") if isinstance(splits, dict) else None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DataError(f"{path}: splits.train = {n!r} is invalid; allowed: integers >= 1 "
                        "(the training split's size)")
    return {"val": val, "epoch_samples": n, "epochs_trained": len(val) - 1,
            "source": str(path), "dataset": m.get("dataset"), "data_dir": m.get("data_dir")}


def mlp_shape(net) -> tuple[int, int, int, int] | None:
    """(m, n, C, k) of a one-hidden-layer classifier: input size, hidden size, number of
    classes, readout size; None for any other structure."""
    readout = getattr(net, "readout", None)
    if readout is None or len(net.inputs) != 1 or len(net.populations) != 2:
        return None
    pop, n_classes = (readout if isinstance(readout, (tuple, list))
                      else (readout.population, readout.n_classes))
    hidden = [p for p in net.populations if p.name != pop]
    if len(hidden) != 1:
        return None
    inp = net.inputs[0]
    m = inp[1] if isinstance(inp, (tuple, list)) else inp.n
    k = next(p.n for p in net.populations if p.name == pop)
    return int(m), int(hidden[0].n), int(n_classes), int(k)


# ---------------------------------------------------------------------------------------------
# comparisons, like for like

def comparisons(chip: dict, mlp: dict | None, device: dict | None) -> list[dict]:
    """``chip``: profile -> learning-cost entry (``learning_costs`` plus ``per_sample``
    with ``dynamic_J`` and ``total_J`` per pacing). Pairs: chip dynamic vs backprop compute-only
    (per sample, to threshold); chip total (each pacing) vs the whole-device measurement (per
    sample, to threshold). Ratios are ``baseline ÷ chip`` ranges."""
    from spikeport.hw_profiles.baselines import ratio

    out = []
    end_to_end = ("range ÷ range end to end: baseline.low / chip.high to baseline.high / "
                  "chip.low")

    def add(quantity, chip_name, chip_what, chip_J, base_name, base_J, note=""):
        if chip_J is None or base_J is None or chip_J["low"] <= 0:
            return
        out.append({"quantity": quantity, "chip": chip_name, "chip_figure": chip_what,
                    "chip_J": chip_J, "baseline": base_name, "baseline_J": base_J,
                    "ratio": ratio(base_J, chip_J, end_to_end),
                    **({"note": note} if note else {})})

    for name, c in chip.items():
        partial = (f"; the chip's curves reached it on {c['reached']} of {c['curves']}"
                   if c.get("reached", 0) < c.get("curves", 0) else "")
        if mlp is not None:
            bname = (f"backprop MLP {'-'.join(map(str, mlp['sizes']))}, compute only "
                     f"({mlp['energy']['profile']})")
            add("per sample", name, "dynamic", c["per_sample"]["dynamic_J"], bname,
                mlp["energy"]["compute_only_per_sample_J"])
            if c.get("to_threshold") and mlp.get("to_threshold"):
                add("to threshold", name, "dynamic", c["to_threshold"]["dynamic_J"], bname,
                    mlp["to_threshold"]["compute_only_J"],
                    f"both to {100 * c['threshold']:.0f}% validation accuracy{partial}")
        if device is not None and device["applies"]:
            dname = f"{device['title']} (whole device, measured)"
            for pacing, total in c["per_sample"]["total_J"].items():
                add("per sample", name, f"total, {pacing.replace('_', ' ')}", total, dname,
                    device["per_sample_J"])
                if c.get("to_threshold"):
                    add("to threshold", name, f"total, {pacing.replace('_', ' ')}",
                        c["to_threshold"]["total_J"][pacing], dname, device["to_threshold_J"],
                        f"thresholds differ: chip {100 * c['threshold']:.0f}% validation; GPU "
                        f"{100 * device['threshold']:.0f}% {device['threshold_split']} on its "
                        f"{device['train_samples_per_epoch']}-sample epochs{partial}")
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


def _run_summaries(run_dir: Path, backend: str | None) -> dict:
    """Per phase, (backend, summary) of the run a report prices: ``OUT/{backend}_{mode}.json``
    for the given backend, else the emulator's if present, else Lava's."""
    if backend is not None and backend not in RUN_BACKENDS:
        raise DataError(f"backend = {backend!r} is invalid; allowed: "
                        f"{', '.join(RUN_BACKENDS)}")
    check_complete(run_dir)
    out = {}
    for phase, mode in PHASES.items():
        for b in ((backend,) if backend else RUN_BACKENDS):
            path = run_dir / f"{b}_{mode}.json"
            if not path.is_file():
                continue
            summary = read_run_summary(path)
            summary["ops"] = summary["ops"].to_json()
            out[phase] = (b, summary)
            break
    if not out:
        names = " or ".join(f"{b}_infer.json / {b}_learn.json"
                            for b in ((backend,) if backend else RUN_BACKENDS))
        raise DataError(f"{run_dir}: no {names} (run `spikeport run OUT` and `spikeport run "
                        "OUT --learn` first)")
    return out


def energy_report(run_dir, profiles=("loihi1", "loihi2"), baselines: bool = True,
                  threshold: float | None = None, data_dir=None, mlp_batch: int = 1,
                  mlp_lr: float = 0.05, backend: str | None = None) -> dict:
    """Energy of the inference and learning phases of a run directory (``lava_infer.json``,
    ``lava_learn.json``, whichever exist; the emulator's ``emulator_*.json`` where Lava's are
    absent, or only ``backend``'s) on each profile; a phase a profile cannot map is reported
    as refused, with the reason and the readiness of each process.

    Learning phase: per epoch and to ``threshold`` validation accuracy (default per dataset,
    :data:`~spikeport.hw_profiles.baselines.DEFAULT_THRESHOLDS`) from the run's training
    curve. With ``baselines``: the backprop MLP trained to the same threshold on the same
    data (compute only), the measured GPU (whole device), the papers' cost metric, and the
    like-for-like comparisons."""
    from spikeport.hw_profiles import baselines as bl

    run_dir = Path(run_dir)
    found = _run_summaries(run_dir, backend)
    summaries = {phase: s for phase, (_, s) in found.items()}
    if threshold is not None and not 0 < threshold <= 1:
        raise SpecError(f"threshold = {threshold} is invalid; allowed: a validation accuracy "
                        "in (0, 1]")
    report = {"run_dir": str(run_dir), "network": None, "phases": {}, "profiles": {},
              "method": "op counts measured in the run (Lava ProcessModels, or the bit-exact "
                        "emulator: the same counters) × profile per-op energy, + static power "
                        "× time; ranges throughout",
              "notes": []}
    for phase, summary in summaries.items():
        report["phases"][phase] = {"backend": found[phase][0],
                                   "file": str(run_dir / f"{found[phase][0]}_"
                                               f"{PHASES[phase]}.json"),
                                   "samples": summary.get("samples"),
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
            net = _phase_network(run_dir, summary, phase)
            entry["phases"][phase] = price_phase(net, summary["ops"], summary["samples"], prof,
                                                 learn=phase == "learning")
        report["profiles"][prof.name] = entry

    # learning: per epoch and to threshold, from the run's training curve
    any_summary = summaries.get("learning") or summaries["inference"]
    dataset = any_summary.get("dataset")
    curve = training_curve(run_dir)
    if curve is not None and curve["dataset"] and dataset and curve["dataset"] != dataset:
        report["notes"].append(f"training curve {curve['source']} is on {curve['dataset']}, "
                               f"the Lava runs on {dataset}: not used for energy to threshold")
        curve = None
    data_dir = data_dir if data_dir is not None else (curve or {}).get("data_dir")
    thr = threshold if threshold is not None else bl.DEFAULT_THRESHOLDS.get(dataset)
    learning = {"threshold": thr, "curve": curve}
    if curve is None:
        report["notes"].append(f"no training curve ({run_dir / 'artefact' / 'metrics.json'} or "
                               "the artefact convert recorded): energy to threshold needs one "
                               "(train and deploy write it)")
    if thr is None:
        report["notes"].append(f"no threshold for dataset {dataset!r}: give --threshold")
    if "learning" not in summaries:
        report["notes"].append("no learning phase (lava_learn.json): run `spikeport run OUT "
                               "--learn` for learning-phase energy per sample, per epoch and "
                               "to threshold")
    chip = {}
    for pname, entry in report["profiles"].items():
        res = entry["phases"].get("learning")
        if res is None or "refused" in res:
            continue
        c = {"per_sample": {"dynamic_J": res["dynamic_per_sample_J"],
                            "total_J": {k: v["energy_per_sample_J"]
                                        for k, v in res["pacing"].items()}},
             "threshold": thr}
        if curve is not None:
            c.update(learning_costs(res, curve["epoch_samples"],
                                    [epochs_to_threshold(curve["val"], thr)] if thr else [],
                                    curve["epochs_trained"], thr, curve["source"]))
            if not thr:
                c["to_threshold"] = None
        res["learning_costs"] = c
        chip[pname] = c
    report["learning"] = learning

    # baselines, same task and threshold
    report["baselines"] = {}
    net = _phase_network(run_dir, any_summary, "learning" if "learning" in summaries
                         else "inference")
    shape = mlp_shape(net)
    if baselines:
        if shape is None:
            report["baselines"]["skipped"] = ("the MLP baseline needs one input, one hidden and "
                                              "one readout population")
        elif thr is None or dataset is None:
            report["baselines"]["skipped"] = "no dataset or threshold to train the MLP to"
        else:
            m, n, c_, k = shape
            try:
                report["baselines"]["mlp"] = bl.mlp_baseline(
                    dataset, (m, n, c_), thr, int(net.seed), data_dir=data_dir,
                    batch=mlp_batch, lr=mlp_lr, k_snn=k)
            except SpikeportError as exc:   # e.g. the dataset's files are not here
                report["baselines"]["skipped"] = f"MLP baseline not trained: {exc}"
            report["baselines"]["device"] = bl.device_baseline(dataset)
    if shape is not None:
        m, n, _, k = shape
        known = curve is not None and thr is not None
        pc = bl.paper_cost(m, n, k, epochs_to_threshold(curve["val"], thr) if known else None)
        pc["reached"] = known and pc["epochs"] is not None
        if not known:
            pc["note"] = "no training curve or threshold: epochs to threshold unknown"
        report["baselines"]["paper_cost_snn"] = pc
    report["comparisons"] = comparisons(chip, report["baselines"].get("mlp"),
                                        report["baselines"].get("device"))
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
                     + (f", accuracy {100 * acc:.1f}%" if acc is not None else "")
                     + (f"; counts from {p['backend']} ({p['file']})" if p.get("backend")
                        else ""))
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
    lines += format_learning(report)
    lines += ["Missing categories are counted but not priced: totals exclude them. Ranges "
              "carry the profile's status (simulated, estimated, measured); Loihi 2 per-op "
              "energies are estimates derived from Loihi 1."]
    return "\n".join(lines)


def _pacing(k: str) -> str:
    return k.replace("_", " ")


def _thr_cell(c: dict, key: str, sub: str | None = None) -> str:
    """A to-threshold cell: the range, '> spent (not reached)', or both for mixed curves."""
    def pick(d):
        return d[key] if sub is None else d[key][sub]
    tt, low_b = c.get("to_threshold"), c.get("not_reached_lower_bound")
    parts = []
    if tt is not None:
        parts.append(fmt_range(pick(tt)))
    if low_b is not None:
        parts.append(f"> {fmt_range(pick(low_b))} (not reached on "
                     f"{c['curves'] - c['reached']} of {c['curves']} curves)")
    return "; ".join(parts) or "–"


def format_learning(report: dict) -> list[str]:
    """Markdown lines: learning per sample / per epoch / to threshold, the baselines, the
    papers' cost metric and the like-for-like comparisons."""
    from spikeport.hw_profiles.baselines import format_ratio

    lines = []
    chip = {name: e["phases"]["learning"]["learning_costs"]
            for name, e in report["profiles"].items()
            if "learning_costs" in e["phases"].get("learning", {})}
    learning = report.get("learning", {})
    if chip:
        thr = learning.get("threshold")
        curve = learning.get("curve")
        lines += ["## Learning phase: per sample, per epoch, to threshold", ""]
        meas = report["phases"]["learning"]["samples"]
        lines.append(f"Per sample: the mean over the {meas} samples of the measured learning "
                     "run. Per epoch and to threshold scale that mean (the counts of other "
                     "samples, and of the network at other stages of training, differ).")
        if curve is not None and thr:
            e = epochs_to_threshold(curve["val"], thr)
            ep = curve["epochs_trained"]
            lines.append(f"Training curve: {curve['source']} ({ep} epoch{'s' * (ep != 1)} "
                         f"of {curve['epoch_samples']} samples); {100 * thr:.0f}% validation "
                         "accuracy " + (f"first measured after epoch {e}." if e else
                                        "never reached."))
        lines += ["", "| profile | figure | per sample | per epoch | to threshold |",
                  "|---|---|---:|---:|---:|"]
        for name, c in chip.items():
            pe = c.get("per_epoch")
            lines.append(f"| {name} | dynamic | {fmt_range(c['per_sample']['dynamic_J'])} | "
                         f"{fmt_range(pe['dynamic_J']) if pe else '–'} | "
                         f"{_thr_cell(c, 'dynamic_J')} |")
            for k, v in c["per_sample"]["total_J"].items():
                lines.append(f"| {name} | total, {_pacing(k)} | {fmt_range(v)} | "
                             f"{fmt_range(pe['total_J'][k]) if pe else '–'} | "
                             f"{_thr_cell(c, 'total_J', k)} |")
        lines.append("")
    base = report.get("baselines", {})
    mlp, dev = base.get("mlp"), base.get("device")
    if base.get("skipped"):
        lines += ["## Baselines", "", f"Skipped: {base['skipped']}.", ""]
    if mlp is not None:
        e = mlp["energy"]
        shape = "-".join(map(str, mlp["sizes"]))
        reach = (f"reached {100 * mlp['threshold']:.0f}% validation accuracy after epoch "
                 f"{mlp['epochs_to_threshold']} (first check at threshold: "
                 f"{mlp['samples_to_threshold_fine']} samples)" if mlp["to_threshold"] else
                 f"did not reach {100 * mlp['threshold']:.0f}% in {mlp['max_epochs']} epochs")
        lines += ["## Backprop baseline, compute only (compare with the chip's dynamic energy)",
                  "",
                  f"numpy MLP {shape} (sigmoid, softmax + cross-entropy, SGD batch "
                  f"{mlp['batch']}, lr {mlp['lr']}, seed {mlp['seed']}) on the same "
                  f"{mlp['dataset']} train split ({mlp['epoch_samples']} samples per epoch): "
                  f"{reach}. {e['macs_per_sample']:,.0f} MACs per training sample, counted "
                  f"during the run; priced with {e['title']}.", "",
                  "| category | count (run) | energy per op | per sample |", "|---|---:|---|---:|"]
        n = e["samples"]
        for k, v in e["categories"].items():
            lines.append(f"| {k.replace('_', ' ')} | {v['count']:,} | {v['per_op'][0]['value']}"
                         f" | {fmt_range(rscale(v['energy_J'], 1 / n))} |")
        lines.append(f"| **compute only** | {e['macs']:,} MACs | | "
                     f"{fmt_range(e['compute_only_per_sample_J'])} |")
        for mi in e["missing"]:
            lines.append(f"| {mi['category']} | {mi['count']:,} | not published | missing |")
        for k, v in e["memory"].items():
            lines.append(f"| memory, {k} ({v['level']}, {v['working_set_bytes']:,} B) | "
                         f"{v['accesses_64b']:,.0f} accesses | {v['per_access']['value']} | "
                         f"{fmt_range(rscale(v['energy_J'], 1 / n))} |")
        tt = mlp["to_threshold"]
        lines += ["", f"Per epoch: compute only {fmt_range(mlp['per_epoch']['compute_only_J'])}"
                  f", weight memory {fmt_range(mlp['per_epoch']['memory_J'])}. To threshold: "
                  + (f"compute only {fmt_range(tt['compute_only_J'])}, weight memory "
                     f"{fmt_range(tt['memory_J'])}." if tt else "not reached."),
                  f"Method: {e['method']}.", ""]
    if dev is not None:
        lines += ["## Whole-device baseline, measured (compare with the chip's total energy)",
                  "", f"{dev['title']}: {dev['measurement'].get('network')} MLP on "
                  f"{dev['dataset']}, to {100 * dev['threshold']:.0f}% {dev['threshold_split']} "
                  f"accuracy; idle power {dev['idle_power']['value']}; raw numbers "
                  f"{dev['measurement'].get('raw')}, script {dev['measurement'].get('script')}."
                  + ("" if dev["applies"] else
                     f" **Measured on {dev['dataset']} only: not compared with "
                     f"{mlp['dataset'] if mlp else 'this dataset'}.**"), "",
                  "| batch | epochs to threshold | seconds | energy to threshold | per sample | "
                  "idle power × time |", "|---:|---:|---:|---:|---:|---:|"]
        for r in dev["runs"]:
            lines.append(f"| {r['batch']} | {r['epochs_to_threshold']} | {r['seconds']:.2f} | "
                         f"{fmt_range(r['energy_J'])} | {fmt_range(r['per_sample_J'])} | "
                         f"{fmt_range(r['idle_J'])} |")
        lines += ["", f"Method: {dev['method']}.", ""]
    pc_snn = base.get("paper_cost_snn")
    if pc_snn is not None:
        lines += ["## The papers' cost metric", "", "| network | epochs to threshold | "
                  "per-epoch complexity | cost to threshold |", "|---|---:|---:|---:|"]
        rows = [(f"spiking network ({report.get('network')})", pc_snn)]
        if mlp is not None:
            rows.append((f"backprop MLP {'-'.join(map(str, mlp['sizes']))}", mlp["paper_cost"]))
        for label, pc in rows:
            epochs = (f"{pc['epochs']:g}" if pc["epochs"] is not None else
                      "unknown (no curve)" if pc.get("note", "").startswith("no training")
                      else "not reached")
            cost = "–" if pc["to_threshold"] is None else f"{pc['to_threshold']:.3g}"
            lines.append(f"| {label} | {epochs} | {pc['per_epoch']:,} | {cost} |")
        lines += ["", f"Cost = {pc_snn['formula']} (the SBP paper's metric).", ""]
    if report.get("comparisons"):
        lines += ["## Like-for-like comparisons (baseline ÷ chip)", "",
                  "| quantity | chip | chip figure | chip energy | baseline | baseline energy "
                  "| baseline ÷ chip |", "|---|---|---|---:|---|---:|---:|"]
        for c in report["comparisons"]:
            lines.append(f"| {c['quantity']} | {c['chip']} | {c['chip_figure']} | "
                         f"{fmt_range(c['chip_J'])} | {c['baseline']} | "
                         f"{fmt_range(c['baseline_J'])} | {format_ratio(c['ratio'])} |")
        notes = sorted({c["note"] for c in report["comparisons"] if c.get("note")})
        lines += [""] + [f"- {x}" for x in notes] + ["- Backprop compute only is 45 nm; "
                                                     "Loihi 1 is 14 nm, Loihi 2 Intel 4: the "
                                                     "ratios include the process difference.",
                                                     ""]
    for note in report.get("notes", []):
        lines.append(f"- {note}")
    if report.get("notes"):
        lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# plot and files

PHASE_ORDER = ("inference", "learning")
MLP_LABEL = {"forward_macs": "MLP forward MACs", "backward_macs": "MLP backward MACs",
             "update_macs": "MLP weight-update MACs", "adds": "MLP adds", "mults": "MLP mults"}


def plot_energy(report: dict) -> bytes:
    """A PNG: per chip profile, dynamic energy per sample of each phase as two stacked bars
    (the low and the high end of every range), by category; beside them the backprop
    baseline's compute-only energy per training sample by category. Same y axis throughout."""
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    mlp = report.get("baselines", {}).get("mlp")
    panels = list(report["profiles"].items())
    top = [r["dynamic_per_sample_J"]["high"] for _, e in panels for r in e["phases"].values()
           if "dynamic_J" in r]
    if mlp is not None:
        top.append(mlp["energy"]["compute_only_per_sample_J"]["high"])
    scale, unit = 1.0, "J"
    for sc, pre in ((1e-12, "pJ"), (1e-9, "nJ"), (1e-6, "µJ"), (1e-3, "mJ"), (1.0, "J")):
        if max(top, default=0.0) >= sc:
            scale, unit = sc, pre
    n_panels = len(panels) + (mlp is not None)
    fig, axes = plt.subplots(1, n_panels, figsize=(3.6 * n_panels + 1.5, 4.2), sharey=True,
                             squeeze=False)
    axes = axes[0]
    cats = list(CAT_LABEL)
    colors = {k: plt.cm.tab20(i) for i, k in enumerate(cats + list(MLP_LABEL))}
    used = {}
    for ax, (pname, entry) in zip(axes, panels):
        x, labels = 0, []
        for phase in PHASE_ORDER:
            r = entry["phases"].get(phase)
            if r is None:
                continue
            if "refused" in r:
                ax.text(x + 0.5, 0.5, "refused:\ndoes not map\n(reason in the report)", ha="center",
                        va="center", fontsize=8, transform=ax.get_xaxis_transform())
                labels += [(x + 0.5, f"{phase}\nrefused")]
                x += 2
                continue
            n = r["samples"]
            for j, end in enumerate(("low", "high")):
                bottom = 0.0
                for k in cats:
                    v = r["categories"].get(k)
                    if v is None:
                        continue
                    h = v["energy_J"][end] / n / scale
                    used[k] = ax.bar(x + j, h, bottom=bottom, color=colors[k], width=0.8,
                                     label=CAT_LABEL[k])
                    bottom += h
            labels.append((x + 0.5, f"{phase}\nlow | high"))
            x += 2
        ax.set_xticks([p for p, _ in labels], [t for _, t in labels], fontsize=8)
        ax.set_xlim(-0.7, max(x - 0.3, 1.7))
        ax.set_title(f"{pname}", fontsize=10)
    if mlp is not None:
        ax = axes[-1]
        e = mlp["energy"]
        bottom = 0.0
        for k, lab in MLP_LABEL.items():
            v = e["categories"].get(k)
            if v is None:
                continue
            h = v["energy_J"]["low"] / e["samples"] / scale
            used[k] = ax.bar(0, h, bottom=bottom, color=colors[k], width=0.8, label=lab)
            bottom += h
        ax.set_xticks([0], [f"backprop MLP\n{'-'.join(map(str, mlp['sizes']))}"], fontsize=8)
        ax.set_xlim(-1, 1)
        ax.set_title(f"compute only ({e['profile']})", fontsize=10)
        mem = e["memory_per_sample_J"]
        ax.text(0, bottom, f"{fmt_range(e['compute_only_per_sample_J'])}\n(+ weight memory "
                f"{fmt_range(mem)},\nnot drawn)", ha="center", va="bottom", fontsize=7)
    axes[0].set_ylabel(f"dynamic energy per sample ({unit})")
    fig.legend(list(used.values()), [h.get_label() for h in used.values()], loc="center right",
               fontsize=8, frameon=False)
    fig.suptitle(f"{report.get('network')}: dynamic energy per sample by category and phase "
                 "(static energy not shown)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.8, 0.95))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def write_energy(run_dir, profiles=("loihi1", "loihi2"), **kwargs) -> dict:
    """:func:`energy_report` of a run directory, written next to its runs as ``energy.json``,
    ``energy.md`` and ``energy.png`` (atomically); returns the report with ``files``."""
    from spikeport.io import atomic_write_bytes, atomic_write_json, atomic_write_text

    run_dir = Path(run_dir)
    report = energy_report(run_dir, profiles=profiles, **kwargs)
    files = {"json": run_dir / "energy.json", "md": run_dir / "energy.md",
             "png": run_dir / "energy.png"}
    report["files"] = {k: str(v) for k, v in files.items()}
    atomic_write_bytes(files["png"], plot_energy(report))
    atomic_write_json(files["json"], report)
    atomic_write_text(files["md"], format_energy(report) + "\n")
    return report


def energy_digest(report: dict) -> dict:
    """The few figures deploy shows: per profile and phase, dynamic energy per sample (or
    the refusal), and where the full report is."""
    out = {"files": report.get("files", {}), "profiles": {}}
    for pname, entry in report["profiles"].items():
        out["profiles"][pname] = {
            phase: ({"refused": r["refused"]} if "refused" in r else
                    {"dynamic_per_sample_J": r["dynamic_per_sample_J"],
                     "total_per_sample_J": {k: v["energy_per_sample_J"]
                                            for k, v in r["pacing"].items()}})
            for phase, r in entry["phases"].items()}
    mlp = report.get("baselines", {}).get("mlp")
    if mlp is not None:
        out["mlp_compute_only_per_sample_J"] = mlp["energy"]["compute_only_per_sample_J"]
    return out


def format_energy_digest(d: dict) -> str:
    lines = ["| profile | phase | dynamic per sample | total per sample (real time) |",
             "|---|---|---:|---:|"]
    for pname, phases in d["profiles"].items():
        for phase, r in phases.items():
            if "refused" in r:
                lines.append(f"| {pname} | {phase} | refused | |")
                continue
            lines.append(f"| {pname} | {phase} | {fmt_range(r['dynamic_per_sample_J'])} | "
                         f"{fmt_range(r['total_per_sample_J']['real_time'])} |")
    if "mlp_compute_only_per_sample_J" in d:
        lines += ["", "Backprop MLP baseline, compute only, per training sample: "
                  f"{fmt_range(d['mlp_compute_only_per_sample_J'])}."]
    if d.get("files"):
        lines += ["", f"Energy report: {d['files'].get('md')} (plot {d['files'].get('png')})."]
    return "\n".join(lines)


__all__ = ["energy_report", "format_energy", "format_learning", "write_energy",
           "plot_energy", "energy_digest", "format_energy_digest", "phase_energy", "price_phase",
           "collect_counts", "mesh_hops", "epochs_to_threshold", "learning_costs",
           "scale_learning", "training_curve", "comparisons", "mlp_shape", "rng", "radd",
           "rscale", "rmul", "fmt_range"]
