"""NeuroBench's metrics, under NeuroBench's names, computed natively from a fixed-point run.

NeuroBench (Yik et al., Nat. Commun. 16:1545, 2025; package ``neurobench`` 2.3.0) names its
metrics by class. spikeport reports the same names with the same definitions, per sample,
computed from the run's recorded spikes and the fixed-point network (no torch needed).
``scripts/interop/neurobench_check.py`` runs the neurobench package itself on a torch wrapper
of one run and compares (``benchmarks/results/interop_neurobench.json``).

Static (of the network as deployed):

``ParameterCount``
    Entries of every weight matrix ``n_pre × n_post`` (absent synapses included, as NeuroBench
    counts a Linear layer's tensor), plus one bias per neuron of a population with a bias.
``ConnectionSparsity``
    Zero weights / all weight-matrix entries, after Lava's first-step truncation (a weight that
    truncates to 0 is a zero).
``Footprint``
    Bytes of parameters and buffers as the fixed point stores them: each weight-matrix entry,
    zeros included, 1 byte (8-bit magnitude with a shared sign) or 2 bytes in MIXED sign mode (9
    bits); per neuron u and v (4 bytes each) and, when per-neuron, vth (4) and bias (2); per
    population du, dv (2 each), vth (4) and bias (2) when shared. (NeuroBench counts a torch
    model's tensors at their element size; a float32 copy of the same network counts 4 bytes a
    weight, see :func:`footprint_bytes`.)

Workload (per sample, over the run's samples):

``ClassificationAccuracy``
    Fraction of samples whose readout class is the label.
``ActivationSparsity``
    Zero outputs / all outputs of the neuron layers (every LIF population; the input spikes
    are data, not a layer's activations), over layers × steps × samples.
``SynapticOperations``
    ``Effective_ACs``: Σ over projections and steps of (presynaptic spikes × their nonzero
    weights) — binary spikes make every op an accumulate, so ``Effective_MACs`` is 0;
    ``Dense``: ``n_pre × n_post`` per projection per step, whatever spikes. A spike on a
    sample's last step counts although its input is delivered after the sample (NeuroBench
    counts each step's layer inputs). This equals spikeport's ``syn_ops`` counter (spikes ×
    *stored* nonzero fan-out) when no stored synapse holds a zero weight.
``MembraneUpdates``
    Neuron-steps whose membrane potential v (after the reset) differs from the step before,
    with every neuron counted on a sample's first step (as NeuroBench does for snnTorch
    neurons). v is not recorded by a run: it is recomputed from the recorded input spikes with
    the integer LIF kernels, and reported only if the recomputed spikes equal the recorded
    ones (inference of a feed-forward network; learning runs change weights as they go).

NeuroBench's harness returns None or 0.0 silently when a metric does not apply; here a metric
that does not apply is ``None`` with a reason in ``notes``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spikeport.flow.fixed import FixedNetwork
from spikeport.io import load_npz
from spikeport.kernels.dense import SignMode, as_sign_mode, quantize_dense_weights
from spikeport.kernels.lif import lif_init_state, lif_step

NEUROBENCH_VERSION = "2.3.0"
REPLAY_CHUNK = 200  # samples replayed at once for MembraneUpdates
STATIC = ("Footprint", "ConnectionSparsity", "ParameterCount")
WORKLOAD = ("ClassificationAccuracy", "ActivationSparsity", "MembraneUpdates",
            "SynapticOperations")


def realised_weights(proj) -> np.ndarray:
    """``(n_pre, n_post)`` mantissas after Lava's first-step clip and truncation."""
    return quantize_dense_weights(np.asarray(proj.weights, dtype=np.int64).T, proj.sign_mode,
                                  proj.num_weight_bits).T


def _has_bias(pop) -> bool:
    return bool(np.any(np.asarray(pop.bias_mant) != 0))


def footprint_bytes(fixed, weight_bytes: int | None = None) -> int:
    """Footprint as defined in the module docstring; ``weight_bytes`` overrides the bytes per
    weight-matrix entry (4: a float32 copy's weights)."""
    total = 0
    for proj in fixed.projections:
        wb = weight_bytes or (2 if as_sign_mode(proj.sign_mode) is SignMode.MIXED else 1)
        total += proj.weights.size * wb
    for pop in fixed.populations:
        total += pop.n * 8  # u, v
        total += 4  # du, dv
        total += 4 * (pop.n if np.ndim(pop.vth) else 1)
        if _has_bias(pop):
            total += 2 * (pop.n if np.ndim(pop.bias_mant) else 1)
    return int(total)


def static_metrics(fixed) -> dict:
    entries = sum(int(p.weights.size) for p in fixed.projections)
    zeros = sum(int(np.count_nonzero(realised_weights(p) == 0)) for p in fixed.projections)
    biases = sum(p.n for p in fixed.populations if _has_bias(p))
    return {"Footprint": footprint_bytes(fixed),
            "ConnectionSparsity": zeros / entries if entries else None,
            "ParameterCount": entries + biases}


def _a_in(fixed, spikes_all: dict, pop_name: str, n_samples: int, steps: int) -> np.ndarray:
    """Input each step delivers to ``pop_name``: the previous step's spikes through every
    incoming projection, each summed then shifted by its exponent (Dense's arithmetic)."""
    n = fixed.population(pop_name).n
    a = np.zeros((n_samples, steps, n), dtype=np.int64)
    for proj in fixed.projections:
        if proj.post != pop_name:
            continue
        from scipy.sparse import csr_matrix

        w = realised_weights(proj)
        # sparse binary spikes x integer weights: integer sums, work proportional to spikes
        pre = spikes_all[proj.pre][:, :-1, :]
        flat = csr_matrix(pre.reshape(-1, pre.shape[-1]).astype(np.int64))
        tot = np.asarray(flat @ w).reshape(pre.shape[0], pre.shape[1], -1)
        exp = int(proj.weight_exp)
        tot = tot << exp if exp >= 0 else tot >> -exp
        tot = ((tot + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)  # Lava's int32 message buffer
        a[:, 1:, :] += tot
    return a


def membrane_updates(fixed, spikes: dict, inputs: dict) -> tuple[float | None, str | None]:
    """Per-sample membrane updates, or (None, why) when the run cannot be replayed exactly."""

    first = next(iter(inputs.values()))
    n_samples, steps = first.shape[:2]
    if fixed.rest_steps:
        return None, "samples with a rest gap are not replayed"
    if not fixed.reset:
        return None, "state carries over between samples (reset off): not replayed"
    names = {n for n, _ in fixed.inputs}
    order, left = [], [p.name for p in fixed.populations]
    while left:
        ready = [n for n in left if all(p.pre in names or p.pre in order
                                        for p in fixed.projections if p.post == n)]
        if not ready:
            return None, "recurrent network: v cannot be recomputed population by population"
        order += ready
        left = [n for n in left if n not in ready]
    total = 0
    for lo in range(0, n_samples, REPLAY_CHUNK):  # bounded memory on long runs
        hi = min(lo + REPLAY_CHUNK, n_samples)
        known = {k: np.asarray(v[lo:hi]) != 0 for k, v in inputs.items()}
        for name in order:
            pop = fixed.population(name)
            a = _a_in(fixed, known, name, hi - lo, steps)
            state = lif_init_state((hi - lo, pop.n))
            params = pop.lif_params()
            out = np.zeros((hi - lo, steps, pop.n), dtype=bool)
            prev_v = None
            for t in range(steps):
                s, state = lif_step(a[:, t, :], state, params)
                out[:, t, :] = s
                total += (state.v.size if prev_v is None
                          else int(np.count_nonzero(state.v != prev_v)))
                prev_v = state.v
            rec = np.asarray(spikes[name][lo:hi]) != 0
            if rec.shape != out.shape or not np.array_equal(rec, out):
                return None, (f"population '{name}': the recorded spikes differ from a replay "
                              "with fixed weights (a learning run, or a teacher drive)")
            known[name] = out
    return total / n_samples, None


def workload_metrics(fixed, spikes: dict, inputs: dict, accuracy: float | None = None,
                     learn: bool = False) -> tuple[dict, list[str]]:
    notes = []
    first = next(iter(inputs.values()))
    n_samples, steps = first.shape[:2]
    allsp = {**{k: np.asarray(v) != 0 for k, v in inputs.items()},
             **{k: np.asarray(v) != 0 for k, v in spikes.items()}}
    fired = sum(int(np.count_nonzero(allsp[p.name])) for p in fixed.populations)
    outputs = sum(p.n for p in fixed.populations) * steps * n_samples
    eff = dense = 0
    for proj in fixed.projections:
        nnz = np.count_nonzero(realised_weights(proj), axis=1)  # per presynaptic neuron
        eff += int((allsp[proj.pre].sum(axis=(0, 1)) * nnz).sum())
        dense += int(proj.weights.size) * steps * n_samples
    if learn:
        notes.append("learning run: weights change during the run; Effective_ACs counts "
                     "nonzero weights of the network the run started from")
        mem, why = None, "learning run: v is not replayed (weights change as it learns)"
    else:
        mem, why = membrane_updates(fixed, spikes, inputs)
    if why:
        notes.append(f"MembraneUpdates: {why}")
    if accuracy is None:
        notes.append("ClassificationAccuracy: no readout or no labels")
    return {"ClassificationAccuracy": accuracy,
            "ActivationSparsity": (outputs - fired) / outputs if outputs else None,
            "MembraneUpdates": mem,
            "SynapticOperations": {"Effective_MACs": 0.0, "Effective_ACs": eff / n_samples,
                                   "Dense": dense / n_samples}}, notes


def neurobench_report(fixed, spikes: dict, inputs: dict, accuracy: float | None = None,
                      learn: bool = False, syn_ops_counted: int | None = None) -> dict:
    """The ``neurobench`` block of run and compare reports."""
    workload, notes = workload_metrics(fixed, spikes, inputs, accuracy, learn)
    n_samples = next(iter(inputs.values())).shape[0]
    rep = {"definitions": f"NeuroBench {NEUROBENCH_VERSION} metric names and definitions, "
                          "per sample; computed by spikeport from the recorded spikes "
                          "(spikeport.analysis.neurobench)",
           "samples": int(n_samples), "static": static_metrics(fixed), "workload": workload,
           "notes": notes}
    if syn_ops_counted is not None:
        rep["syn_ops_counter_per_sample"] = syn_ops_counted / n_samples
    return rep


def syn_ops_from_counters(ops: dict) -> int:
    """Σ ``syn_ops`` of the projections in a run's op counters (the teacher drive excluded)."""
    return int(sum(v.get("syn_ops", 0) for k, v in ops.items() if k.startswith("projection:")))


def from_run(run: str | Path, backend: str, mode: str = "infer", learned: bool | None = None):
    """NeuroBench block of a run folder's ``{backend}_{mode}.npz/.json``."""

    run = Path(run)
    summary = json.loads((run / f"{backend}_{mode}.json").read_text())
    data = load_npz(run / f"{backend}_{mode}.npz")
    sub = Path(summary.get("fixed_network", "fixed")).name
    fixed = FixedNetwork.load(run / sub)
    spikes = {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith("spikes/")}
    inputs = {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith("input/")}
    acc = summary.get("accuracy", summary.get("accuracy_while_learning"))
    return neurobench_report(fixed, spikes, inputs, acc, mode == "learn",
                             syn_ops_from_counters(summary.get("ops", {})))


def format_neurobench(nb: dict) -> str:
    """Markdown table of a ``neurobench`` block."""
    s, w = nb["static"], nb["workload"]
    so = w["SynapticOperations"]

    def num(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    rows = [("Footprint", f"{s['Footprint']:,} bytes"),
            ("ConnectionSparsity", num(s["ConnectionSparsity"], ".4f")),
            ("ParameterCount", f"{s['ParameterCount']:,}"),
            ("ClassificationAccuracy", num(w["ClassificationAccuracy"], ".4f")),
            ("ActivationSparsity", num(w["ActivationSparsity"], ".4f")),
            ("MembraneUpdates", num(w["MembraneUpdates"], ",.1f")),
            ("SynapticOperations.Effective_ACs", f"{so['Effective_ACs']:,.1f}"),
            ("SynapticOperations.Effective_MACs", f"{so['Effective_MACs']:,.1f}"),
            ("SynapticOperations.Dense", f"{so['Dense']:,.1f}")]
    lines = [f"NeuroBench {NEUROBENCH_VERSION} metrics (per sample, {nb['samples']} samples; "
             "definitions in spikeport/analysis/neurobench.py)", "",
             "| metric | value |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    if "syn_ops_counter_per_sample" in nb:
        lines += ["", f"spikeport's syn_ops counter (spikes × stored nonzero fan-out): "
                      f"{nb['syn_ops_counter_per_sample']:,.1f} per sample."]
    for note in nb["notes"]:
        lines.append(f"- {note}")
    return "\n".join(lines)
