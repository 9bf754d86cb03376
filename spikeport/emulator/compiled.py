"""Compiled (numba) loops of the emulator: the integer arithmetic of :mod:`spikeport.kernels`,
neuron by neuron and synapse by synapse, so that a step costs microseconds instead of the tens
of numpy calls (each ~1 µs plus allocation) the array kernels need.

Every function here is a transcription of a kernel and is checked against it bit for bit by
the conformance tests (``tests/test_emulator.py``: emulator ≡ kernel replay ≡ spikeport's Lava
graph ≡ stock Lava where it exists). The hardware reasons for each shift and clip are in the
kernel modules; the comments below name the kernel each line follows.

Layouts: weights ``(n_pre, n_post)`` (a spiking input's row is contiguous, so summing the rows
of the inputs that spiked touches only those); states ``(B, n)`` int64.
"""

from __future__ import annotations

import numba
import numpy as np

# ---------------------------------------------------------------- integer helpers (lif.py)

I32_HALF = 1 << 31
STATE_HALF = 1 << 23          # u wraps, v saturates at 24 bits (kernels.lif)
V_MAX = STATE_HALF - 1
TRACE_MAX = 127               # 7-bit learning traces (kernels.traces)
ACC_MAX = (1 << 15) - 1       # 16-bit learning accumulator (kernels.learning)
ACC_MIN = -(1 << 15) - 1
VAR_SHIFT = 7                 # accumulator fraction bits (kernels.learning.VAR_SHIFT)
RELAY_TRACE_MAX = (1 << 23) - 1
RELAY_ACC_MAX = (1 << 31) - 1
Y_MAX = 127

_jit = numba.njit(cache=True, nogil=True)


@_jit
def wrap32(x):
    """Two's-complement wrap into int32 (Lava's int32 buffers)."""
    return ((x + I32_HALF) & 0xFFFFFFFF) - I32_HALF


@_jit
def decay_tz(x, decay):
    """kernels.lif.decay_toward_zero: sign(x)·((|x|·(4096 − decay)) >> 12)."""
    prod = x * (4096 - decay)
    if prod < 0:
        return -((-prod) >> 12)
    return prod >> 12


@_jit
def lif_neuron(a_in, u, v, du1, dv, vth6, bias):
    """kernels.lif.lif_step for one neuron; ``du1`` = du + 1 (Loihi's offset), ``vth6`` =
    vth << 6. Returns (spike, u, v)."""
    u = wrap32(decay_tz(u, du1) + wrap32(a_in << 6))
    if u > STATE_HALF:                       # one conditional wrap, as Lava does
        u -= 2 * STATE_HALF
    elif u <= -STATE_HALF:
        u += 2 * STATE_HALF
    v = decay_tz(v, dv) + u + bias
    if v > V_MAX:
        v = V_MAX
    elif v < -V_MAX:
        v = -V_MAX
    if v > vth6:
        return True, u, 0
    return False, u, v


@_jit
def lif_step_summed(buffers, u, v, du1, dv, vth6, bias, spikes, out, sample, phase, count,
                    record):
    """One step of a population (batch 1) whose input is the sum of its connections' in-flight
    buffers ``(n_links, 1, n)``; with ``record`` the spikes go to ``out[sample, phase]`` and
    are added to the sample's ``count``. Returns the spike count."""
    total = 0
    for j in range(u.shape[1]):
        a_in = 0
        for k in range(buffers.shape[0]):
            a_in += buffers[k, 0, j]
        s, u[0, j], v[0, j] = lif_neuron(a_in, u[0, j], v[0, j], du1, dv, vth6[j], bias[j])
        spikes[0, j] = s
        if s:
            total += 1
            if record:
                out[sample, phase, j] = True
                count[j] += 1
    return total


@_jit
def lif_run(a_in, u, v, du1, dv, vth6, bias, spikes):
    """A population over a chunk of steps: ``a_in``/``spikes`` (B, L, n), state (B, n) carried
    in place across the chunk."""
    for b in range(a_in.shape[0]):
        for t in range(a_in.shape[1]):
            for j in range(a_in.shape[2]):
                s, u[b, j], v[b, j] = lif_neuron(a_in[b, t, j], u[b, j], v[b, j], du1, dv,
                                                 vth6[j], bias[j])
                spikes[b, t, j] = s


# ---------------------------------------------------------------- dense synapses (dense.py)

@_jit
def shift_exp(total, weight_exp):
    """kernels.dense.dense_accumulate: the shared exponent applied to the sum (floor), int32."""
    if weight_exp >= 0:
        return wrap32(total << weight_exp)
    return wrap32(total >> (-weight_exp))


@_jit
def dense_step1(weights, s_pre, weight_exp, out, nnz):
    """``out = (Σ_{i spiking} weights[i]) << weight_exp`` for one step: ``s_pre`` (n_pre,)
    bool, ``out`` (1, n_post); ``nnz`` (n_pre,) nonzero weights per input. Returns the synaptic
    ops (Σ nnz of the inputs that spiked: NeuroBench effective ACs)."""
    n_post = weights.shape[1]
    ops = 0
    for j in range(n_post):
        out[0, j] = 0
    for i in range(s_pre.shape[0]):
        if s_pre[i]:
            ops += nnz[i]
            for j in range(n_post):
                out[0, j] += weights[i, j]
    for j in range(n_post):
        out[0, j] = shift_exp(out[0, j], weight_exp)
    return ops


@_jit
def dense_run(weights, s_pre, weight_exp, a_in):
    """Input a population receives over a chunk from one projection, with Dense's one-step
    delay: ``a_in[:, t+1] += W·s_pre[:, t]``. ``s_pre`` (B, L, n_pre), ``a_in`` (B, L, n_post)
    accumulated into (its first step gets nothing: a sequence starts with an empty buffer).
    Returns (the last step's sum, still in flight, (B, n_post); synaptic ops)."""
    B, L, n_pre = s_pre.shape
    n_post = weights.shape[1]
    nnz = np.zeros(n_pre, np.int64)
    for i in range(n_pre):
        for j in range(n_post):
            if weights[i, j] != 0:
                nnz[i] += 1
    buf = np.zeros((B, n_post), np.int64)
    tmp = np.zeros(n_post, np.int64)
    ops = 0
    for b in range(B):
        for t in range(L):
            for j in range(n_post):
                tmp[j] = 0
            for i in range(n_pre):
                if s_pre[b, t, i]:
                    ops += nnz[i]
                    for j in range(n_post):
                        tmp[j] += weights[i, j]
            if t + 1 < L:
                for j in range(n_post):
                    a_in[b, t + 1, j] += shift_exp(tmp[j], weight_exp)
            else:
                for j in range(n_post):
                    buf[b, j] = shift_exp(tmp[j], weight_exp)
    return buf, ops


@_jit
def count_nonzero_rows(weights, nnz):
    for i in range(weights.shape[0]):
        nnz[i] = _row_nonzero(weights, i)


# ---------------------------------------------------------------- learning (traces/engine)

@_jit
def add_impulse(value, imp_int, imp_frac, rand):
    """kernels.traces.add_impulse: integer part + (rand < 8-bit fraction), clip to 7 bits."""
    r = value + imp_int + (1 if rand < imp_frac else 0)
    if r < 0:
        return 0
    if r > TRACE_MAX:
        return TRACE_MAX
    return r


@_jit
def spike_phase(x, tx, y, ty, s_pre, s_post, third, gate, within, x_int, x_frac, y_int,
                y_frac, y_rand, post_mode):
    """kernels.engine.LearningEngine.spike_phase for one replica (batch 1).

    ``x`` (2, n_pre), ``y`` (3, n_post), ``tx``/``ty`` spike times within the epoch; a repeat
    pre spike gets its x impulses now rounded with random 0, a repeat post spike its y impulses
    rounded with ``y_rand``; ``post_mode`` 0 = two-factor (bAP traces), 1 = three-factor (y
    overwritten by ``(0, y2, y3)``, the 7-bit positive and negative parts of the signed
    ``third`` factor, ``gate`` added to y3: kernels.relay.split_third_factor), 2 = none."""
    for i in range(s_pre.shape[0]):
        if s_pre[i]:
            if tx[i] > 0:
                for k in range(2):
                    x[k, i] = add_impulse(x[k, i], x_int[k], x_frac[k], 0)
            tx[i] = within
    if post_mode == 2:
        return
    for j in range(s_post.shape[0]):
        if s_post[j]:
            if ty[j] > 0:
                for k in range(3):
                    y[k, j] = add_impulse(y[k, j], y_int[k], y_frac[k], y_rand)
            ty[j] = within
    if post_mode == 1:
        for j in range(y.shape[1]):
            v = third[j]
            y[0, j] = 0
            y[1, j] = min(max(v, 0), Y_MAX)
            y[2, j] = min(min(max(-v, 0), Y_MAX) + gate[j], Y_MAX)


@_jit
def replay_traces(traces, times, t_epoch, factor, live, imp_int, imp_frac, r_decay, r_imp,
                  history):
    """kernels.traces.replay_epoch for one replica: ``history`` (t_epoch + 1, K, N) filled."""
    K, N = traces.shape
    for k in range(K):
        for n in range(N):
            history[0, k, n] = traces[k, n]
    for t in range(1, t_epoch + 1):
        for k in range(K):
            for n in range(N):
                if live[k]:
                    scaled = factor[k] * history[t - 1, k, n]
                    fl = np.floor(scaled)
                    val = np.int64(fl) + (1 if r_decay < scaled - fl else 0)
                else:
                    val = 0
                if times[n] == t:
                    val = add_impulse(val, imp_int[k], imp_frac[k], r_imp)
                history[t, k, n] = val


# product table columns (see spikeport.emulator.network._Plastic): dependency, Lava-normalised
# mantissa and exponent, right shift, number of factors, separable (value = A[i]·B[j], no int32
# wrap possible); factor table: code, constant, sgn, side (0 pre, 1 post, 2 both)
P_DEP, P_MANT, P_EXP, P_SHIFT, P_NF, P_SEP = 0, 1, 2, 3, 4, 5
SIDE_PRE, SIDE_POST, SIDE_BOTH = 0, 1, 2
DEP_X0, DEP_Y0, DEP_U = 0, 1, 2
# factor codes: 0 x0, 1 y0, 2 x1, 3 x2, 4 y1, 5 y2, 6 y3, 7 w, 8 d, 9 t
F_X0, F_Y0, F_X1, F_X2, F_Y1, F_Y2, F_Y3, F_W = 0, 1, 2, 3, 4, 5, 6, 7
FACTOR_CODES = {"x0": 0, "y0": 1, "x1": 2, "x2": 3, "y1": 4, "y2": 5, "y3": 6, "w": 7, "d": 8,
                "t": 9}
FACTOR_BITS = (1, 1, 7, 7, 7, 7, 7, 9, 9, 9)


@_jit
def _factor(code, const, sgn, dep, i, j, tx, ty, xh, yh, w_ij):
    """Value of one factor for synapse (pre i, post j), traces read at the dependency's time
    (kernels.traces.sample_pre_trace / sample_post_trace), clipped to its width."""
    if code == F_X0:
        raw = 1 if tx[i] > 0 else 0
    elif code == F_Y0:
        raw = 1 if ty[j] > 0 else 0
    elif code <= F_X2:
        k = code - F_X1
        if dep == DEP_X0:
            raw = xh[tx[i], k, i]
        elif dep == DEP_Y0:
            raw = xh[ty[j], k, i]
        else:
            raw = xh[xh.shape[0] - 1, k, i]
    elif code <= F_Y3:
        k = code - F_Y1
        if dep == DEP_Y0:
            raw = yh[ty[j], k, j]
        elif dep == DEP_X0:
            raw = yh[tx[i], k, j]
        else:
            raw = yh[yh.shape[0] - 1, k, j]
    else:
        raw = w_ij  # only w is supported by spikeport's plans (d, t are refused at encoding)
    raw += const
    if sgn:
        raw = 1 if raw > 0 else (-1 if raw < 0 else 0)
    bits = 1 if code <= F_Y0 else (7 if code <= F_Y3 else 9)
    lo = -(1 << bits)
    hi = (1 << bits) - 1
    if raw < lo:
        return lo
    if raw > hi:
        return hi
    return raw


@_jit
def _row_filter(products, factors, tx, xh, u_on, pre_ok):
    """Per product, which pre rows can give a nonzero product: the dependency and every trace
    factor read on the pre side only must be nonzero. Conservative (a factor with a constant
    or a read at the other side's time never filters)."""
    last = xh.shape[0] - 1
    for p in range(products.shape[0]):
        dep = products[p, P_DEP]
        for i in range(pre_ok.shape[1]):
            ok = not ((dep == DEP_X0 and tx[i] == 0) or (dep == DEP_U and u_on == 0))
            for f in range(products[p, P_NF]):
                code, const = factors[p, f, 0], factors[p, f, 1]
                if ok and const == 0 and (code == F_X1 or code == F_X2) and dep != DEP_Y0:
                    t = tx[i] if dep == DEP_X0 else last
                    if xh[t, code - F_X1, i] == 0:
                        ok = False
            pre_ok[p, i] = ok


@_jit
def _col_filter(products, factors, ty, yh, u_on, post_ok):
    """:func:`_row_filter` for post columns."""
    last = yh.shape[0] - 1
    for p in range(products.shape[0]):
        dep = products[p, P_DEP]
        for j in range(post_ok.shape[1]):
            ok = not ((dep == DEP_Y0 and ty[j] == 0) or (dep == DEP_U and u_on == 0))
            for f in range(products[p, P_NF]):
                code, const = factors[p, f, 0], factors[p, f, 1]
                if ok and const == 0 and F_Y1 <= code <= F_Y3 and dep != DEP_X0:
                    t = ty[j] if dep == DEP_Y0 else last
                    if yh[t, code - F_Y1, j] == 0:
                        ok = False
            post_ok[p, j] = ok


@_jit
def _side_values(products, factors, tx, ty, xh, yh, u_on, A, B):
    """For separable products: ``A[p, i]`` = dependency × pre-side factors of pre neuron i,
    ``B[p, j]`` = post-side factors of post neuron j (each factor clipped to its width as in
    :func:`_factor`), so that the product's raw value is ``A[p, i] · B[p, j]``."""
    for p in range(products.shape[0]):
        if not products[p, P_SEP]:
            continue
        dep = products[p, P_DEP]
        for i in range(A.shape[1]):
            if dep == DEP_X0:
                a = 1 if tx[i] > 0 else 0
            elif dep == DEP_U:
                a = u_on
            else:
                a = 1
            for f in range(products[p, P_NF]):
                if a != 0 and factors[p, f, 3] == SIDE_PRE:
                    a *= _factor(factors[p, f, 0], factors[p, f, 1], factors[p, f, 2], dep, i,
                                 0, tx, ty, xh, yh, 0)
            A[p, i] = a
        for j in range(B.shape[1]):
            b = 1 if dep != DEP_Y0 or ty[j] > 0 else 0
            for f in range(products[p, P_NF]):
                if b != 0 and factors[p, f, 3] == SIDE_POST:
                    b *= _factor(factors[p, f, 0], factors[p, f, 1], factors[p, f, 2], dep, 0,
                                 j, tx, ty, xh, yh, 0)
            B[p, j] = b


@_jit
def _saturate(acc):
    """The learning accumulator's saturation (kernels.learning: Lava's asymmetric bound)."""
    if acc > ACC_MAX:
        return ACC_MAX
    if acc < ACC_MIN:
        return ACC_MIN
    return acc


@_jit
def _rounded(acc, r_syn, clamp, w_lo, w_hi):
    """kernels.learning.update_synaptic_variable's end: sign-mode clamp of the accumulator
    (``clamp`` 1: at 0 from below, −1: from above), stochastic rounding with the epoch's one
    random ``r_syn``, clip to the weight range."""
    if clamp == 1 and acc < 0:
        acc = 0
    elif clamp == -1 and acc > 0:
        acc = 0
    new = (acc >> VAR_SHIFT) + (1 if r_syn < (acc & 127) / 128.0 else 0)
    if new < w_lo:
        return w_lo
    if new > w_hi:
        return w_hi
    return new


@_jit
def _row_nonzero(w, i):
    c = 0
    for j in range(w.shape[1]):
        if w[i, j] != 0:
            c += 1
    return c


@_jit
def _scaled_product(cur, products, p):
    """mantissa, Lava's right shift (floor, not undone) and the left shift into the
    accumulator's 7 fraction bits, saturated (kernels.learning.evaluate_products)."""
    cur = wrap32(cur * products[p, P_MANT])
    cur = cur >> products[p, P_SHIFT]
    cur = wrap32(cur << (products[p, P_EXP] + VAR_SHIFT))
    if cur > ACC_MAX:
        return ACC_MAX
    if cur < ACC_MIN:
        return ACC_MIN
    return cur


@_jit
def epoch_update(w, mask, has_mask, products, factors, tx, ty, xh, yh, u_on, r_syn, w_lo, w_hi,
                 clamp, nnz):
    """kernels.engine.LearningEngine.epoch_end's synaptic update of ``w`` (n_pre, n_post) in
    place: accumulate (w << 7) + products, sign-mode clamp (``clamp`` 1: at 0 from below,
    −1: from above, 0: none), stochastic rounding with the epoch's one random ``r_syn``, clip
    to [w_lo, w_hi]; synapses outside ``mask`` keep their weight. Synapses whose products are
    all zero keep their weight too (exactly what the rounding gives for an untouched in-range
    weight; the caller settles out-of-range initial weights once). Updates ``nnz`` for the
    rows it changed. Separable products are formed as ``A[i]·B[j]`` (identical integers: their
    widths rule out int32 wrap), the others factor by factor."""
    n_p = products.shape[0]
    post_ok = np.zeros((n_p, w.shape[1]), np.bool_)
    _col_filter(products, factors, ty, yh, u_on, post_ok)
    cols = np.empty(w.shape[1], np.int64)
    n_cols = 0
    for j in range(w.shape[1]):
        for p in range(n_p):
            if post_ok[p, j]:
                cols[n_cols] = j
                n_cols += 1
                break
    if n_cols == 0:
        return
    pre_ok = np.zeros((n_p, w.shape[0]), np.bool_)
    _row_filter(products, factors, tx, xh, u_on, pre_ok)
    A = np.zeros((n_p, w.shape[0]), np.int64)
    B = np.zeros((n_p, w.shape[1]), np.int64)
    _side_values(products, factors, tx, ty, xh, yh, u_on, A, B)
    for i in range(w.shape[0]):
        row_any = False
        for p in range(n_p):
            if pre_ok[p, i] and (not products[p, P_SEP] or A[p, i] != 0):
                row_any = True
        if not row_any:
            continue
        changed = False
        for jj in range(n_cols):
            j = cols[jj]
            if has_mask and not mask[i, j]:
                continue
            old = w[i, j]
            acc = old << VAR_SHIFT
            live = False
            for p in range(n_p):
                if not (pre_ok[p, i] and post_ok[p, j]):
                    continue
                if products[p, P_SEP]:
                    cur = A[p, i] * B[p, j]
                    if cur == 0:
                        continue
                else:
                    dep = products[p, P_DEP]
                    if dep == DEP_X0:
                        cur = 1 if tx[i] > 0 else 0
                    elif dep == DEP_Y0:
                        cur = 1 if ty[j] > 0 else 0
                    else:
                        cur = u_on
                    if cur == 0:
                        continue
                    for f in range(products[p, P_NF]):
                        cur = wrap32(cur * _factor(factors[p, f, 0], factors[p, f, 1],
                                                   factors[p, f, 2], dep, i, j, tx, ty, xh, yh,
                                                   old))
                live = True
                acc = _saturate(acc + _scaled_product(cur, products, p))
            if not live:
                continue
            new = _rounded(acc, r_syn, clamp, w_lo, w_hi)
            if new != old:
                w[i, j] = new
                changed = True
        if changed:
            nnz[i] = _row_nonzero(w, i)


@_jit
def epoch_update_separable(w, mask, has_mask, products, factors, tx, ty, xh, yh, u_on, r_syn,
                           w_lo, w_hi, clamp, nnz):
    """:func:`epoch_update` when every product is separable: only pre rows with some
    ``A[p, i] ≠ 0`` and post columns with some ``B[p, j] ≠ 0`` are visited (the same
    integers, far fewer synapses: SBP's once-per-sample update of a large input layer touches
    the inputs with an eligibility trace × the hidden neurons with a nonzero signal)."""
    n_p = products.shape[0]
    A = np.zeros((n_p, w.shape[0]), np.int64)
    B = np.zeros((n_p, w.shape[1]), np.int64)
    _side_values(products, factors, tx, ty, xh, yh, u_on, A, B)
    cols = np.empty(w.shape[1], np.int64)
    n_cols = 0
    for j in range(w.shape[1]):
        for p in range(n_p):
            if B[p, j] != 0:
                cols[n_cols] = j
                n_cols += 1
                break
    if n_cols == 0:
        return
    for i in range(w.shape[0]):
        row_any = False
        for p in range(n_p):
            if A[p, i] != 0:
                row_any = True
        if not row_any:
            continue
        changed = False
        for jj in range(n_cols):
            j = cols[jj]
            if has_mask and not mask[i, j]:
                continue
            old = w[i, j]
            acc = old << VAR_SHIFT
            live = False
            for p in range(n_p):
                cur = A[p, i] * B[p, j]
                if cur == 0:
                    continue
                live = True
                acc = _saturate(acc + _scaled_product(cur, products, p))
            if not live:
                continue
            new = _rounded(acc, r_syn, clamp, w_lo, w_hi)
            if new != old:
                w[i, j] = new
                changed = True
        if changed:
            nnz[i] = _row_nonzero(w, i)


@_jit
def active_synapses(mask, has_mask, row_count, tx, ty, use_x0, use_y0):
    """Synapses (of the learn mask) with a pre spike (x0 products) or a post spike (y0) in the
    epoch: the ``syn_updates`` count of spikeport's PlasticDense. ``row_count``: synapses of
    the mask per pre neuron."""
    count = 0
    n_pre, n_post = tx.shape[0], ty.shape[0]
    for i in range(n_pre):
        if use_x0 and tx[i] > 0:
            count += row_count[i]
    if use_y0:
        for j in range(n_post):
            if ty[j] == 0:
                continue
            for i in range(n_pre):
                if not (use_x0 and tx[i] > 0) and (not has_mask or mask[i, j]):
                    count += 1
    return count


@_jit
def plastic_step(w, mask, has_mask, row_count, x, tx, y, ty, xh, yh, s_pre, s_post, third,
                 gate, t,
                 t_epoch, k_dec, x_int, x_frac, y_int, y_frac, x_factor, x_live, y_factor,
                 y_live, r_x_decay, r_x_imp, r_y_decay, r_y_imp, r_syn, products, factors,
                 separable, post_mode, use_x0, use_y0, n_plastic, traces_per_epoch, w_lo, w_hi,
                 clamp, nnz, ops):
    """One Lava step of a plastic connection (kernels.engine.LearningEngine.step): the spike
    phase of step ``t`` and, when ``t`` ends an epoch, the learning phase. Stream positions
    follow from ``t``: the trace streams have advanced 2·t times, the synaptic stream once per
    epoch. ``k_dec``: the rule's u decimation exponent (−1: no u dependency). ``ops``:
    [syn_updates, trace_updates, epochs], incremented."""
    within = (t - 1) % t_epoch + 1
    spike_phase(x, tx, y, ty, s_pre, s_post, third, gate, within, x_int, x_frac, y_int,
                y_frac, r_y_imp[2 * t - 1], post_mode)
    if t % t_epoch != 0:
        return
    epoch = t // t_epoch
    pos = 2 * t
    u_on = 0
    if k_dec >= 0 and epoch % (1 << k_dec) == 0:
        u_on = 1
    if u_on:
        ops[0] += n_plastic
    else:
        ops[0] += active_synapses(mask, has_mask, row_count, tx, ty, use_x0, use_y0)
    ops[1] += traces_per_epoch
    ops[2] += 1
    replay_traces(x, tx, t_epoch, x_factor, x_live, x_int, x_frac, r_x_decay[pos],
                  r_x_imp[pos], xh)
    replay_traces(y, ty, t_epoch, y_factor, y_live, y_int, y_frac, r_y_decay[pos],
                  r_y_imp[pos], yh)
    if separable:
        epoch_update_separable(w, mask, has_mask, products, factors, tx, ty, xh, yh, u_on,
                               r_syn[epoch], w_lo, w_hi, clamp, nnz)
    else:
        epoch_update(w, mask, has_mask, products, factors, tx, ty, xh, yh, u_on, r_syn[epoch],
                     w_lo, w_hi, clamp, nnz)
    last = xh.shape[0] - 1
    for k in range(x.shape[0]):
        for i in range(x.shape[1]):
            x[k, i] = xh[last, k, i]
    if post_mode == 0:
        for k in range(y.shape[0]):
            for j in range(y.shape[1]):
                y[k, j] = yh[last, k, j]
    for i in range(tx.shape[0]):
        tx[i] = 0
    for j in range(ty.shape[0]):
        ty[j] = 0


# ---------------------------------------------------------------- SBP relay (relay.py)

@_jit
def relay_step(trace, acc, s_hidden, s_out, s_teach, fanout, decay, impulse):
    """kernels.relay.relay_step for one replica, in place; fanout (n_hidden, n_out)."""
    for j in range(trace.shape[0]):
        t = decay_tz(trace[j], decay) + (impulse if s_hidden[j] else 0)
        if t < 0:
            t = 0
        elif t > RELAY_TRACE_MAX:
            t = RELAY_TRACE_MAX
        trace[j] = t
        err = 0
        for k in range(fanout.shape[1]):
            if fanout[j, k]:
                err += (1 if s_teach[k] else 0) - (1 if s_out[k] else 0)
        a = acc[j] + t * err
        if a > RELAY_ACC_MAX:
            a = RELAY_ACC_MAX
        elif a < -RELAY_ACC_MAX:
            a = -RELAY_ACC_MAX
        acc[j] = a
