"""How far two spike recordings of the same inputs drift apart (numpy only).

Every function takes spike arrays of one population from two backends, bool
``(n_samples, steps, n)`` with identical shapes (the same input spikes went through both), and
compares them sample by sample. Times are in steps; callers convert with ``dt``.

* **match rate**: fraction of (sample, step, neuron) bins where both agree (spike or silence).
  Dominated by silence for sparse activity; **coincidence** ``|a ∧ b| / |a ∨ b|`` looks at the
  spikes only (1 for two silent recordings).
* **spike-count correlation**, per neuron: Pearson's r across samples of the neuron's spike
  count per sample; undefined (``nan``) for a neuron whose count is constant in either
  recording. ``pooled``: r over all (sample, neuron) counts at once.
* **cosine similarity of time-averaged activity** (the metric of the NIR paper): per sample,
  ``r·r' / (|r| |r'|)`` with ``r`` the rate vector ``mean_t s[t]``; 1 when both are silent,
  0 when only one is.
* **first-spike-time error**: per (sample, neuron) where at least one recording spikes,
  ``|t_a − t_b|`` if both spike, else ``penalty`` (a missing first spike counts as that late).
* **van Rossum distance** (van Rossum 2001), per (sample, neuron): each train is filtered with
  a causal exponential of time constant τ, ``f(t) = Σ_i H(t − t_i) e^{−(t − t_i)/τ}``, and
  ``D² = (2/τ) ∫_0^∞ (f_a − f_b)² dt = Σ_ij e^{−|a_i−a_j|/τ} + Σ_ij e^{−|b_i−b_j|/τ}
  − 2 Σ_ij e^{−|a_i−b_j|/τ}``: one unmatched spike gives D = 1 (elephant's normalisation;
  divide by √2 for the paper's). On the step grid it is computed exactly with the recursion
  ``d_k = d_{k−1} e^{−1/τ} + a_k − b_k`` (τ in steps): between steps the difference decays, so
  ``D² = (1 − e^{−2/τ}) Σ_{k<T−1} d_k² + d_{T−1}²`` (the last term is the tail after the
  sample).
* **first differing step**: per sample, the first step at which any neuron's spike differs
  (−1 if none).
* **classification**: both accuracies and the agreement (same predicted label).
* **weight divergence**: RMS over synapses of ``w_a − w_b`` (weight units) at each checkpoint
  of learning, and its RMS over time ``sqrt(mean_k d_k²)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# metric -> True when larger is better (what --fail-under/--fail-over may gate on)
HIGHER_IS_BETTER = {
    "match_rate": True, "coincidence": True, "count_corr": True, "count_corr_pooled": True,
    "cosine": True, "identical_samples": True, "first_diff_step_median": True,
    "van_rossum": False, "first_spike_error_ms": False, "first_spike_missing": False,
    "rate_error_hz": False,
}


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 3 or a.shape != b.shape:
        raise ValueError(f"spike arrays must both be (n_samples, steps, n) of equal shape; got "
                         f"{a.shape} and {b.shape}")
    return a.astype(bool), b.astype(bool)


def match_rate(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of (sample, step, neuron) bins where ``a`` and ``b`` agree."""
    a, b = _pair(a, b)
    return float((a == b).mean()) if a.size else 1.0


def coincidence(a: np.ndarray, b: np.ndarray) -> float:
    """``|a ∧ b| / |a ∨ b|`` over all bins (1 when neither spikes)."""
    a, b = _pair(a, b)
    union = int((a | b).sum())
    return 1.0 if union == 0 else float((a & b).sum() / union)


@dataclass(frozen=True)
class CountCorrelation:
    """Per-neuron Pearson r of spike counts across samples (``nan`` where undefined), their
    mean over defined neurons (None if none), how many are defined, and the pooled r."""

    per_neuron: np.ndarray
    mean: float | None
    defined: int
    pooled: float | None


def _pearson(x: np.ndarray, y: np.ndarray, axis: int = 0) -> np.ndarray:
    x = x - x.mean(axis=axis, keepdims=True)
    y = y - y.mean(axis=axis, keepdims=True)
    sxy = (x * y).sum(axis=axis)
    sxx, syy = (x * x).sum(axis=axis), (y * y).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    return np.where((sxx > 0) & (syy > 0), r, np.nan)


def count_correlation(a: np.ndarray, b: np.ndarray) -> CountCorrelation:
    """Spike-count correlation per neuron across samples (see the module docstring)."""
    a, b = _pair(a, b)
    ca, cb = a.sum(axis=1).astype(np.float64), b.sum(axis=1).astype(np.float64)  # (S, n)
    per = _pearson(ca, cb, axis=0)
    ok = ~np.isnan(per)
    pooled = _pearson(ca.ravel()[:, None], cb.ravel()[:, None], axis=0)[0]
    return CountCorrelation(per, float(per[ok].mean()) if ok.any() else None, int(ok.sum()),
                            None if np.isnan(pooled) else float(pooled))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per sample, cosine of the time-averaged activity vectors (1 if both silent, 0 if one)."""
    a, b = _pair(a, b)
    ra, rb = a.mean(axis=1), b.mean(axis=1)  # (S, n)
    na, nb = np.linalg.norm(ra, axis=1), np.linalg.norm(rb, axis=1)
    dot = (ra * rb).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = dot / (na * nb)
    return np.where((na == 0) & (nb == 0), 1.0, np.where((na == 0) | (nb == 0), 0.0, cos))


def first_spike_times(s: np.ndarray) -> np.ndarray:
    """Step of each neuron's first spike per sample, int ``(n_samples, n)``; −1 if silent."""
    s = np.asarray(s, dtype=bool)
    first = np.argmax(s, axis=1)
    return np.where(s.any(axis=1), first, -1)


@dataclass(frozen=True)
class FirstSpikeError:
    """Mean first-spike-time error [steps] over (sample, neuron) pairs where at least one
    recording spikes (None if there are none); ``pairs`` counted, ``missing`` of them with
    one first spike missing (each scored ``penalty``)."""

    mean: float | None
    pairs: int
    missing: int
    penalty: float


def first_spike_error(a: np.ndarray, b: np.ndarray, penalty: float | None = None
                      ) -> FirstSpikeError:
    """First-spike-time error with ``penalty`` steps (default: the sample length) for a first
    spike present in only one recording."""
    a, b = _pair(a, b)
    penalty = float(a.shape[1]) if penalty is None else float(penalty)
    if not penalty >= 0:
        raise ValueError(f"penalty={penalty!r} must be >= 0")
    ta, tb = first_spike_times(a), first_spike_times(b)
    both = (ta >= 0) & (tb >= 0)
    one = (ta >= 0) ^ (tb >= 0)
    pairs = int(both.sum() + one.sum())
    if pairs == 0:
        return FirstSpikeError(None, 0, 0, penalty)
    total = np.abs(ta - tb)[both].sum() + penalty * one.sum()
    return FirstSpikeError(float(total / pairs), pairs, int(one.sum()), penalty)


def van_rossum_distance(a: np.ndarray, b: np.ndarray, tau_steps: float) -> np.ndarray:
    """van Rossum distance per (sample, neuron), float ``(n_samples, n)``; ``tau_steps`` is the
    kernel's time constant in steps (see the module docstring for the exact formula)."""
    a, b = _pair(a, b)
    if not (isinstance(tau_steps, (int, float)) and math.isfinite(tau_steps) and tau_steps > 0):
        raise ValueError(f"tau_steps={tau_steps!r} must be a finite number > 0")
    n_samples, steps, n = a.shape
    if steps == 0:
        return np.zeros((n_samples, n))
    decay = math.exp(-1.0 / tau_steps)
    between = 1.0 - decay * decay  # (2/τ)∫ over one step of (d e^{-t/τ})² = d²(1 − e^{−2/τ})
    diff = a.astype(np.float64) - b.astype(np.float64)
    d = np.zeros((n_samples, n))
    acc = np.zeros((n_samples, n))
    for k in range(steps):
        d = d * decay + diff[:, k]
        acc += d * d * (between if k < steps - 1 else 1.0)
    return np.sqrt(np.maximum(acc, 0.0))


def first_difference_step(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per sample, the first step at which any neuron's spike differs; −1 if none does."""
    a, b = _pair(a, b)
    differs = (a != b).any(axis=2)  # (S, T)
    return np.where(differs.any(axis=1), np.argmax(differs, axis=1), -1)


def classification(labels: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict:
    """Accuracy of each prediction and their agreement (same label), as floats."""
    labels, pred_a, pred_b = (np.asarray(x) for x in (labels, pred_a, pred_b))
    if not labels.shape == pred_a.shape == pred_b.shape or labels.ndim != 1:
        raise ValueError(f"labels and predictions must be 1-D of equal length; got "
                         f"{labels.shape}, {pred_a.shape}, {pred_b.shape}")
    if labels.size == 0:
        raise ValueError("no samples to classify")
    return {"accuracy_a": float((pred_a == labels).mean()),
            "accuracy_b": float((pred_b == labels).mean()),
            "agreement": float((pred_a == pred_b).mean())}


def weight_rms(wa: np.ndarray, wb: np.ndarray, mask: np.ndarray | None = None) -> float:
    """RMS of ``wa − wb`` over the synapses in ``mask`` (all if None), in weight units."""
    wa, wb = np.asarray(wa, dtype=np.float64), np.asarray(wb, dtype=np.float64)
    if wa.shape != wb.shape:
        raise ValueError(f"weight shapes differ: {wa.shape} vs {wb.shape}")
    d = wa - wb
    if mask is not None:
        d = d[np.broadcast_to(np.asarray(mask, dtype=bool), d.shape)]
    return float(np.sqrt(np.mean(d * d))) if d.size else 0.0


def trajectory_divergence(traj_a: np.ndarray, traj_b: np.ndarray,
                          mask: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weight trajectories ``(K, n_pre, n_post)`` -> RMS divergence at each of the K
    checkpoints and its RMS over time ``sqrt(mean_k d_k²)`` (weight units)."""
    traj_a, traj_b = np.asarray(traj_a), np.asarray(traj_b)
    if traj_a.ndim != 3 or traj_a.shape != traj_b.shape:
        raise ValueError(f"trajectories must both be (K, n_pre, n_post); got {traj_a.shape} "
                         f"and {traj_b.shape}")
    curve = np.array([weight_rms(x, y, mask) for x, y in zip(traj_a, traj_b)])
    return curve, float(np.sqrt(np.mean(curve ** 2))) if curve.size else 0.0


def _none_if_nan(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def population_metrics(a: np.ndarray, b: np.ndarray, dt: float, tau_vr: float,
                       penalty_steps: float | None = None) -> dict:
    """Every spike metric of one population, ``a`` against ``b``, as a JSON-ready dict.

    ``dt`` [s] converts steps to ms and rates to Hz; ``tau_vr`` [s] is the van Rossum time
    constant; ``penalty_steps``: the first-spike penalty (default: the sample length).
    """
    a, b = _pair(a, b)
    n_samples, steps, _ = a.shape
    cc = count_correlation(a, b)
    fse = first_spike_error(a, b, penalty_steps)
    first = first_difference_step(a, b)
    differ = first >= 0
    order = np.flatnonzero(differ)
    first_global = None
    if order.size:
        s = int(order[0])
        first_global = {"sample": s, "step": int(first[s])}
    rate_a = float(a.mean() / dt)
    rate_b = float(b.mean() / dt)
    return {
        "match_rate": match_rate(a, b),
        "coincidence": coincidence(a, b),
        "count_corr": cc.mean,
        "count_corr_neurons": cc.defined,
        "count_corr_pooled": cc.pooled,
        "cosine": float(cosine_similarity(a, b).mean()) if n_samples else 1.0,
        "first_spike_error_ms": None if fse.mean is None else 1e3 * dt * fse.mean,
        "first_spike_missing": fse.missing / fse.pairs if fse.pairs else 0.0,
        "first_spike_penalty_ms": 1e3 * dt * fse.penalty,
        "van_rossum": float(van_rossum_distance(a, b, tau_vr / dt).mean()) if a.size else 0.0,
        "van_rossum_tau_ms": 1e3 * tau_vr,
        "identical_samples": float((~differ).mean()) if n_samples else 1.0,
        "first_diff_step_min": int(first[differ].min()) if differ.any() else None,
        "first_diff_step_median": _none_if_nan(float(np.median(first[differ])))
        if differ.any() else None,
        "first_diff": first_global,
        "rate_hz_a": rate_a,
        "rate_hz_b": rate_b,
        "rate_error_hz": abs(rate_a - rate_b),
        "spikes_a": int(a.sum()),
        "spikes_b": int(b.sum()),
    }
