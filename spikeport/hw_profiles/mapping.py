"""Map a network onto a chip profile's cores, and say which of its processes a chip can run.

:func:`map_network` splits every LIF population into contiguous chunks, one chunk per core,
with the chunk's incoming synapses stored on that core, and checks the profile's limits:

* **neurons per core** (``chip.neurons_per_core``);
* **synaptic memory per core** (``chip.synaptic_memory_per_core``, bytes), with a synapse
  costing (the assumption, stated in every report under ``assumptions``):

  - ``weight_bits`` (the profile's ``chip.weight_bits``, 9 on Loihi: 8-bit mantissa + sign);
  - plus ``index_bits = ceil(log2(neurons_per_core))`` when the projection is stored *sparse*
    (its connectivity is not all-to-all: each synapse names its target compartment); an
    all-to-all projection is stored *dense* (a run of weights per input axon, no index);
  - plus ``plastic_bits`` (default 8) when the synapse is plastic in this phase: the per-synapse
    learning state a chip allocates with learning enabled (Loihi synapses carry a tag field for
    learning rules beside weight and delay; Lava's ``LearningDense`` holds ``tag_1``/``tag_2``
    per synapse). spikeport's rules use no tag factor, so this is a reservation, not a need:
    pass ``plastic_bits=0`` for the lower bound.

  Only synapses are charged: neuron state lives in separate compartment memory on Loihi 1 (on
  Loihi 2 the 192 KB are shared with neuron state, so the true headroom is smaller; reported
  as a note). A static projection stores its *nonzero* weights; a plastic one every existing
  synapse (a zero weight may grow).
* **input axons per core** (``chip.input_axons_per_core``): distinct presynaptic sources of the
  core (pre neurons with at least one synapse into the chunk, per pre population, plus the
  one-to-one third-factor inputs: the teacher's and the SBP relay's graded values);
* **output axons per core** (``chip.output_axons_per_core``): Σ over the core's neurons of the
  distinct destination cores each one reaches (Loihi routes one axon per destination core);
* **cores** (``chip.cores`` × ``chip.chips_per_board``);
* **features**: SBP's relay and NACA's dopamine source need a graded per-neuron third factor
  (``features.graded_third_factor``: Loihi 2 microcode), STP needs
  ``features.short_term_plasticity``, delays ``features.axonal_delay_max``.

A network that does not fit is refused with a one-line
:class:`~spikeport.errors.BackendError` naming the limit, the population or core, and by how
much. A learning epoch longer than ``chip.max_learning_epoch`` is not refused when it is the
per-sample epoch: the chip would run it as ``k`` epochs of ``T/k`` steps (the third factor is
zero except at the sample's last step, so the weights change as once per sample), and a rule
with a ``u`` dependency then touches every plastic synapse ``k`` times: reported under
``epoch_split`` and applied by the energy model to the measured synaptic updates.

Spike sources (network inputs, the teacher) are host I/O: they use no neuromorphic core, but
their spikes occupy input axons of the cores they reach.

:func:`hardware_readiness`: per process of the converted (Lava) network, whether a chip
implementation exists (stock Lava processes with Loihi models), or it is one of spikeport's
CPU-only models and what a chip port would need on this profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikeport.errors import BackendError, SpecError
from spikeport.flow.fixed import FixedNetwork
from spikeport.hw_profiles.profile import Profile, load_profile
from spikeport.models.rules import EPOCH_PER_SAMPLE, NACA, SBP, SupervisedSTDP

DEFAULT_PLASTIC_BITS = 8
HOST = "host"


# ---------------------------------------------------------------------------------------------
# a backend-neutral view of the network (from a FixedNetwork or a spec)

@dataclass
class _Pop:
    name: str
    n: int
    kind: str  # "lif", "relay" (SBP relay, microcoded neurons), "host" (inputs, teacher)
    third_factor: str | None = None  # "teacher", "relay", "dopamine"
    homeostasis: bool = False


@dataclass
class _Proj:
    name: str
    pre: str
    post: str
    conn: np.ndarray  # bool (n_pre, n_post): stored synapses
    dense: bool  # all-to-all: dense encoding
    plastic: bool = False
    learn_synapses: int = 0
    rule: str | None = None
    t_epoch: int | None = None
    deps: frozenset = frozenset()
    graded: bool = False  # carries graded values (third factor), not binary spikes
    stp: bool = False
    delay: int = 0
    role: str = "synapses"  # "synapses", "third_factor", "relay_input", "drive"


@dataclass
class _Graph:
    name: str
    sample_steps: int
    steps_per_sample: int
    dt: float
    reset: bool
    pops: dict = field(default_factory=dict)
    projs: list = field(default_factory=list)
    order: list = field(default_factory=list)  # core-mapped populations, in mapping order


def _is_fixed(obj) -> bool:
    return hasattr(obj, "projections") and hasattr(obj, "steps_per_sample") and \
        hasattr(obj, "rest_steps")


def load_network(source):
    """A FixedNetwork or a spec Network as is; a path: a fixed-network directory
    (``network.json``), a run directory (its ``fixed/``) or a spec YAML."""
    if not isinstance(source, (str, Path)):
        return source
    from spikeport.models.spec import load_spec

    p = Path(source)
    if (p / "network.json").is_file():
        return FixedNetwork.load(p)
    if (p / "fixed" / "network.json").is_file():
        return FixedNetwork.load(p / "fixed")
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return load_spec(p)
    raise SpecError(f"{p}: not a fixed-point network directory, run directory or spec YAML")


def _graph_from_fixed(fixed, learn: bool) -> _Graph:
    g = _Graph(fixed.name, fixed.sample_steps, fixed.steps_per_sample, fixed.dt, fixed.reset)
    for name, n in fixed.inputs:
        g.pops[name] = _Pop(name, n, HOST)
    relay_pops = []
    for pop in fixed.populations:
        g.pops[pop.name] = _Pop(pop.name, pop.n, "lif",
                                pop.third_factor if learn else None,
                                learn and pop.homeostasis is not None)
        g.order.append(pop.name)
    for p in fixed.projections:
        plastic = learn and p.rule is not None
        conn = np.asarray(p.connectivity, dtype=bool)
        if not plastic:
            conn = conn & (np.asarray(p.weights) != 0)
        mask = p.learn_mask if p.learn_mask is not None else p.connectivity
        g.projs.append(_Proj(
            p.name, p.pre, p.post, conn, bool(np.asarray(p.connectivity).all()), plastic,
            int(np.asarray(mask, bool).sum()) if plastic else 0,
            p.rule.kind if plastic else None, p.rule.t_epoch if plastic else None,
            frozenset(p.rule.dependencies()) if plastic else frozenset()))
        if plastic and p.relay is not None:
            relay_pops.append((p, fixed.projection(p.relay.source)))
        if plastic and p.dopamine_table is not None:
            # NACA's dopamine source: a host-side table lookup sending one graded value per
            # postsynaptic neuron at each sample's end
            name = f"dopamine:{p.name}"
            n_post = int(np.asarray(p.dopamine_table).shape[1])
            g.pops[name] = _Pop(name, n_post, HOST)
            g.projs.append(_Proj(f"{name}->{p.post} (third factor)", name, p.post,
                                 np.eye(n_post, dtype=bool), False, graded=True,
                                 role="third_factor"))
    t = fixed.teacher
    if t is not None:
        g.pops["teacher"] = _Pop("teacher", t.n, HOST)
        if t.drive is not None:
            g.projs.append(_Proj(f"teacher->{t.population} (drive)", "teacher", t.population,
                                 np.eye(t.n, dtype=bool), False, role="drive"))
        if learn and fixed.population(t.population).third_factor == "teacher":
            g.projs.append(_Proj(f"teacher->{t.population} (third factor)", "teacher",
                                 t.population, np.eye(t.n, dtype=bool), False, graded=True,
                                 role="third_factor"))
    for proj, src in relay_pops:
        _add_relay(g, proj.name, proj.post, src.post, np.asarray(proj.relay_fanout, bool))
    return g


def _add_relay(g: _Graph, proj_name: str, hidden: str, output: str, fanout: np.ndarray) -> None:
    """The SBP relay as a population of microcoded neurons, one per hidden neuron."""
    name = f"relay:{proj_name}"
    n_h = g.pops[hidden].n
    g.pops[name] = _Pop(name, n_h, "relay")
    g.order.insert(g.order.index(hidden) + 1, name)
    eye = np.eye(n_h, dtype=bool)
    g.projs += [
        _Proj(f"{hidden}->{name}", hidden, name, eye, False, role="relay_input"),
        _Proj(f"{output}->{name}", output, name, fanout.T.copy(), False, role="relay_input"),
        _Proj(f"teacher->{name}", "teacher", name, fanout.T.copy(), False, role="relay_input"),
        _Proj(f"{name}->{hidden} (third factor)", name, hidden, eye, False, graded=True,
              role="third_factor")]


def _graph_from_spec(net, learn: bool) -> _Graph:
    from spikeport.models.spec import sbp_source
    from spikeport.models.weights import connectivity_mask, sbp_mask

    g = _Graph(net.name, net.sample_steps, net.steps_per_sample, net.dt,
               net.between_samples.mode == "reset")
    for inp in net.inputs:
        g.pops[inp.name] = _Pop(inp.name, inp.n, HOST)
    for pop in net.populations:
        third = None
        if learn:
            rules = [p.learning for p in net.incoming(pop.name)]
            if any(isinstance(r, SBP) for r in rules):
                third = "relay"
            elif any(isinstance(r, NACA) for r in rules):
                third = "dopamine"
            elif any(isinstance(r, SupervisedSTDP) for r in rules):
                third = "teacher"
        g.pops[pop.name] = _Pop(pop.name, pop.n, "lif", third,
                                learn and pop.homeostasis is not None)
    g.order = list(net.layer_order())
    relays = []
    for p in net.projections:
        conn = connectivity_mask(net, p)
        plastic = learn and p.learning is not None
        rule = p.learning if plastic else None
        t_epoch = None
        deps = frozenset()
        learn_syn = 0
        if rule is not None:
            t_epoch = net.sample_steps if rule.t_epoch == EPOCH_PER_SAMPLE else int(rule.t_epoch)
            # the converted rules' dependencies (spikeport.converters.lava_rules)
            deps = frozenset({"supervised_stdp": {"u", "y0"}, "stdp": {"x0", "y0"},
                              "sbp": {"u"}, "naca": {"u"}}[rule.TAG])
            learn_syn = int(sbp_mask(net, p).sum()) if isinstance(rule, SBP) else int(conn.sum())
        g.projs.append(_Proj(p.name, p.pre, p.post, conn, bool(conn.all()), plastic, learn_syn,
                             rule.TAG if rule else None, t_epoch, deps, stp=p.stp is not None,
                             delay=p.delay))
        if isinstance(rule, SBP):
            relays.append((p, sbp_source(net, p)))
    t = net.teacher
    if t is not None:
        g.pops["teacher"] = _Pop("teacher", net.size(t.population), HOST)
        n = net.size(t.population)
        if t.drive != 0:
            g.projs.append(_Proj(f"teacher->{t.population} (drive)", "teacher", t.population,
                                 np.eye(n, dtype=bool), False, role="drive"))
        if learn and g.pops[t.population].third_factor == "teacher":
            g.projs.append(_Proj(f"teacher->{t.population} (third factor)", "teacher",
                                 t.population, np.eye(n, dtype=bool), False, graded=True,
                                 role="third_factor"))
    for proj, src in relays:
        _add_relay(g, proj.name, proj.post, src.post, connectivity_mask(net, src))
    return g


def network_graph(source, learn: bool = True) -> _Graph:
    net = load_network(source)
    return _graph_from_fixed(net, learn) if _is_fixed(net) else _graph_from_spec(net, learn)


# ---------------------------------------------------------------------------------------------
# checks and the mapper

def _profile(profile) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def check_features(g: _Graph, prof: Profile) -> None:
    """Refuse (one-line BackendError) what the profile's ``[features]`` lack."""
    f = prof.features
    for p in g.projs:
        where = f"projection '{p.name}'"
        if p.rule in ("sbp", "naca") and not f["graded_third_factor"]:
            what = ("the SBP relay sends each hidden neuron a graded 7-bit M_j" if p.rule == "sbp"
                    else "the NACA dopamine source sends each hidden neuron a graded m_j")
            raise BackendError(f"{where}.learning: rule {p.rule} needs a graded per-neuron third "
                               f"factor ({what}); profile '{prof.name}' has "
                               "features.graded_third_factor = false (needs Loihi 2 microcode)")
        if p.stp and not f["short_term_plasticity"]:
            raise BackendError(f"{where}: stp needs features.short_term_plasticity, which "
                               f"profile '{prof.name}' lacks")
        if p.delay > f["axonal_delay_max"]:
            raise BackendError(f"{where}: delay = {p.delay} steps exceeds profile "
                               f"'{prof.name}' features.axonal_delay_max = "
                               f"{f['axonal_delay_max']} by {p.delay - f['axonal_delay_max']}")


def _epoch_splits(g: _Graph, prof: Profile) -> dict:
    max_epoch = prof.capacity("max_learning_epoch")
    out = {}
    for p in g.projs:
        if not p.plastic or p.t_epoch is None or p.t_epoch <= max_epoch:
            continue
        if p.t_epoch != g.sample_steps:
            raise BackendError(f"projection '{p.name}'.learning: t_epoch = {p.t_epoch} steps "
                               f"exceeds profile '{prof.name}' chip.max_learning_epoch = "
                               f"{max_epoch} by {p.t_epoch - max_epoch}")
        chip_epoch = max(d for d in range(1, max_epoch + 1) if g.sample_steps % d == 0)
        k = g.sample_steps // chip_epoch
        out[p.name] = {
            "t_epoch": p.t_epoch, "chip_t_epoch": chip_epoch, "epochs_per_sample": k,
            "syn_update_factor": k if "u" in p.deps else 1,
            "note": (f"t_epoch = {p.t_epoch} > chip.max_learning_epoch = {max_epoch}: run as "
                     f"{k} epochs of {chip_epoch} steps (the third factor is zero until the "
                     "sample's last step, so weights change once per sample)"
                     + (f"; its u-dependent products touch every plastic synapse each epoch: "
                        f"synaptic updates x{k}" if "u" in p.deps else ""))}
    return out


def _bits_per_synapse(p: _Proj, prof: Profile, plastic_bits: int, index_bits: int) -> int:
    return (prof.capacity("weight_bits") + (0 if p.dense else index_bits)
            + (plastic_bits if p.plastic else 0))


def map_network(fixed_or_spec, profile="loihi1", learn: bool = True,
                plastic_bits: int = DEFAULT_PLASTIC_BITS) -> dict:
    """Assign populations (in chunks) and their incoming synapses to cores of ``profile``.

    ``fixed_or_spec``: a FixedNetwork, a spec Network, or a path (see :func:`load_network`).
    ``learn``: map the learning phase (plastic synapses, teacher and relay third factors) or
    inference only. Returns a JSON-able dict (cores used, memory per core, fan-in/out, epoch
    splits, readiness); raises a one-line BackendError if the network does not fit.
    """
    prof = _profile(profile)
    net = load_network(fixed_or_spec)
    g = network_graph(net, learn)
    check_features(g, prof)
    splits = _epoch_splits(g, prof)
    n_core = prof.capacity("neurons_per_core")
    mem_bits = prof.capacity("synaptic_memory_per_core") * 8
    ax_in = prof.capacity("input_axons_per_core")
    ax_out = prof.capacity("output_axons_per_core")
    index_bits = max(1, math.ceil(math.log2(n_core)))
    bits = {p.name: _bits_per_synapse(p, prof, plastic_bits, index_bits) for p in g.projs}

    cores = []  # dicts: population, lo, hi, synapses{proj: n}, memory_bits, input_axons
    for name in g.order:
        pop = g.pops[name]
        incoming = [p for p in g.projs if p.post == name]
        pres = sorted({p.pre for p in incoming})
        # per neuron: memory bits and, per pre population, which pre neurons reach it
        per_neuron_bits = np.zeros(pop.n)
        for p in incoming:
            per_neuron_bits += p.conn.sum(axis=0) * bits[p.name]
        reach = {pre: np.zeros((g.pops[pre].n, pop.n), dtype=bool) for pre in pres}
        for p in incoming:
            reach[p.pre] |= p.conn
        lo = 0
        while lo < pop.n:
            used_bits = 0.0
            axons = {pre: np.zeros(g.pops[pre].n, dtype=bool) for pre in pres}
            hi = lo
            while hi < pop.n and hi - lo < n_core:
                nb = used_bits + per_neuron_bits[hi]
                new = {pre: axons[pre] | reach[pre][:, hi] for pre in pres}
                n_ax = sum(int(a.sum()) for a in new.values())
                if nb > mem_bits or n_ax > ax_in:
                    if hi == lo:  # a single neuron does not fit
                        if nb > mem_bits:
                            raise BackendError(
                                f"population '{name}' neuron {hi}: its incoming synapses need "
                                f"{nb / 8:.0f} B of synaptic memory; profile '{prof.name}' "
                                f"chip.synaptic_memory_per_core = {mem_bits // 8} B (over by "
                                f"{(nb - mem_bits) / 8:.0f} B at {_bits_note(incoming, bits)})")
                        raise BackendError(
                            f"population '{name}' neuron {hi}: {n_ax} distinct presynaptic "
                            f"sources; profile '{prof.name}' chip.input_axons_per_core = "
                            f"{ax_in} (over by {n_ax - ax_in})")
                    break
                used_bits, axons = nb, new
                hi += 1
            syn = {p.name: int(p.conn[:, lo:hi].sum()) for p in incoming}
            cores.append({"core": len(cores), "population": name, "neurons": [lo, hi],
                          "n": hi - lo, "synapses": syn, "memory_bits": int(used_bits),
                          "input_axons": sum(int(a.sum()) for a in axons.values()),
                          "input_axons_by_source": {pre: int(a.sum()) for pre, a in
                                                    axons.items()}})
            lo = hi
    total = prof.capacity("cores") * prof.capacity("chips_per_board")
    if len(cores) > total:
        raise BackendError(f"network '{g.name}' needs {len(cores)} cores; profile "
                           f"'{prof.name}' has chip.cores x chips_per_board = {total} (over by "
                           f"{len(cores) - total})")

    # destination cores of every neuron (mapped and host populations)
    core_of = {}
    for c in cores:
        core_of.setdefault(c["population"], []).append(c)
    dest = {name: [set() for _ in range(pop.n)] for name, pop in g.pops.items()}
    for p in g.projs:
        for c in core_of.get(p.post, []):
            a, b = c["neurons"]
            for j in np.flatnonzero(p.conn[:, a:b].any(axis=1)):
                dest[p.pre][j].add(c["core"])
    for c in cores:
        a, b = c["neurons"]
        c["output_axons"] = int(sum(len(dest[c["population"]][j]) for j in range(a, b)))
        if c["output_axons"] > ax_out:
            raise BackendError(f"core {c['core']} (population '{c['population']}' neurons "
                               f"{a}..{b - 1}): {c['output_axons']} output axons (neuron x "
                               f"destination core); profile '{prof.name}' "
                               f"chip.output_axons_per_core = {ax_out} (over by "
                               f"{c['output_axons'] - ax_out})")
        c["memory_bytes"] = math.ceil(c["memory_bits"] / 8)
        c["memory_fraction"] = c["memory_bits"] / mem_bits
    senders = {}
    for name, pop in g.pops.items():
        counts = [len(s) for s in dest[name]]
        senders[name] = {"kind": pop.kind, "n": pop.n,
                         "dest_cores_min": min(counts) if counts else 0,
                         "dest_cores_max": max(counts) if counts else 0,
                         "dest_cores_mean": float(np.mean(counts)) if counts else 0.0}
    projections = {}
    for p in g.projs:
        projections[p.name] = {
            "pre": p.pre, "post": p.post, "role": p.role, "synapses": int(p.conn.sum()),
            "encoding": "dense" if p.dense else "sparse", "bits_per_synapse": bits[p.name],
            "plastic": p.plastic, "plastic_synapses": p.learn_synapses, "rule": p.rule,
            "t_epoch": p.t_epoch, "graded": p.graded}
    populations = {}
    for name in g.order:
        cs = core_of.get(name, [])
        populations[name] = {
            "n": g.pops[name].n, "kind": g.pops[name].kind,
            "cores": [c["core"] for c in cs],
            "fan_in_axons_max": max((c["input_axons"] for c in cs), default=0),
            "fan_out_axons_max": max((c["output_axons"] for c in cs), default=0),
            "memory_fraction_max": max((c["memory_fraction"] for c in cs), default=0.0)}
    notes = [f"{s['note']}" for s in splits.values()]
    if prof.name != "loihi1" and "shared" in prof.chip["synaptic_memory_per_core"].source:
        notes.append("synaptic memory is shared with neuron state on this chip: only synapses "
                     "are charged here, so the real headroom is smaller")
    return {
        "profile": prof.name, "title": prof.title, "network": g.name,
        "phase": "learning" if learn else "inference",
        "assumptions": {
            "weight_bits": prof.capacity("weight_bits"), "index_bits_sparse": index_bits,
            "plastic_bits": plastic_bits,
            "bits_per_synapse": "weight_bits (+ index_bits if sparse) (+ plastic_bits if "
                                "plastic); neuron state not charged",
            "chunking": "contiguous neuron ranges, greedy, one population per core; spike "
                        "sources (inputs, teacher) are host I/O"},
        "limits": {"neurons_per_core": n_core, "synaptic_memory_per_core_B": mem_bits // 8,
                   "input_axons_per_core": ax_in, "output_axons_per_core": ax_out,
                   "cores": total},
        "cores_used": len(cores), "cores_available": total, "cores": cores,
        "populations": populations, "projections": projections, "senders": senders,
        "epoch_split": splits, "notes": notes,
        "readiness": hardware_readiness(net, prof, learn=learn),
        "sample_steps": g.sample_steps, "steps_per_sample": g.steps_per_sample, "dt": g.dt}


def _bits_note(incoming, bits) -> str:
    return ", ".join(f"{bits[p.name]} bit/synapse for '{p.name}'" for p in incoming)


# ---------------------------------------------------------------------------------------------
# hardware readiness

STOCK, PORT, UNSUPPORTED, HOST_IO = "chip (stock Lava)", "CPU-only: port needed", \
    "CPU-only: profile lacks the feature", "host I/O"


def hardware_readiness(fixed_or_spec, profile="loihi1", learn: bool = True) -> list[dict]:
    """Per process of the converted Lava network (as :func:`spikeport.lava_processes.graph.
    build_graph` makes it): its spikeport model, the stock Lava process with Loihi models that
    implements it on a chip (if any), its status on ``profile`` and what a chip port needs."""
    prof = _profile(profile)
    net = load_network(fixed_or_spec)
    g = network_graph(net, learn)
    graded = prof.features["graded_third_factor"]
    microcode = prof.features["microcode"]
    out = []

    def add(process, name, status, stock, needs, phase="both"):
        out.append({"process": process, "name": name, "status": status, "stock": stock,
                    "needs": needs, "phase": phase})

    reset_note = ("sample reset of u, v and the in-flight input: host writes between samples "
                  "or a rest gap (between_samples: rest)" if g.reset else "")
    for name, pop in g.pops.items():
        if pop.kind == HOST and name != "teacher":
            add("SpikeSource", name, HOST_IO, "host spike injection (e.g. lava.proc.io "
                "injector / RingBuffer on the host)", "input spikes sent from the host every "
                "step: counted as host I/O")
    for name in g.order:
        pop = g.pops[name]
        if pop.kind == "relay":
            if graded:
                add("SBPRelay", name, PORT, "none", f"a microcoded neuron population ({pop.n} "
                    "neurons, Loihi 2) accumulating M_j from hidden, output and teaching spikes "
                    "and sending two 7-bit graded spikes (y2 LTP, y3 LTD) at the sample's last "
                    "step", "learning")
            else:
                add("SBPRelay", name, UNSUPPORTED, "none", "a graded per-neuron third factor "
                    f"(features.graded_third_factor is false on '{prof.name}'): Loihi 2 "
                    "microcode", "learning")
            continue
        needs, status = [], STOCK
        if pop.third_factor == "teacher":
            status = PORT
            needs.append("the teacher's value as y2 at its teaching spikes: a graded spike "
                         "into a microcoded neuron (Loihi 2)" if microcode else
                         "the teacher's spikes as the neuron's y2 trace: Loihi 1 forms y "
                         "traces only from the neuron's own spikes (a multi-compartment "
                         "construction might do it; unverified)")
        elif pop.third_factor in ("relay", "dopamine"):
            status = PORT if graded else UNSUPPORTED
            needs.append("graded third-factor input (y2/y3) from the relay: Loihi 2 "
                         "microcoded neuron" if graded else
                         f"a graded third-factor input, which '{prof.name}' lacks")
        if pop.homeostasis:
            status = status if status != STOCK else PORT
            needs.append("per-sample threshold update: Loihi 2 microcode, or a host/embedded "
                         "x86 write of vth after each sample")
        if reset_note:
            needs.append(reset_note)
        model = ("stock-equivalent: bit-exact to lava.proc.lif LIF (PyLifModelBitAcc) without "
                 "third factor, homeostasis or reset")
        add("ThirdFactorLIF", name, status, "lava.proc.lif.process.LIF", "; ".join(needs)
            or model)
    for p in g.projs:
        if p.role == "relay_input" or (p.role == "third_factor" and p.pre.startswith("relay:")):
            continue
        if p.role == "third_factor":  # the teacher's graded y values
            add("SpikeSource (teacher)", p.name, HOST_IO, "host spike injection",
                "teaching spikes sent from the host each step: counted as host I/O", "learning")
            continue
        if p.role == "drive":
            add("ResetDense", p.name, STOCK, "lava.proc.dense.process.Dense",
                reset_note or "none")
            continue
        if not p.plastic:
            add("ResetDense", p.name, STOCK, "lava.proc.dense.process.Dense",
                reset_note or "none")
            continue
        three = p.rule in ("supervised_stdp", "sbp", "naca")
        stock = ("lava.proc.dense.process.LearningDense + Loihi3FLearningRule" if three else
                 "lava.proc.dense.process.LearningDense + Loihi2FLearningRule")
        needs = []
        if p.learn_synapses < int(p.conn.sum()):
            needs.append("masked learning: a LearningSparse for the plastic synapses beside a "
                         "static Dense")
        if reset_note:
            needs.append("sample reset of traces: host writes between samples or a rest gap")
        if three and not graded:
            status = UNSUPPORTED if p.rule != "supervised_stdp" else PORT
            needs.append("three-factor rule with graded y2/y3 from the neuron (Loihi 2); "
                         f"'{prof.name}' has no graded third factor")
        else:
            status = STOCK
        add("PlasticDense", p.name, status, stock, "; ".join(needs) or "none", "learning")
    return out


# ---------------------------------------------------------------------------------------------
# Markdown

def format_mapping(mapping: dict) -> str:
    """The mapping (from :func:`map_network`) as Markdown."""
    m = mapping
    lim = m["limits"]
    lines = [f"# Mapping of {m['network']} ({m['phase']}) on {m['profile']}: {m['title']}", "",
             f"{m['cores_used']} of {m['cores_available']} cores. Limits per core: "
             f"{lim['neurons_per_core']} neurons, {lim['synaptic_memory_per_core_B']} B "
             f"synaptic memory, {lim['input_axons_per_core']} input / "
             f"{lim['output_axons_per_core']} output axons.", "",
             f"Synapse cost: {m['assumptions']['bits_per_synapse']} "
             f"(weight {m['assumptions']['weight_bits']} bit, index "
             f"{m['assumptions']['index_bits_sparse']} bit, plastic "
             f"{m['assumptions']['plastic_bits']} bit).", "",
             "| population | neurons | cores | max fan-in axons | max fan-out axons | "
             "max memory |", "|---|---:|---:|---:|---:|---:|"]
    for name, p in m["populations"].items():
        lines.append(f"| {name} | {p['n']} | {len(p['cores'])} | {p['fan_in_axons_max']} | "
                     f"{p['fan_out_axons_max']} | {100 * p['memory_fraction_max']:.1f}% |")
    lines += ["", "| core | population | neurons | synapses | memory (B) | in axons | "
              "out axons |", "|---:|---|---|---:|---:|---:|---:|"]
    for c in m["cores"][:64]:
        a, b = c["neurons"]
        lines.append(f"| {c['core']} | {c['population']} | {a}..{b - 1} | "
                     f"{sum(c['synapses'].values())} | {c['memory_bytes']} | "
                     f"{c['input_axons']} | {c['output_axons']} |")
    if len(m["cores"]) > 64:
        lines.append(f"| … | {len(m['cores']) - 64} more cores | | | | | |")
    lines += ["", "| projection | synapses | encoding | bit/synapse | plastic |",
              "|---|---:|---|---:|---|"]
    for name, p in m["projections"].items():
        lines.append(f"| {name} | {p['synapses']} | {p['encoding']} | {p['bits_per_synapse']} "
                     f"| {p['rule'] or 'no'} |")
    lines += ["", format_readiness(m["readiness"], m["profile"])]
    if m["notes"]:
        lines += [""] + [f"- {n}" for n in m["notes"]]
    return "\n".join(lines)


def format_readiness(entries: list[dict], profile: str = "") -> str:
    lines = [f"## Hardware readiness{f' ({profile})' if profile else ''}", "",
             "| process | name | phase | status | stock Lava process | what a chip port needs |",
             "|---|---|---|---|---|---|"]
    for e in entries:
        lines.append(f"| {e['process']} | {e['name']} | {e['phase']} | {e['status']} | "
                     f"{e['stock']} | {e['needs']} |")
    return "\n".join(lines)
