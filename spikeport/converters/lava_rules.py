"""Spec learning rules + quantized scales -> Lava learning rules (structured and as strings).

Each plan holds a :class:`spikeport.kernels.learning.LearningRule` (its Lava string via
``to_lava_string()``), the trace impulses and taus, the epoch and the rule's ``rng_seed``:
everything Lava's ``Loihi2FLearningRule``/``Loihi3FLearningRule`` and spikeport's
:class:`~spikeport.kernels.engine.LearningEngine` need. Nothing here imports lava.

Units. A plastic projection's weights are 8-bit mantissas times ``2**weight_exp``; its
post-synaptic population has ``scale`` weight LSB per float weight unit (before the exponent),
so one float weight unit is ``L = scale / 2**weight_exp`` mantissa LSB. A float trace adds 1
per spike; a Lava trace adds an integer ``impulse`` (so it reads ``impulse`` × the float
trace, saturating at 127). Lava writes ``dw`` in mantissa LSB, and a product of factors whose
widths (traces 7 bits, mantissa 4) sum past 15 bits is shifted right by ``Σwidths + 4 − 15``
and never shifted back: ``m·2^e·u0·x1·y2`` changes w by ``m·2^e·x1·y2/8`` LSB
(:meth:`~spikeport.kernels.learning.Product.right_shift`). Every realised rate below accounts
for that shift.

Rules:

* **Supervised STDP** (``t_epoch = 1``, three-factor)::

      dw = m·2^(e−j)·u0·x1·y2 − m·2^e·y0·x1

  The teaching spike reaches the output neuron's third-factor input and becomes
  ``y2 = 8·2^j`` at that step, so the first product (shift 3) realises ``m·2^e·x1`` exactly
  like the second: both terms have the same rate ``η·L`` LSB per float trace unit, and the
  update vanishes when the neuron spikes with its teacher. The x1 impulse is chosen, below
  the saturation bound, to make ``m·2^e`` closest to ``η·L / impulse``.
* **STDP** (``t_epoch = 1``, ``STDPLoihi`` form, two-factor, y1 from bAP spikes)::

      dw = −m₋·2^e₋·x0·y1 + m₊·2^e₊·y0·x1

* **SBP** (``t_epoch = T``, three-factor, on the hidden projection)::

      dw = m·2^e·u0·x2·y2 − m·2^e·u0·x2·y3          (realised R = m·2^e/8 per x2·y unit)

  x2 is the eligibility trace (``tau_elig``); y2/y3 are the relay's 7-bit LTP/LTD magnitudes
  (:mod:`spikeport.kernels.relay`), ``y = round(|acc|·G)`` with ``acc ≈ I_r·M/η_o``. The
  relay gains ``G_ltp``/``G_ltd`` (16-bit mantissas) carry ``f_ltp``/``f_ltd`` and absorb the
  4-bit rule mantissa's rounding, so ``R·G·I_r·I_e = L·f·η_o`` holds to 2⁻¹⁵; ``R`` itself
  only places the 7-bit range: ``y = 127`` at ``|M| = M_sat``. The SBP mask is a learn mask
  on the plastic connection (a sparse plastic connection beside a static one), not a tag
  factor: ``tag_1`` would count as a 9-bit factor and shift the product right by 9 more bits.

* **NACA** (``t_epoch = T``, three-factor, on the modulated projection)::

      dw = m·2^e·u0·(x2 − c)·y2 − m·2^e·u0·(x2 − c)·y3      (realised R = m·2^e/8)

  x2 is the presynaptic trace (``tau_pre``), ``c = round(x_off'·impulse)`` with x_off' the
  offset moved to Lava's per-epoch trace semantics (:func:`epoch_trace_offset`); a dopamine
  source sends each postsynaptic neuron j, at the sample's last step, ``q_j = round(−m_j·G)``
  (``G ≤ 127/θ_max``, so |q| ≤ 127; smaller when the rule scale bottoms out) looked up from
  the label: positive q becomes y2
  (potentiation), negative q y3 (depression), so ``Δw = −R·G·m_j·(x2 − c)`` ≈
  ``−η·L·m_j·(x − x_offset)``. ``post = "trace"`` (a postsynaptic trace factor) has no
  mapping yet and is refused.

Lava-specific caveat (reported by the quantizer): with ``t_epoch = T`` Lava keeps only the
*last* spike time of each input per epoch; earlier spikes of the sample add their impulse at
once and decay over the whole epoch, so x2 at the sample's end is
``≈ I·((n−1)·e^{−T/τ} + e^{−(T−t_last)/τ})`` rather than the reference ``Σ e^{−(T−t_s)/τ}``.
"""

from __future__ import annotations

import math

import numpy as np

from spikeport.errors import BackendError
from spikeport.flow.plans import DopaminePlan, Rate, RelayPlan, RulePlan, Trace
from spikeport.kernels.learning import EXPONENT_RANGE, Factor, Product
from spikeport.kernels.lif import DECAY_UNITY
from spikeport.kernels.naca import dopamine, modulation
from spikeport.kernels.relay import GAIN_MANTISSA_MAX, GAIN_SHIFT_MAX, Y_MAX
from spikeport.kernels.traces import TRACE_MAX
from spikeport.models.rules import NACA, SBP, STDP, SupervisedSTDP

MANTISSAS = range(1, 8)  # magnitudes; the sign goes into the mantissa ([-7, 7] used)
TEACHER_Y_BASE = 8  # 2**3 cancels the shift of u0*x1*y2 (widths 7+7+4 = 18 -> 3)
TEACHER_J_MAX = 3  # y2 = 8·2^j <= 64 < 127
GATE_Y = 8  # a gated supervised rule's y3 for taught neurons: 2**3 cancels y0*x1*y3's shift
RELAY_IMPULSE = 4096  # relay trace units per hidden spike
TRACE_HEADROOM = 1.5  # impulse so that 1.5 × the peak of a regular train fits in 7 bits
TAU_STEPS_MAX = 65535
CONST_MAX = 255  # (var + C) constants of a factor
GAIN_MIN = 4  # NACA: fewest y units per unit of modulation (m resolution 1/4)


# ---------------------------------------------------------------------------------------------
# helpers

def scale_value(mantissa: int, exponent: int, shift: int = 0) -> float:
    """Realised LSB per unit of the factor product: ``m·2^e / 2^shift``."""
    return mantissa * 2.0 ** exponent / 2.0 ** shift


def fit_scale(target: float, shift: int = 0) -> tuple[int, int]:
    """The (mantissa 1..7, exponent −7..8) whose ``m·2^e/2^shift`` is closest to ``target``
    (relative error; ties go to the larger mantissa). ``target`` must be > 0."""
    if not target > 0 or not math.isfinite(target):
        raise ValueError(f"target={target!r} must be a finite number > 0")
    best = None
    for e in range(EXPONENT_RANGE[0], EXPONENT_RANGE[1] + 1):
        for m in MANTISSAS:
            err = abs(scale_value(m, e, shift) / target - 1.0)
            key = (round(err, 12), -m)
            if best is None or key < best[0]:
                best = (key, m, e)
    return best[1], best[2]


def trace_tau_steps(tau: float, dt: float, where: str, name: str) -> tuple[int, float]:
    """A trace time constant in whole steps (>= 1) and the exact value in steps."""
    exact = tau / dt
    steps = int(round(exact))
    if steps < 1 or steps > TAU_STEPS_MAX:
        raise BackendError(f"{where}: {name} = {tau} s is {exact:.3g} steps; Lava trace taus "
                           f"are whole steps in [1, {TAU_STEPS_MAX}]")
    return steps, exact


def impulse_bound(rate_per_step: float, tau_steps: float) -> int:
    """Largest integer impulse for which ``TRACE_HEADROOM`` × the peak trace of a regular
    train at ``rate_per_step`` stays within 7 bits (at least 1)."""
    if rate_per_step <= 0:
        peak = 1.0
    else:
        period = max(1.0, 1.0 / min(rate_per_step, 1.0))
        peak = 1.0 / (1.0 - math.exp(-period / tau_steps))
    return int(min(TRACE_MAX, max(1, math.floor(TRACE_MAX / (TRACE_HEADROOM * peak)))))


def best_impulse(k: float, impulse_max: int, shift: int = 0,
                 max_rel_error: float | None = None) -> tuple[int, int, int]:
    """Choose (impulse, mantissa, exponent) for a term realising ``k`` LSB per float trace
    unit: impulse in [impulse_max/2, impulse_max], ``m·2^e/2^shift ≈ k/impulse``; the impulse
    with the smallest relative error wins (ties: the larger impulse).

    With ``max_rel_error``, when no impulse of that range comes within it (a rate below the
    smallest rule scale 2^−7 at that impulse), smaller impulses are searched too: a coarser
    trace that realises the rate beats a refused conversion. Rates that fit are unaffected."""
    def search(lo: int, hi: int):
        best = None
        for imp in range(lo, hi + 1):
            m, e = fit_scale(k / imp, shift)
            err = abs(scale_value(m, e, shift) * imp / k - 1.0)
            key = (round(err, 12), -imp)
            if best is None or key < best[0]:
                best = (key, imp, m, e)
        return best

    half = max(1, impulse_max // 2)
    best = search(half, impulse_max)
    if max_rel_error is not None and best[0][0] > max_rel_error and half > 1:
        lower = search(1, half - 1)
        if lower[0] < best[0]:
            best = lower
    return best[1], best[2], best[3]


def _check_rate(rate: Rate, where: str, max_rel_error: float) -> Rate:
    if abs(rate.rel_error) > max_rel_error:
        raise BackendError(
            f"{where}: {rate.field} = {rate.target:.4g} cannot be realised in Lava fixed point "
            f"(closest {rate.realised:.4g}, {100 * rate.rel_error:+.0f}%; a rule scale is "
            f"m·2^e with m in [-8, 7], e in [-7, 8])")
    return rate


def _gain(g: float, where: str) -> tuple[int, int]:
    """A relay gain as (16-bit mantissa, right shift)."""
    if g <= 0:
        return 0, 0
    shift = math.floor(math.log2(GAIN_MANTISSA_MAX / g))
    shift = min(max(shift, 0), GAIN_SHIFT_MAX)
    mant = int(round(g * 2 ** shift))
    if mant > GAIN_MANTISSA_MAX:
        if shift > 0:
            shift -= 1
            mant = int(round(g * 2 ** shift))
        else:
            raise BackendError(f"{where}: SBP relay gain {g:.4g} exceeds the 16-bit mantissa; "
                               "raise sbp_m_sat or lower f_ltp/f_ltd")
    return mant, shift


# ---------------------------------------------------------------------------------------------
# plans

def supervised_stdp_plan(rule: SupervisedSTDP, lsb_per_unit: float, dt: float,
                         impulse_max: int, rng_seed: int, teacher_j: int | None = None,
                         where: str = "projection", max_rel_error: float = 0.5) -> RulePlan:
    """``dw = m·2^(e−j)·u0·x1·y2 − m·2^e·y0·x1`` with teacher ``y2 = 8·2^j``.

    ``gate = "taught"``: the own-spike term becomes ``− m·2^e·y0·x1·y3`` where the teacher
    sends ``y3 = 8`` (``GATE_Y``) to the neurons it teaches in the sample, every step of it,
    and 0 to the others: the product is shifted right by 3, so 8 restores the same rate, and
    untaught neurons do not learn. ``teacher_j`` (0..3, at most ``e + 7``) fixes j when several
    projections share a teacher; None picks the largest allowed.
    """
    tau, tau_exact = trace_tau_steps(rule.tau_pre, dt, f"{where}.learning", "tau_pre")
    k = rule.eta * lsb_per_unit
    imp, m, e = best_impulse(k, impulse_max, max_rel_error=max_rel_error)
    j_max = min(TEACHER_J_MAX, e - EXPONENT_RANGE[0])
    j = j_max if teacher_j is None else teacher_j
    if not 0 <= j <= j_max:
        raise ValueError(f"teacher_j={teacher_j} outside [0, {j_max}] for exponent {e}")
    y = TEACHER_Y_BASE << j
    gated = rule.gate == "taught"
    teach = Product("u0", [Factor("x1"), Factor("y2")], m, e - j)
    own = Product("y0", [Factor("x1")] + ([Factor("y3")] if gated else []), -m, e)
    realised_teach = scale_value(m, e - j, teach.right_shift()) * y * imp / lsb_per_unit
    realised_own = (scale_value(m, e, own.right_shift()) * (GATE_Y if gated else 1) * imp
                    / lsb_per_unit)
    rates = (
        _check_rate(Rate("eta (teaching term u0*x1*y2)", "eta", rule.eta, realised_teach, m,
                         e - j, teach.right_shift()), f"{where}.learning", max_rel_error),
        _check_rate(Rate("eta (own-spike term y0*x1" + ("*y3, gate y3 = 8)" if gated else ")"),
                         "eta", rule.eta, realised_own, -m, e, own.right_shift()),
                    f"{where}.learning", max_rel_error),
    )
    notes = (f"teacher -> y2 = {y} at the teaching step; the u0*x1*y2 product is shifted right "
             f"by {teach.right_shift()} bits",)
    if gated:
        notes += (f"gate: taught -> the teacher sends y3 = {GATE_Y} to the sample's taught "
                  "neurons every step; y0*x1*y3 is shifted right by 3 bits",)
    return RulePlan(kind=SupervisedSTDP.TAG, t_epoch=1, post="3F",
                    products=(("u0", ("x1", "y2"), m, e - j),
                              ("y0", ("x1", "y3") if gated else ("x1",), -m, e)),
                    x_impulse=(imp, 0), x_tau=(tau, 0), rng_seed=rng_seed, teacher_y=y,
                    rates=rates, traces=(Trace("x1", imp, tau, tau_exact),), notes=notes)


def teacher_j_max(rule: SupervisedSTDP, lsb_per_unit: float, impulse_max: int,
                  max_rel_error: float = 0.5) -> int:
    """The largest j a supervised plan for this projection allows (see supervised_stdp_plan;
    ``max_rel_error`` as given to it)."""
    _, _, e = best_impulse(rule.eta * lsb_per_unit, impulse_max, max_rel_error=max_rel_error)
    return min(TEACHER_J_MAX, e - EXPONENT_RANGE[0])


def stdp_plan(rule: STDP, lsb_per_unit: float, dt: float, impulse_max_pre: int,
              impulse_max_post: int, rng_seed: int, where: str = "projection",
              max_rel_error: float = 0.5) -> RulePlan | None:
    """``STDPLoihi`` form ``dw = −m₋·2^e₋·x0·y1 + m₊·2^e₊·y0·x1`` (None if both rates are 0)."""
    tau_p, tau_p_exact = trace_tau_steps(rule.tau_plus, dt, f"{where}.learning", "tau_plus")
    tau_m, tau_m_exact = trace_tau_steps(rule.tau_minus, dt, f"{where}.learning", "tau_minus")
    products, rates, traces = [], [], []
    x_imp = y_imp = 0
    if rule.a_minus > 0:
        y_imp, m, e = best_impulse(rule.a_minus * lsb_per_unit, impulse_max_post,
                                    max_rel_error=max_rel_error)
        products.append(("x0", ("y1",), -m, e))
        rates.append(_check_rate(Rate("a_minus (x0*y1)", "a_minus", rule.a_minus,
                                      scale_value(m, e) * y_imp / lsb_per_unit, -m, e, 0),
                                 f"{where}.learning", max_rel_error))
        traces.append(Trace("y1", y_imp, tau_m, tau_m_exact))
    if rule.a_plus > 0:
        x_imp, m, e = best_impulse(rule.a_plus * lsb_per_unit, impulse_max_pre,
                                    max_rel_error=max_rel_error)
        products.append(("y0", ("x1",), m, e))
        rates.append(_check_rate(Rate("a_plus (y0*x1)", "a_plus", rule.a_plus,
                                      scale_value(m, e) * x_imp / lsb_per_unit, m, e, 0),
                                 f"{where}.learning", max_rel_error))
        traces.append(Trace("x1", x_imp, tau_p, tau_p_exact))
    if not products:
        return None
    return RulePlan(kind=STDP.TAG, t_epoch=1, post="2F", products=tuple(products),
                    x_impulse=(x_imp, 0), x_tau=(tau_p if x_imp else 0, 0),
                    y_impulse=(y_imp, 0, 0), y_tau=(tau_m if y_imp else 0, 0, 0),
                    rng_seed=rng_seed, rates=tuple(rates), traces=tuple(traces))


def sbp_plan(rule: SBP, source: SupervisedSTDP, source_name: str, lsb_per_unit: float,
             dt: float, sample_steps: int, impulse_max: int, m_sat: float, rng_seed: int,
             where: str = "projection", t_epoch: int | None = None
             ) -> tuple[RulePlan | None, RelayPlan | None]:
    """SBP on a hidden projection plus its relay (None, None if f_ltp = f_ltd = 0).

    ``m_sat``: |M| in float weight units that the relay maps to y = 127 (with the larger of
    f_ltp, f_ltd); ``lsb_per_unit``: of the hidden projection. ``t_epoch``: None = one epoch
    per sample (the default); 1 = an epoch every step, so that x2 is the exact per-step trace
    (y2/y3 are nonzero only at the sample's last step, so weights still move once per sample),
    at the cost of a u0 update of every plastic synapse every step.
    """
    f_max = max(rule.f_ltp, rule.f_ltd)
    if f_max == 0:
        return None, None
    tau_e, tau_e_exact = trace_tau_steps(rule.tau_elig, dt, f"{where}.learning", "tau_elig")
    imp = impulse_max
    shift = Product("u0", [Factor("x2"), Factor("y2")]).right_shift()
    r_target = lsb_per_unit * f_max * m_sat / (Y_MAX * imp)
    m, e = fit_scale(r_target, shift)
    r = scale_value(m, e, shift)
    eta_o = source.eta
    decay = int(round(DECAY_UNITY * (1.0 - math.exp(-dt / source.tau_pre))))
    decay = min(max(decay, 0), DECAY_UNITY)

    def gain_for(f: float) -> tuple[int, int]:
        return _gain(lsb_per_unit * f * eta_o / (RELAY_IMPULSE * imp * r), f"{where}.learning")

    gains = {"f_ltp": gain_for(rule.f_ltp), "f_ltd": gain_for(rule.f_ltd)}
    rates = []
    for fname, (gm, gs) in gains.items():
        target = getattr(rule, fname)
        if target == 0:
            continue
        g = gm / 2.0 ** gs
        realised = g * RELAY_IMPULSE * imp * r / (lsb_per_unit * eta_o)
        sign = 1 if fname == "f_ltp" else -1
        rates.append(Rate(f"{fname} (relay gain {gm}/2^{gs} × u0*x2*y{2 if sign > 0 else 3})",
                          fname, target, realised, sign * m, e, shift))
    g_max = max(gm / 2.0 ** gs for gm, gs in gains.values())
    m_sat_real = Y_MAX * eta_o / (g_max * RELAY_IMPULSE)
    products = []
    if rule.f_ltp > 0:
        products.append(("u0", ("x2", "y2"), m, e))
    if rule.f_ltd > 0:
        products.append(("u0", ("x2", "y3"), -m, e))
    epoch = sample_steps if t_epoch is None else int(t_epoch)
    notes = (f"rule scale R = {m}·2^{e}/2^{shift} = {r:.4g} LSB per x2·y unit (target "
             f"{r_target:.4g}); the relay's 16-bit gains absorb its rounding",)
    if epoch > 1:
        notes += ("x2 at the sample's end follows Lava's epoch semantics: only the last input "
                  "spike of the epoch keeps its time, earlier ones decay over the whole epoch "
                  "(for tau_elig ≈ T about half the reference trace; sbp_epoch='step' is exact)",)
    else:
        notes += ("t_epoch = 1: exact x2, but every plastic synapse takes a u0 update each step",)
    plan = RulePlan(kind=SBP.TAG, t_epoch=epoch, post="3F", products=tuple(products),
                    x_impulse=(0, imp), x_tau=(0, tau_e), rng_seed=rng_seed,
                    rates=tuple(rates), traces=(Trace("x2", imp, tau_e, tau_e_exact),),
                    notes=notes)
    relay = RelayPlan(source=source_name, decay=decay, impulse=RELAY_IMPULSE,
                      gain_ltp=gains["f_ltp"], gain_ltd=gains["f_ltd"],
                      tau_target_steps=source.tau_pre / dt, m_sat=m_sat_real,
                      rates=tuple(rates))
    return plan, relay


def epoch_trace_offset(x_offset: float, tau_steps: float, epoch: int) -> float:
    """NACA's offset in Lava's x2 units (impulse 1) for a learning epoch of ``epoch`` steps.

    The float rule compares the trace ``x = Σ_s d^(T−t_s)`` (d = e^(−1/τ), +1 per spike, read
    at the epoch's end) with ``x_offset``. Lava's engine keeps only the epoch's *last* spike
    time: the n−1 earlier spikes decay over the whole epoch, ``x2 = (n−1)·d^T + d^(T−t_last)``
    (``epoch = 1`` is exact). An offset that keeps its meaning must be moved to the x2 that the
    same input gives in Lava: for Bernoulli spikes with probability p per step,

        E[x]  = p·(1 − d^T)/(1 − d)                                  (float)
        E[x2] = (pT − P(n≥1))·d^T + p·(1 − ((1−p)·d)^T)/(1 − (1−p)·d)  (Lava, P(n≥1) = 1−(1−p)^T)

    p* solves E[x] = x_offset (closed form); the result is E[x2] at p*. Inputs above the offset
    then stay above it in Lava, in expectation. An offset no rate reaches (p* ≥ 1), or
    ``epoch = 1``, is returned unchanged."""
    if epoch <= 1 or x_offset <= 0:
        return float(x_offset)
    d = math.exp(-1.0 / tau_steps)
    T = int(epoch)
    p = x_offset * (1.0 - d) / (1.0 - d ** T)
    if p >= 1.0:
        return float(x_offset)
    q = (1.0 - p) * d
    return float((p * T - (1.0 - (1.0 - p) ** T)) * d ** T + p * (1.0 - q ** T) / (1.0 - q))


def naca_plan(rule: NACA, lsb_per_unit: float, dt: float, sample_steps: int, impulse_max: int,
              ni: np.ndarray, rng_seed: int, where: str = "projection",
              t_epoch: int | None = None, max_rel_error: float = 0.5
              ) -> tuple[RulePlan, DopaminePlan, np.ndarray]:
    """NACA on a projection: the rule, its dopamine source and the source's table
    ``q`` (n_classes, n_post) int64 (``q[c, j] = round(−m_j(c)·G)``). ``ni``: the rule's NI
    matrix (:func:`spikeport.kernels.naca.rule_ni`). ``t_epoch``: None = one epoch per sample;
    1 = an epoch every step (exact x2; q is nonzero only at the sample's last step)."""

    if rule.post != "none":
        raise BackendError(f"{where}.learning: naca post = {rule.post!r} has no Lava mapping "
                           "yet (a postsynaptic trace factor); allowed: 'none'")
    tau, tau_exact = trace_tau_steps(rule.tau_pre, dt, f"{where}.learning", "tau_pre")
    epoch = sample_steps if t_epoch is None else int(t_epoch)
    c = int(round(epoch_trace_offset(rule.x_offset, rule.tau_pre / dt, epoch) * impulse_max))
    if c > CONST_MAX:
        raise BackendError(f"{where}.learning: x_offset = {rule.x_offset} is {c} trace units "
                           f"(impulse {impulse_max}); Lava's factor constant allows up to "
                           f"{CONST_MAX}")
    x2 = ("x2", -c) if c else "x2"
    shift = Product("u0", [Factor("x2"), Factor("y2")]).right_shift()
    imp = impulse_max
    # the gain G (y per unit of m) takes up what the 4-bit rule scale cannot: the largest G
    # that keeps |q| <= 127 unless the rule scale bottoms out, then the G that makes
    # R·impulse·G = η·L exactly
    g_max = Y_MAX / rule.theta_max
    target = rule.eta * lsb_per_unit
    m, e = fit_scale(target / (imp * g_max), shift)
    gain = min(g_max, target / (imp * scale_value(m, e, shift)))
    if gain < GAIN_MIN:
        raise BackendError(f"{where}.learning: eta = {rule.eta:.4g} is too small for Lava "
                           f"fixed point here (the dopamine gain would be {gain:.3g} < "
                           f"{GAIN_MIN} y units per unit of modulation)")
    realised = scale_value(m, e, shift) * imp * gain / lsb_per_unit
    rate = _check_rate(Rate("eta (u0*(x2-c)*y2, y = round(-m·G))", "eta", rule.eta, realised,
                            m, e, shift), f"{where}.learning", max_rel_error)
    labels = np.arange(rule.n_classes)
    levels = np.asarray(ni, dtype=np.float64)
    mod = modulation(dopamine(labels, levels, rule.n_classes), rule.lambda_inv, rule.theta_max)
    table = np.clip(np.rint(-mod * gain), -Y_MAX, Y_MAX).astype(np.int64)
    notes = (f"dopamine source: q = round(-m·{gain:.4g}) per class and neuron, sent at the "
             "sample's last step; x_offset -> (x2 - {c})".replace("{c}", str(c)),)
    if epoch > 1:
        notes += ("x2 at the sample's end follows Lava's epoch semantics: only the last input "
                  "spike of the epoch keeps its time (t_epoch = 1 is exact); the offset is "
                  f"rate-matched: x_offset {rule.x_offset:g} is the float trace of an input "
                  f"whose Lava x2 averages {c / impulse_max:.3g} (x2 - {c})",)
    plan = RulePlan(kind=NACA.TAG, t_epoch=epoch, post="3F",
                    products=(("u0", (x2, "y2"), m, e), ("u0", (x2, "y3"), -m, e)),
                    x_impulse=(0, imp), x_tau=(0, tau), rng_seed=rng_seed, rates=(rate,),
                    traces=(Trace("x2", imp, tau, tau_exact),), notes=notes)
    return plan, DopaminePlan(gain=gain, n_classes=rule.n_classes, rates=(rate,)), table
