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

from spikeport.errors import BackendError
from spikeport.flow.ops import OpCounts
from spikeport.hw_profiles.baselines import ratio
from spikeport.hw_profiles.mapping import hardware_readiness, load_network, map_network
from spikeport.hw_profiles.profile import Profile, load_profile
from spikeport.hw_profiles.ranges import _qr, _src, fmt_range, radd, rmul, rng, rscale  # noqa: F401

PJ = 1e-12
NS = 1e-9
CORES_PER_TILE = 4
CORES_PER_TILE_SOURCE = ("Loihi: 128 cores, barrier sync quoted for 1-32 tiles (Davies et al. "
                         "2018, Table 2), so 4 cores per tile; assumed the same on Loihi 2")
PHASES = {"inference": "infer", "learning": "learn"}
RUN_BACKENDS = ("emulator", "lava")   # run summaries OUT/{backend}_{infer,learn}.json


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


# ---------------------------------------------------------------------------------------------
# comparisons, like for like

def comparisons(chip: dict, mlp: dict | None, device: dict | None) -> list[dict]:
    """``chip``: profile -> learning-cost entry (``learning_costs`` plus ``per_sample``
    with ``dynamic_J`` and ``total_J`` per pacing). Pairs: chip dynamic vs backprop compute-only
    (per sample, to threshold); chip total (each pacing) vs the whole-device measurement (per
    sample, to threshold). Ratios are ``baseline ÷ chip`` ranges."""

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
