"""Pack a :class:`~spikeport.converters.quantize.FixedNetwork` into the flat integer tables
the compiled run loop (:mod:`.engine`) reads: one signature for every network, so numba
compiles the loop once per install, whatever the graph.

Layout:

* neurons of all populations side by side (population p holds ``pop_off[p]..pop_off[p+1]``);
* the spike vector of a step: the inputs (concatenated), the teaching spikes, then the
  neurons;
* every connection's weights ``(n_pre, n_post)`` flattened into one int16 array ``W``, the
  plastic connections first (so the plastic weights are ``W[:n_plastic_weights]``);
* plastic connections: their learning rule as an integer table (products, factors), Lava's
  random streams drawn for every position the run reaches, traces and spike times flat.

Connections are set up exactly as spikeport's Lava graph does (``build_graph``): static ones
clipped and truncated as Dense does on its first step; plastic ones truncated as
LearningDense does (the first learning epoch then clamps and clips them: ``settle``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikeport.backends.emulator import engine as e
from spikeport.backends.emulator import plasticity as pl
from spikeport.errors import BackendError, SpecError
from spikeport.flow.fixed import FixedNetwork, check_learnable
from spikeport.kernels.dense import (
    WEIGHT_BITS,
    SignMode,
    as_sign_mode,
    quantize_dense_weights,
    truncate_weights,
    weight_bounds,
)
from spikeport.kernels.homeostasis import threshold_to_acc
from spikeport.kernels.random_streams import RandomStreams
from spikeport.kernels.traces import check_taus, decompose_impulse

TEACHER = "__teacher"
DRIVE = "__drive"
# a connection's sum is formed in int32: exact while n_pre · 2**8 (the largest weight
# magnitude, 9-bit signed) stays below 2**31
MAX_FAN_IN = (1 << 31) >> (WEIGHT_BITS + 1)


@dataclass
class Link:
    name: str
    pre: str
    post: str
    weight_exp: int
    weights: np.ndarray       # (n_pre, n_post) int64, as the connection holds them at start
    proj: object = None       # the FixedProjection when it learns


def _side(var: str, dependency: str) -> int:
    """Whether a factor's value depends on the pre neuron only, the post neuron only, or both
    (a trace read at the other side's spike time, or a synaptic variable)."""
    if var == "x0" or (var in ("x1", "x2") and dependency != "y0"):
        return pl.SIDE_PRE
    if var == "y0" or (var in ("y1", "y2", "y3") and dependency != "x0"):
        return pl.SIDE_POST
    return pl.SIDE_BOTH


def _rule_tables(proj) -> tuple[np.ndarray, np.ndarray]:
    """The rule's products as an integer table (dependency, Lava-normalised mantissa and
    exponent, right shift, number of factors, separable) and its factors (code, constant,
    sgn, side)."""
    rule = proj.rule.learning_rule()
    prods = rule.products
    n_f = max(1, max(len(p.factors) for p in prods))
    products = np.zeros((len(prods), 6), np.int64)
    factors = np.zeros((len(prods), n_f, 4), np.int64)
    for i, p in enumerate(prods):
        m, ex = p.lava_scale()
        kind = p.dependency_kind
        sides = []
        for f_i, f in enumerate(p.factors):
            if f.var in ("d", "t"):
                raise BackendError(f"projection '{proj.name}': the emulator runs weight rules "
                                   "only (no tag factors d/t)")
            sides.append(_side(f.var, kind))
            factors[i, f_i] = (pl.FACTOR_CODES[f.var], f.const or 0, int(f.sgn), sides[-1])
        # A[i]·B[j] equals Lava's int32 chain when no partial product can wrap:
        # |factors| ≤ 2**width each, |mantissa| ≤ 8
        separable = pl.SIDE_BOTH not in sides and sum(f.width for f in p.factors) + 3 <= 30
        dep = {"x0": pl.DEP_X0, "y0": pl.DEP_Y0, "u": pl.DEP_U}[kind]
        products[i] = (dep, m, ex, p.right_shift(), len(p.factors), int(separable))
    return products, factors


class Packed:
    """A fixed-point network packed for one run of ``n_samples`` samples (``learn`` decides
    which connections learn and whether relays, teacher and homeostasis take part, exactly
    as ``build_graph``)."""

    def __init__(self, fixed: FixedNetwork, n_samples: int, learn: bool, has_teacher: bool,
                 labels=None):
        self.fixed, self.learn = fixed, learn
        S, T = fixed.steps_per_sample, fixed.sample_steps
        self.total = n_samples * S
        if learn:
            check_learnable(fixed, labels, n_samples)
        plastic = [p for p in fixed.projections if learn and p.rule is not None]
        needs_teacher = [p.name for p in plastic if p.rule.kind in ("supervised_stdp", "sbp")]
        if needs_teacher and not has_teacher:
            raise SpecError(f"projection '{needs_teacher[0]}': learning from teaching spikes "
                            "needs teacher= (bool (n_samples, sample_steps, n)), or learn=False")
        tc = fixed.teacher
        relays = [p for p in plastic if p.relay is not None]
        # as build_graph: the teacher exists only when it drives neurons or feeds learning
        self.teacher_used = has_teacher and tc is not None and (tc.drive is not None or (
            learn and (fixed.population(tc.population).third_factor == "teacher"
                       or bool(relays))))
        pops = fixed.populations
        self.pop_names = [p.name for p in pops]
        sizes = [p.n for p in pops]
        self.pop_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        off = dict(zip(self.pop_names, self.pop_off[:-1].tolist()))
        N = int(self.pop_off[-1])
        self.n_in = sum(n for _, n in fixed.inputs)
        self.n_teach = tc.n if self.teacher_used else 0
        n_src = self.n_in + self.n_teach
        spk_off = {}
        o = 0
        for name, n in fixed.inputs:
            spk_off[name] = o
            o += n
        spk_off[TEACHER] = self.n_in
        for name in self.pop_names:
            spk_off[name] = n_src + off[name]

        def per_neuron(values, dtype=np.int64):
            return np.concatenate([np.broadcast_to(np.asarray(v, dtype=dtype), (p.n,))
                                   for v, p in zip(values, pops)]) if pops else np.zeros(0)

        du1 = per_neuron([int(p.du) + 1 for p in pops])  # Loihi 1's offset register on du
        dv = per_neuron([int(p.dv) for p in pops])
        vth = per_neuron([p.vth for p in pops])
        # the bias is bias_mant << bias_exp: a 13-bit mantissa and its 3-bit exponent
        bias = per_neuron([np.asarray(p.bias_mant, dtype=np.int64)
                           << np.asarray(p.bias_exp, dtype=np.int64) for p in pops])
        homeo = [p.homeostasis_params() if learn else None for p in pops]
        h_on = per_neuron([h is not None for h in homeo], bool)
        h_vals = [per_neuron([getattr(h, f) if h is not None else 0 for h in homeo])
                  for f in ("eta_q", "target_q", "acc_min", "acc_max")]
        self.homeo_pops = [p.name for p, h in zip(pops, homeo) if h is not None]

        # ---- connections (plastic first: their weights lead W)
        links = [Link(p.name, p.pre, p.post, p.weight_exp, truncate_weights(
            np.asarray(p.weights, dtype=np.int64), as_sign_mode(p.sign_mode),
            p.num_weight_bits), p) for p in plastic]
        for p in fixed.projections:
            if p not in plastic:
                w = quantize_dense_weights(np.asarray(p.weights, dtype=np.int64).T,
                                           p.sign_mode, p.num_weight_bits).T
                links.append(Link(p.name, p.pre, p.post, p.weight_exp, w))
        if self.teacher_used and tc.drive is not None:
            mant, exp, mode = tc.drive
            w = quantize_dense_weights(np.eye(tc.n, dtype=np.int64) * mant, mode).T
            links.append(Link(DRIVE, TEACHER, tc.population, exp, w))
        self.links = links
        sizes_w = [lk.weights.size for lk in links]
        w_off = np.concatenate([[0], np.cumsum(sizes_w)]).astype(np.int64)
        nnz_off = np.concatenate([[0], np.cumsum([lk.weights.shape[0] for lk in links])])
        self.W = np.zeros(int(w_off[-1]), np.int16)
        self.nnz = np.zeros(int(nnz_off[-1]), np.int64)
        lk_tab = np.zeros((len(links), 8), np.int64)
        for i, lk in enumerate(links):
            n_pre, n_post = lk.weights.shape
            if np.abs(lk.weights).max(initial=0) > 1 << WEIGHT_BITS:
                raise BackendError(f"connection '{lk.name}': weights beyond 9 bits")
            if n_pre > MAX_FAN_IN:
                raise BackendError(f"connection '{lk.name}': {n_pre} inputs overflow the "
                                   f"emulator's int32 sums (at most {MAX_FAN_IN})")
            self.W[w_off[i]:w_off[i + 1]] = lk.weights.reshape(-1)
            self.nnz[nnz_off[i]:nnz_off[i + 1]] = np.count_nonzero(lk.weights, axis=1)
            lk_tab[i] = (spk_off[lk.pre], n_pre, off[lk.post], n_post, int(lk.weight_exp),
                         w_off[i], nnz_off[i], -1)
        self.w_off = w_off
        self.n_plastic_w = int(w_off[len(plastic)])

        # ---- plastic connections
        P = len(plastic)
        pl_tab = np.zeros((P, e.PL_COLS), np.int64)
        prods, facts = [], []
        imp_int = np.zeros((P, 5), np.int64)
        imp_frac = np.zeros((P, 5), np.int64)
        decay = np.ones((P, 5))
        live = np.zeros((P, 5), bool)
        masks, rowc = [], []
        n_pos = 2 * self.total + 3
        max_epochs = max([self.total // p.rule.t_epoch + 2 for p in plastic], default=1)
        r_xd, r_yd = np.zeros((P, n_pos)), np.zeros((P, n_pos))
        r_xi, r_yi = np.zeros((P, n_pos), np.int64), np.zeros((P, n_pos), np.int64)
        r_syn = np.zeros((P, max_epochs))
        sz = {"x": 0, "y": 0, "tx": 0, "ty": 0, "xh": 0, "yh": 0, "mask": 0, "prod": 0}
        for q, proj in enumerate(plastic):
            lk_tab[q, e.LK_PL] = q
            plan = proj.rule
            n_pre, n_post = proj.weights.shape
            mode = as_sign_mode(proj.sign_mode)
            w_lo, w_hi = weight_bounds(mode)
            clamp = {SignMode.EXCITATORY: 1, SignMode.INHIBITORY: -1}.get(mode, 0)
            mask = (np.ones((n_pre, n_post), bool) if proj.learn_mask is None
                    else np.asarray(proj.learn_mask, dtype=bool))
            products, factors = _rule_tables(proj)
            rule = plan.learning_rule()
            k = rule.decimate_exponent
            deps = plan.dependencies()
            x_int, x_frac = decompose_impulse(plan.x_impulse)
            y_imp = plan.y_impulse if plan.post == "2F" else (0, 0, 0)
            y_tau = plan.y_tau if plan.post == "2F" else (65535,) * 3
            y_int, y_frac = decompose_impulse(y_imp)
            taus = np.concatenate([check_taus(plan.x_tau), check_taus(y_tau)])
            imp_int[q] = np.concatenate([x_int, y_int])
            imp_frac[q] = np.concatenate([x_frac, y_frac])
            live[q] = taus != 0
            decay[q] = np.exp(-1.0 / np.where(live[q], taus, 1.0))
            n_x = int(sum(1 for i in plan.x_impulse if i))
            n_y = int(sum(1 for i in plan.y_impulse if i)) if plan.post == "2F" else 0
            te = plan.t_epoch
            pl_tab[q] = (q, te, -1 if k is None else int(k),
                         {"2F": 0, "3F": 1, "none": 2}[plan.post], "x0" in deps, "y0" in deps,
                         int(mask.sum()), n_x * n_pre + n_y * n_post, w_lo, w_hi, clamp,
                         int(not mask.all()), int(products[:, pl.P_SEP].all()), sz["prod"],
                         len(products), sz["x"], sz["y"], sz["tx"], sz["ty"], sz["xh"],
                         sz["yh"], sz["mask"], sz["tx"],
                         # traces read at spike times need the whole replayed epoch
                         int((products[:, pl.P_DEP] != pl.DEP_U).any()))
            sz["prod"] += len(products)
            sz["x"] += 2 * n_pre
            sz["y"] += 3 * n_post
            sz["tx"] += n_pre
            sz["ty"] += n_post
            sz["xh"] += (te + 1) * 2 * n_pre
            sz["yh"] += (te + 1) * 3 * n_post
            sz["mask"] += mask.size
            prods.append(products)
            facts.append(factors)
            masks.append(mask.reshape(-1))
            rowc.append(mask.sum(axis=1).astype(np.int64))
            # Lava's random streams: trace streams advance twice a step; the synaptic stream
            # once an epoch (kernels.random_streams). Every position this run can reach.
            streams = RandomStreams(plan.rng_seed)
            r_xd[q] = streams.table("x_decay", n_pos - 1)[0]
            r_xi[q] = streams.table("x_impulse", n_pos - 1)[0]
            r_yd[q] = streams.table("y_decay", n_pos - 1)[0]
            r_yi[q] = streams.table("y_impulse", n_pos - 1)[0]
            n_ep = self.total // te + 2
            r_syn[q, :n_ep] = streams.synaptic_table(n_ep - 1)
        n_f = max([f.shape[1] for f in facts], default=1)
        factors = np.zeros((sz["prod"], n_f, 4), np.int64)
        o = 0
        for f in facts:
            factors[o:o + len(f), :f.shape[1]] = f
            o += len(f)
        products = np.concatenate(prods) if prods else np.zeros((0, 6), np.int64)

        # ---- relays, dopamine, the teacher's third factor
        rl_tab = np.zeros((len(relays), e.R_COLS), np.int64)
        fan, o_fan, o_state = [], 0, 0
        for r, proj in enumerate(relays):
            params = proj.relay.params(proj.relay_fanout)
            f = np.asarray(params.fanout, dtype=np.int64)
            out_pop = fixed.projection(proj.relay.source).post
            rl_tab[r] = (off[proj.post], f.shape[0], off[out_pop], f.shape[1], params.decay,
                         params.impulse, o_fan, *params.gain_ltp, *params.gain_ltd, o_state)
            fan.append(f.reshape(-1))
            o_fan += f.size
            o_state += f.shape[0]
        self.relay_names = [p.name for p in relays]
        dopa = [p for p in plastic if p.dopamine_table is not None]
        self.dopamine_names = [p.name for p in dopa]
        d_tab = np.zeros((len(dopa), 4), np.int64)
        tables, o_tab = [], 0
        lab = np.zeros(n_samples, np.int64) if labels is None else np.asarray(labels, np.int64)
        for d, proj in enumerate(dopa):
            table = np.asarray(proj.dopamine_table, dtype=np.int64)
            if lab.size and (lab.min() < 0 or lab.max() >= table.shape[0]):
                raise SpecError(f"labels span [{lab.min()}, {lab.max()}]; allowed: "
                                f"[0, {table.shape[0] - 1}] (projection '{proj.name}')")
            d_tab[d] = (off[proj.post], table.shape[1], o_tab, table.shape[0])
            tables.append(table.reshape(-1))
            o_tab += table.size
        self.dopamine_tables = {p.name: np.asarray(p.dopamine_table) for p in dopa}
        tt = np.zeros(5, np.int64)
        self.gated = False
        if (learn and self.teacher_used
                and fixed.population(tc.population).third_factor == "teacher"):
            tt[:] = (1, off[tc.population], tc.n, tc.y_value, tc.gate_value)
            self.gated = tc.gate_value > 0

        def flat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.net = e.Net(T, S, bool(fixed.reset), bool(learn), self.n_in, self.n_teach,
                         self.pop_off, du1, dv, bias, lk_tab, tt, rl_tab,
                         flat(fan, np.int64), d_tab, flat(tables, np.int64), lab, h_on,
                         *h_vals, pl_tab, products, factors, imp_int, imp_frac, decay, live,
                         flat(masks, bool), flat(rowc, np.int64), r_xd, r_xi, r_yd, r_yi,
                         r_syn)
        self.vth6 = vth << 6  # the 17-bit threshold MSB-aligned into the 24-bit voltage
        n_sig = max([int(r[e.R_NHID]) for r in rl_tab], default=0)
        self.n_tmp = max([lk.weights.shape[1] for lk in links], default=0)
        self.n_sig = n_sig
        self.state = e.State(
            np.zeros(N, np.int64), np.zeros(N, np.int64), self.vth6.copy(),
            threshold_to_acc(vth) if learn else np.zeros(N, np.int64),
            np.zeros(N, np.int64), np.zeros(N, np.int64), np.zeros(N, np.int64),
            np.zeros(N, np.int64), np.zeros(n_src + N, bool), np.zeros(self.n_tmp, np.int32),
            np.zeros(max([lk.weights.shape[0] for lk in links], default=0), np.int64),
            np.zeros(sz["x"], np.int64), np.zeros(sz["y"], np.int64),
            np.zeros(sz["tx"], np.int64), np.zeros(sz["ty"], np.int64),
            np.zeros(sz["xh"], np.int64), np.zeros(sz["yh"], np.int64), np.zeros(P, bool),
            np.zeros(o_state, np.int64), np.zeros(o_state, np.int64), np.zeros(n_sig, np.int64))
        self._initial = tuple(a.copy() for a in self.state)
        self.counters = e.Counters(np.zeros(len(pops), np.int64),
                                   np.zeros(len(links), np.int64), np.zeros((P, 3), np.int64),
                                   np.zeros(len(relays), np.int64))

    def fresh_state(self) -> e.State:
        """A new state as at the start of a run (for an independent block of samples)."""
        return e.State(*(a.copy() for a in self._initial))

    def fresh_counters(self) -> e.Counters:
        return e.Counters(*(np.zeros_like(a) for a in self.counters))

    def link_weights(self, i: int) -> np.ndarray:
        """Connection ``i``'s current weights, int64 (n_pre, n_post)."""
        shape = self.links[i].weights.shape
        return self.W[self.w_off[i]:self.w_off[i + 1]].reshape(shape).astype(np.int64)

    def thresholds(self) -> dict:
        vth = self.state.vth6 >> 6  # back to the 17-bit mantissa (see vth6)
        return {name: vth[a:b].copy() for name, a, b in
                zip(self.pop_names, self.pop_off[:-1], self.pop_off[1:])}
