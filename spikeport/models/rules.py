"""Plasticity specs: what a projection learns with and when.

Each rule is a frozen dataclass of its parameters, with the update it stands for in the
docstring (DESIGN.md §3 is the reference). Every rule names its learning epoch ``t_epoch``: ``1``
(update each step, as pair-based STDP needs, since the chip keeps only the last spike per epoch)
or ``"T"`` (once per sample, at the sample's last step). Time constants are in seconds, rates in
weight units per event; the quantizer turns them into Lava trace taus and rule mantissas.

In YAML a rule is a mapping with a ``rule`` key naming its kind, e.g.::

    learning: {rule: supervised_stdp, eta: 0.01, tau_pre: 20 ms}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Union

from spikeport.errors import SpecError
from spikeport.kernels.naca import expectation_slots
from spikeport.models._fields import (
    check_choice,
    check_finite,
    check_int,
    check_positive,
    check_range,
    fail,
    from_dict,
    quantity,
)

EPOCH_PER_SAMPLE = "T"


def _check_epoch(where: str, value, allowed) -> None:
    if value not in allowed:
        raise fail(where, "t_epoch", value, " or ".join(repr(a) for a in allowed))


@dataclass(frozen=True)
class SupervisedSTDP:
    """Teacher-driven STDP at an output projection (DESIGN.md §3).

    For synapse j→k, with x_j the presynaptic trace (decays by exp(−dt/τ_pre) each step, then
    adds 1 per presynaptic spike)::

        Δw_jk = η · (Σ_{teaching spikes of k} x_j(t) − Σ_{output spikes of k} x_j(t))

    Potentiation at the teacher's spikes, depression at the neuron's own: the update vanishes
    when the output reproduces the teaching train. Needs ``t_epoch = 1``.

    ``gate = "taught"`` multiplies the update by ``g_k``, 1 if neuron k receives teaching
    spikes in the current sample (the neurons of its class) and 0 otherwise: only the labelled
    class's output neurons learn from a sample, the others keep their synapses. The default
    ``"none"`` (g_k = 1) also depresses every other output neuron that spikes — the delta rule
    that makes single-head class-incremental learning forget (spikeport's continual protocol).
    """

    TAG: ClassVar[str] = "supervised_stdp"
    eta: float = 0.01
    tau_pre: float = quantity("s", default=0.02)
    gate: Literal["none", "taught"] = "none"
    t_epoch: int | str = 1

    def validate(self, where: str) -> None:
        check_positive(where, "eta", self.eta)
        check_positive(where, "tau_pre", self.tau_pre)
        check_choice(where, "gate", self.gate, ("none", "taught"))
        _check_epoch(where, self.t_epoch, (1,))


@dataclass(frozen=True)
class STDP:
    """Unsupervised pair-based STDP (no teacher), Lava's ``STDPLoihi`` form.

    ``Δw = a_plus · x_pre(t_post) · [post spike] − a_minus · y_post(t_pre) · [pre spike]`` with
    traces of time constants ``tau_plus`` (pre) and ``tau_minus`` (post). Needs ``t_epoch = 1``.
    """

    TAG: ClassVar[str] = "stdp"
    a_plus: float = 0.01
    a_minus: float = 0.01
    tau_plus: float = quantity("s", default=0.02)
    tau_minus: float = quantity("s", default=0.02)
    t_epoch: int | str = 1

    def validate(self, where: str) -> None:
        check_range(where, "a_plus", self.a_plus, 0.0, float("inf"))
        check_range(where, "a_minus", self.a_minus, 0.0, float("inf"))
        check_positive(where, "tau_plus", self.tau_plus)
        check_positive(where, "tau_minus", self.tau_minus)
        _check_epoch(where, self.t_epoch, (1,))


@dataclass(frozen=True)
class SBP:
    """spikeport's spike-based self-backpropagation on a hidden projection (DESIGN.md §3).

    Not the authors' equilibrium-propagation code (PAPERS.md §1): a chip-mappable variant. Over
    a sample, hidden neuron j's output synapses (the projection ``source``, default: the
    supervised projection leaving this projection's post population) change by
    ``M_j = Σ_k Δw_jk``. At the sample's end it propagates, with the same sign, to j's inputs::

        Δw_ij = (f_ltp·[M_j]_+ − f_ltd·[M_j]_−) · e_i · mask_ij

    ``e_i`` is input i's eligibility trace (time constant ``tau_elig``, ≈ the sample length)
    read at the sample's end; ``mask_ij`` is a fixed Bernoulli(ρ) choice of plastic synapses,
    seeded by ``seed``. ``t_epoch = "T"``.
    """

    TAG: ClassVar[str] = "sbp"
    f_ltp: float = 1.0
    f_ltd: float = 1.0
    rho: float = 0.5
    tau_elig: float = quantity("s", default=0.1)
    seed: int = 0
    source: str = ""
    t_epoch: int | str = EPOCH_PER_SAMPLE

    def validate(self, where: str) -> None:
        check_range(where, "f_ltp", self.f_ltp, 0.0, float("inf"))
        check_range(where, "f_ltd", self.f_ltd, 0.0, float("inf"))
        check_range(where, "rho", self.rho, 0.0, 1.0)
        check_positive(where, "tau_elig", self.tau_elig)
        check_int(where, "seed", self.seed, 0)
        if not isinstance(self.source, str):
            raise fail(where, "source", self.source, "a projection name or ''")
        _check_epoch(where, self.t_epoch, (EPOCH_PER_SAMPLE,))


@dataclass(frozen=True)
class NACA:
    """Neuromodulated credit assignment (Zhang et al. 2023; DESIGN.md §3, PAPERS.md §3).

    A fixed random matrix ``NI ∈ [0,1]^{2C×N}`` (``ni_distribution``: U(0,1); N(ni_mean,
    ni_std) clipped to [0, 1]; or Beta(ni_alpha, ni_beta); seeded by the spec seed, the
    projection name and ``seed``) maps the label's expectation vector E (two active slots per
    class, PAPERS.md §3.1) to each postsynaptic neuron's dopamine level ``nl_j = E·NI[:, j]``;
    the piecewise-quadratic curve ``m_j = g(nl_j; λ=lambda_inv, θ=theta_max)`` (g(0)=1,
    g(λ/4)=θ, g(λ)=0, g(2λ)=−1) gates a local update once per sample, at its last step::

        Δw_ij = −η · m_j · (x_i − x_offset) · p_j

    ``x_i``: presynaptic trace (time constant ``tau_pre``; +1 per spike) at the sample's last
    step. ``p_j``: 1 (``post = "none"``) or the postsynaptic trace y_j (``post = "trace"``,
    time constant ``tau_post``). m > 0 depresses the synapses of active inputs, m < 0
    potentiates them; ``x_offset`` > 0 makes inputs quieter than the offset move the other
    way. ``n_classes`` must match the labels (the readout's class count). ``t_epoch = "T"``.
    """

    TAG: ClassVar[str] = "naca"
    eta: float = 0.001
    lambda_inv: float = 0.5
    theta_max: float = 1.2
    ni_distribution: Literal["uniform", "normal", "beta"] = "uniform"
    ni_mean: float = 0.5
    ni_std: float = 1.0
    ni_alpha: float = 0.5
    ni_beta: float = 0.5
    n_classes: int = 10
    tau_pre: float = quantity("s", default=0.05)
    x_offset: float = 0.0
    post: Literal["none", "trace"] = "none"
    tau_post: float = quantity("s", default=0.02)
    seed: int = 0
    t_epoch: int | str = EPOCH_PER_SAMPLE

    def validate(self, where: str) -> None:

        check_positive(where, "eta", self.eta)
        check_range(where, "lambda_inv", self.lambda_inv, 0.0, 1.0, lo_open=True)
        check_range(where, "theta_max", self.theta_max, 1.0, float("inf"))
        check_choice(where, "ni_distribution", self.ni_distribution, ("uniform", "normal", "beta"))
        check_finite(where, "ni_mean", self.ni_mean)
        check_positive(where, "ni_std", self.ni_std)
        check_positive(where, "ni_alpha", self.ni_alpha)
        check_positive(where, "ni_beta", self.ni_beta)
        check_int(where, "n_classes", self.n_classes, 2, 1000)
        try:
            expectation_slots(self.n_classes)
        except ValueError:
            raise fail(where, "n_classes", self.n_classes,
                       "a class count whose expectation slots are distinct") from None
        check_positive(where, "tau_pre", self.tau_pre)
        check_range(where, "x_offset", self.x_offset, 0.0, float("inf"))
        check_choice(where, "post", self.post, ("none", "trace"))
        check_positive(where, "tau_post", self.tau_post)
        check_int(where, "seed", self.seed, 0)
        _check_epoch(where, self.t_epoch, (EPOCH_PER_SAMPLE,))


@dataclass(frozen=True)
class STP:
    """Tsodyks–Markram short-term plasticity on a projection (PAPERS.md §1.6).

    Per step, with I the presynaptic spike: ``u ← u − u·dt/τ_f + U·I·(1−u)``,
    ``x ← x + (1−x)·dt/τ_d − u·x·I``; the transmitted weight is ``w·u·x``. No Loihi 1
    equivalent: backends without it refuse the spec.
    """

    U: float = 0.45
    tau_f: float = quantity("s", default=0.01)
    tau_d: float = quantity("s", default=0.002)

    def validate(self, where: str) -> None:
        check_range(where, "U", self.U, 0.0, 1.0, lo_open=True)
        check_positive(where, "tau_f", self.tau_f)
        check_positive(where, "tau_d", self.tau_d)


@dataclass(frozen=True)
class Homeostasis:
    """Threshold adaptation toward a target rate, once per sample (``t_epoch = "T"``).

    After each sample of T steps, with n_i the neuron's spike count in it::

        θ_i ← clip(θ_i + eta · (n_i − target_rate·T·dt), theta_min, theta_max)
    """

    target_rate: float = quantity("Hz", default=50.0)
    eta: float = 0.01
    theta_min: float = 0.0
    theta_max: float = float("inf")

    def validate(self, where: str) -> None:
        check_range(where, "target_rate", self.target_rate, 0.0, float("inf"))
        check_range(where, "eta", self.eta, 0.0, float("inf"))
        check_finite(where, "theta_min", self.theta_min)
        if not self.theta_max > self.theta_min:
            raise fail(where, "theta_max", self.theta_max, f"> theta_min ({self.theta_min})")


LearningRule = Union[SupervisedSTDP, STDP, SBP, NACA]
RULES = {cls.TAG: cls for cls in (SupervisedSTDP, STDP, SBP, NACA)}


def rule_from_dict(data, where: str):
    """The learning rule named by the mapping's ``rule`` key."""
    if not isinstance(data, dict) or "rule" not in data:
        raise SpecError(f"{where}: a learning rule needs a 'rule' key, one of {', '.join(RULES)}")
    body = dict(data)
    tag = body.pop("rule")
    if not isinstance(tag, str) or tag not in RULES:
        raise fail(where, "rule", tag, "one of " + ", ".join(RULES))
    return from_dict(RULES[tag], body, where)
