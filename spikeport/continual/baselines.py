"""Learners for the class-incremental protocol (:mod:`spikeport.continual.protocol`).

Every learner has ``train_epoch(split, task, epoch)``, ``end_task(split, task)``,
``predict(split, seen)`` (labels, −1 = abstain) and ``learning_cost()``.

* :class:`SpikingLearner` — a spiking network spec trained in the Brian2 reference with its own
  rules (NACA; its frozen-hidden twin :func:`frozen_twin`; its twin without any
  neuromodulation, SBP + plain supervised STDP, :func:`sbp_twin`).
  Training epoch e of task t presents the task's samples in a seeded order with fresh input
  spikes; prediction encodes with the spec's seed (the spikes ``spikeport simulate`` gives) and
  reads the readout's spike counts per class.
* :class:`ChipLearner` — the same spec learning in Loihi fixed point on spikeport's emulator
  (bit-exact to the Lava processes, tested in ``tests/test_emulator.py``): quantized once from
  its initial float weights, then every epoch is one chip session whose learned integer
  weights carry over. Same sample order and input spikes as :class:`SpikingLearner`. Its
  learning cost holds the op counters summed over every learning run and their energy on the
  hardware profiles (:func:`~spikeport.sweep.jobs.learning_energy`).
* :class:`MLPLearner` — a numpy MLP ``n_in → n_hidden (ReLU) → C`` (softmax cross-entropy,
  minibatch SGD), optionally with EWC (Kirkpatrick et al. 2017): after each task the diagonal
  empirical Fisher ``F_t = mean_n (∂ log p(y_n|x_n)/∂θ)²`` of its training samples is stored
  with θ*_t, and later tasks minimise ``L + Σ_t (λ/2)·Σ_i F_t,i·(θ_i − θ*_t,i)²``. Each
  minibatch gradient (penalty included) is rescaled to a global norm of at most ``clip_norm``
  (the NACA code's EWC uses 100), which keeps large λ from diverging.
  :func:`tune_ewc` picks λ on the validation split.
* :class:`NCMLearner` — a frozen random hidden layer ``h = ReLU(x·W)`` (W ~ N(0, 1/n_in)) and a
  nearest-class-mean readout (Euclidean): forgetting-free by construction, the strong
  reference a continual learner has to be compared with.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from spikeport import seeds
from spikeport.backends.base import get_backend
from spikeport.continual.protocol import (
    CONTINUAL_KEY,
    ProtocolConfig,
    Splits,
    predict_seen,
    run_protocol,
)
from spikeport.errors import SpecError
from spikeport.flow.batch import Split
from spikeport.hw_profiles.profile import load_profile
from spikeport.models.rules import NACA, SBP, SupervisedSTDP
from spikeport.models.spec import Network, WeightInit

# ---------------------------------------------------------------------------------------------
# spiking networks


def _init(p, init: WeightInit | None):
    return p if init is None else replace(p, weights=init)


def frozen_twin(net: Network, init: WeightInit | None = None) -> Network:
    """The same network without hidden-layer plasticity: every NACA or SBP rule removed (those
    synapses keep their initial weights, drawn from ``init`` if given — a NACA network may
    start near zero, where a frozen layer would stay silent); the readout learns as in
    ``net``."""
    found = [p.name for p in net.projections if isinstance(p.learning, (NACA, SBP))]
    if not found:
        raise SpecError(f"network '{net.name}': no NACA or SBP projection to freeze")
    projs = tuple(_init(replace(p, learning=None), init)
                  if isinstance(p.learning, (NACA, SBP)) else p for p in net.projections)
    return replace(net, name=f"{net.name}_frozen", projections=projs)


def sbp_twin(net: Network, f: float = 0.1, rho: float = 0.5,
             init: WeightInit | None = None) -> Network:
    """The same network without neuromodulation: every NACA rule replaced by spikeport's SBP
    (the hidden layer learns from the readout's supervised modification, DESIGN.md §3; with
    ``f_ltp = f_ltd = f``, Bernoulli(ρ) plastic synapses, eligibility τ = NACA's ``tau_pre``,
    NACA's seed), and every supervised readout ungated (``gate: none``: the label-driven gate
    is itself a third factor), i.e. plain supervised STDP + SBP. ``init``: initial weights of
    the replaced projections (SBP needs a hidden layer that fires from the start)."""
    found = [p for p in net.projections if isinstance(p.learning, NACA)]
    if not found:
        raise SpecError(f"network '{net.name}': no NACA projection to replace with SBP")
    projs = []
    for p in net.projections:
        if isinstance(p.learning, NACA):
            p = _init(replace(p, learning=SBP(f_ltp=f, f_ltd=f, rho=rho,
                                              tau_elig=p.learning.tau_pre,
                                              seed=p.learning.seed)), init)
        elif isinstance(p.learning, SupervisedSTDP):
            p = replace(p, learning=replace(p.learning, gate="none"))
        projs.append(p)
    return replace(net, name=f"{net.name}_sbp", projections=tuple(projs))


class SpikingLearner:
    """A spec trained in the Brian2 reference (see the module docstring)."""

    kind = "snn"

    def __init__(self, net: Network, weights: dict, thresholds: dict | None, dataset: str,
                 target: str = "numpy", name: str | None = None, progress: bool = False):
        if net.readout is None:
            raise SpecError(f"network '{net.name}': continual learning needs a readout")
        self.net = net
        self.name = name or net.name
        self.weights = {k: np.asarray(v, np.float64).copy() for k, v in weights.items()}
        self.thresholds = dict(thresholds or {})
        self.dataset = dataset
        self.target = target
        self.progress = progress
        self.samples = 0
        self.spikes = {p.name: 0 for p in net.populations}
        self.steps = 0

    def train_epoch(self, split: Split, task: int, epoch: int) -> None:
        from spikeport.backends.brian2.sim import simulate

        net = self.net
        batch = self._train_batch(split, task, epoch)
        res = simulate(net, batch.inputs, self.weights, teacher=batch.teacher,
                       target=self.target, progress=self.progress, learn=True,
                       thresholds=self.thresholds or None, labels=batch.labels)
        self.weights, self.thresholds = res.weights, res.thresholds
        self._count(split, res)

    def _count(self, split: Split, res) -> None:
        """Add one learning run's samples, steps and spikes to the learning cost."""
        self.samples += len(split)
        self.steps += len(split) * self.net.steps_per_sample
        for pop, spk in res.spikes.items():
            self.spikes[pop] = self.spikes.get(pop, 0) + int(spk.sum())

    def end_task(self, split: Split, task: int) -> None:
        return None

    def _train_batch(self, split: Split, task: int, epoch: int):
        """Epoch ``epoch`` of task ``task``: the task's samples in a seeded order, fresh input
        spikes, teaching spikes and labels."""
        from spikeport.models.inputs import encode_batch

        net = self.net
        order = seeds.rng(net.seed, seeds.SHUFFLE, CONTINUAL_KEY, task, epoch).permutation(
            len(split))
        return encode_batch(net, split.X[order], split.y[order], split.ids[order],
                            self.dataset, "train",
                            seed=seeds.int_seed(net.seed, seeds.INPUT_SPIKES, CONTINUAL_KEY,
                                                task, epoch))

    def _eval_batch(self, split: Split):
        """Scoring input: encoded with the spec's seed (as ``spikeport simulate``)."""
        from spikeport.models.inputs import encode_batch

        return encode_batch(self.net, split.X, split.y, split.ids, self.dataset, split.name)

    def artefact(self, metrics: dict | None = None):
        """The network as trained so far (an :class:`~spikeport.models.artefact.Artefact`)."""
        from spikeport.models.artefact import Artefact

        return Artefact(self.net, {k: v.copy() for k, v in self.weights.items()},
                        {k: np.asarray(v).copy() for k, v in self.thresholds.items()},
                        dict(metrics or {}))

    def scores(self, split: Split) -> np.ndarray:
        """Readout spike counts per class, (n, C), learning off."""
        from spikeport.backends.brian2.sim import simulate
        from spikeport.models.readout import class_counts

        net = self.net
        batch = self._eval_batch(split)
        res = simulate(net, batch.inputs, self.weights, teacher=batch.teacher,
                       target=self.target, progress=self.progress, learn=False,
                       thresholds=self.thresholds or None)
        return class_counts(net, res.counts(net.readout.population))

    def predict(self, split: Split, seen) -> np.ndarray:
        s = self.scores(split)
        return predict_seen(s, seen, abstain=s[:, list(seen)].max(axis=1) <= 0)

    def learning_cost(self) -> dict:
        """Measured activity of the learning phase in the Brian2 reference. Hook: op counts
        and energy on the hardware profiles come from the Lava/emulator backend, which fills
        ``ops`` and ``energy`` (None until then)."""
        return {"backend": f"brian2 ({self.target})", "samples": self.samples,
                "steps": self.steps, "spikes": dict(self.spikes), "ops": None, "energy": None}


class ChipLearner(SpikingLearner):
    """A spec learning in fixed point on the emulator (see the module docstring)."""

    kind = "snn_chip"

    def __init__(self, net: Network, weights: dict, thresholds: dict | None, dataset: str,
                 name: str | None = None, profiles=("loihi1", "loihi2"), options=None):
        from spikeport.converters.quantize import quantize

        super().__init__(net, weights, thresholds, dataset, name=name or f"{net.name}_chip")
        if thresholds:
            raise SpecError(f"network '{net.name}': a fixed-point continual run starts from "
                            "the spec's thresholds; give a spec, not a trained artefact")
        self.fixed = quantize(net, self.weights, options)
        self.initial = self.fixed
        self.backend = get_backend("emulator")
        self.ops: dict = {}
        self.profiles = tuple(profiles)

    def train_epoch(self, split: Split, task: int, epoch: int) -> None:
        from spikeport.flow.ops import OpCounts

        batch = self._train_batch(split, task, epoch)
        res = self.backend.run(self.fixed, batch, learn=True)
        self.fixed = self.fixed.with_learned(weights=res.weights, thresholds=res.thresholds)
        self.ops = (OpCounts.from_json(self.ops) + res.ops).to_json()
        self._count(split, res)

    def scores(self, split: Split) -> np.ndarray:
        from spikeport.models.readout import class_counts

        net = self.net
        res = self.backend.run(self.fixed, self._eval_batch(split), learn=False)
        return class_counts(net, res.counts(net.readout.population))

    def learning_cost(self) -> dict:
        """Op counters of every learning run, summed, and their dynamic energy per profile
        (a range; a profile whose mapper refuses the network says why)."""
        from spikeport.sweep.jobs import learning_energy

        profs = [{"name": p, "path": str(load_profile(p).path)} for p in self.profiles]
        return {"backend": "emulator (Loihi fixed point, bit-exact to Lava)",
                "samples": self.samples, "steps": self.steps, "spikes": dict(self.spikes),
                "ops": self.ops,
                "energy": learning_energy(self.initial, self.ops, self.samples, profs)}


# ---------------------------------------------------------------------------------------------
# numpy MLP (SGD, EWC)


class MLPLearner:
    """``n_in → n_hidden (ReLU) → C`` with softmax cross-entropy and minibatch SGD; EWC when
    ``ewc_lambda > 0`` (module docstring). Weights ~ N(0, 2/n_in) and N(0, 1/n_hidden), biases
    0, all from ``rng(seed, WEIGHTS, CONTINUAL_KEY)``."""

    kind = "mlp"

    def __init__(self, n_in: int, n_hidden: int, n_classes: int, seed: int, lr: float = 0.05,
                 batch: int = 64, ewc_lambda: float = 0.0, clip_norm: float = 100.0,
                 name: str | None = None):
        for field_name, v in (("n_hidden", n_hidden), ("batch", batch)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SpecError(f"continual mlp: {field_name} = {v!r} is invalid; allowed: "
                                "integers >= 1")
        if not lr > 0:
            raise SpecError(f"continual mlp: lr = {lr!r} is invalid; allowed: > 0")
        if not ewc_lambda >= 0:
            raise SpecError(f"continual mlp: ewc_lambda = {ewc_lambda!r} is invalid; allowed: "
                            ">= 0")
        if not clip_norm > 0:
            raise SpecError(f"continual mlp: clip_norm = {clip_norm!r} is invalid; allowed: > 0")
        self.clip_norm = float(clip_norm)
        r = seeds.rng(seed, seeds.WEIGHTS, CONTINUAL_KEY)
        self.params = {"W1": r.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_hidden)),
                       "b1": np.zeros(n_hidden),
                       "W2": r.normal(0.0, np.sqrt(1.0 / n_hidden), (n_hidden, n_classes)),
                       "b2": np.zeros(n_classes)}
        self.seed, self.lr, self.batch, self.ewc_lambda = seed, lr, batch, float(ewc_lambda)
        self.name = name or ("mlp_ewc" if ewc_lambda > 0 else "mlp_sgd")
        self.fisher = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.fisher_anchor = {k: np.zeros_like(v) for k, v in self.params.items()}  # Σ F·θ*
        self.samples = 0

    def _forward(self, X):
        p = self.params
        z = X @ p["W1"] + p["b1"]
        h = np.maximum(z, 0.0)
        logits = h @ p["W2"] + p["b2"]
        return z, h, logits

    def _grads(self, X, y, per_sample_sq: bool = False):
        """Mean cross-entropy gradients; with ``per_sample_sq`` the mean of squared
        per-sample gradients instead (the diagonal empirical Fisher)."""
        z, h, logits = self._forward(X)
        q = np.exp(logits - logits.max(axis=1, keepdims=True))
        q /= q.sum(axis=1, keepdims=True)
        d2 = q.copy()
        d2[np.arange(len(y)), y] -= 1.0                    # ∂L/∂logits per sample
        d1 = (d2 @ self.params["W2"].T) * (z > 0)          # ∂L/∂z per sample
        n = len(y)
        if per_sample_sq:
            return {"W1": (X ** 2).T @ (d1 ** 2) / n, "b1": (d1 ** 2).mean(axis=0),
                    "W2": (h ** 2).T @ (d2 ** 2) / n, "b2": (d2 ** 2).mean(axis=0)}
        return {"W1": X.T @ d1 / n, "b1": d1.mean(axis=0), "W2": h.T @ d2 / n,
                "b2": d2.mean(axis=0)}

    def train_epoch(self, split: Split, task: int, epoch: int) -> None:
        order = seeds.rng(self.seed, seeds.SHUFFLE, CONTINUAL_KEY, task, epoch).permutation(
            len(split))
        X, y = split.X.astype(np.float64), split.y
        for start in range(0, len(order), self.batch):
            idx = order[start:start + self.batch]
            g = self._grads(X[idx], y[idx])
            if self.ewc_lambda > 0:
                for k in self.params:
                    # ∂/∂θ of Σ_t (λ/2)·F_t·(θ − θ*_t)² = λ·(F·θ − Σ_t F_t·θ*_t)
                    g[k] = g[k] + self.ewc_lambda * (self.fisher[k] * self.params[k]
                                                     - self.fisher_anchor[k])
            norm = np.sqrt(sum(float((v ** 2).sum()) for v in g.values()))
            scale = min(1.0, self.clip_norm / norm) if norm > 0 else 1.0
            for k in self.params:
                self.params[k] = self.params[k] - self.lr * scale * g[k]
        self.samples += len(split)

    def end_task(self, split: Split, task: int) -> None:
        if self.ewc_lambda <= 0:
            return
        F = self._grads(split.X.astype(np.float64), split.y, per_sample_sq=True)
        for k in self.params:
            self.fisher[k] = self.fisher[k] + F[k]
            self.fisher_anchor[k] = self.fisher_anchor[k] + F[k] * self.params[k]

    def predict(self, split: Split, seen) -> np.ndarray:
        return predict_seen(self._forward(split.X.astype(np.float64))[2], seen)

    def learning_cost(self) -> dict:
        n_in, n_h = self.params["W1"].shape
        C = self.params["W2"].shape[1]
        macs = 3 * (n_in * n_h + n_h * C)   # forward + two backward products per sample
        return {"backend": "numpy", "samples": self.samples,
                "macs_per_sample": macs, "macs": macs * self.samples}


def tune_ewc(splits: Splits, cfg: ProtocolConfig, grid, **mlp) -> tuple[float, dict]:
    """λ with the best final mean accuracy on the *validation* split (ties: the smaller λ);
    returns (λ, {λ: that accuracy})."""
    if not grid:
        raise SpecError("continual: the EWC λ grid is empty")
    scores = {}
    for lam in sorted(float(v) for v in grid):
        learner = MLPLearner(ewc_lambda=lam, **mlp)
        run = run_protocol(learner, splits, cfg, evaluate_on="val")
        scores[lam] = float(np.mean(run.matrix[-1]))
    best = max(scores, key=lambda k: (scores[k], -k))
    return best, scores


# ---------------------------------------------------------------------------------------------
# nearest class mean on a frozen random hidden layer


class NCMLearner:
    """Frozen random ReLU features and class means (module docstring). One pass is enough:
    later epochs of a task do not change a mean, so ``train_epoch`` counts each task once."""

    kind = "ncm"

    def __init__(self, n_in: int, n_hidden: int, n_classes: int, seed: int,
                 name: str = "ncm_random"):
        if isinstance(n_hidden, bool) or not isinstance(n_hidden, int) or n_hidden < 1:
            raise SpecError(f"continual ncm: n_hidden = {n_hidden!r} is invalid; allowed: "
                            "integers >= 1")
        r = seeds.rng(seed, seeds.WEIGHTS, CONTINUAL_KEY, 1)
        self.W = r.normal(0.0, np.sqrt(1.0 / n_in), (n_in, n_hidden))
        self.sums = np.zeros((n_classes, n_hidden))
        self.counts = np.zeros(n_classes)
        self.done: set[int] = set()
        self.name = name
        self.samples = 0

    def features(self, X) -> np.ndarray:
        return np.maximum(np.asarray(X, np.float64) @ self.W, 0.0)

    def train_epoch(self, split: Split, task: int, epoch: int) -> None:
        if task in self.done:
            return
        self.done.add(task)
        h = self.features(split.X)
        np.add.at(self.sums, split.y, h)
        np.add.at(self.counts, split.y, 1.0)
        self.samples += len(split)

    def end_task(self, split: Split, task: int) -> None:
        return None

    def predict(self, split: Split, seen) -> np.ndarray:
        h = self.features(split.X)
        means = self.sums / np.maximum(self.counts, 1.0)[:, None]
        d2 = (h ** 2).sum(axis=1)[:, None] - 2.0 * h @ means.T + (means ** 2).sum(axis=1)[None]
        return predict_seen(-d2, seen)

    def learning_cost(self) -> dict:
        return {"backend": "numpy", "samples": self.samples}
