"""The emulator's compiled run loop: a whole block of samples, every Lava time step of every
population, connection, learning engine, relay, dopamine source and homeostasis, in one call
(no Python between steps), over the packed network of :mod:`.packed`.

One Lava step t, in the order :func:`spikeport.backends.emulator.reference.replay` specifies:

1. sample start: spike counts zeroed; with ``reset``, u, v, in-flight input, plastic traces
   and spike times, relay traces; relay accumulators always;
2. neurons: each adds what its connections computed at t − 1 and runs the LIF step;
3. third factors (learning): dopamine row at the sample's last step, the teacher's y (and
   gate), the relays (their signal at the last step);
4. connections: this step's presynaptic spikes summed with the weights *before* learning
   (event-driven: only the inputs that spiked add their weight row), then the plastic ones'
   spike phase and, at an epoch's end, learning phase;
5. last step of a sample, learning: homeostasis.

Widths: weights are stored int16 (Loihi weights are 9-bit: [−256, 255]); a connection's sum
is formed in int32, exact because ``n_pre · 256 < 2**31`` (checked when packing); states and
arithmetic int64 (the 24-bit registers' products need more than 32 bits).

:func:`run_sequential` carries one state through samples in order (learning, or a network
without resets). Independent samples (inference with resets) are split into blocks that run
the same function on all cores, each block with a fresh state: the compiled code releases
the GIL (``nogil``), so Python threads run it in parallel (see :mod:`.network`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spikeport.backends.emulator.compiled import (
    ACT_SHIFT,
    DECAY_SHIFT,
    DECAY_UNITY,
    STATE_HALF,
    V_MAX,
    homeostasis,
    relay_signal,
    relay_step,
    shift_exp,
    wrap32,
)
from spikeport.backends.emulator.jit import jit
from spikeport.backends.emulator.plasticity import plastic_step, settle

# link table columns: presynaptic offset in the spike vector, n_pre, postsynaptic neuron
# offset, n_post, weight exponent, weight offset, nnz offset, plastic index (−1: static)
LK_PRE, LK_NPRE, LK_POST, LK_NPOST, LK_EXP, LK_W, LK_NNZ, LK_PL = range(8)
# plastic table columns
(PL_LINK, PL_TEPOCH, PL_KDEC, PL_POSTMODE, PL_USEX0, PL_USEY0, PL_NPLASTIC, PL_TRACES, PL_WLO,
 PL_WHI, PL_CLAMP, PL_HASMASK, PL_SEP, PL_PROD, PL_NPROD, PL_X, PL_Y, PL_TX, PL_TY, PL_XH, PL_YH,
 PL_MASK, PL_ROWC, PL_FULL) = range(24)
PL_COLS = 24
# relay table columns
(R_HID, R_NHID, R_OUT, R_NOUT, R_DECAY, R_IMP, R_FAN, R_LTPM, R_LTPS, R_LTDM, R_LTDS,
 R_STATE) = range(12)
R_COLS = 12
# dopamine table columns: postsynaptic neuron offset, n_post, table offset, classes
D_POST, D_N, D_TAB, D_NCLS = range(4)
# the teacher's third factor: active, neuron offset, n, y value, gate value
TT_ON, TT_OFF, TT_N, TT_Y, TT_GATE = range(5)



class Net(NamedTuple):
    """The static part of a packed network (see :mod:`.packed` for how it is built)."""

    T: int
    S: int
    reset: bool
    learn: bool
    n_in: int
    n_teach: int
    pop_off: np.ndarray   # (n_pops + 1,) neuron offsets
    du1: np.ndarray       # (N,) du + 1
    dv: np.ndarray
    bias: np.ndarray      # bias_mant << bias_exp
    lk: np.ndarray        # (L, 8)
    tt: np.ndarray        # (5,)
    rl: np.ndarray        # (R, 12)
    fanout: np.ndarray    # flat int64
    dopa: np.ndarray      # (D, 4)
    table: np.ndarray     # flat int64
    labels: np.ndarray    # (n_samples,)
    h_on: np.ndarray      # (N,) bool: homeostasis
    h_eta: np.ndarray
    h_target: np.ndarray
    h_min: np.ndarray
    h_max: np.ndarray
    pl: np.ndarray        # (P, 24)
    products: np.ndarray  # (n_products, 6)
    factors: np.ndarray   # (n_products, F, 4)
    imp_int: np.ndarray   # (P, 5): x1, x2, y1, y2, y3
    imp_frac: np.ndarray
    decay: np.ndarray     # (P, 5) float: exp(−1/τ)
    live: np.ndarray      # (P, 5) bool: τ ≠ 0
    mask: np.ndarray      # flat bool
    row_count: np.ndarray  # flat int64
    r_xd: np.ndarray      # (P, positions) Lava's random streams
    r_xi: np.ndarray
    r_yd: np.ndarray
    r_yi: np.ndarray
    r_syn: np.ndarray     # (P, epochs)


class State(NamedTuple):
    """The state a sequence of samples carries (weights are passed beside it)."""

    u: np.ndarray
    v: np.ndarray
    vth6: np.ndarray      # thresholds << 6 (MSB-aligned into v)
    h_acc: np.ndarray
    count: np.ndarray
    third: np.ndarray
    gate: np.ndarray
    abuf: np.ndarray      # input in flight (computed at t − 1, delivered at t)
    spk: np.ndarray       # (n_in + n_teach + N,) this step's spikes
    tmp: np.ndarray       # int32 scratch for one connection's sum
    act: np.ndarray       # scratch: indices of one connection's spiking inputs
    x: np.ndarray         # plastic traces and spike times, flat
    y: np.ndarray
    tx: np.ndarray
    ty: np.ndarray
    xh: np.ndarray
    yh: np.ndarray
    settled: np.ndarray   # (P,) bool
    r_trace: np.ndarray
    r_acc: np.ndarray
    sig: np.ndarray


class Counters(NamedTuple):
    pop_spikes: np.ndarray  # (n_pops,)
    syn_ops: np.ndarray     # (L,)
    pl_ops: np.ndarray      # (P, 3): syn_updates, trace_updates, epochs
    relay_sent: np.ndarray  # (R,)


@jit
def _reset_sample(net, st):
    """Sample start (see module doc, 1)."""
    st.count[:] = 0
    if net.reset:
        st.u[:] = 0
        st.v[:] = 0
        st.abuf[:] = 0
        if net.learn:
            st.x[:] = 0
            st.y[:] = 0
            st.tx[:] = 0
            st.ty[:] = 0
    for r in range(net.rl.shape[0]):
        o, n = net.rl[r, R_STATE], net.rl[r, R_NHID]
        st.r_acc[o:o + n] = 0
        if net.reset:
            st.r_trace[o:o + n] = 0


@jit
def _third_factors(net, st, ctr, teach, sample, phase):
    """Dopamine, teacher and relays (see module doc, 3); learning only."""
    T = net.T
    last = phase == T - 1
    in_sample = phase < T
    for d in range(net.dopa.shape[0]):
        o, n = net.dopa[d, D_POST], net.dopa[d, D_N]
        if last:
            row = net.dopa[d, D_TAB] + net.labels[sample] * n
            st.third[o:o + n] = net.table[row:row + n]
        elif phase == 0 or phase == T:
            st.third[o:o + n] = 0
    t_src = net.n_in  # the teacher's spikes in the spike vector (silent in a rest gap)
    if net.tt[TT_ON]:
        o, n = net.tt[TT_OFF], net.tt[TT_N]
        for k in range(n):
            st.third[o + k] = net.tt[TT_Y] if st.spk[t_src + k] else 0
        if net.tt[TT_GATE] > 0:  # the sample's taught neurons, every step of the sample
            if phase == 0 or phase == T:  # (constant over the sample's steps)
                for k in range(n):
                    taught = False
                    if in_sample:
                        for q in range(T):
                            if teach[sample, q, k]:
                                taught = True
                                break
                    st.gate[o + k] = net.tt[TT_GATE] if taught else 0
    n_src = net.n_in + net.n_teach
    for r in range(net.rl.shape[0]):
        h, nh = net.rl[r, R_HID], net.rl[r, R_NHID]
        oo, no = net.rl[r, R_OUT], net.rl[r, R_NOUT]
        s0 = net.rl[r, R_STATE]
        fan = net.fanout[net.rl[r, R_FAN]:net.rl[r, R_FAN] + nh * no].reshape((nh, no))
        trace = st.r_trace[s0:s0 + nh]
        acc = st.r_acc[s0:s0 + nh]
        hidden = st.spk[n_src + h:n_src + h + nh]
        if in_sample:
            relay_step(trace, acc, hidden, st.spk[n_src + oo:n_src + oo + no],
                       st.spk[t_src:t_src + no], fan, net.rl[r, R_DECAY], net.rl[r, R_IMP])
        else:  # rest gap: traces run on, nothing accumulates
            silent = np.zeros(no, np.bool_)
            relay_step(trace, acc, hidden, silent, silent, fan, net.rl[r, R_DECAY],
                       net.rl[r, R_IMP])
        if last:
            sig = st.sig[:nh]
            ctr.relay_sent[r] += relay_signal(acc, net.rl[r, R_LTPM], net.rl[r, R_LTPS],
                                              net.rl[r, R_LTDM], net.rl[r, R_LTDS], sig)
            st.third[h:h + nh] = sig
        elif phase == 0 or phase == T:
            st.third[h:h + nh] = 0


@jit
def _lif_block(a, u, v, du1, dv, vth6, bias, spk):
    """compiled.lif_neuron over a block of neurons, written without branches so that LLVM
    vectorises it; ``a`` (the input in flight) is consumed. Returns the spike count."""
    count = 0
    for j in range(a.shape[0]):
        # u: decay toward zero (12 fraction bits dropped from the magnitude), then the input
        # MSB-aligned into the 24-bit current (<< 6), in int32 as Lava computes it
        pu = u[j] * (DECAY_UNITY - du1[j])
        mu = (pu if pu >= 0 else -pu) >> DECAY_SHIFT
        x = wrap32((mu if pu >= 0 else -mu) + wrap32(a[j] << ACT_SHIFT))
        x = x - 2 * STATE_HALF if x > STATE_HALF else x
        x = x + 2 * STATE_HALF if x <= -STATE_HALF else x
        a[j] = 0
        pv = v[j] * (DECAY_UNITY - dv[j])
        mv = (pv if pv >= 0 else -pv) >> DECAY_SHIFT
        y = (mv if pv >= 0 else -mv) + x + bias[j]
        y = V_MAX if y > V_MAX else y
        y = -V_MAX if y < -V_MAX else y
        s = y > vth6[j]
        u[j] = x
        v[j] = 0 if s else y
        spk[j] = s
        count += 1 if s else 0
    return count


@jit
def _neurons(net, st, ctr, out, sample, phase, in_sample):
    """Every population's LIF step on the input in flight (see module doc, 2)."""
    n_src = net.n_in + net.n_teach
    for p in range(net.pop_off.shape[0] - 1):
        a, b = net.pop_off[p], net.pop_off[p + 1]
        spikes = _lif_block(st.abuf[a:b], st.u[a:b], st.v[a:b], net.du1[a:b], net.dv[a:b],
                            st.vth6[a:b], net.bias[a:b], st.spk[n_src + a:n_src + b])
        ctr.pop_spikes[p] += spikes
        if spikes and in_sample:
            for j in range(a, b):
                if st.spk[n_src + j]:
                    out[sample, phase, j] = True
                    st.count[j] += 1


@jit
def _add_row(acc, row):
    """``acc[:n] += row`` (int16 into int32). A function of its own: LLVM then knows both
    are plain contiguous arrays and vectorises the loop (4–5× faster, measured)."""
    for j in range(row.shape[0]):
        acc[j] += row[j]


@jit
def _connection(net, st, W, nnz, l):
    """This step's presynaptic spikes of connection ``l`` summed with its weights into the
    input its neurons receive next step; returns the synaptic ops (Σ nonzero weights of the
    inputs that spiked) and how many spiked (their indices in ``st.act``). Only the rows of
    spiking inputs are read (event-driven); int16
    weights summed in int32 by direct indexing (a loop LLVM vectorises)."""
    pre, n_pre = net.lk[l, LK_PRE], net.lk[l, LK_NPRE]
    post, n_post = net.lk[l, LK_POST], net.lk[l, LK_NPOST]
    w0, z0 = net.lk[l, LK_W], net.lk[l, LK_NNZ]
    spk, tmp, abuf, act = st.spk, st.tmp, st.abuf, st.act
    for j in range(n_post):
        tmp[j] = 0
    ops = 0
    n_act = 0
    for i in range(n_pre):
        if spk[pre + i]:
            act[n_act] = i  # (the spiking inputs, for the learning engine's spike phase)
            n_act += 1
            ops += nnz[z0 + i]
            base = w0 + i * n_post
            _add_row(tmp, W[base:base + n_post])
    if n_act:  # (no input spiked: the sum is 0 and adds nothing)
        _deliver(abuf[post:post + n_post], tmp[:n_post], net.lk[l, LK_EXP])
    return ops, n_act


@jit
def _deliver(abuf, tmp, exp):
    """compiled.shift_exp of a connection's sum added to the input in flight."""
    for j in range(tmp.shape[0]):
        abuf[j] += shift_exp(np.int64(tmp[j]), exp)


@jit
def _learn(net, st, ctr, W, nnz, l, t, n_act):
    """Plastic connection ``l`` at global step ``t``: the first epoch's settling, the spike
    phase and, at an epoch's end, the learning phase (plasticity.plastic_step)."""
    q = net.lk[l, LK_PL]
    c = net.pl[q]
    n_src = net.n_in + net.n_teach
    n_pre = net.lk[l, LK_NPRE]
    post, n_post = net.lk[l, LK_POST], net.lk[l, LK_NPOST]
    w0, z0 = net.lk[l, LK_W], net.lk[l, LK_NNZ]
    w = W[w0:w0 + n_pre * n_post].reshape((n_pre, n_post))
    nz = nnz[z0:z0 + n_pre]
    mask = net.mask[c[PL_MASK]:c[PL_MASK] + n_pre * n_post].reshape((n_pre, n_post))
    t_epoch = c[PL_TEPOCH]
    if not st.settled[q] and t % t_epoch == 0:
        settle(w, mask, c[PL_CLAMP], c[PL_WLO], c[PL_WHI], nz)
        st.settled[q] = True
    x = st.x[c[PL_X]:c[PL_X] + 2 * n_pre].reshape((2, n_pre))
    y = st.y[c[PL_Y]:c[PL_Y] + 3 * n_post].reshape((3, n_post))
    tx = st.tx[c[PL_TX]:c[PL_TX] + n_pre]
    ty = st.ty[c[PL_TY]:c[PL_TY] + n_post]
    xh = st.xh[c[PL_XH]:c[PL_XH] + (t_epoch + 1) * 2 * n_pre].reshape((t_epoch + 1, 2, n_pre))
    yh = st.yh[c[PL_YH]:c[PL_YH] + (t_epoch + 1) * 3 * n_post].reshape((t_epoch + 1, 3,
                                                                           n_post))
    prods = net.products[c[PL_PROD]:c[PL_PROD] + c[PL_NPROD]]
    facts = net.factors[c[PL_PROD]:c[PL_PROD] + c[PL_NPROD]]
    plastic_step(w, mask, c[PL_HASMASK] != 0, net.row_count[c[PL_ROWC]:c[PL_ROWC] + n_pre],
                 x, tx, y, ty, xh, yh, st.act[:n_act],
                 st.spk[n_src + post:n_src + post + n_post], st.third[post:post + n_post],
                 st.gate[post:post + n_post], t, t_epoch, c[PL_KDEC], net.imp_int[q, :2],
                 net.imp_frac[q, :2], net.imp_int[q, 2:], net.imp_frac[q, 2:],
                 net.decay[q, :2], net.live[q, :2], net.decay[q, 2:], net.live[q, 2:],
                 net.r_xd[q], net.r_xi[q], net.r_yd[q], net.r_yi[q], net.r_syn[q], prods, facts,
                 c[PL_SEP] != 0, c[PL_POSTMODE], c[PL_USEX0] != 0, c[PL_USEY0] != 0,
                 c[PL_NPLASTIC], c[PL_TRACES], c[PL_WLO], c[PL_WHI], c[PL_CLAMP], nz,
                 ctr.pl_ops[q], c[PL_FULL] != 0)


@jit
def run_sample(net, inp, teach, W, nnz, st, ctr, out, u_rec, v_rec, w_rec, sample, t0):
    """All steps of one sample; ``t0``: global steps run before it (Lava's time step and
    the random streams' position follow from it). ``u_rec``/``v_rec`` (steps, N) and
    ``w_rec`` (steps, n_weights) record every step when they have rows."""
    T, S = net.T, net.S
    n_in, n_teach = net.n_in, net.n_teach
    for phase in range(S):
        t = t0 + phase + 1
        in_sample = phase < T
        if phase == 0:
            _reset_sample(net, st)
        if in_sample:
            st.spk[:n_in] = inp[sample, phase]
            st.spk[n_in:n_in + n_teach] = teach[sample, phase]
        else:
            st.spk[:n_in + n_teach] = False
        _neurons(net, st, ctr, out, sample, phase, in_sample)
        if u_rec.shape[0] > 0:
            u_rec[t - 1] = st.u
            v_rec[t - 1] = st.v
        if net.learn:
            _third_factors(net, st, ctr, teach, sample, phase)
        for l in range(net.lk.shape[0]):
            ops, n_act = _connection(net, st, W, nnz, l)
            ctr.syn_ops[l] += ops
            if net.learn and net.lk[l, LK_PL] >= 0:
                _learn(net, st, ctr, W, nnz, l, t, n_act)
        if w_rec.shape[0] > 0:
            w_rec[t - 1] = W[:w_rec.shape[1]]
        if net.learn and phase == T - 1:
            for j in range(net.h_on.shape[0]):
                if net.h_on[j]:
                    st.h_acc[j], vth = homeostasis(st.h_acc[j], st.count[j], net.h_eta[j],
                                                   net.h_target[j], net.h_min[j], net.h_max[j])
                    st.vth6[j] = vth << 6  # the 17-bit threshold MSB-aligned into v


@jit
def run_sequential(net, inp, teach, W, nnz, st, ctr, out, u_rec, v_rec, w_rec, hist, lo, hi):
    """Samples ``lo..hi − 1`` in order, one state carried through (learning, or no resets).
    ``hist`` (n_samples, n_plastic_weights): the plastic weights at each sample's end (when
    it has rows)."""
    for sample in range(lo, hi):
        run_sample(net, inp, teach, W, nnz, st, ctr, out, u_rec, v_rec, w_rec, sample,
                   sample * net.S)
        if hist.shape[0] > 0:
            hist[sample] = W[:hist.shape[1]]
