"""Run a :class:`~spikeport.converters.quantize.FixedNetwork` the way spikeport's Lava graph
(:func:`spikeport.lava_processes.graph.build_graph`) runs it, bit for bit, without Lava.

Two schedules give the same bits:

* **step by step** (learning; or inference on a graph with a recurrent projection): one Lava
  time step after another, in the order :func:`spikeport.emulator.reference.replay` documents
  (neurons, third factors, synapses and their learning, homeostasis at a sample's end). With
  learning the samples run one after another (batch 1): the weights carry over.
* **layer by layer** (inference on a feed-forward graph): a population's whole input over a
  sequence is known once its presynaptic populations have run, so each population runs over
  all steps of a batch of independent sequences at once (a sequence is one sample when the
  network resets between samples, else the whole run).

The result is a :class:`~spikeport.flow.result.RunResult` with the same spikes,
weights, thresholds and op counters (same names, same counting rules) as a Lava run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spikeport.emulator import compiled as c
from spikeport.errors import BackendError, SpecError
from spikeport.flow.fixed import FixedNetwork, check_batch, check_learnable
from spikeport.flow.result import RunResult as LavaResult
from spikeport.kernels.dense import (
    SignMode,
    as_sign_mode,
    quantize_dense_weights,
    truncate_weights,
    weight_bounds,
)
from spikeport.kernels.homeostasis import homeostasis_update, threshold_from_acc, threshold_to_acc
from spikeport.kernels.random_streams import RandomStreams
from spikeport.kernels.relay import relay_signal
from spikeport.kernels.traces import check_taus, decompose_impulse

TEACHER = "__teacher"
DRIVE = "__drive"


@dataclass
class _Population:
    name: str
    n: int
    du1: int
    dv: int
    vth: np.ndarray      # (n,) mantissas
    bias: np.ndarray     # (n,) bias_mant << bias_exp
    homeostasis: object  # HomeostasisParams | None
    third_factor: str | None
    acc: np.ndarray = None  # homeostasis accumulator
    ops: dict = field(default_factory=lambda: {"neuron_updates": 0, "spikes": 0,
                                               "threshold_updates": 0})

    def __post_init__(self) -> None:
        self.vth6 = self.vth << 6  # compared against v (kernels.lif: vth is MSB-aligned)


@dataclass
class _Link:
    """A connection: a projection, or the teacher's one-to-one drive."""

    name: str
    pre: str
    post: str
    weight_exp: int
    weights: np.ndarray  # (n_pre, n_post) int64, as the connection holds them
    nnz: np.ndarray      # (n_pre,) nonzero weights per input
    plastic: "_Plastic | None" = None
    ops: dict = field(default_factory=lambda: {"syn_ops": 0})


class _Plastic:
    """One plastic connection's learning state (batch 1), the compiled form of
    :class:`~spikeport.kernels.engine.LearningEngine` + ``PlasticState``."""

    def __init__(self, proj, total_steps: int) -> None:
        plan = proj.rule
        self.plan = plan
        self.t_epoch = plan.t_epoch
        rule = plan.learning_rule()
        self.k = rule.decimate_exponent
        self.post_mode = {"2F": 0, "3F": 1, "none": 2}[plan.post]
        n_pre, n_post = proj.weights.shape
        mode = as_sign_mode(proj.sign_mode)
        self.mode = mode
        self.w_lo, self.w_hi = weight_bounds(mode)
        self.clamp = {SignMode.EXCITATORY: 1, SignMode.INHIBITORY: -1}.get(mode, 0)
        self.mask = (np.ones((n_pre, n_post), bool) if proj.learn_mask is None
                     else np.ascontiguousarray(proj.learn_mask, dtype=bool))
        self.has_mask = not bool(self.mask.all())
        self.n_plastic = int(self.mask.sum())
        self.row_count = self.mask.sum(axis=1).astype(np.int64)
        # products -> integer table (dependency, mantissa, exponent, shift, n_factors) and
        # factors (code, const, sgn); Lava's scale normalisation applied (Product.lava_scale)
        prods = rule.products
        n_f = max(1, max(len(p.factors) for p in prods))
        self.products = np.zeros((len(prods), 6), np.int64)
        self.factors = np.zeros((len(prods), n_f, 4), np.int64)
        for i, p in enumerate(prods):
            m, e = p.lava_scale()
            kind = p.dependency_kind
            sides = []
            for f_i, f in enumerate(p.factors):
                if f.var in ("d", "t"):
                    raise BackendError(f"projection '{proj.name}': the emulator runs weight "
                                       "rules only (no tag factors d/t)")
                sides.append(_side(f.var, kind))
                self.factors[i, f_i] = (c.FACTOR_CODES[f.var], f.const or 0, int(f.sgn),
                                        sides[-1])
            # A[i]·B[j] equals Lava's int32 chain when no partial product can wrap:
            # |factors| ≤ 2**width each, |mantissa| ≤ 8
            separable = c.SIDE_BOTH not in sides and sum(f.width for f in p.factors) + 3 <= 30
            dep = {"x0": c.DEP_X0, "y0": c.DEP_Y0, "u": c.DEP_U}[kind]
            self.products[i] = (dep, m, e, p.right_shift(), len(p.factors), int(separable))
        self.separable = bool(self.products[:, c.P_SEP].all())
        deps = plan.dependencies()
        self.use_x0, self.use_y0 = "x0" in deps, "y0" in deps
        self.x_int, self.x_frac = decompose_impulse(plan.x_impulse)
        y_imp = plan.y_impulse if plan.post == "2F" else (0, 0, 0)
        y_tau = plan.y_tau if plan.post == "2F" else (65535,) * 3
        self.y_int, self.y_frac = decompose_impulse(y_imp)
        x_tau, y_tau = check_taus(plan.x_tau), check_taus(y_tau)
        self.x_live = x_tau != 0
        self.y_live = y_tau != 0
        self.x_factor = np.exp(-1.0 / np.where(self.x_live, x_tau, 1.0))
        self.y_factor = np.exp(-1.0 / np.where(self.y_live, y_tau, 1.0))
        # Lava's random streams: trace streams advance twice a step; the synaptic stream once
        # an epoch (kernels.random_streams). Draw every position this run can reach.
        streams = RandomStreams(plan.rng_seed)
        last = 2 * total_steps + 2
        self.r_x_decay = streams.table("x_decay", last)[0]
        self.r_x_imp = streams.table("x_impulse", last)[0]
        self.r_y_decay = streams.table("y_decay", last)[0]
        self.r_y_imp = streams.table("y_impulse", last)[0]
        n_epochs = total_steps // self.t_epoch + 2
        self.r_syn = np.array([streams.synaptic(i) for i in range(n_epochs + 1)])
        # LearningDense truncates the initial weights to the precision (no clip: see settle)
        w = truncate_weights(np.asarray(proj.weights, dtype=np.int64), mode,
                             proj.num_weight_bits)
        self.w = np.ascontiguousarray(w)
        self.settled = False
        self.x = np.zeros((2, n_pre), np.int64)
        self.y = np.zeros((3, n_post), np.int64)
        self.tx = np.zeros(n_pre, np.int64)
        self.ty = np.zeros(n_post, np.int64)
        self.xh = np.zeros((self.t_epoch + 1, 2, n_pre), np.int64)
        self.yh = np.zeros((self.t_epoch + 1, 3, n_post), np.int64)
        self.time_step = 0
        n_x = int(sum(1 for i in plan.x_impulse if i))
        n_y = int(sum(1 for i in plan.y_impulse if i)) if plan.post == "2F" else 0
        self.traces_per_epoch = n_x * n_pre + n_y * n_post
        self.counters = np.zeros(3, np.int64)  # syn_updates, trace_updates, epochs
        self.k_dec = -1 if self.k is None else int(self.k)

    def reset_sample(self) -> None:
        for a in (self.x, self.y, self.tx, self.ty):
            a[:] = 0

    def settle(self, nnz: np.ndarray) -> None:
        """What the first learning epoch does to every synapse of the mask before any product:
        LearningDense only truncated the initial weights, the first epoch clamps and clips."""
        w = self.w
        new = w.copy()
        if self.clamp == 1:
            new = np.maximum(new, 0)
        elif self.clamp == -1:
            new = np.minimum(new, 0)
        new = np.clip(new, self.w_lo, self.w_hi)
        self.w[...] = np.where(self.mask, new, w)
        c.count_nonzero_rows(self.w, nnz)
        self.settled = True

    def step(self, s_pre: np.ndarray, s_post: np.ndarray, third: np.ndarray,
             gate: np.ndarray, nnz: np.ndarray) -> None:
        """Spike phase and, at an epoch's end, the learning phase (one compiled call)."""
        t = self.time_step + 1
        self.time_step = t
        if not self.settled and t % self.t_epoch == 0:
            self.settle(nnz)
        c.plastic_step(self.w, self.mask, self.has_mask, self.row_count, self.x, self.tx,
                       self.y, self.ty, self.xh, self.yh, s_pre, s_post, third, gate, t,
                       self.t_epoch, self.k_dec, self.x_int, self.x_frac, self.y_int,
                       self.y_frac, self.x_factor, self.x_live, self.y_factor, self.y_live,
                       self.r_x_decay, self.r_x_imp, self.r_y_decay, self.r_y_imp, self.r_syn,
                       self.products, self.factors, self.separable, self.post_mode,
                       self.use_x0, self.use_y0, self.n_plastic, self.traces_per_epoch,
                       self.w_lo, self.w_hi, self.clamp, nnz, self.counters)

    @property
    def ops(self) -> dict:
        return {"syn_updates": int(self.counters[0]), "trace_updates": int(self.counters[1]),
                "epochs": int(self.counters[2])}


class _Dopamine:
    """NACA's dopamine source: the table row of the sample's class, sent at its last step
    (:mod:`spikeport.lava_processes.dopamine`)."""

    def __init__(self, proj, labels) -> None:
        self.table = np.asarray(proj.dopamine_table, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        if self.labels.size and (self.labels.min() < 0
                                 or self.labels.max() >= self.table.shape[0]):
            raise SpecError(f"labels span [{self.labels.min()}, {self.labels.max()}]; allowed: "
                            f"[0, {self.table.shape[0] - 1}] (projection '{proj.name}')")
        self.ops = {"values_sent": 0, "labels_received": 0}


class _Relay:
    def __init__(self, proj) -> None:
        self.params = proj.relay.params(proj.relay_fanout)
        self.fanout = np.ascontiguousarray(self.params.fanout, dtype=np.int64)
        self.source = proj.relay.source
        n = self.params.n_hidden
        self.trace = np.zeros(n, np.int64)
        self.acc = np.zeros(n, np.int64)
        self.silent_out = np.zeros(self.params.n_out, bool)
        self.ops = {"relay_updates": 0, "values_sent": 0}


def _side(var: str, dependency: str) -> int:
    """Whether a factor's value depends on the pre neuron only, the post neuron only, or both
    (a trace read at the other side's spike time, or a synaptic variable)."""
    if var == "x0" or (var in ("x1", "x2") and dependency != "y0"):
        return c.SIDE_PRE
    if var == "y0" or (var in ("y1", "y2", "y3") and dependency != "x0"):
        return c.SIDE_POST
    return c.SIDE_BOTH


def _population(p) -> _Population:
    vth = np.broadcast_to(np.asarray(p.vth, dtype=np.int64), (p.n,)).copy()
    bias = (np.broadcast_to(np.asarray(p.bias_mant, dtype=np.int64), (p.n,))
            << np.broadcast_to(np.asarray(p.bias_exp, dtype=np.int64), (p.n,))).copy()
    hp = p.homeostasis_params()
    return _Population(p.name, p.n, int(p.du) + 1, int(p.dv), vth, bias, hp, p.third_factor,
                       threshold_to_acc(vth) if hp is not None else None)


def _static_link(name, pre, post, exp, weights_pre_post, sign_mode, bits: int = 8) -> _Link:
    # What Dense does on its first step: clip to the sign mode's range, truncate low bits
    w = quantize_dense_weights(np.asarray(weights_pre_post, dtype=np.int64).T, sign_mode,
                               bits).T
    w = np.ascontiguousarray(w)
    nnz = np.count_nonzero(w, axis=1).astype(np.int64)
    return _Link(name, pre, post, int(exp), w, nnz)


class Emulator:
    """A fixed-point network prepared for one run (``learn`` decides which connections learn
    and whether relays, teacher and homeostasis take part, exactly as ``build_graph``)."""

    def __init__(self, fixed: FixedNetwork, n_samples: int, learn: bool, has_teacher: bool,
                 labels=None):
        self.fixed = fixed
        self.learn = learn
        S = fixed.steps_per_sample
        self.total = n_samples * S
        self.pops = {p.name: _population(p) for p in fixed.populations}
        plastic = {p.name for p in fixed.projections if learn and p.rule is not None}
        if learn:
            check_learnable(fixed, labels, n_samples)
        self.links: list[_Link] = []
        self.relays: dict[str, _Relay] = {}
        self.dopamine: dict[str, _Dopamine] = {}
        for proj in fixed.projections:
            if proj.name in plastic:
                pl = _Plastic(proj, self.total)
                nnz = np.count_nonzero(pl.w, axis=1).astype(np.int64)
                link = _Link(proj.name, proj.pre, proj.post, proj.weight_exp, pl.w, nnz, pl)
                if proj.relay is not None:
                    self.relays[proj.name] = _Relay(proj)
                if proj.dopamine_table is not None:
                    self.dopamine[proj.name] = _Dopamine(proj, labels)
            else:
                link = _static_link(proj.name, proj.pre, proj.post, proj.weight_exp,
                                    proj.weights, proj.sign_mode, proj.num_weight_bits)
            self.links.append(link)
        t = fixed.teacher
        needs_teacher = [p.name for p in fixed.projections if p.name in plastic
                         and p.rule.kind in ("supervised_stdp", "sbp")]
        if needs_teacher and not has_teacher:
            raise SpecError(f"projection '{needs_teacher[0]}': learning from teaching spikes "
                            "needs teacher= (bool (n_samples, sample_steps, n)), or learn=False")
        # as build_graph: the teacher exists only when it drives neurons or feeds learning
        self.teacher_used = has_teacher and t is not None and (t.drive is not None or (learn and (
            fixed.population(t.population).third_factor == "teacher" or bool(self.relays))))
        self.drive = None
        if self.teacher_used and t.drive is not None:
            mant, exp, mode = t.drive
            self.drive = _static_link(DRIVE, TEACHER, t.population, exp,
                                      np.eye(t.n, dtype=np.int64) * mant, mode)
            self.links.append(self.drive)
        self.into = {name: [lk for lk in self.links if lk.post == name] for name in self.pops}

    # ------------------------------------------------------------------ helpers
    def feedforward_order(self) -> list[str] | None:
        """Populations in an order where every link comes from an input or an earlier
        population; None if the graph has a cycle (then run step by step)."""
        done = {name for name, _ in self.fixed.inputs} | {TEACHER}
        order, left = [], [p.name for p in self.fixed.populations]
        while left:
            ready = [n for n in left if all(lk.pre in done for lk in self.into[n])]
            if not ready:
                return None
            order += ready
            done |= set(ready)
            left = [n for n in left if n not in ready]
        return order

    def ops(self, input_counts: dict, teacher_count: int | None) -> dict:
        ops = {}
        for name, p in self.pops.items():
            ops[f"population:{name}"] = dict(p.ops)
        for lk in self.links:
            if lk.name == DRIVE:
                ops["teacher_drive"] = {"syn_ops": lk.ops["syn_ops"]}
                continue
            d = {"syn_ops": lk.ops["syn_ops"]}
            if lk.plastic is not None:
                d.update(lk.plastic.ops)
            ops[f"projection:{lk.name}"] = d
        for name, r in self.relays.items():
            ops[f"relay:{name}"] = dict(r.ops)
        for name, d in self.dopamine.items():
            ops[f"dopamine:{name}"] = dict(d.ops)
        for name, count in input_counts.items():
            ops[f"input:{name}"] = {"values_sent": int(count)}
        if teacher_count is not None:
            ops["teacher"] = {"values_sent": int(teacher_count)}
            if getattr(self, "teacher_gate_sent", None) is not None:
                ops["teacher"]["gate_values_sent"] = int(self.teacher_gate_sent)
        return ops

    def final_weights(self) -> dict:
        return {lk.name: lk.weights.copy() for lk in self.links if lk.name != DRIVE}


def run_emulator(fixed: FixedNetwork, inputs: dict[str, np.ndarray],
                 teacher: np.ndarray | None = None, learn: bool = False,
                 record_weights: bool = False, record_states: bool = False,
                 batch: int = 256, progress: bool = False,
                 labels: np.ndarray | None = None) -> LavaResult:
    """Run ``fixed`` on a batch of encoded samples; the same arguments and result as
    :func:`spikeport.lava_processes.run.run_lava` (spikes, weights, thresholds, op counts).

    ``record_weights``: ``result.weight_history[proj]`` = the plastic weights at each
    sample's end, ``(n_samples, n_pre, n_post)``. ``record_states``: ``result.states`` =
    per-step ``u``, ``v`` ``{pop: (steps, n)}`` and plastic weights ``{proj: (steps, n_pre,
    n_post)}`` (step-by-step schedule only; for conformance tests, memory grows with the run).
    ``batch``: sequences run side by side in layer-by-layer inference. ``labels``:
    (n_samples,) classes, for NACA's dopamine source when learning.
    """
    n_samples = check_batch(fixed, inputs, teacher)
    inputs = {name: np.asarray(inputs[name]) != 0 for name, _ in fixed.inputs}
    teacher = None if teacher is None else np.asarray(teacher) != 0
    emu = Emulator(fixed, n_samples, learn, teacher is not None, labels)
    t0 = time.perf_counter()
    order = emu.feedforward_order()
    if not learn and order is not None and not record_states:
        spikes = _run_layers(emu, order, inputs, teacher, n_samples, batch, progress)
        extra = {}
    else:
        spikes, extra = _run_steps(emu, inputs, teacher, n_samples, record_weights,
                                   record_states, progress)
    wall = time.perf_counter() - t0
    in_counts = {name: int(inputs[name].sum()) for name, _ in fixed.inputs}
    t_count = int(teacher.sum()) if emu.teacher_used else None
    res = LavaResult(spikes, emu.final_weights(),
                     {name: p.vth.copy() for name, p in emu.pops.items()},
                     emu.ops(in_counts, t_count), wall, emu.total, learn)
    res.weight_history = extra.get("weight_history", {})
    res.states = extra.get("states", {})
    return res


# ------------------------------------------------------------------ layer by layer (inference)

def _run_layers(emu: Emulator, order, inputs, teacher, n_samples, batch, progress) -> dict:
    fixed = emu.fixed
    S, T = fixed.steps_per_sample, fixed.sample_steps
    sources = dict(inputs)
    if emu.teacher_used:
        sources[TEACHER] = teacher
    if fixed.reset:
        n_seq, L = n_samples, S
    else:
        n_seq, L = 1, n_samples * S
    out = {name: np.zeros((n_samples, T, p.n), bool) for name, p in emu.pops.items()}
    bar = _progress(progress, n_seq, "emulator (inference)")
    for lo in range(0, n_seq, batch):
        hi = min(n_seq, lo + batch)
        seq = {name: _sequences(arr, lo, hi, S, T, fixed.reset) for name, arr in sources.items()}
        for name in order:
            p = emu.pops[name]
            a_in = np.zeros((hi - lo, L, p.n), np.int64)
            for lk in emu.into[name]:
                _, ops = c.dense_run(lk.weights, seq[lk.pre], lk.weight_exp, a_in)
                lk.ops["syn_ops"] += ops
            u = np.zeros((hi - lo, p.n), np.int64)
            v = np.zeros((hi - lo, p.n), np.int64)
            s = np.zeros((hi - lo, L, p.n), bool)
            c.lif_run(a_in, u, v, p.du1, p.dv, p.vth6, p.bias, s)
            seq[name] = s
            p.ops["neuron_updates"] += (hi - lo) * L * p.n
            p.ops["spikes"] += int(s.sum())
            if fixed.reset:
                out[name][lo:hi] = s[:, :T]
            else:
                out[name][:] = s[0].reshape(n_samples, S, p.n)[:, :T]
        bar.update(hi - lo)
    bar.close()
    return out


def _sequences(arr: np.ndarray, lo: int, hi: int, S: int, T: int, reset: bool) -> np.ndarray:
    """Source spikes as sequences: (hi − lo, S) per sample with the rest gap silent, or the
    whole run as one sequence."""
    if reset:
        seq = np.zeros((hi - lo, S, arr.shape[2]), bool)
        seq[:, :T] = arr[lo:hi]
        return seq
    full = np.zeros((arr.shape[0], S, arr.shape[2]), bool)
    full[:, :T] = arr
    return full.reshape(1, arr.shape[0] * S, arr.shape[2])


# ------------------------------------------------------------------ step by step (learning)

def _run_steps(emu: Emulator, inputs, teacher, n_samples, record_weights, record_states,
               progress) -> tuple[dict, dict]:
    fixed = emu.fixed
    S, T = fixed.steps_per_sample, fixed.sample_steps
    learn = emu.learn
    pops = list(emu.pops.values())
    tc = fixed.teacher
    for p in pops:
        p.u = np.zeros((1, p.n), np.int64)
        p.v = np.zeros((1, p.n), np.int64)
        p.spk = np.zeros((1, p.n), bool)
        p.count = np.zeros(p.n, np.int64)
        p.out = np.zeros((n_samples, T, p.n), bool)
        p.third = np.zeros(p.n, np.int64)
        p.gate = np.zeros(p.n, np.int64)
        # the in-flight buffers of the connections into p, one row each
        p.inbuf = np.zeros((max(1, len(emu.into[p.name])), 1, p.n), np.int64)
        for k, lk in enumerate(emu.into[p.name]):
            lk.buf = p.inbuf[k]
    sources = dict(inputs)
    if teacher is not None:
        sources[TEACHER] = teacher
    zeros = {name: np.zeros(arr.shape[2], bool) for name, arr in sources.items()}
    # each connection reads its presynaptic spikes from a source array or a population
    links = [(lk, sources.get(lk.pre), zeros.get(lk.pre),
              None if lk.pre in sources else emu.pops[lk.pre].spk[0],
              emu.pops[lk.post]) for lk in emu.links]
    plastic_links = [lk for lk in emu.links if lk.plastic is not None]
    relays = [(r, emu.pops[fixed.projection(name).post], emu.pops[fixed.projection(r.source).post])
              for name, r in emu.relays.items()]
    teach_to = (emu.pops[tc.population] if learn and tc is not None and teacher is not None
                and emu.pops[tc.population].third_factor == "teacher" else None)
    dopamine = [(d, emu.pops[fixed.projection(name).post]) for name, d in emu.dopamine.items()]
    gated = teach_to is not None and tc.gate_value > 0
    taught = teacher.any(axis=1) if gated else None  # (n_samples, n)
    teacher_gate_sent = 0
    third_used = learn and (teach_to is not None or bool(relays) or bool(dopamine))
    homeo = [p for p in pops if learn and p.homeostasis is not None]
    history = {lk.name: np.zeros((n_samples,) + lk.weights.shape, np.int64)
               for lk in plastic_links} if record_weights else {}
    states = {"u": {p.name: [] for p in pops}, "v": {p.name: [] for p in pops},
              "weights": {lk.name: [] for lk in plastic_links}} if record_states else None
    bar = _progress(progress, n_samples, "emulator (learning)" if learn else "emulator")
    for sample in range(n_samples):
        for phase in range(S):
            in_sample, last = phase < T, phase == T - 1
            if phase == 0:
                for p in pops:
                    p.count[:] = 0
                    if fixed.reset:
                        p.u[:] = 0
                        p.v[:] = 0
                        p.inbuf[:] = 0
                if fixed.reset:
                    for lk in plastic_links:
                        lk.plastic.reset_sample()
                for r, _, _ in relays:
                    r.acc[:] = 0
                    if fixed.reset:
                        r.trace[:] = 0
            # 1. neurons: add what the connections computed last step, LIF step
            for p in pops:
                p.ops["spikes"] += c.lif_step_summed(p.inbuf, p.u, p.v, p.du1, p.dv, p.vth6,
                                                     p.bias, p.spk, p.out, sample, phase,
                                                     p.count, in_sample)
                p.ops["neuron_updates"] += p.n
                if states is not None:
                    states["u"][p.name].append(p.u[0].copy())
                    states["v"][p.name].append(p.v[0].copy())
            # 2. third factors: the teacher's y at its spikes; the relays at the sample's end
            if third_used:
                for d, post in dopamine:
                    if phase == 0:
                        d.ops["labels_received"] += 1
                    if last:
                        q = d.table[d.labels[sample]]
                        d.ops["values_sent"] += int(np.count_nonzero(q))
                        post.third[:] = q
                    elif phase == 0 or phase == T:
                        post.third[:] = 0
                teach = teacher[sample, phase] if in_sample else (
                    zeros[TEACHER] if teacher is not None else None)
                if teach_to is not None:
                    np.multiply(teach, tc.y_value, out=teach_to.third)
                    if gated:  # the sample's taught neurons, every step of the sample
                        if in_sample:
                            np.multiply(taught[sample], tc.gate_value, out=teach_to.gate)
                            teacher_gate_sent += int(np.count_nonzero(teach_to.gate))
                        else:
                            teach_to.gate[:] = 0
                for r, hidden, output in relays:
                    if in_sample:
                        c.relay_step(r.trace, r.acc, hidden.spk[0], output.spk[0], teach,
                                     r.fanout, r.params.decay, r.params.impulse)
                    else:  # rest gap: traces run on, nothing accumulates
                        c.relay_step(r.trace, r.acc, hidden.spk[0], r.silent_out, r.silent_out,
                                     r.fanout, r.params.decay, r.params.impulse)
                    r.ops["relay_updates"] += r.params.n_hidden
                    if last:
                        sig = relay_signal(_RelayView(r.trace[None], r.acc[None]),
                                           r.params)[0]
                        r.ops["values_sent"] += int(np.count_nonzero(sig))
                        hidden.third[:] = sig
                    elif phase == 0 or phase == T:
                        hidden.third[:] = 0
            # 3. connections: sum this step's spikes with the weights before learning; learn
            for lk, src, zero, pre_spk, post in links:
                if pre_spk is None:
                    s_pre = src[sample, phase] if in_sample else zero
                else:
                    s_pre = pre_spk
                lk.ops["syn_ops"] += c.dense_step1(lk.weights, s_pre, lk.weight_exp, lk.buf,
                                                   lk.nnz)
                if lk.plastic is not None:
                    lk.plastic.step(s_pre, post.spk[0], post.third, post.gate, lk.nnz)
                    if states is not None:
                        states["weights"][lk.name].append(lk.weights.copy())
            # 4. homeostasis once per sample
            if last:
                for p in homeo:
                    p.acc = homeostasis_update(p.acc, p.count, p.homeostasis)
                    p.vth = threshold_from_acc(p.acc)
                    p.vth6 = p.vth << 6
                    p.ops["threshold_updates"] += p.n
        for lk in plastic_links:
            if record_weights:
                history[lk.name][sample] = lk.weights
        bar.update(1)
    bar.close()
    out = {p.name: p.out for p in pops}
    emu.teacher_gate_sent = teacher_gate_sent if gated else None
    extra = {"weight_history": history}
    if states is not None:
        extra["states"] = {"u": {n: np.array(v) for n, v in states["u"].items()},
                           "v": {n: np.array(v) for n, v in states["v"].items()},
                           "weights": {n: np.array(v) for n, v in states["weights"].items()}}
    return out, extra


class _RelayView:
    """The (trace, acc) pair kernels.relay.relay_signal reads."""

    def __init__(self, trace, acc) -> None:
        self.trace, self.acc = trace, acc


def _progress(enabled: bool, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="sample", disable=not enabled, leave=False)
