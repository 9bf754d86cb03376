"""The runs a comparison is made of: each backend in inference and in learning on the same input
spikes (the Brian2 float reference and its quantized twin, chunked at the weight checkpoints; the
fixed point through the backend registry), and the per-phase metrics between them."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from spikeport.analysis import metrics as M
from spikeport.analysis.compare_report import PAIRS, pair_key

# ---------------------------------------------------------------------------------------------
# backends

@dataclass
class Recording:
    """Spikes of one backend in one phase (population -> bool (n_samples, steps, n))."""

    spikes: dict[str, np.ndarray]
    wall_time: float = 0.0

    def counts(self, population: str) -> np.ndarray:
        return self.spikes[population].sum(axis=1)


def _fixed_infer(runner, fixed, batch) -> Recording:
    # the backend keeps the teaching spikes from inference (a drive would hand it the labels)
    res = runner.run(fixed, batch, learn=False)
    return Recording(res.spikes, res.wall_time)


def _slice(batch, lo: int, hi: int):
    inputs = {k: v[lo:hi] for k, v in batch.inputs.items()}
    teacher = None if batch.teacher is None else batch.teacher[lo:hi]
    return inputs, teacher


def _brian2_infer(net, batch, weights, thresholds, target) -> Recording:
    from spikeport.backends.brian2.sim import simulate

    r = simulate(net, batch.inputs, weights, None, target=target, thresholds=thresholds or None)
    return Recording(r.spikes, r.wall_time)


@dataclass
class LearnRun:
    """A learning phase of one backend: spikes while learning, weights (float units) at the
    checkpoints it knows, final weights/thresholds (float units) and the learned network."""

    recording: Recording
    checkpoints: list[int]
    trajectory: dict[str, np.ndarray]  # projection -> (K, n_pre, n_post) float units
    thresholds: dict[str, np.ndarray]  # population -> (n,) float units, after learning
    learned: object                    # what scores the test samples afterwards


def _brian2_learn(net, batch, weights, thresholds, target, bounds, plastic) -> LearnRun:
    from spikeport.backends.brian2.sim import simulate

    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    th = thresholds or None
    traj = {p: [w[p].copy()] for p in plastic}
    spikes: dict[str, list] = {}
    wall = 0.0
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        inputs, teacher = _slice(batch, lo, hi)
        r = simulate(net, inputs, w, teacher, target=target, learn=True, thresholds=th)
        w, th = r.weights, r.thresholds
        wall += r.wall_time
        for p in plastic:
            traj[p].append(np.asarray(w[p], dtype=np.float64).copy())
        for pop, s in r.spikes.items():
            spikes.setdefault(pop, []).append(s)
    rec = Recording({p: np.concatenate(v) for p, v in spikes.items()}, wall)
    return LearnRun(rec, list(bounds), {p: np.stack(v) for p, v in traj.items()},
                    {k: np.asarray(v, dtype=np.float64) for k, v in (th or {}).items()},
                    (w, th))


def _fixed_learn(runner, fixed, batch, bounds, plastic) -> LearnRun:
    t0 = time.perf_counter()
    res = runner.run(fixed, batch, learn=True, record_weights=True)
    wall = time.perf_counter() - t0
    # a backend that records weights per sample (the emulator) gives every checkpoint; a chip
    # (Lava) only its start and end
    traj, checkpoints = {}, [0, bounds[-1]]
    history = getattr(res, "weight_history", None) or {}
    if history and all(p in history for p in plastic):
        checkpoints = list(bounds)
    for p in plastic:
        fp = fixed.projection(p)
        start = fp.dequantized()
        if len(checkpoints) > 2:
            later = [fp.dequantized(history[p][b - 1]) for b in checkpoints[1:]]
        else:
            later = [fp.dequantized(res.weights[p])]
        traj[p] = np.stack([start] + later)
    th = {pop.name: np.asarray(res.thresholds[pop.name], dtype=np.float64) / pop.scale
          for pop in fixed.populations if pop.name in res.thresholds}
    learned = fixed.with_learned(weights=res.weights, thresholds=res.thresholds)
    return LearnRun(Recording(res.spikes, wall), checkpoints, traj, th, learned)


# ---------------------------------------------------------------------------------------------
# metrics of a phase

def _pair_metrics(recs: dict[str, Recording], pops, dt, tau_vr, penalty) -> dict:
    out = {}
    for a, b in PAIRS:
        if a in recs and b in recs:
            out[pair_key(a, b)] = {p: M.population_metrics(recs[a].spikes[p], recs[b].spikes[p],
                                                            dt, tau_vr, penalty) for p in pops}
    return out


def _classify(net, recs: dict[str, Recording], labels) -> tuple[dict, dict]:
    from spikeport.models.readout import predict

    if net.readout is None or not (np.asarray(labels) >= 0).all():
        return {}, {}
    pred = {k: predict(net, r) for k, r in recs.items()}
    acc = {k: float((p == labels).mean()) for k, p in pred.items()}
    agree = {pair_key(a, b): float((pred[a] == pred[b]).mean())
             for a, b in PAIRS if a in pred and b in pred}
    return acc, agree
