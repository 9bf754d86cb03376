"""Initial weights and connectivity masks of a spec's projections, shape (n_pre, n_post).

Brian2 and spikeport index weights (pre, post); Lava's Dense holds (post, pre). The converter
transposes in one place; everything here is (pre, post).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport import seeds
from spikeport.errors import SpecError
from spikeport.io import load_npz
from spikeport.models.spec import Network, Projection


def connectivity_mask(net: Network, proj: Projection) -> np.ndarray:
    """Boolean (n_pre, n_post): which synapses exist (fixed, seeded)."""
    n_pre, n_post = net.size(proj.pre), net.size(proj.post)
    c = proj.connectivity
    if c.kind == "all":
        return np.ones((n_pre, n_post), dtype=bool)
    if c.kind == "random":
        r = seeds.rng(net.seed, seeds.CONNECTIVITY, seeds.name_key(proj.name), c.seed)
        return r.random((n_pre, n_post)) < c.p
    block = n_post // c.groups
    stride = max(1, c.groups // c.per_neuron)
    mask = np.zeros((n_pre, n_post), dtype=bool)
    for j in range(n_pre):
        for i in range(c.per_neuron):
            g = (j + i * stride) % c.groups
            mask[j, g * block:(g + 1) * block] = True
    return mask


def check_weights(net: Network, proj: Projection, w: np.ndarray, source: str = "") -> np.ndarray:
    """Shape and finiteness check, naming the projection (and the file it came from)."""
    n_pre, n_post = net.size(proj.pre), net.size(proj.post)
    w = np.asarray(w)
    origin = f" (from {source})" if source else ""
    if w.shape != (n_pre, n_post):
        raise SpecError(f"projection '{proj.name}': weights shape {tuple(w.shape)}{origin} does "
                        f"not match (n_pre={n_pre}, n_post={n_post})")
    if not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)) \
            or not np.all(np.isfinite(w)):
        raise SpecError(f"projection '{proj.name}': weights{origin} must be finite real numbers "
                        f"(got {w.dtype})")
    if proj.sign_mode == "excitatory" and np.any(w < 0):
        raise SpecError(f"projection '{proj.name}': weights{origin} has negative values "
                        f"(min {w.min():.4g}) but sign_mode is excitatory")
    if proj.sign_mode == "inhibitory" and np.any(w > 0):
        raise SpecError(f"projection '{proj.name}': weights{origin} has positive values "
                        f"(max {w.max():.4g}) but sign_mode is inhibitory")
    return w.astype(np.float64)


def initial_weights(net: Network, base_dir: str | Path | None = None) -> dict[str, np.ndarray]:
    """Every projection's initial (masked) weights; ``file`` weights resolve against
    ``base_dir`` (the spec's folder)."""
    out = {}
    for proj in net.projections:
        init = proj.weights
        n_pre, n_post = net.size(proj.pre), net.size(proj.post)
        r = seeds.rng(net.seed, seeds.WEIGHTS, seeds.name_key(proj.name))
        if init.kind == "uniform":
            w = r.uniform(init.low, init.high, (n_pre, n_post))
        elif init.kind == "normal":
            w = r.normal(init.mean, init.std, (n_pre, n_post))
        elif init.kind == "constant":
            w = np.full((n_pre, n_post), init.value)
        else:
            path = Path(init.path)
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            arrays = load_npz(path)
            key = init.key or proj.name
            if key not in arrays:
                raise SpecError(f"projection '{proj.name}'.weights: key {key!r} not in {path} "
                                f"(it holds {', '.join(sorted(arrays)) or 'nothing'})")
            w = check_weights(net, proj, arrays[key], f"{path}[{key}]")
        if init.kind == "normal" and proj.sign_mode == "excitatory":
            w = np.abs(w)  # half-normal, as documented in WeightInit
        elif init.kind == "normal" and proj.sign_mode == "inhibitory":
            w = -np.abs(w)
        w = np.clip(w, proj.w_min, proj.w_max)
        out[proj.name] = w * connectivity_mask(net, proj)
    return out


def sbp_mask(net: Network, proj: Projection) -> np.ndarray:
    """Boolean (n_pre, n_post): the synapses of ``proj`` its SBP rule may change.

    A fixed Bernoulli(ρ) draw from ``rng(net.seed, SBP_MASK, name_key(proj.name), rule.seed)``,
    restricted to synapses that exist (absent synapses never learn and stay exactly zero).
    Every backend (Brian2 reference, float oracle, fixed-point kernels) uses this one mask.
    """
    rule = proj.learning
    rho = getattr(rule, "rho", None)
    if rho is None:
        raise SpecError(f"projection '{proj.name}': no SBP rule, so no SBP mask")
    n_pre, n_post = net.size(proj.pre), net.size(proj.post)
    r = seeds.rng(net.seed, seeds.SBP_MASK, seeds.name_key(proj.name), rule.seed)
    return (r.random((n_pre, n_post)) < rho) & connectivity_mask(net, proj)
