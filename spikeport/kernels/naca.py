"""NACA (neuromodulated credit assignment, Zhang et al. 2023) as pure numpy float functions.

The float oracle of spikeport's NACA rule (DESIGN.md §3, PAPERS.md §3): the Brian2 reference
(:mod:`spikeport.backends.brian2.rules`) and the whole-network oracle
(``tests/oracles/float_reference.py``) are tested against these functions, and the Lava
dopamine source computes the same per-sample modulation in integers.

**Expectation encoding.** For C classes, class c (0-based) activates two of 2C slots,
``a_c`` and ``a_c + 1``, with weight ½ each, where (1-based i = c + 1)::

    a_i = ⌊ √(2·ln(C/i)) / √(2·ln C) · 2(C − 1) ⌋

(the maximum over i is at i = 1). C = 10 gives a = [18, 15, 13, 11, 9, 8, 7, 5, 3, 0].

**Dopamine level.** A fixed random matrix ``NI ∈ [0, 1]^{2C×N}`` (a column per postsynaptic
neuron, seeded from the spec) gives neuron j the level ``nl_j = E(c)·NI[:, j] =
½(NI[a_c, j] + NI[a_c + 1, j])`` for a sample of class c: label-only, per class and neuron.

**Modulation curve** (λ = ``lambda_inv``, θ = ``theta_max``), piecewise quadratic and
odd-symmetric about (λ, 0)::

    nl ≤ λ/2        m = θ − (θ−1)·(4nl − λ)²/λ²
    λ/2 < nl ≤ λ    m = 4(nl − λ)²/λ²
    λ < nl ≤ 3λ/2   m = −4(λ − nl)²/λ²
    nl > 3λ/2       m = (θ−1)·(4(2λ − nl) − λ)²/λ² − θ

With λ = 0.5, θ = 1.2: m(0) = 1, m(0.125) = 1.2, m(0.25) = 1, m(0.5) = 0, m(0.75) = −1,
m(0.875) = −1.2, m(1) = −1.

**Plasticity** (once per sample, at its last step; spikeport's spiking form, which maps onto a
Loihi three-factor rule: modulation × local trace products)::

    Δw_ij = −η · m_j · (x_i − x0) · p_j        x0 = x_offset_ltp if m_j < 0
                                                 x0 = x_offset_ltd if m_j > 0

``x_i`` is the presynaptic trace (decay exp(−dt/τ_pre) per step, +1 per spike) read at the
sample's last step; ``p_j`` is 1 (``post = "none"``) or the postsynaptic trace y_j
(``post = "trace"``, time constant τ_post). m_j > 0 (low dopamine) depresses the synapses of
active inputs, m_j < 0 (high dopamine) potentiates them; an offset x0 > 0 turns the factor into
a covariance-like one (inputs below x0 move the other way). The weight is then clipped to the
projection's [w_min, w_max]; absent synapses stay exactly zero.
"""

from __future__ import annotations

import math

import numpy as np

from spikeport import seeds

NI_DISTRIBUTIONS = ("uniform", "normal", "beta")
POST_FACTORS = ("none", "trace")


def expectation_slots(n_classes: int) -> np.ndarray:
    """The first active slot ``a_c`` of every class c = 0..C−1 (int64, distinct, in [0, 2C−2]).

    Raises ValueError for C < 2 or if two classes would share their first slot."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 2:
        raise ValueError(f"n_classes = {n_classes!r} is invalid; allowed: integers >= 2")
    C = int(n_classes)
    i = np.arange(1, C + 1, dtype=np.float64)
    level = np.sqrt(2.0 * np.log(C / i))
    a = np.floor(level / level[0] * 2 * (C - 1) + 1e-9).astype(np.int64)
    if len(set(a.tolist())) != C:
        raise ValueError(f"n_classes = {C}: the expectation encoding gives repeated slots "
                         f"{a.tolist()}; allowed: a class count whose slots are distinct")
    return a


def expectation(labels, n_classes: int) -> np.ndarray:
    """E (n, 2C): ½ at slots a_c and a_c + 1 of each sample's class c."""
    labels = _check_labels(labels, n_classes)
    a = expectation_slots(n_classes)
    E = np.zeros((labels.size, 2 * n_classes))
    rows = np.arange(labels.size)
    E[rows, a[labels]] += 0.5
    E[rows, a[labels] + 1] += 0.5
    return E


def ni_matrix(distribution: str, n_classes: int, n_post: int, rng: np.random.Generator,
              mean: float = 0.5, std: float = 1.0, alpha: float = 0.5,
              beta: float = 0.5) -> np.ndarray:
    """NI (2C, n_post) in [0, 1]: ``uniform`` U(0, 1); ``normal`` N(mean, std) clipped to
    [0, 1]; ``beta`` Beta(alpha, beta)."""
    if distribution not in NI_DISTRIBUTIONS:
        raise ValueError(f"ni_distribution = {distribution!r} is invalid; allowed: "
                         + ", ".join(NI_DISTRIBUTIONS))
    shape = (2 * int(n_classes), int(n_post))
    if distribution == "uniform":
        return rng.random(shape)
    if distribution == "normal":
        return np.clip(rng.normal(mean, std, shape), 0.0, 1.0)
    return rng.beta(alpha, beta, shape)


def rule_ni(rule, n_post: int, net_seed: int, proj_name: str) -> np.ndarray:
    """The NI matrix of a NACA rule on projection ``proj_name``: drawn from
    ``rng(net_seed, NACA_NI, name_key(proj_name), rule.seed)``, so every backend builds the
    same matrix from the spec."""

    rng = seeds.rng(net_seed, seeds.NACA_NI, seeds.name_key(proj_name), rule.seed)
    return ni_matrix(rule.ni_distribution, rule.n_classes, n_post, rng, rule.ni_mean,
                     rule.ni_std, rule.ni_alpha, rule.ni_beta)


def dopamine(labels, ni: np.ndarray, n_classes: int) -> np.ndarray:
    """Dopamine levels nl (n, n_post) = E(labels)·NI."""
    ni = np.asarray(ni, dtype=np.float64)
    if ni.ndim != 2 or ni.shape[0] != 2 * n_classes:
        raise ValueError(f"NI shape {ni.shape} is invalid; allowed: (2·n_classes = "
                         f"{2 * n_classes}, n_post)")
    return expectation(labels, n_classes) @ ni


def modulation(nl, lambda_inv: float = 0.5, theta_max: float = 1.2) -> np.ndarray:
    """The piecewise-quadratic curve m = g(nl) of the module docstring (elementwise)."""
    if not (isinstance(lambda_inv, (int, float)) and 0 < lambda_inv <= 1):
        raise ValueError(f"lambda_inv = {lambda_inv!r} is invalid; allowed: (0, 1]")
    if not (isinstance(theta_max, (int, float)) and math.isfinite(theta_max)
            and theta_max >= 1):
        raise ValueError(f"theta_max = {theta_max!r} is invalid; allowed: [1, inf)")
    nl = np.asarray(nl, dtype=np.float64)
    lam, th = float(lambda_inv), float(theta_max)
    one = th - (th - 1) * (4 * nl - lam) ** 2 / lam ** 2
    two = 4 * (nl - lam) ** 2 / lam ** 2
    three = -4 * (lam - nl) ** 2 / lam ** 2
    four = (th - 1) * (4 * (2 * lam - nl) - lam) ** 2 / lam ** 2 - th
    return np.where(nl <= lam / 2, one,
                    np.where(nl <= lam, two, np.where(nl <= 1.5 * lam, three, four)))


def modulation_table(rule, ni: np.ndarray, labels) -> np.ndarray:
    """m (n_samples, n_post): each sample's modulation of every postsynaptic neuron."""
    return modulation(dopamine(labels, ni, rule.n_classes), rule.lambda_inv, rule.theta_max)


def class_modulation(rule, ni: np.ndarray) -> np.ndarray:
    """m (C, n_post) for every class: what a dopamine source holds (row c is sent to the
    postsynaptic neurons as their third factor while a sample of class c is presented)."""
    return modulation_table(rule, ni, np.arange(rule.n_classes))


def naca_step(w, x_pre, post, m, exists, eta: float, x_offset_ltp: float,
              x_offset_ltd: float, lo: float, hi: float) -> np.ndarray:
    """One sample-end update: ``w + Δw`` (Δw of the module docstring), clipped to [lo, hi] on
    existing synapses; absent synapses keep their value.

    ``x_pre`` (n_pre,) presynaptic traces, ``post`` (n_post,) the post factor p_j, ``m``
    (n_post,) the sample's modulation, ``exists`` bool (n_pre, n_post)."""
    m = np.asarray(m, dtype=np.float64)
    x = np.asarray(x_pre, dtype=np.float64)[:, None]
    x0 = np.where(m < 0, x_offset_ltp, x_offset_ltd)[None, :]
    dw = -eta * (m * np.asarray(post, dtype=np.float64))[None, :] * (x - x0)
    return np.where(exists, np.clip(w + dw, lo, hi), w)


def _check_labels(labels, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-d integer array, got shape {labels.shape} "
                         f"dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels span [{labels.min()}, {labels.max()}]; allowed: "
                         f"[0, {n_classes - 1}] (n_classes = {n_classes})")
    return labels.astype(np.int64)
