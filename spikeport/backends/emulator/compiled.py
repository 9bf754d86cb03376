"""Compiled (numba) neuron, synapse, relay and homeostasis arithmetic of the emulator: the
integer arithmetic of :mod:`spikeport.kernels`, one neuron or one value at a time, for the
compiled run loop (:mod:`.engine`). The learning engine's loops are in :mod:`.plasticity`.

Every function here is a transcription of a kernel and is checked against it bit for bit by
the conformance tests (``tests/test_emulator.py``: emulator ≡ kernel replay ≡ spikeport's Lava
graph ≡ stock Lava where it exists). Each shift and clip says which hardware register it
models; the kernel modules carry the longer story.
"""

from __future__ import annotations

import numpy as np

from spikeport.backends.emulator.jit import jit

I32_HALF = 1 << 31            # Lava's message and state buffers are int32
STATE_HALF = 1 << 23          # u wraps, v saturates at 24 bits (Loihi's 24-bit registers)
V_MAX = STATE_HALF - 1
DECAY_SHIFT = 12              # 12-bit decay constants: multiply by 4096 − d, drop 12 bits
DECAY_UNITY = 1 << DECAY_SHIFT
ACT_SHIFT = 6                 # 16-bit synaptic input MSB-aligned into the 24-bit current
RELAY_TRACE_MAX = (1 << 23) - 1  # the relay trace is a 24-bit compartment register
RELAY_ACC_MAX = (1 << 31) - 1    # its accumulator an int32
Y_MAX = 127                   # 7-bit unsigned third-factor magnitudes
HOMEO_ACC_SHIFT = 16          # homeostasis accumulator: 16 fraction bits below vth
HOMEO_COUNT_SHIFT = 8         # spike counts carry 8 fraction bits (the target's)
VTH_MAX = 131071              # 17-bit threshold mantissa


@jit
def wrap32(x):
    """Two's-complement wrap into int32 (Lava's int32 buffers)."""
    return ((x + I32_HALF) & 0xFFFFFFFF) - I32_HALF


@jit
def decay_tz(x, decay):
    """kernels.lif.decay_toward_zero: sign(x)·((|x|·(4096 − decay)) >> 12); the shift drops
    the 12 fraction bits of the decay constant, on the magnitude (truncation toward zero)."""
    prod = x * (DECAY_UNITY - decay)
    if prod < 0:
        return -((-prod) >> DECAY_SHIFT)
    return prod >> DECAY_SHIFT


@jit
def lif_neuron(a_in, u, v, du1, dv, vth6, bias):
    """kernels.lif.lif_step for one neuron; ``du1`` = du + 1 (Loihi 1's offset register),
    ``vth6`` = vth << 6 (the 17-bit threshold MSB-aligned into the 24-bit voltage).
    Returns (spike, u, v)."""
    # a_in << 6: the synaptic input is MSB-aligned into the 24-bit current; int32 as in Lava
    u = wrap32(decay_tz(u, du1) + wrap32(a_in << ACT_SHIFT))
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


@jit
def shift_exp(total, weight_exp):
    """kernels.dense.dense_accumulate: the connection's shared 4-bit weight exponent scales
    the *sum* (a left shift, or an arithmetic right shift that floors), into Lava's int32
    message buffer."""
    if weight_exp >= 0:
        return wrap32(total << weight_exp)
    return wrap32(total >> (-weight_exp))


@jit
def relay_step(trace, acc, s_hidden, s_out, s_teach, fanout, decay, impulse):
    """kernels.relay.relay_step for one replica, in place; fanout (n_hidden, n_out). The
    error is summed over the output neurons whose error is nonzero this step only (usually
    none or a few: the same sum)."""
    n_out = fanout.shape[1]
    errs = np.empty(n_out, np.int64)
    live = np.empty(n_out, np.int64)
    n_live = 0
    for k in range(n_out):
        e = (1 if s_teach[k] else 0) - (1 if s_out[k] else 0)
        if e != 0:
            errs[n_live] = e
            live[n_live] = k
            n_live += 1
    for j in range(trace.shape[0]):
        t = decay_tz(trace[j], decay) + (impulse if s_hidden[j] else 0)
        if t < 0:
            t = 0
        elif t > RELAY_TRACE_MAX:
            t = RELAY_TRACE_MAX
        trace[j] = t
        err = 0
        for q in range(n_live):
            if fanout[j, live[q]]:
                err += errs[q]
        if err == 0:
            continue
        a = acc[j] + t * err
        if a > RELAY_ACC_MAX:
            a = RELAY_ACC_MAX
        elif a < -RELAY_ACC_MAX:
            a = -RELAY_ACC_MAX
        acc[j] = a


@jit
def _relay_scaled(magnitude, mant, shift):
    """kernels.relay._scaled: ``(|acc|·mantissa + half) >> shift`` (a rounded fixed-point
    gain: the shift is the gain's binary point), saturated to the 7-bit y magnitude."""
    half = (1 << (shift - 1)) if shift > 0 else 0
    r = (magnitude * mant + half) >> shift
    return Y_MAX if r > Y_MAX else r


@jit
def relay_signal(acc, ltp_m, ltp_s, ltd_m, ltd_s, out):
    """kernels.relay.relay_signal: ``out[j] = y2 − y3`` per hidden neuron; returns the number
    of nonzero values (the relay's values sent)."""
    sent = 0
    for j in range(acc.shape[0]):
        a = acc[j]
        if a > 0:
            s = _relay_scaled(a, ltp_m, ltp_s)
        elif a < 0:
            s = -_relay_scaled(-a, ltd_m, ltd_s)
        else:
            s = 0
        out[j] = s
        if s != 0:
            sent += 1
    return sent


@jit
def homeostasis(acc, count, eta_q, target_q, acc_min, acc_max):
    """kernels.homeostasis.homeostasis_update then threshold_from_acc for one neuron: returns
    (acc, vth). The count gains the target's 8 fraction bits (<< 8); vth is the accumulator
    rounded half up to its 17-bit mantissa (+ 2**15, >> 16: 16 fraction bits)."""
    a = acc + eta_q * ((count << HOMEO_COUNT_SHIFT) - target_q)
    if a < acc_min:
        a = acc_min
    elif a > acc_max:
        a = acc_max
    vth = (a + (1 << (HOMEO_ACC_SHIFT - 1))) >> HOMEO_ACC_SHIFT
    if vth < 0:
        vth = 0
    elif vth > VTH_MAX:
        vth = VTH_MAX
    return a, vth
