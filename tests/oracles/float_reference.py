"""Float oracle: the discrete spikeport network and its plasticity, step by step in numpy.

An independent implementation of what the Brian2 reference (:mod:`spikeport.backends.brian2.sim`)
computes, written as pure step functions ``(inputs, state, params) -> (outputs, state)``
(nothing is modified in place; every step returns new arrays) and thin loop wrappers over
steps and samples. It exists to test the Brian2 reference: both must agree to rounding
(~1e-12) on weights, thresholds and spikes. One sample at a time, float64, no batching.

Semantics (DESIGN.md §3; the within-step order is the one documented in
:mod:`spikeport.backends.brian2.rules`). Step t of a sample, k the absolute step:

1. sample reset (``reset`` mode, first step of a sample): u, v, a_in, refractory counters,
   spike/teaching flags, traces, SBP accumulators M, spike counts, STP state (u=0, x=1).
2. LIF, Loihi order: ``u ← u·e^{−dt/τ_u} + a_in``; ``v ← v·e^{−dt/τ_v} + u + bias`` (held while
   refractory); spike if ``v > θ``; then ``v ← reset``.
3. flags: ``s`` = spikes of step t (inputs: the data), ``teach`` = teaching spikes of step t.
4. traces: ``x ← x·e^{−dt/τ} + s`` (decay first, then the spike of step t).
5. STP (per presynaptic neuron of an STP projection, I = s):
   ``u ← u − u·dt/τ_f + U·I·(1−u)``; ``r = u·x·I``; ``x ← x + (1−x)·dt/τ_d − r``.
6. delivery: ``a_in_post = Σ_j s_j·w_jk`` (``r_j·w_jk`` with STP) ``+ drive·teach``, with the
   weights before this step's learning; it enters u at step t+1.
7. per-step learning (``learn``): supervised STDP at post neurons with ``teach ≠ s``:
   ``Δw_jk = η·g_k·(teach_k − s_k)·x_j`` (g_k = 1, or with ``gate: taught`` 1 for the
   neurons taught in this sample, else 0), clip, and ``M_j += Σ_k Δw_jk`` (before clipping) if
   the projection is an SBP source; STDP: ``Δw_jk = a₊·x_j·s_k − a₋·y_k·s_j`` at synapses with
   a pre or post spike, clip.
8. last step of a sample (``learn``): SBP ``Δw_ij = (f_ltp·[M_j]_+ − f_ltd·[M_j]_−)·e_i·mask_ij``,
   clip; NACA ``Δw_ij = −η·m_j·(x_i − x_offset)·p_j`` (:mod:`spikeport.kernels.naca`; m_j of
   the sample's label, computed once per sample), clip; homeostasis
   ``θ ← clip(θ + η·(n − target_rate·T·dt), θ_min, θ_max)``; ``M ← 0``, ``n ← 0``.

Clipping is to the projection's [w_min, w_max] and touches only the synapses a rule updated
(the Brian2 pathways run only there); learned weights must start inside their bounds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from spikeport.errors import SpecError
from spikeport.kernels.naca import modulation, naca_step
from spikeport.models.rules import NACA, SBP, STDP, STP, Homeostasis, SupervisedSTDP
from spikeport.models.spec import Network, sbp_source
from spikeport.models.weights import connectivity_mask, sbp_mask

TraceKey = tuple[str, float]   # (population, per-step decay factor)


# ---------------------------------------------------------------------------------------------
# parameters


@dataclass(frozen=True)
class PopParams:
    name: str
    n: int
    is_input: bool
    decay_u: float = 0.0
    decay_v: float = 0.0
    bias: float = 0.0
    reset: float = 0.0
    ref_steps: int = 0
    threshold: float = 0.0
    homeostasis: Homeostasis | None = None


@dataclass(frozen=True)
class ProjParams:
    name: str
    pre: str
    post: str
    exists: np.ndarray                 # bool (n_pre, n_post)
    w_lo: float
    w_hi: float
    rule: object | None = None         # the learning rule, None if not learning
    stp: STP | None = None
    x_key: TraceKey | None = None      # presynaptic trace of the rule
    y_key: TraceKey | None = None      # postsynaptic trace (STDP)
    sbp_mask: np.ndarray | None = None  # float (n_pre, n_post), SBP only
    feeds_sbp: bool = False            # supervised projection whose ΔW an SBP rule propagates
    table: str = ""                    # NACA: its per-sample dopamine table (sample_tables)


@dataclass(frozen=True)
class Params:
    dt: float
    T: int                  # steps of a sample
    S: int                  # steps per sample including a rest gap
    reset_mode: bool
    learn: bool
    pops: tuple[PopParams, ...]
    projs: tuple[ProjParams, ...]
    traces: tuple[TraceKey, ...]
    teacher_pop: str | None = None
    drive: float = 0.0

    def pop(self, name: str) -> PopParams:
        return next(p for p in self.pops if p.name == name)


def build_params(net: Network, learn: bool) -> Params:
    """Everything the step functions need, from the spec (no hard-coded values)."""
    dt = net.dt
    pops = [PopParams(i.name, i.n, True) for i in net.inputs]
    for p in net.populations:
        pops.append(PopParams(p.name, p.n, False, float(np.exp(-dt / p.tau_u)),
                              float(np.exp(-dt / p.tau_v)), p.bias, p.reset,
                              int(round(p.refractory / dt)), p.threshold, p.homeostasis))
    sources = set()
    if learn:
        for proj in net.projections:
            if isinstance(proj.learning, SBP):
                sources.add(sbp_source(net, proj).name)
    traces: list[TraceKey] = []

    def key(pop: str, tau: float) -> TraceKey:
        k = (pop, float(np.exp(-dt / tau)))
        if k not in traces:
            traces.append(k)
        return k

    from spikeport.backends.brian2.rules import naca_table_name

    projs = []
    for k, proj in enumerate(net.projections):
        rule = proj.learning if learn else None
        x_key = y_key = mask = None
        table = ""
        if isinstance(rule, NACA):
            x_key = key(proj.pre, rule.tau_pre)
            y_key = key(proj.post, rule.tau_post) if rule.post == "trace" else None
            table = naca_table_name(k)
        elif isinstance(rule, SupervisedSTDP):
            x_key = key(proj.pre, rule.tau_pre)
        elif isinstance(rule, STDP):
            x_key, y_key = key(proj.pre, rule.tau_plus), key(proj.post, rule.tau_minus)
        elif isinstance(rule, SBP):
            x_key = key(proj.pre, rule.tau_elig)
            mask = sbp_mask(net, proj).astype(np.float64)
        projs.append(ProjParams(proj.name, proj.pre, proj.post, connectivity_mask(net, proj),
                                proj.w_min, proj.w_max, rule, proj.stp, x_key, y_key, mask,
                                proj.name in sources, table))
    t = net.teacher
    return Params(dt, net.sample_steps, net.steps_per_sample,
                  net.between_samples.mode == "reset", learn, tuple(pops), tuple(projs),
                  tuple(traces), t.population if t else None, t.drive if t else 0.0)


# ---------------------------------------------------------------------------------------------
# state


@dataclass(frozen=True)
class State:
    """Network state between steps. ``s``/``teach`` hold the last step's flags."""

    u: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    a_in: dict[str, np.ndarray]
    ref: dict[str, np.ndarray]
    vth: dict[str, np.ndarray]
    s: dict[str, np.ndarray]
    teach: dict[str, np.ndarray]
    M: dict[str, np.ndarray]
    nspk: dict[str, np.ndarray]
    traces: dict[TraceKey, np.ndarray]
    stp: dict[str, tuple[np.ndarray, np.ndarray]]     # projection -> (u, x)
    w: dict[str, np.ndarray]
    mod: dict[str, np.ndarray] = field(default_factory=dict)    # NACA projection -> m (n_post,)
    gate: dict[str, np.ndarray] = field(default_factory=dict)   # population -> g (n,)


def init_state(params: Params, weights: dict[str, np.ndarray],
               thresholds: dict[str, np.ndarray] | None = None) -> State:
    lif = [p for p in params.pops if not p.is_input]
    z = {p.name: np.zeros(p.n) for p in lif}
    vth = {}
    for p in lif:
        th = (thresholds or {}).get(p.name, p.threshold)
        vth[p.name] = np.broadcast_to(np.asarray(th, float), (p.n,)).copy()
    state = State(u=dict(z), v=dict(z), a_in=dict(z), ref={p.name: np.zeros(p.n, int)
                                                           for p in lif},
                  vth=vth, s={p.name: np.zeros(p.n) for p in params.pops},
                  teach=dict(z), M=dict(z), nspk=dict(z), traces={}, stp={},
                  w={p.name: np.asarray(weights[p.name], np.float64) * p.exists
                     for p in params.projs})
    return sample_reset(state, params)


def sample_reset(state: State, params: Params) -> State:
    """Everything but weights and thresholds back to its sample-start value."""
    z = {k: np.zeros_like(v) for k, v in state.u.items()}
    n = {p.name: p.n for p in params.pops}
    return replace(state, u=z, v=dict(z), a_in=dict(z),
                   ref={k: np.zeros_like(v) for k, v in state.ref.items()},
                   s={k: np.zeros(n[k]) for k in state.s}, teach=dict(z), M=dict(z),
                   nspk=dict(z), traces={k: np.zeros(n[k[0]]) for k in params.traces},
                   stp={p.name: (np.zeros(n[p.pre]), np.ones(n[p.pre]))
                        for p in params.projs if p.stp is not None})


# ---------------------------------------------------------------------------------------------
# pure step functions


def lif_step(a_in, u, v, ref, vth, p: PopParams):
    """One Loihi-order LIF step: ``(a_in, u, v, ref, vth, params) -> (spikes, u, v, ref)``."""
    u = u * p.decay_u + a_in
    is_ref = ref > 0
    v = np.where(is_ref, v, v * p.decay_v + u + p.bias)
    ref = ref - is_ref
    spikes = v > vth
    v = np.where(spikes, p.reset, v)
    ref = np.where(spikes, p.ref_steps, ref)
    return spikes, u, v, ref


def trace_step(x, s, decay: float):
    """Decay first, then add the spike of this step: ``x(t) = x(t−1)·decay + s(t)``."""
    return x * decay + s


def stp_step(u, x, s, stp: STP, dt: float):
    """Tsodyks–Markram, per presynaptic neuron: ``(u, x, I) -> (r, u, x)``; the spike
    transmits ``w·r``, r = u(t)·x(t−1)·I (facilitated u, resources before depletion)."""
    u = u - u * (dt / stp.tau_f) + stp.U * s * (1 - u)
    r = u * x * s
    x = x + (1 - x) * (dt / stp.tau_d) - r
    return r, u, x


def deliver(efficacy, w):
    """Input of the next step: ``Σ_j efficacy_j·w_jk`` over presynaptic neurons in order."""
    active = np.flatnonzero(efficacy)
    if active.size == 0:
        return np.zeros(w.shape[1])
    return (w[active] * efficacy[active, None]).sum(axis=0)


def supervised_stdp_step(w, x_pre, teach, s_post, exists, eta, lo, hi, gate=None):
    """``Δw_jk = η·g_k·(teach_k − s_k)·x_j`` at post neurons with teach ≠ s, then clip:
    ``-> (w, ΔM)`` with ``ΔM_j = Σ_k Δw_jk`` (before clipping); ``gate`` g (n_post,) is 1
    everywhere when None."""
    err = teach - s_post
    if gate is not None:
        err = err * gate
    cols = err != 0
    dw = eta * err[None, :] * x_pre[:, None]
    dw = np.where(exists, dw, 0.0)
    touched = exists & cols[None, :]
    w = np.where(touched, np.clip(w + dw, lo, hi), w)
    return w, np.where(touched, dw, 0.0).sum(axis=1)


def stdp_step(w, x_pre, y_post, s_pre, s_post, exists, a_plus, a_minus, lo, hi):
    """Pair STDP, one clip per step: ``Δw_jk = a₊·x_j·s_k − a₋·y_k·s_j`` where j or k spiked."""
    dw = a_plus * x_pre[:, None] * s_post[None, :] - a_minus * y_post[None, :] * s_pre[:, None]
    touched = exists & ((s_pre[:, None] > 0) | (s_post[None, :] > 0))
    return np.where(touched, np.clip(w + dw, lo, hi), w)


def sbp_step(w, M_post, e_pre, mask, exists, f_ltp, f_ltd, lo, hi):
    """``Δw_ij = (f_ltp·[M_j]_+ − f_ltd·[M_j]_−)·e_i·mask_ij``, then clip (sample end)."""
    g = f_ltp * np.clip(M_post, 0, None) - f_ltd * np.clip(-M_post, 0, None)
    dw = g[None, :] * e_pre[:, None]
    return np.where(exists, np.clip(w + mask * dw, lo, hi), w)


def homeostasis_step(vth, nspk, h: Homeostasis, T: int, dt: float):
    """``θ ← clip(θ + η·(n − target_rate·T·dt), θ_min, θ_max)`` (sample end)."""
    return np.clip(vth + h.eta * (nspk - h.target_rate * T * dt), h.theta_min, h.theta_max)


def network_step(inputs_t: dict[str, np.ndarray], teach_t: np.ndarray | None, state: State,
                 params: Params, k: int) -> tuple[dict[str, np.ndarray], State]:
    """Absolute step k: ``(input spikes, teaching spikes, state, params) -> (spikes, state)``.

    ``inputs_t`` maps input populations to bool (n,); ``teach_t`` is bool (n_teacher,) or
    None. Returns the LIF spikes of this step and the new state.
    """
    t = k % params.S
    if params.reset_mode and t == 0:
        state = sample_reset(state, params)
    in_sample = t < params.T
    u, v, ref, s = dict(state.u), dict(state.v), dict(state.ref), {}
    spikes = {}
    for p in params.pops:
        if p.is_input:
            s[p.name] = np.asarray(inputs_t[p.name], bool).astype(np.float64)
            continue
        spk, u[p.name], v[p.name], ref[p.name] = lif_step(
            state.a_in[p.name], state.u[p.name], state.v[p.name], state.ref[p.name],
            state.vth[p.name], p)
        spikes[p.name] = spk
        s[p.name] = spk.astype(np.float64)
    teach = {name: np.zeros_like(x) for name, x in state.teach.items()}
    if params.teacher_pop is not None and teach_t is not None:
        teach[params.teacher_pop] = np.asarray(teach_t, bool).astype(np.float64)
    traces = {key: trace_step(x, s[key[0]], key[1]) for key, x in state.traces.items()}
    nspk = dict(state.nspk)
    if params.learn:
        for p in params.pops:
            if p.homeostasis is not None:
                nspk[p.name] = nspk[p.name] + s[p.name] * float(in_sample)

    # delivery with this step's weights (before learning)
    a_in = {name: np.zeros_like(x) for name, x in state.a_in.items()}
    stp = dict(state.stp)
    for pj in params.projs:
        eff = s[pj.pre]
        if pj.stp is not None:
            r, su, sx = stp_step(*state.stp[pj.name], s[pj.pre], pj.stp, params.dt)
            stp[pj.name] = (su, sx)
            eff = r
        a_in[pj.post] = a_in[pj.post] + deliver(eff, state.w[pj.name])
    if params.teacher_pop is not None and params.drive != 0.0:
        a_in[params.teacher_pop] = a_in[params.teacher_pop] + params.drive * teach[
            params.teacher_pop]

    w, M = dict(state.w), dict(state.M)
    if params.learn:
        for pj in params.projs:
            if isinstance(pj.rule, SupervisedSTDP):
                w[pj.name], dM = supervised_stdp_step(
                    w[pj.name], traces[pj.x_key], teach[pj.post], s[pj.post], pj.exists,
                    pj.rule.eta, pj.w_lo, pj.w_hi,
                    state.gate[pj.post] if pj.rule.gate == "taught" else None)
                if pj.feeds_sbp:
                    M[pj.pre] = M[pj.pre] + dM * float(in_sample)
            elif isinstance(pj.rule, STDP):
                w[pj.name] = stdp_step(w[pj.name], traces[pj.x_key], traces[pj.y_key],
                                       s[pj.pre], s[pj.post], pj.exists, pj.rule.a_plus,
                                       pj.rule.a_minus, pj.w_lo, pj.w_hi)
        if t == params.T - 1:
            vth = dict(state.vth)
            for pj in params.projs:
                if isinstance(pj.rule, SBP):
                    w[pj.name] = sbp_step(w[pj.name], M[pj.post], traces[pj.x_key],
                                          pj.sbp_mask, pj.exists, pj.rule.f_ltp,
                                          pj.rule.f_ltd, pj.w_lo, pj.w_hi)
                elif isinstance(pj.rule, NACA):
                    post = (traces[pj.y_key] if pj.y_key is not None
                            else np.ones(params.pop(pj.post).n))
                    w[pj.name] = naca_step(w[pj.name], traces[pj.x_key], post,
                                           state.mod[pj.name], pj.exists, pj.rule.eta,
                                           pj.rule.x_offset, pj.rule.x_offset, pj.w_lo,
                                           pj.w_hi)
            for p in params.pops:
                if p.homeostasis is not None:
                    vth[p.name] = homeostasis_step(vth[p.name], nspk[p.name], p.homeostasis,
                                                   params.T, params.dt)
            M = {name: np.zeros_like(x) for name, x in M.items()}
            nspk = {name: np.zeros_like(x) for name, x in nspk.items()}
            state = replace(state, vth=vth)
    new = replace(state, u=u, v=v, a_in=a_in, ref=ref, s=s, teach=teach, M=M, nspk=nspk,
                  traces=traces, stp=stp, w=w)
    return spikes, new


# ---------------------------------------------------------------------------------------------
# loop wrappers


@dataclass
class OracleRun:
    """Per-step trajectories a caller asked for, (n_samples, T, n) each."""

    u: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)


def sample_values(params: Params, tables: dict[str, np.ndarray], i: int) -> dict:
    """Sample i's per-sample values: NACA modulation m = g(nl) per NACA projection, the
    supervised gate per population (``State.mod``, ``State.gate``)."""
    from spikeport.backends.brian2.rules import gate_table_name

    mod = {pj.name: modulation(tables[pj.table][i], pj.rule.lambda_inv, pj.rule.theta_max)
           for pj in params.projs if isinstance(pj.rule, NACA)}
    gate = {pj.post: tables[gate_table_name(pj.post)][i] for pj in params.projs
            if isinstance(pj.rule, SupervisedSTDP) and pj.rule.gate == "taught"}
    return {"mod": mod, "gate": gate}


def run_sample(sample_inputs: dict[str, np.ndarray], sample_teacher: np.ndarray | None,
               state: State, params: Params, sample_index: int, record: tuple[str, ...] = (),
               values: dict | None = None):
    """One sample (and its rest gap): ``-> (spikes (T, n) per LIF pop, u/v records, state)``;
    ``values`` (from :func:`sample_values`) are the sample's modulation and gates."""
    T, S = params.T, params.S
    if values:
        state = replace(state, mod=values["mod"], gate=values["gate"])
    spikes = {p.name: np.zeros((T, p.n), bool) for p in params.pops if not p.is_input}
    rec = {name: {"u": np.zeros((T, params.pop(name).n)), "v": np.zeros((T, params.pop(name).n))}
           for name in record}
    silent = {p.name: np.zeros(p.n, bool) for p in params.pops if p.is_input}
    for t in range(S):
        inp = {name: arr[t] for name, arr in sample_inputs.items()} if t < T else silent
        teach = sample_teacher[t] if (sample_teacher is not None and t < T) else None
        spk, state = network_step(inp, teach, state, params, sample_index * S + t)
        if t < T:
            for name, x in spk.items():
                spikes[name][t] = x
            for name in record:
                rec[name]["u"][t] = state.u[name]
                rec[name]["v"][t] = state.v[name]
    return spikes, rec, state


def simulate(net: Network, inputs: dict[str, np.ndarray], weights: dict[str, np.ndarray],
             teacher: np.ndarray | None = None, record: tuple[str, ...] = (),
             learn: bool = False, thresholds: dict[str, np.ndarray] | None = None,
             labels: np.ndarray | None = None):
    """Same contract as :func:`spikeport.backends.brian2.sim.simulate`, in numpy; returns a
    ``SimResult`` with ``target="oracle"``."""
    from spikeport.backends.brian2.rules import sample_tables
    from spikeport.backends.brian2.sim import SimResult, _check_learning_inputs

    params = build_params(net, learn)
    n_samples = None
    for inp in net.inputs:
        arr = inputs[inp.name]
        if arr.ndim != 3 or arr.shape[1:] != (net.sample_steps, inp.n):
            raise SpecError(f"input '{inp.name}': spike array shape {arr.shape} does not match "
                            f"(n_samples, sample_steps={net.sample_steps}, n={inp.n})")
        n_samples = arr.shape[0]
    _check_learning_inputs(net, weights, teacher, learn, n_samples)
    tables = sample_tables(net, learn, n_samples, labels, teacher)
    state = init_state(params, weights, thresholds)
    out = {p.name: [] for p in net.populations}
    recs = {name: {"u": [], "v": []} for name in record}
    t0 = time.perf_counter()
    for i in range(n_samples):
        spk, rec, state = run_sample({k: v[i] for k, v in inputs.items()},
                                     None if teacher is None else teacher[i], state, params, i,
                                     record, sample_values(params, tables, i))
        for name, x in spk.items():
            out[name].append(x)
        for name, r in rec.items():
            recs[name]["u"].append(r["u"])
            recs[name]["v"].append(r["v"])
    spikes = {name: np.stack(x) for name, x in out.items()}
    states = {name: {var: np.stack(x) for var, x in r.items()} for name, r in recs.items()}
    return SimResult(spikes=spikes, inputs=dict(inputs), weights=dict(state.w), states=states,
                     thresholds={k: v.copy() for k, v in state.vth.items()},
                     wall_time=time.perf_counter() - t0, target="oracle")
