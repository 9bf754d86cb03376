"""Brian2 string code for spikeport's plasticity (DESIGN.md §3): traces, supervised STDP, STDP,
SBP, threshold homeostasis and Tsodyks–Markram STP.

Everything here is Brian2 *string code* (run_regularly, reset code, custom events, synaptic
pathways), never a Python callback, so the same network can later run in ``cpp_standalone``.
:func:`plan_network` turns a spec into per-group and per-projection code; ``brian2_sim``
builds the Brian2 objects from it. The float oracle
(``tests/oracles/float_reference.py``) implements the same step in numpy.

Within-step schedule (Brian2 step t; "final" means the value of step t every rule reads):

========================  ===============================================================
slot (order)              what runs
========================  ===============================================================
``start``                 sample reset at the first step of a sample (``reset`` mode):
                          u, v, a_in, refractory counters, spike flags, teaching flags,
                          traces, SBP accumulators M, spike counts, STP state (u=0, x=1)
``groups``                LIF update consuming a_in; every group: spike flag ``s = 0``,
                          ``teach = 0``, each trace ``x ← x·exp(−dt/τ)``
``thresholds``            LIF spikes (``v > vth``); inputs emit (SpikeGeneratorGroup)
``synapses``              delivery from LIF groups and plain inputs into ``a_in``; input
                          *mirrors* (below) get ``s = 1``, ``x += 1``; teacher: ``teach = 1``
                          (and ``a_in += drive``)
``after_synapses``        mirror groups spike (``s > 0``)
``before_resets``         delivery from mirror groups
``resets``                LIF reset: ``v = reset``, ``s = 1``, ``x += 1``, ``n += 1``
``after_resets`` (0, 1)   STP state update of the presynaptic group (0), STP delivery (1)
``end`` (0, 1, 2)         events: ``err`` (``teach != s``), ``sample_end`` (last step),
                          ``relay`` (last step and the eligibility trace ≠ 0; fast relay)
``end`` (10)              supervised STDP at ``err`` events of the post neuron
``end`` (20, 21)          STDP at pre spikes (20), at post spikes without a pre spike (21)
``end`` (30)              SBP at ``sample_end`` of the post population (``relay="exact"``)
                          or at ``relay`` events of the pre population (``relay="fast"``)
``end`` (31)              NACA at ``sample_end`` of the post population
``end`` (40)              homeostasis at ``sample_end``; ``M = 0``, ``n = 0``
========================  ===============================================================

Per-sample values (``start`` slot, order 1, right after the sample reset, at every sample's
first step): NACA's modulation ``m_j`` and the supervised gate ``g_k`` are read from
per-sample tables (:func:`sample_tables`; Brian2 ``TimedArray`` s with one row per sample).

So at the ``end`` slot of step t every spike flag, teaching flag and trace holds its step-t
value (a trace includes a spike at t), and every rule sees pre spikes, teaching spikes and
output spikes of the same step together — as Lava's ``LearningDense`` sees hidden spikes and the
output's bAP of one step together. Delivery reads the weight *before* the step's learning
update (Lava: spike phase before learning phase), and enters ``u`` at t+1 either way.

Input populations are ``SpikeGeneratorGroup`` s, which cannot hold variables; a projection whose
rule needs presynaptic state (a trace, a spike flag, STP) leaving an input is therefore built
from a *mirror* ``NeuronGroup`` of the input: fed one-to-one by the generator in the
``synapses`` slot, it holds the flag and traces and re-emits the spike in ``after_synapses``.

Rules (all parameters from the spec; clipping to the projection's [w_min, w_max], once per
step per synapse; infinite bounds are written as ±max float, which changes no finite value):

* supervised STDP, at every step t where teach_k(t) ≠ s_k(t) (an ``err`` event of k):
  ``Δw_jk = η·g_k·(teach_k(t) − s_k(t))·x_j(t)``, then clip. When teach and s coincide the
  update is zero, and no event fires. ``g_k = 1`` (``gate: none``) or, with ``gate: taught``,
  1 if neuron k has teaching spikes in the current sample, else 0.
* SBP: the source projection's pathway also accumulates ``M_j += Δw_jk`` — the modification
  *before* clipping (the error signal a Lava relay computes from spikes, independent of the
  weights; it does not vanish when output weights saturate). At the ``sample_end`` event:
  ``Δw_ij = (f_ltp·[M_j]_+ − f_ltd·[M_j]_−)·e_i·mask_ij``, then clip; ``M_j ← 0``. Masked-out
  synapses get ``w + 0`` (unchanged, given weights start within their bounds).
* NACA, at the ``sample_end`` event: ``Δw_ij = −η·m_j·(x_i − x_offset)·p_j``, then clip, with
  ``p_j`` = 1 or the post trace y_j (:mod:`spikeport.kernels.naca`). ``m_j = g(nl_j)``: the
  dopamine level ``nl_j = E(label)·NI[:, j]`` comes from a per-sample table, the curve g is
  evaluated here in Brian2 code (the oracle evaluates it in numpy). The label of a sample is
  given (``labels=``) or read from the teaching spikes (the class whose neurons receive them).
* STDP: at a pre spike ``Δw = a_plus·x_j·s_k − a_minus·y_k``; at a post spike without a pre
  spike ``Δw = a_plus·x_j``; clip. Together: ``Δw = a_plus·x_j(t)·s_k(t) − a_minus·y_k(t)·s_j(t)``
  with one clip per step.
* homeostasis, at ``sample_end``: ``θ ← clip(θ + η·(n − target_rate·T·dt), θ_min, θ_max)``;
  ``n ← 0``. Thresholds are not part of the sample reset.
* STP (Tsodyks–Markram, per presynaptic neuron and projection), with I = s_j(t), in this order:
  ``u ← u − u·dt/τ_f + U·I·(1−u)`` (old u on the right);
  ``r = u·x·I`` (new u, x before this spike's depletion);
  ``x ← x + (1−x)·dt/τ_d − r``; the spike transmits ``w·r``. Reset: u = 0, x = 1.

With a rest gap between samples (``between_samples: rest``), ``sample_end`` is the sample's
last step (not the end of the gap); M and the homeostasis spike count only accumulate during
the sample's T steps; per-step rules (STDP, supervised STDP) keep running in the gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spikeport.errors import SpecError
from spikeport.kernels.naca import dopamine, rule_ni
from spikeport.models.rules import NACA, SBP, STDP, SupervisedSTDP
from spikeport.models.spec import Network, sbp_source

BIG = float(np.finfo(np.float64).max)

# How the SBP relay reaches the input synapses at a sample's end (DESIGN.md §3, SBP):
# "exact" runs the update on every synapse of every post neuron (the original pathway, kept as
# the check); "fast" runs it only on the synapses of presynaptic neurons whose eligibility
# trace is nonzero — the only synapses whose Δw_ij = g(M_j)·e_i·mask_ij can be nonzero. A
# skipped synapse would have computed w = clip(w + 0) = w (weights stay within their bounds),
# so both give the same weights, bit for bit.
RELAYS = ("fast", "exact")

# orders inside the 'end' slot
ORDER_ERR_EVENT = 0
ORDER_SAMPLE_END_EVENT = 1
ORDER_RELAY_EVENT = 2
ORDER_SUPERVISED = 10
ORDER_STDP_PRE = 20
ORDER_STDP_POST = 21
ORDER_SBP = 30
ORDER_NACA = 31
ORDER_SAMPLE_END = 40
ORDER_SAMPLE_START = 1   # in the 'start' slot, after the sample reset (order 0)


def finite_bound(x: float) -> float:
    """±inf → ±max float: Brian2's generated C/Cython code has no portable inf literal."""
    return float(min(max(x, -BIG), BIG))


def decay(dt: float, tau: float) -> float:
    """Per-step trace decay factor exp(−dt/τ)."""
    return float(np.exp(-dt / tau))


@dataclass
class GroupCode:
    """Extra state and code of one population (a LIF group, or the mirror of an input)."""

    name: str
    n: int
    is_input: bool
    variables: dict[str, float] = field(default_factory=dict)  # name -> value after reset
    step: list[str] = field(default_factory=list)               # groups slot, every step
    on_spike: list[str] = field(default_factory=list)           # '{p}' = suffix placeholder
    after_resets: list[str] = field(default_factory=list)       # STP updates
    events: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (cond, order)
    on_sample_end: list[str] = field(default_factory=list)
    on_sample_start: list[str] = field(default_factory=list)   # per-sample values (tables)
    tables: list[str] = field(default_factory=list)             # names of sample_tables read
    namespace: dict = field(default_factory=dict)
    traces: dict[float, str] = field(default_factory=dict)      # decay factor -> variable

    def add_var(self, name: str, reset_value: float = 0.0) -> str:
        self.variables.setdefault(name, reset_value)
        return name

    def flag(self) -> str:
        """``s``: 1 during the step the neuron spiked, else 0."""
        if "s" not in self.variables:
            self.add_var("s")
            self.step.insert(0, "s = 0")
            self.on_spike.insert(0, "s{p} = 1")
        return "s"

    def teach(self) -> str:
        """``teach``: 1 during a step with a teaching spike for the neuron."""
        if "teach" not in self.variables:
            self.add_var("teach")
            self.step.append("teach = 0")
        return "teach"

    def trace(self, dec: float) -> str:
        """A trace with per-step decay ``dec`` (decay first, then +1 per spike of the step)."""
        self.flag()
        if dec not in self.traces:
            name = f"tr{len(self.traces)}"
            self.traces[dec] = name
            self.add_var(name)
            self.namespace[f"dec_{name}"] = dec
            self.step.append(f"{name} = {name} * dec_{name}")
            self.on_spike.append(f"{name}{{p}} += 1")
        return self.traces[dec]

    @property
    def needs_state(self) -> bool:
        return bool(self.variables)


@dataclass
class Pathway:
    name: str
    prepost: str   # 'pre' or 'post': whose event triggers it
    event: str
    code: str
    when: str
    order: int


@dataclass
class ProjCode:
    """How a projection's Synapses are built: source, delivery, learning pathways."""

    name: str
    pre_needs_state: bool = False          # source = the input's mirror (inputs only)
    deliver: str = "a_in_post += w"
    deliver_slot: tuple[str, int] | None = None   # None: Brian2's default ('synapses')
    model: list[str] = field(default_factory=lambda: ["w : 1"])
    pathways: list[Pathway] = field(default_factory=list)
    namespace: dict = field(default_factory=dict)
    synaptic_init: dict[str, np.ndarray] = field(default_factory=dict)  # (n_pre, n_post)


def check_learnable(net: Network) -> None:
    """Refuse what the Brian2 reference cannot learn (no silent drop): a NACA rule whose class
    count differs from the readout's."""
    for proj in net.projections:
        rule = proj.learning
        if isinstance(rule, NACA) and net.readout is not None \
                and rule.n_classes != net.readout.n_classes:
            raise SpecError(f"projection '{proj.name}'.learning: n_classes = {rule.n_classes} "
                            f"is invalid; allowed: the readout's n_classes "
                            f"({net.readout.n_classes})")


def learning_projections(net: Network) -> list:
    return [p for p in net.projections if p.learning is not None]


def naca_table_name(k: int) -> str:
    """Per-sample table of the dopamine levels of projection k's NACA rule."""
    return f"naca_nl{k}"


def gate_table_name(population: str) -> str:
    """Per-sample table of the supervised gate g_k of a population's neurons."""
    return f"taught_{population}"


def labels_from_teacher(net: Network, teacher: np.ndarray | None) -> np.ndarray:
    """Each sample's label: the readout class whose neurons receive its teaching spikes.

    SpecError unless every sample has teaching spikes in exactly one class block."""
    if teacher is None or net.readout is None or net.teacher is None:
        raise SpecError(f"network '{net.name}': NACA learning needs each sample's label; pass "
                        "labels= (int (n_samples,)) or teaching spikes with a readout")
    n_classes = net.readout.n_classes
    per_class = np.asarray(teacher, bool).any(axis=1).reshape(len(teacher), n_classes, -1)
    taught = per_class.any(axis=2)
    bad = np.flatnonzero(taught.sum(axis=1) != 1)
    if bad.size:
        raise SpecError(f"network '{net.name}': sample {int(bad[0])} has teaching spikes in "
                        f"{int(taught[bad[0]].sum())} classes; NACA needs exactly one per "
                        "sample (or pass labels=)")
    return np.argmax(taught, axis=1)


def sample_tables(net: Network, learn: bool, n_samples: int, labels: np.ndarray | None = None,
                  teacher: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-sample, per-neuron values the rules read, name -> float (n_samples, n):

    * ``naca_nl<k>``: dopamine levels ``E(label)·NI`` of NACA projection k (the k-th
      projection of the spec), NI from :func:`spikeport.kernels.naca.rule_ni`;
    * ``taught_<pop>``: 1 where a neuron of ``pop`` receives teaching spikes in the sample
      (for supervised STDP with ``gate: taught``).
    """

    tables: dict[str, np.ndarray] = {}
    if not learn:
        return tables
    for k, proj in enumerate(net.projections):
        rule = proj.learning
        if isinstance(rule, NACA):
            if labels is None:
                labels = labels_from_teacher(net, teacher)
            labels = np.asarray(labels)
            if labels.shape != (n_samples,) or not np.issubdtype(labels.dtype, np.integer):
                raise SpecError(f"labels: shape {labels.shape} dtype {labels.dtype} is invalid; "
                                f"allowed: integers of shape ({n_samples},)")
            if labels.size and (labels.min() < 0 or labels.max() >= rule.n_classes):
                raise SpecError(f"labels span [{labels.min()}, {labels.max()}]; allowed: "
                                f"[0, {rule.n_classes - 1}] (projection '{proj.name}' "
                                f"learning.n_classes = {rule.n_classes})")
            ni = rule_ni(rule, net.size(proj.post), net.seed, proj.name)
            tables[naca_table_name(k)] = dopamine(labels, ni, rule.n_classes)
        elif isinstance(rule, SupervisedSTDP) and rule.gate == "taught":
            if teacher is None:
                raise SpecError(f"projection '{proj.name}': supervised_stdp with gate: taught "
                                "needs teaching spikes")
            tables[gate_table_name(proj.post)] = np.asarray(teacher, bool).any(axis=1) \
                .astype(np.float64)
    return tables


def modulation_code(k: int, nl: str) -> list[str]:
    """Brian2 statements setting ``naca_m<k>`` = g(nl) (the curve of kernels/naca.py), with
    λ and θ in the namespace as ``naca<k>_lam``, ``naca<k>_th``."""
    lam, th = f"naca{k}_lam", f"naca{k}_th"
    return [
        f"naca_l{k} = {nl}",
        f"naca_m{k} = int(naca_l{k} <= 0.5 * {lam}) * ({th} - ({th} - 1) * "
        f"(4 * naca_l{k} - {lam})**2 / {lam}**2)"
        f" + int(naca_l{k} > 0.5 * {lam}) * int(naca_l{k} <= {lam}) * 4 * "
        f"(naca_l{k} - {lam})**2 / {lam}**2"
        f" - int(naca_l{k} > {lam}) * int(naca_l{k} <= 1.5 * {lam}) * 4 * "
        f"({lam} - naca_l{k})**2 / {lam}**2"
        f" + int(naca_l{k} > 1.5 * {lam}) * (({th} - 1) * "
        f"(4 * (2 * {lam} - naca_l{k}) - {lam})**2 / {lam}**2 - {th})",
    ]


def plan_network(net: Network, learn: bool, relay: str = "fast"
                 ) -> tuple[dict[str, GroupCode], dict[str, ProjCode]]:
    """Per-population and per-projection code for ``net`` (learning only if ``learn``);
    ``relay`` picks how SBP reaches the input synapses (:data:`RELAYS`)."""
    from spikeport.models.weights import sbp_mask

    if relay not in RELAYS:
        raise SpecError(f"relay {relay!r} is invalid; allowed: {', '.join(RELAYS)}")
    if learn:
        check_learnable(net)
    dt = net.dt
    S, T = net.steps_per_sample, net.sample_steps
    gated = S != T
    groups = {p.name: GroupCode(p.name, p.n, True) for p in net.inputs}
    groups.update({p.name: GroupCode(p.name, p.n, False) for p in net.populations})
    for g in groups.values():
        g.namespace.update(steps_period=S, steps_sample=T)
    projs = {p.name: ProjCode(p.name) for p in net.projections}
    # "1 during the sample's T steps" (only needed with a rest gap)
    gate = " * int(t_in_timesteps % steps_period < steps_sample)" if gated else ""
    sample_end = "t_in_timesteps % steps_period == steps_sample - 1"

    def sample_end_event(g: GroupCode) -> None:
        g.events.setdefault("sample_end", (sample_end, ORDER_SAMPLE_END_EVENT))

    # SBP sources: supervised projections whose per-sample modification feeds an SBP rule
    sbp_sources = {}
    if learn:
        for proj in net.projections:
            if isinstance(proj.learning, SBP):
                sbp_sources[sbp_source(net, proj).name] = proj

    for k, proj in enumerate(net.projections):
        pc = projs[proj.name]
        pre, post = groups[proj.pre], groups[proj.post]
        pc.namespace.update(w_lo=finite_bound(proj.w_min), w_hi=finite_bound(proj.w_max),
                            steps_period=S, steps_sample=T, big=BIG)
        if proj.stp is not None:
            stp = proj.stp
            s = pre.flag()
            u, x, r = (pre.add_var(f"stpu{k}", 0.0), pre.add_var(f"stpx{k}", 1.0),
                       pre.add_var(f"stpr{k}", 0.0))
            pre.namespace.update({f"stp{k}_U": stp.U, f"stp{k}_af": dt / stp.tau_f,
                                  f"stp{k}_ad": dt / stp.tau_d})
            pre.after_resets += [
                f"{u} = {u} - {u} * stp{k}_af + stp{k}_U * {s} * (1 - {u})",
                f"{r} = {u} * {x} * {s}",
                f"{x} = {x} + (1 - {x}) * stp{k}_ad - {r}",
            ]
            pc.deliver = f"a_in_post += w * {r}_pre"
            pc.deliver_slot = ("after_resets", 1)
            pc.pre_needs_state = True
        rule = proj.learning if learn else None
        if isinstance(rule, SupervisedSTDP):
            x = pre.trace(decay(dt, rule.tau_pre))
            s, teach = post.flag(), post.teach()
            post.events["err"] = (f"{teach} != {s}", ORDER_ERR_EVENT)
            pc.namespace["eta"] = rule.eta
            taught = ""
            if rule.gate == "taught":
                table = gate_table_name(proj.post)
                if table not in post.tables:
                    post.add_var("taught")
                    post.tables.append(table)
                    post.on_sample_start.append(f"taught = {table}(t, i)")
                taught = " * taught_post"
            code = [f"dw_sup = eta{taught} * ({teach}_post - {s}_post) * {x}_pre"]
            if proj.name in sbp_sources:
                pre.add_var("M")
                code.append(f"M_pre += dw_sup{gate}")
            code.append("w = clip(w + dw_sup, w_lo, w_hi)")
            pc.pathways.append(Pathway("sup", "post", "err", "\n".join(code), "end",
                                       ORDER_SUPERVISED))
            pc.pre_needs_state = True
        elif isinstance(rule, STDP):
            x = pre.trace(decay(dt, rule.tau_plus))
            y = post.trace(decay(dt, rule.tau_minus))
            s_pre, s_post = pre.flag(), post.flag()
            pc.namespace.update(a_plus=rule.a_plus, a_minus=rule.a_minus)
            pc.pathways.append(Pathway(
                "stdp_pre", "pre", "spike",
                f"w = clip(w + a_plus * {x}_pre * {s_post}_post - a_minus * {y}_post, "
                "w_lo, w_hi)", "end", ORDER_STDP_PRE))
            pc.pathways.append(Pathway(
                "stdp_post", "post", "spike",
                f"w = clip(w + (1 - {s_pre}_pre) * a_plus * {x}_pre, w_lo, w_hi)",
                "end", ORDER_STDP_POST))
            pc.pre_needs_state = True
        elif isinstance(rule, SBP):
            e = pre.trace(decay(dt, rule.tau_elig))
            post.add_var("M")
            sample_end_event(post)
            pc.namespace.update(f_ltp=rule.f_ltp, f_ltd=rule.f_ltd)
            pc.model.append("sbp_mask : 1 (constant)")
            pc.synaptic_init["sbp_mask"] = sbp_mask(net, proj).astype(np.float64)
            code = ("dw_sbp = (f_ltp * clip(M_post, 0, big) - f_ltd * clip(-M_post, 0, big))"
                    f" * {e}_pre\n"
                    "w = clip(w + sbp_mask * dw_sbp, w_lo, w_hi)")
            if relay == "exact":
                pc.pathways.append(Pathway("sbp", "post", "sample_end", code, "end", ORDER_SBP))
            else:
                # the same update, on the synapses of inputs with e_i != 0 only
                event = f"relay_{e}"
                pre.events.setdefault(event, (f"({sample_end}) and ({e} != 0)",
                                              ORDER_RELAY_EVENT))
                pc.pathways.append(Pathway("sbp", "pre", event, code, "end", ORDER_SBP))
            pc.pre_needs_state = True
        elif isinstance(rule, NACA):
            x = pre.trace(decay(dt, rule.tau_pre))
            p = "1.0"
            if rule.post == "trace":
                p = f"{post.trace(decay(dt, rule.tau_post))}_post"
            table = naca_table_name(k)
            post.add_var(f"naca_m{k}")
            post.add_var(f"naca_l{k}")
            post.tables.append(table)
            post.namespace.update({f"naca{k}_lam": rule.lambda_inv,
                                   f"naca{k}_th": rule.theta_max})
            post.on_sample_start += modulation_code(k, f"{table}(t, i)")
            sample_end_event(post)
            pc.namespace.update(naca_eta=rule.eta, naca_x0=rule.x_offset)
            pc.pathways.append(Pathway(
                "naca", "post", "sample_end",
                f"w = clip(w - naca_eta * naca_m{k}_post * ({x}_pre - naca_x0) * {p}, "
                "w_lo, w_hi)", "end", ORDER_NACA))
            pc.pre_needs_state = True

    for pop in net.populations:
        g = groups[pop.name]
        if "M" in g.variables:
            sample_end_event(g)
            g.on_sample_end.append("M = 0")
        h = pop.homeostasis
        if learn and h is not None:
            g.add_var("nspk")
            g.on_spike.append(f"nspk{{p}} += 1{gate}")
            sample_end_event(g)
            g.namespace.update(h_eta=h.eta, h_target=h.target_rate * T * dt,
                               h_lo=finite_bound(h.theta_min), h_hi=finite_bound(h.theta_max))
            g.on_sample_end += ["vth = clip(vth + h_eta * (nspk - h_target), h_lo, h_hi)",
                                "nspk = 0"]
    for proj in net.projections:
        pc = projs[proj.name]
        pc.pre_needs_state = pc.pre_needs_state and groups[proj.pre].is_input
        if pc.pre_needs_state and pc.deliver_slot is None:
            # the mirror re-emits input spikes in 'after_synapses'
            pc.deliver_slot = ("before_resets", 0)
    return groups, projs


def reset_code(g: GroupCode) -> list[str]:
    """Statements that return the group's extra state to its sample-start values."""
    return [f"{name} = {value!r}" for name, value in g.variables.items()]


def spike_code(g: GroupCode, suffix: str) -> str:
    return "\n".join(line.format(p=suffix) for line in g.on_spike)
