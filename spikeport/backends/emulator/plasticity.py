"""Compiled (numba) learning engine of the emulator: Lava 0.10's fixed-point
``LearningDense`` (:class:`spikeport.kernels.engine.LearningEngine`) for one plastic
connection, spike phase and learning phase, synapse by synapse.

Every function transcribes a kernel (named in its docstring) and is checked bit for bit by
``tests/test_emulator.py``. Weights arrive as the engine stores them, int16 ``(n_pre,
n_post)`` (they stay within [−256, 255]); every sum and product is formed in int64 (Lava's
int32 chain is reproduced with :func:`~spikeport.backends.emulator.compiled.wrap32` where it
can wrap).
"""

from __future__ import annotations

import numpy as np

from spikeport.backends.emulator.compiled import wrap32
from spikeport.backends.emulator.jit import jit

TRACE_MAX = 127               # 7-bit learning traces (kernels.traces)
ACC_MAX = (1 << 15) - 1       # 16-bit learning accumulator (kernels.learning)
ACC_MIN = -(1 << 15) - 1      # Lava's asymmetric lower bound
VAR_SHIFT = 7                 # the synaptic variable enters the accumulator with 7 fraction bits
Y_MAX = 127                   # 7-bit third-factor magnitudes (y2, y3)


@jit
def add_impulse(value, imp_int, imp_frac, rand):
    """kernels.traces.add_impulse: integer part + (rand < 8-bit fraction), clip to 7 bits."""
    r = value + imp_int + (1 if rand < imp_frac else 0)
    if r < 0:
        return 0
    if r > TRACE_MAX:
        return TRACE_MAX
    return r


@jit
def spike_phase(x, tx, y, ty, pre_idx, s_post, third, gate, within, x_int, x_frac, y_int,
                y_frac, y_rand, post_mode):
    """kernels.engine.LearningEngine.spike_phase for one replica (batch 1).

    ``pre_idx``: the pre neurons that spiked (indices); ``s_post``: post spikes (bool).
    ``x`` (2, n_pre), ``y`` (3, n_post), ``tx``/``ty`` spike times within the epoch; a repeat
    pre spike gets its x impulses now rounded with random 0, a repeat post spike its y impulses
    rounded with ``y_rand``; ``post_mode`` 0 = two-factor (bAP traces), 1 = three-factor (y
    overwritten by ``(0, y2, y3)``, the 7-bit positive and negative parts of the signed
    ``third`` factor, ``gate`` added to y3: kernels.relay.split_third_factor), 2 = none."""
    for q in range(pre_idx.shape[0]):  # the pre neurons that spiked this step
        i = pre_idx[q]
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
        _overwrite_y(y[0], y[1], y[2], third, gate)


@jit
def _overwrite_y(y1, y2, y3, third, gate):
    """A three-factor rule's y values from the ports: (0, y2, y3), y2 and y3 the 7-bit
    positive and negative parts of ``third``, ``gate`` added to y3 (saturated). Row by row,
    in a function of its own, so that LLVM vectorises the loops."""
    for j in range(y1.shape[0]):
        y1[j] = 0
    for j in range(y2.shape[0]):
        y2[j] = min(max(third[j], 0), Y_MAX)
    for j in range(y3.shape[0]):
        y3[j] = min(min(max(-third[j], 0), Y_MAX) + gate[j], Y_MAX)


@jit
def _decay_step(value, factor, live, r_decay):
    """kernels.traces.decay_traces for one value: ``value · exp(−1/τ)`` in float64, floor,
    plus 1 if the epoch's random float is below the fraction; a dead trace (τ = 0) is 0."""
    if not live:
        return 0
    scaled = factor * value
    fl = np.floor(scaled)
    return np.int64(fl) + (1 if r_decay < scaled - fl else 0)


@jit
def replay_traces(traces, times, t_epoch, factor, live, imp_int, imp_frac, r_decay, r_imp,
                  history, full):
    """kernels.traces.replay_epoch for one replica: ``history`` (t_epoch + 1, K, N), row t
    the value after within-epoch step t (decay, then the impulse of a spike stored at t).
    ``full``: fill every row (a rule that reads traces at spike times); otherwise only rows
    0 and t_epoch, the values a rule with u dependencies only reads (the same arithmetic, in
    registers). A zero trace without a spike stays 0 (floor 0, no round-up)."""
    K, N = traces.shape
    for k in range(K):
        for n in range(N):
            val = traces[k, n]
            history[0, k, n] = val
            tn = times[n]
            if val == 0 and tn == 0:
                if full:
                    for t in range(1, t_epoch + 1):
                        history[t, k, n] = 0
                else:
                    history[t_epoch, k, n] = 0
                continue
            for t in range(1, t_epoch + 1):
                if val != 0:
                    val = _decay_step(val, factor[k], live[k], r_decay)
                if tn == t:
                    val = add_impulse(val, imp_int[k], imp_frac[k], r_imp)
                if full:
                    history[t, k, n] = val
            history[t_epoch, k, n] = val


# product table columns (see spikeport.backends.emulator.packed): dependency, Lava-normalised
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


@jit
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
    # a factor register holds `bits` magnitude bits and a sign (7-bit traces, 9-bit w)
    lo = -(1 << bits)
    hi = (1 << bits) - 1
    if raw < lo:
        return lo
    if raw > hi:
        return hi
    return raw


@jit
def _row_filter(products, factors, tx, xh, u_on, pre_ok):
    """Per product, which pre rows can give a nonzero product: the dependency and every trace
    factor read on the pre side only must be nonzero. Conservative (a factor with a constant
    or a read at the other side's time never filters)."""
    last = xh.shape[0] - 1
    for p in range(products.shape[0]):
        dep = products[p, P_DEP]
        for i in range(pre_ok.shape[1]):
            pre_ok[p, i] = not ((dep == DEP_X0 and tx[i] == 0) or (dep == DEP_U and u_on == 0))
        for f in range(products[p, P_NF]):
            code, const = factors[p, f, 0], factors[p, f, 1]
            if const == 0 and (code == F_X1 or code == F_X2) and dep != DEP_Y0:
                k = code - F_X1
                for i in range(pre_ok.shape[1]):
                    if pre_ok[p, i] and xh[tx[i] if dep == DEP_X0 else last, k, i] == 0:
                        pre_ok[p, i] = False


@jit
def _col_filter(products, factors, ty, yh, u_on, post_ok):
    """:func:`_row_filter` for post columns."""
    last = yh.shape[0] - 1
    for p in range(products.shape[0]):
        dep = products[p, P_DEP]
        for j in range(post_ok.shape[1]):
            post_ok[p, j] = not ((dep == DEP_Y0 and ty[j] == 0) or (dep == DEP_U and u_on == 0))
        for f in range(products[p, P_NF]):
            code, const = factors[p, f, 0], factors[p, f, 1]
            if const == 0 and F_Y1 <= code <= F_Y3 and dep != DEP_X0:
                k = code - F_Y1
                for j in range(post_ok.shape[1]):
                    if post_ok[p, j] and yh[ty[j] if dep == DEP_Y0 else last, k, j] == 0:
                        post_ok[p, j] = False


@jit
def _clip_factor(raw, const, sgn, bits):
    """A factor's value: plus its constant, optionally its sign, clipped to its width."""
    raw += const
    if sgn:
        raw = 1 if raw > 0 else (-1 if raw < 0 else 0)
    # a factor register holds `bits` magnitude bits and a sign (7-bit traces, 9-bit w)
    lo = -(1 << bits)
    hi = (1 << bits) - 1
    return lo if raw < lo else (hi if raw > hi else raw)


@jit
def _side_values(products, factors, tx, ty, xh, yh, u_on, A, B):
    """For separable products: ``A[p, i]`` = dependency × pre-side factors of pre neuron i,
    ``B[p, j]`` = post-side factors of post neuron j (each factor clipped to its width as in
    :func:`_factor`), so that the product's raw value is ``A[p, i] · B[p, j]``. One loop
    per factor with its decoding hoisted (the same values as :func:`_factor`, ~10× faster)."""
    last_x, last_y = xh.shape[0] - 1, yh.shape[0] - 1
    for p in range(products.shape[0]):
        if not products[p, P_SEP]:
            continue
        dep = products[p, P_DEP]
        for i in range(A.shape[1]):
            if dep == DEP_X0:
                A[p, i] = 1 if tx[i] > 0 else 0
            elif dep == DEP_U:
                A[p, i] = u_on
            else:
                A[p, i] = 1
        for j in range(B.shape[1]):
            B[p, j] = 1 if dep != DEP_Y0 or ty[j] > 0 else 0
        for f in range(products[p, P_NF]):
            code, const, sgn, side = (factors[p, f, 0], factors[p, f, 1], factors[p, f, 2],
                                      factors[p, f, 3])
            bits = 1 if code <= F_Y0 else 7
            if side == SIDE_PRE:
                k = code - F_X1
                for i in range(A.shape[1]):
                    a = A[p, i]
                    if a == 0:
                        continue
                    if code == F_X0:
                        raw = 1 if tx[i] > 0 else 0
                    else:
                        raw = xh[tx[i] if dep == DEP_X0 else last_x, k, i]
                    A[p, i] = a * _clip_factor(raw, const, sgn, bits)
            elif side == SIDE_POST:
                k = code - F_Y1
                for j in range(B.shape[1]):
                    b = B[p, j]
                    if b == 0:
                        continue
                    if code == F_Y0:
                        raw = 1 if ty[j] > 0 else 0
                    else:
                        raw = yh[ty[j] if dep == DEP_Y0 else last_y, k, j]
                    B[p, j] = b * _clip_factor(raw, const, sgn, bits)


@jit
def _saturate(acc):
    """The learning accumulator's saturation (kernels.learning: Lava's asymmetric bound)."""
    if acc > ACC_MAX:
        return ACC_MAX
    if acc < ACC_MIN:
        return ACC_MIN
    return acc


@jit
def _rounded(acc, r_syn, clamp, w_lo, w_hi):
    """kernels.learning.update_synaptic_variable's end: sign-mode clamp of the accumulator
    (``clamp`` 1: at 0 from below, −1: from above), stochastic rounding with the epoch's one
    random ``r_syn``, clip to the weight range."""
    if clamp == 1 and acc < 0:
        acc = 0
    elif clamp == -1 and acc > 0:
        acc = 0
    # back to the weight's LSB: drop the accumulator's 7 fraction bits, rounding up with
    # probability fraction / 128 (Lava's stochastic rounding, one random per epoch)
    new = (acc >> VAR_SHIFT) + (1 if r_syn < (acc & 127) / 128.0 else 0)
    if new < w_lo:
        return w_lo
    if new > w_hi:
        return w_hi
    return new


@jit
def _row_nonzero(w, i):
    c = 0
    for j in range(w.shape[1]):
        if w[i, j] != 0:
            c += 1
    return c


@jit
def _scaled_product(cur, products, p):
    """mantissa, Lava's right shift (floor, not undone) and the left shift into the
    accumulator's 7 fraction bits, saturated (kernels.learning.evaluate_products)."""
    cur = wrap32(cur * products[p, P_MANT])
    # Lava's right shift of long products, so that Σ factor widths + 4 mantissa bits fit the
    # 16-bit accumulator (the dropped bits are lost: small rates can vanish)
    cur = cur >> products[p, P_SHIFT]
    # the product's exponent, plus 7: the accumulator holds the variable with 7 fraction bits
    cur = wrap32(cur << (products[p, P_EXP] + VAR_SHIFT))
    if cur > ACC_MAX:
        return ACC_MAX
    if cur < ACC_MIN:
        return ACC_MIN
    return cur


@jit
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
            acc = np.int64(old) << VAR_SHIFT  # the weight with 7 fraction bits
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


@jit
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
            acc = np.int64(old) << VAR_SHIFT  # the weight with 7 fraction bits
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


@jit
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


@jit
def plastic_step(w, mask, has_mask, row_count, x, tx, y, ty, xh, yh, pre_idx, s_post, third,
                 gate, t,
                 t_epoch, k_dec, x_int, x_frac, y_int, y_frac, x_factor, x_live, y_factor,
                 y_live, r_x_decay, r_x_imp, r_y_decay, r_y_imp, r_syn, products, factors,
                 separable, post_mode, use_x0, use_y0, n_plastic, traces_per_epoch, w_lo, w_hi,
                 clamp, nnz, ops, full):
    """One Lava step of a plastic connection (kernels.engine.LearningEngine.step): the spike
    phase of step ``t`` and, when ``t`` ends an epoch, the learning phase. Stream positions
    follow from ``t``: the trace streams have advanced 2·t times, the synaptic stream once per
    epoch. ``k_dec``: the rule's u decimation exponent (−1: no u dependency). ``ops``:
    [syn_updates, trace_updates, epochs], incremented. ``full``: the rule reads traces at
    spike times (x0/y0 dependencies), so the whole replayed history is kept."""
    within = (t - 1) % t_epoch + 1
    spike_phase(x, tx, y, ty, pre_idx, s_post, third, gate, within, x_int, x_frac, y_int,
                y_frac, r_y_imp[2 * t - 1], post_mode)
    if t % t_epoch != 0:
        return
    epoch = t // t_epoch
    pos = 2 * t
    u_on = 0
    # u_k is true every 2**k epochs (the rule's decimated epoch dependency)
    if k_dec >= 0 and epoch % (1 << k_dec) == 0:
        u_on = 1
    if u_on:
        ops[0] += n_plastic
    else:
        ops[0] += active_synapses(mask, has_mask, row_count, tx, ty, use_x0, use_y0)
    ops[1] += traces_per_epoch
    ops[2] += 1
    replay_traces(x, tx, t_epoch, x_factor, x_live, x_int, x_frac, r_x_decay[pos],
                  r_x_imp[pos], xh, full)
    replay_traces(y, ty, t_epoch, y_factor, y_live, y_int, y_frac, r_y_decay[pos],
                  r_y_imp[pos], yh, full)
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




@jit
def settle(w, mask, clamp, w_lo, w_hi, nnz):
    """What the first learning epoch does to every synapse of the mask before any product
    (LearningDense only truncated the initial weights; the first epoch clamps them to the sign
    mode and clips them to its range); then recount the nonzero weights per input."""
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            if mask[i, j]:
                v = np.int64(w[i, j])
                if clamp == 1 and v < 0:
                    v = 0
                elif clamp == -1 and v > 0:
                    v = 0
                if v < w_lo:
                    v = w_lo
                elif v > w_hi:
                    v = w_hi
                w[i, j] = v
        nnz[i] = _row_nonzero(w, i)
