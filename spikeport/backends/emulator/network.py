"""Run a :class:`~spikeport.converters.quantize.FixedNetwork` the way spikeport's Lava graph
(:func:`spikeport.lava_processes.graph.build_graph`) runs it, bit for bit, without Lava.

The network is packed into flat integer tables (:mod:`.packed`) and run by one compiled loop
(:mod:`.engine`) per block of samples: every Lava time step in the order
:func:`spikeport.backends.emulator.reference.replay` documents. Two schedules give the same bits:

* **in sequence** (learning, or a network without resets between samples): one state carried
  from sample to sample, the weights learning as they go;
* **in blocks** (inference with resets): independent samples split into blocks of
  ``batch`` that run side by side on all cores (Python threads: the compiled loop releases
  the GIL), each block with a fresh state.

The result is a :class:`~spikeport.flow.result.RunResult` with the same spikes,
weights, thresholds and op counters (same names, same counting rules) as a Lava run.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from spikeport.backends.emulator import engine as e
from spikeport.backends.emulator.jit import compile_notice
from spikeport.backends.emulator.packed import DRIVE, Packed
from spikeport.flow.fixed import FixedNetwork, check_batch
from spikeport.flow.result import RunResult

LEARN_BLOCK = 64  # samples per compiled call when learning (progress granularity)
_warm = False


def _prepare() -> None:
    """Before the first run in a process: say so if the run loop is about to be compiled
    (the package's ``__init__`` has already dropped stale cache files)."""
    global _warm
    if not _warm:
        _warm = True
        compile_notice(e.run_sequential)


def workers() -> int:
    """Threads for independent samples: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # (not on Linux)
        return max(1, os.cpu_count() or 1)


def _run_blocks(pk: Packed, inp, teach, out, n_samples: int, block: int, bar) -> None:
    """Independent samples (inference with resets) in blocks of ``block`` on all cores: each
    block runs the compiled loop with a fresh state and its own counters in a Python thread
    (the compiled code releases the GIL); the counters are summed at the end."""
    none_i = np.zeros((0, int(pk.pop_off[-1])), np.int64)
    none_w = np.zeros((0, 0), np.int16)

    def run(lo: int) -> tuple:
        hi = min(n_samples, lo + block)
        st, ctr = pk.fresh_state(), pk.fresh_counters()
        e.run_sequential(pk.net, inp, teach, pk.W, pk.nnz, st, ctr, out, none_i, none_i,
                         none_w, none_w, lo, hi)
        return hi - lo, ctr

    starts = range(0, n_samples, block)
    n_workers = min(workers(), len(starts))
    if n_workers <= 1:
        results = map(run, starts)
    else:
        pool = ThreadPoolExecutor(n_workers)
        results = pool.map(run, starts)
    for done, ctr in results:
        for mine, theirs in zip(pk.counters, ctr):
            mine += theirs
        bar.update(done)
    if n_workers > 1:
        pool.shutdown()


def run_emulator(fixed: FixedNetwork, inputs: dict[str, np.ndarray],
                 teacher: np.ndarray | None = None, learn: bool = False,
                 record_weights: bool = False, record_states: bool = False,
                 batch: int = 256, progress: bool = False,
                 labels: np.ndarray | None = None) -> RunResult:
    """Run ``fixed`` on a batch of encoded samples; the same arguments and result as
    :func:`spikeport.lava_processes.run.run_lava` (spikes, weights, thresholds, op counts).

    ``record_weights``: ``result.weight_history[proj]`` = the plastic weights at each
    sample's end, ``(n_samples, n_pre, n_post)``. ``record_states``: ``result.states`` =
    per-step ``u``, ``v`` ``{pop: (steps, n)}`` and plastic weights ``{proj: (steps, n_pre,
    n_post)}`` (runs in sequence; for conformance tests, memory grows with the run).
    ``batch``: samples per block in inference with resets (blocks run on all cores).
    ``labels``: (n_samples,) classes, for NACA's dopamine source when learning.
    """
    n_samples = check_batch(fixed, inputs, teacher)
    pk = Packed(fixed, n_samples, learn, teacher is not None, labels)
    T = fixed.sample_steps
    bits = {name: np.asarray(inputs[name]) != 0 for name, _ in fixed.inputs}
    inp = (next(iter(bits.values())) if len(bits) == 1
           else np.concatenate(list(bits.values()), axis=2))
    inp = np.ascontiguousarray(inp)
    teach_bits = None if teacher is None else np.asarray(teacher) != 0
    teach = (np.ascontiguousarray(teach_bits) if pk.teacher_used
             else np.zeros((n_samples, T, 0), bool))
    N = int(pk.pop_off[-1])
    out = np.zeros((n_samples, T, N), bool)
    steps = pk.total if record_states else 0
    u_rec = np.zeros((steps, N), np.int64)
    v_rec = np.zeros((steps, N), np.int64)
    w_rec = np.zeros((steps, pk.n_plastic_w if record_states else 0), np.int16)
    hist = np.zeros((n_samples if record_weights else 0, pk.n_plastic_w), np.int16)
    parallel = not learn and fixed.reset and not record_states
    block = max(1, int(batch)) if parallel else LEARN_BLOCK
    bar = _progress(progress, n_samples, "emulator (learning)" if learn else "emulator")
    t0 = time.perf_counter()
    _prepare()
    if parallel:
        _run_blocks(pk, inp, teach, out, n_samples, block, bar)
    else:
        for lo in range(0, n_samples, block):
            hi = min(n_samples, lo + block)
            e.run_sequential(pk.net, inp, teach, pk.W, pk.nnz, pk.state, pk.counters, out,
                             u_rec, v_rec, w_rec, hist, lo, hi)
            bar.update(hi - lo)
    wall = time.perf_counter() - t0
    bar.close()
    bounds = list(zip(pk.pop_names, pk.pop_off[:-1], pk.pop_off[1:]))
    spikes = {name: np.ascontiguousarray(out[:, :, a:b]) for name, a, b in bounds}
    in_counts = {name: int(bits[name].sum()) for name, _ in fixed.inputs}
    res = RunResult(spikes, _final_weights(pk), pk.thresholds(),
                     _ops(pk, in_counts, teach_bits, n_samples), wall, pk.total, learn)
    res.weight_history = {lk.name: _plastic_part(pk, i, hist) for i, lk in
                          enumerate(pk.links) if lk.proj is not None} if record_weights else {}
    res.states = {}
    if record_states:
        res.states = {"u": {n: u_rec[:, a:b] for n, a, b in bounds},
                      "v": {n: v_rec[:, a:b] for n, a, b in bounds},
                      "weights": {lk.name: _plastic_part(pk, i, w_rec) for i, lk in
                                  enumerate(pk.links) if lk.proj is not None}}
    return res


def _plastic_part(pk: Packed, i: int, rows: np.ndarray) -> np.ndarray:
    """Connection ``i``'s weights in recorded rows of plastic weights, (rows, n_pre, n_post)."""
    shape = pk.links[i].weights.shape
    part = rows[:, pk.w_off[i]:pk.w_off[i + 1]]
    return part.reshape((rows.shape[0],) + shape).astype(np.int64)


def _final_weights(pk: Packed) -> dict:
    by_name = {lk.name: i for i, lk in enumerate(pk.links)}
    return {p.name: pk.link_weights(by_name[p.name]) for p in pk.fixed.projections}


def _ops(pk: Packed, input_counts: dict, teacher, n_samples: int) -> dict:
    """Op counters under the names and counting rules of spikeport's Lava graph."""
    ctr, fixed = pk.counters, pk.fixed
    ops = {}
    for p, name in enumerate(pk.pop_names):
        n = int(pk.pop_off[p + 1] - pk.pop_off[p])
        ops[f"population:{name}"] = {
            "neuron_updates": pk.total * n, "spikes": int(ctr.pop_spikes[p]),
            "threshold_updates": n * n_samples if name in pk.homeo_pops else 0}
    by_name = {lk.name: i for i, lk in enumerate(pk.links)}
    for proj in fixed.projections:
        i = by_name[proj.name]
        d = {"syn_ops": int(ctr.syn_ops[i])}
        q = int(pk.net.lk[i, e.LK_PL])
        if q >= 0:
            d.update(syn_updates=int(ctr.pl_ops[q, 0]), trace_updates=int(ctr.pl_ops[q, 1]),
                     epochs=int(ctr.pl_ops[q, 2]))
        ops[f"projection:{proj.name}"] = d
    if DRIVE in by_name:
        ops["teacher_drive"] = {"syn_ops": int(ctr.syn_ops[by_name[DRIVE]])}
    for r, name in enumerate(pk.relay_names):
        n_hidden = int(pk.net.rl[r, e.R_NHID])
        ops[f"relay:{name}"] = {"relay_updates": n_hidden * pk.total,
                                "values_sent": int(ctr.relay_sent[r])}
    for name in pk.dopamine_names:
        table = pk.dopamine_tables[name]
        sent = int(np.count_nonzero(table[pk.net.labels], axis=1).sum())
        ops[f"dopamine:{name}"] = {"values_sent": sent, "labels_received": n_samples}
    for name, count in input_counts.items():
        ops[f"input:{name}"] = {"values_sent": int(count)}
    if pk.teacher_used:
        ops["teacher"] = {"values_sent": int(teacher.sum())}
        if pk.gated:  # the taught neurons receive the gate at every step of their sample
            ops["teacher"]["gate_values_sent"] = int(teacher.any(axis=1).sum()) * \
                fixed.sample_steps
    return ops


def _progress(enabled: bool, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="sample", disable=not enabled, leave=False)
