"""Float spec + weights -> a fixed-point network for Lava 0.10 ``fixed_pt`` (and the emulator),
with a quantization report.

Scales (DESIGN.md §4, LOIHI.md A1/A2). A LIF population's neurons share ``vth``, so the scale
is chosen per *target population*: ``scale`` = weight LSB per float weight unit, before each
projection's ``weight_exp``. A float weight ``w`` on projection p into population P becomes
the 8-bit mantissa ``round(w · scale_P / 2**weight_exp_p)``, the threshold
``vth = round(θ · scale_P)`` (Lava compares ``v > vth << 6`` and adds ``a_in << 6`` to u, so the
64s cancel), and the bias ``bias · scale_P · 64 = bias_mant << bias_exp`` (the bias is *not*
shifted by 6). ``scale_P`` is the largest value that keeps

* ``vth`` and the states within range with ``state_headroom`` to spare:
  ``θ_ref · scale ≤ 131071 / state_headroom`` (θ_ref: the threshold, or homeostasis's
  ``theta_max`` if larger); u wraps at 2**23 = 131072 · 64, so the headroom is what u may
  exceed the threshold by before wrapping;
* every incoming projection's weight range within 255 · 2**7 (largest mantissa and exponent);
  a plastic projection's range includes its learning bounds ``w_min``/``w_max`` (or
  ``learning_headroom`` × the initial range for an unbounded side);

and, when the population has plastic inputs, ``scale = 255 · 2**e / W`` for the widest plastic
projection (range W), so that Lava's weight clip (mantissa 255, ``-256`` in MIXED) falls on
``w_max`` / ``-w_max``. Each projection then takes the smallest ``weight_exp`` (−8..7) that holds
its range: the largest mantissas, hence the finest weights.

Sign modes: MIXED weights lose their lowest bit in Lava (the sign takes a bit of the synaptic
word): initial mantissas are even, in [−256, 254], a step of 2; learning then writes 1-LSB
steps clipped to [−256, 255]. EXCITATORY [0, 255] and INHIBITORY [−255, 0] keep every bit.

Decays: ``du = round(4096·(1 − e^{−dt/τ_u})) − 1`` (Lava adds 1 to du) and
``dv = round(4096·(1 − e^{−dt/τ_v}))``; the report gives the τ the rounded values realise.

Refused with a one-line :class:`~spikeport.errors.BackendError` (Lava backend): STP, NACA with
a postsynaptic trace factor,
refractory > 0, a nonzero reset, axonal delays, a rest gap with SBP. Homeostasis is
implemented (spikeport's LIF, :mod:`spikeport.kernels.homeostasis`). Out-of-range values raise
a BackendError naming the parameter; nothing is clipped silently (the report's ``clipped``
counts weights whose mantissa moved by more than half a step: 0 by construction).

A :class:`FixedNetwork` is a plain dataclass saved as a directory (``network.json`` +
``weights.npz``, each written atomically; the JSON holds the npz's SHA-256) so a subprocess can
run it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spikeport import seeds
from spikeport.converters.lava_rules import (
    GATE_Y,
    impulse_bound,
    naca_plan,
    sbp_plan,
    stdp_plan,
    supervised_stdp_plan,
    teacher_j_max,
)
from spikeport.errors import BackendError, SpecError
from spikeport.flow.fixed import (
    INIT_RANGE,
    LEARN_RANGE,
    MANT_MAX,
    VTH_MAX,
    WEIGHT_EXP_RANGE,
    FixedNetwork,
    FixedPopulation,
    FixedProjection,
    FixedTeacher,
)
from spikeport.kernels.dense import SignMode, as_sign_mode
from spikeport.kernels.homeostasis import (
    ACC_FRACTION_BITS,
    ACC_MAX,
    COUNT_FRACTION_BITS,
)
from spikeport.kernels.lif import BIAS_EXP_RANGE, BIAS_MANT_RANGE, DECAY_UNITY
from spikeport.kernels.naca import rule_ni
from spikeport.models.rules import NACA, SBP, STDP, SupervisedSTDP
from spikeport.models.spec import Network, sbp_source
from spikeport.models.weights import check_weights, connectivity_mask, sbp_mask

MIXED_NOTE = ("MIXED sign mode: Lava drops the lowest weight bit at the start (initial "
              "mantissas are even, [-256, 254], step 2); learning writes 1-LSB steps in "
              "[-256, 255]")


@dataclass(frozen=True)
class QuantizeOptions:
    """Knobs of the quantizer (defaults are what the report is usually read with).

    ``state_headroom``: how far u/v may exceed the threshold before 24-bit overflow.
    ``learning_headroom``: range multiplier for an unbounded side of a plastic projection (and
    for homeostasis without ``theta_max``). ``trace_rates``: assumed peak rate [Hz] per
    population for sizing trace impulses (default: the encoder's ``max_rate`` for inputs, twice
    the homeostasis target, else ``default_rate``). ``sbp_m_sat``: |M| (float weight units)
    mapped to the relay's y = 127 (default: twice a sample's teaching drive, see
    :func:`default_m_sat`). ``max_rate_error``: a learning rate realised further off than this
    (relative) is refused. ``sbp_epoch``: ``"sample"`` (one learning epoch per sample, as on a
    chip) or ``"step"`` (an epoch every step: exact eligibility traces, per-step u0 updates; see
    :func:`~spikeport.converters.lava_rules.sbp_plan`).

    Precision knobs (what ``spikeport compare --sweep-*`` varies): ``num_weight_bits`` (1..8):
    synaptic weight precision of every projection; initial mantissas are rounded to multiples
    of ``2**(8 - num_weight_bits)`` (times 2 in MIXED) and Lava's Dense truncates to the same
    grid. ``trace_impulse_max`` (1..127): the largest impulse of every learning trace, instead
    of the rate-based bound (:func:`~spikeport.converters.lava_rules.impulse_bound`).
    ``sbp_t_epoch``: SBP's learning epoch in steps (a divisor of ``sample_steps``); overrides
    ``sbp_epoch``.

    ``weight_exp`` (-8..7): pin every projection's shared weight exponent (default: each takes
    the smallest that holds its range). ``weight_exp=0`` makes every weight an integer in
    threshold units, as lava-dl's netx stores them (``spikeport export-netx``).
    """

    state_headroom: float = 8.0
    learning_headroom: float = 2.0
    trace_rates: dict = field(default_factory=dict)
    default_rate: float = 100.0
    sbp_m_sat: float | None = None
    max_rate_error: float = 0.5
    sbp_epoch: str = "sample"
    num_weight_bits: int = 8
    trace_impulse_max: int | None = None
    sbp_t_epoch: int | None = None
    weight_exp: int | None = None


# ---------------------------------------------------------------------------------------------
# refusals

def check_lava_supported(net: Network) -> None:
    """Raise a one-line BackendError for what the Lava backend cannot express."""
    for pop in net.populations:
        where = f"population '{pop.name}'"
        if pop.refractory > 0:
            raise BackendError(f"{where}: refractory = {pop.refractory} s is not supported by "
                               "spikeport's Lava LIF (no refractory period); allowed: 0")
        if pop.reset != 0:
            raise BackendError(f"{where}: reset = {pop.reset} is not supported (Lava/Loihi "
                               "LIF resets v to 0); allowed: 0")
    for proj in net.projections:
        where = f"projection '{proj.name}'"
        if proj.stp is not None:
            raise BackendError(f"{where}: stp (Tsodyks-Markram short-term plasticity) has no "
                               "Lava fixed-point/Loihi 1 equivalent; remove it for the Lava "
                               "backend")
        if proj.delay:
            raise BackendError(f"{where}: delay = {proj.delay} steps is not supported by the "
                               "Lava backend (no axonal delays); allowed: 0")
        if isinstance(proj.learning, (SBP, NACA)) and net.between_samples.mode == "rest" \
                and net.between_samples.rest_steps > 0:
            raise BackendError(f"{where}.learning: {proj.learning.TAG} with between_samples "
                               "rest_steps > 0 is "
                               "not supported on Lava (its per-sample epoch of t_epoch steps "
                               "cannot end at the sample's last step); use mode: reset")
    relays: dict[str, str] = {}
    for proj in net.projections:
        if isinstance(proj.learning, (SBP, NACA)):
            if proj.post in relays:
                raise BackendError(f"projection '{proj.name}'.learning: a second sbp/naca "
                                   f"projection into '{proj.post}' (after '{relays[proj.post]}'"
                                   "); the Lava backend has one third-factor source per "
                                   "population")
            relays[proj.post] = proj.name
    if net.teacher is not None and net.teacher.population in relays:
        raise BackendError(f"population '{net.teacher.population}': receives both the teacher "
                           "and an SBP relay or NACA dopamine as third factor; only one is "
                           "supported")


def check_precision_options(net: Network, opts: QuantizeOptions) -> None:
    """SpecError for a precision option outside its range (see :class:`QuantizeOptions`)."""
    def bad(name, value, allowed):
        return SpecError(f"quantize option {name} = {value!r} is invalid; allowed: {allowed}")

    nwb = opts.num_weight_bits
    if not isinstance(nwb, int) or isinstance(nwb, bool) or not 1 <= nwb <= 8:
        raise bad("num_weight_bits", nwb, "integers in [1, 8]")
    imp = opts.trace_impulse_max
    if imp is not None and (not isinstance(imp, int) or isinstance(imp, bool)
                            or not 1 <= imp <= 127):
        raise bad("trace_impulse_max", imp, "None or integers in [1, 127]")
    te = opts.sbp_t_epoch
    if te is not None and (not isinstance(te, int) or isinstance(te, bool) or te < 1
                           or net.sample_steps % te):
        raise bad("sbp_t_epoch", te, f"None or a divisor of sample_steps = {net.sample_steps} "
                                     "(SBP learns at the sample's last step, an epoch's end)")
    we = opts.weight_exp
    if we is not None and (not isinstance(we, int) or isinstance(we, bool)
                           or not WEIGHT_EXP_RANGE[0] <= we <= WEIGHT_EXP_RANGE[1]):
        raise bad("weight_exp", we, f"None or integers in {list(WEIGHT_EXP_RANGE)}")


# ---------------------------------------------------------------------------------------------
# helpers

def decay_constants(tau_u: float, tau_v: float, dt: float, where: str) -> tuple[int, int]:
    """Lava's (du, dv) for the spec's time constants (LOIHI.md A1)."""
    du = int(round(DECAY_UNITY * (1.0 - math.exp(-dt / tau_u)))) - 1
    dv = int(round(DECAY_UNITY * (1.0 - math.exp(-dt / tau_v))))
    if du < 0:
        raise BackendError(f"{where}: tau_u = {tau_u} s decays by less than 1/8192 per step; "
                           f"Lava's slowest current decay is 1/4096 (tau_u <= "
                           f"{dt * 8192:.4g} s)")
    if not 0 <= du <= 4095 or not 0 <= dv <= 4095:
        raise BackendError(f"{where}: tau_u/tau_v give du={du}, dv={dv}; allowed [0, 4095]")
    return du, dv


def realised_tau(decay: int, dt: float) -> float:
    """Time constant [s] of an effective 12-bit decay (inf for 0)."""
    if decay <= 0:
        return math.inf
    if decay >= DECAY_UNITY:
        return 0.0
    return -dt / math.log(1.0 - decay / DECAY_UNITY)


def _rel(realised: float, target: float) -> float | None:
    if target == 0:
        return 0.0 if realised == 0 else None
    if not math.isfinite(realised):
        return None
    return realised / target - 1.0


def _weight_range(proj, w: np.ndarray, mask: np.ndarray, headroom: float) -> float:
    vals = np.abs(w[mask])
    base = float(vals.max()) if vals.size else 0.0
    if proj.learning is None:
        return base
    lo, hi = proj.w_min, proj.w_max
    mode = proj.sign_mode
    cands = [base]
    unbounded = False
    if mode != "inhibitory":
        if math.isfinite(hi):
            cands.append(abs(hi))
        else:
            unbounded = True
    if mode != "excitatory":
        if math.isfinite(lo):
            cands.append(abs(lo))
        else:
            unbounded = True
    if unbounded:
        cands.append(headroom * base)
    r = max(cands)
    if r == 0:
        raise BackendError(f"projection '{proj.name}': plastic with all-zero weights and no "
                           "finite w_min/w_max; give learning bounds so the quantizer can choose "
                           "a weight scale")
    return r


def _smallest_exp(w_range: float, scale: float, exp_range=WEIGHT_EXP_RANGE) -> int:
    if w_range == 0:
        return 0 if exp_range[0] <= 0 <= exp_range[1] else exp_range[0]
    for e in range(exp_range[0], exp_range[1] + 1):
        if w_range * scale <= MANT_MAX * 2.0 ** e * (1 + 1e-12):
            return e
    return exp_range[1]


def quantize_weights(w: np.ndarray, lsb_per_unit: float, sign_mode,
                     num_weight_bits: int = 8) -> tuple[np.ndarray, int]:
    """Float weights -> integer mantissas (round half up to the sign mode's initial step,
    ``2**(8 - num_weight_bits)`` times coarser below 8 bits) and the number that moved by more
    than half a step (clipped)."""
    lo, hi, step = INIT_RANGE[as_sign_mode(sign_mode)]
    step <<= 8 - num_weight_bits
    lo, hi = -((-lo) // step) * step, (hi // step) * step
    raw = np.asarray(w, dtype=np.float64) * lsb_per_unit
    m = np.floor(raw / step + 0.5) * step
    m = np.clip(m, lo, hi)
    clipped = int(np.sum(np.abs(raw - m) > step / 2 * (1 + 1e-9) + 1e-9))
    return m.astype(np.int64), clipped


def rate_per_step(net: Network, name: str, options: QuantizeOptions) -> float:
    """Assumed peak spike probability per step of population ``name`` (trace sizing)."""
    if name in options.trace_rates:
        return float(options.trace_rates[name]) * net.dt
    for inp in net.inputs:
        if inp.name == name:
            if inp.encoder.kind == "latency":
                return 0.0
            return inp.encoder.max_rate * net.dt
    pop = net.population(name)
    if pop.homeostasis is not None and pop.homeostasis.target_rate > 0:
        return 2.0 * pop.homeostasis.target_rate * net.dt
    return options.default_rate * net.dt


def default_m_sat(net: Network, sbp_proj, source_proj, options: QuantizeOptions) -> float:
    """|M| mapped to y = 127: twice the modification a hidden neuron firing at its assumed rate
    collects from one sample of teaching spikes on the teacher neurons it reaches."""
    rule = source_proj.learning
    T = net.sample_steps
    n_teach = net.teacher.rate * T * net.dt if net.teacher is not None else 1.0
    fan = connectivity_mask(net, source_proj).sum(axis=1)
    per_class = net.size(source_proj.post) // net.readout.n_classes if net.readout else 1
    k_teach = max(1, min(int(fan.max()) if fan.size else 1, per_class))
    r = rate_per_step(net, sbp_proj.post, options)
    tau = rule.tau_pre / net.dt
    x_mean = r / (1.0 - math.exp(-1.0 / tau)) if r > 0 else 1.0
    return 2.0 * rule.eta * max(n_teach, 1.0) * k_teach * x_mean


# ---------------------------------------------------------------------------------------------
# the quantizer

def quantize(net: Network, weights: dict[str, np.ndarray],
             options: QuantizeOptions | None = None) -> FixedNetwork:
    """Quantize ``net`` with float ``weights`` (projection name -> (n_pre, n_post)) for Lava
    fixed point; see the module docstring for every choice. The report is in ``.report``."""
    opts = options or QuantizeOptions()
    check_lava_supported(net)
    check_precision_options(net, opts)
    exp_range = WEIGHT_EXP_RANGE if opts.weight_exp is None else (opts.weight_exp,) * 2
    w_float: dict[str, np.ndarray] = {}
    conn: dict[str, np.ndarray] = {}
    for proj in net.projections:
        if proj.name not in weights:
            raise SpecError(f"network '{net.name}': no weights given for projection "
                            f"'{proj.name}'")
        w = check_weights(net, proj, weights[proj.name])
        mask = connectivity_mask(net, proj)
        if np.any(w[~mask] != 0):
            raise SpecError(f"projection '{proj.name}': {int(np.sum(w[~mask] != 0))} nonzero "
                            "weights where the connectivity has no synapse; absent synapses "
                            "must be zero")
        w_float[proj.name] = w
        conn[proj.name] = mask

    # ranges of every input into each population
    ranges: dict[str, float] = {}
    for proj in net.projections:
        ranges[proj.name] = _weight_range(proj, w_float[proj.name], conn[proj.name],
                                          opts.learning_headroom)
    teacher = net.teacher
    drive_range = abs(teacher.drive) if teacher is not None else 0.0

    pops_out, pop_reports, scales = [], {}, {}
    notes = []
    for pop in net.populations:
        where = f"population '{pop.name}'"
        h = pop.homeostasis
        theta_ref = pop.threshold
        if h is not None:
            theta_ref = max(theta_ref, h.theta_max if math.isfinite(h.theta_max)
                            else opts.learning_headroom * pop.threshold)
        s_vth = VTH_MAX / (theta_ref * opts.state_headroom)
        incoming = [(p, ranges[p.name]) for p in net.incoming(pop.name)]
        entries = [r for _, r in incoming if r > 0]
        if teacher is not None and teacher.population == pop.name and drive_range > 0:
            entries.append(drive_range)
        s_limit = min([s_vth] + [MANT_MAX * 2.0 ** exp_range[1] / r for r in entries])
        scale = s_limit
        limited_by = "threshold headroom" if s_limit == s_vth else "weight range"
        plastic = [(p, r) for p, r in incoming if p.learning is not None and r > 0]
        if plastic:
            anchor, w_a = max(plastic, key=lambda pr: pr[1])
            e_a = math.floor(math.log2(s_limit * w_a / MANT_MAX) + 1e-12)
            e_a = min(max(e_a, exp_range[0]), exp_range[1])
            s_a = MANT_MAX * 2.0 ** e_a / w_a
            if s_a <= s_limit * (1 + 1e-12):
                scale = s_a
                limited_by += f"; anchored on '{anchor.name}' (its learning bound -> mantissa 255)"
        scales[pop.name] = scale
        vth = int(round(pop.threshold * scale))
        if vth < 1:
            raise BackendError(f"{where}: threshold = {pop.threshold} quantizes to vth = 0 at "
                               f"scale {scale:.4g} (set by the weight range); the weights are "
                               "too large relative to the threshold")
        if vth > VTH_MAX:
            raise BackendError(f"{where}: threshold gives vth = {vth}; allowed [1, {VTH_MAX}]")
        du, dv = decay_constants(pop.tau_u, pop.tau_v, net.dt, where)
        bias_mant, bias_exp = 0, 0
        if pop.bias != 0:
            bias_v = pop.bias * scale * 64
            for e in range(BIAS_EXP_RANGE[0], BIAS_EXP_RANGE[1] + 1):
                mant = int(round(bias_v / 2 ** e))
                if BIAS_MANT_RANGE[0] <= mant <= BIAS_MANT_RANGE[1]:
                    bias_mant, bias_exp = mant, e
                    break
            else:
                raise BackendError(f"{where}: bias = {pop.bias} is {bias_v:.4g} in v units; "
                                   f"Lava's bias_mant << bias_exp reaches only ±4095·2^7")
            if bias_mant == 0:
                raise BackendError(f"{where}: bias = {pop.bias} rounds to 0 at scale "
                                   f"{scale:.4g} (one bias LSB is {1 / (64 * scale):.3g})")
        homeo, h_report = None, None
        if h is not None:
            hwhere = f"{where}.homeostasis"
            eta_q = int(round(h.eta * scale * (1 << (ACC_FRACTION_BITS - COUNT_FRACTION_BITS))))
            if h.eta > 0 and eta_q == 0:
                raise BackendError(f"{hwhere}: eta = {h.eta} is below one threshold step "
                                   f"(1/{scale * 256:.4g} per spike) at this scale")
            n_target = h.target_rate * net.sample_steps * net.dt
            target_q = int(round(n_target * (1 << COUNT_FRACTION_BITS)))
            acc_min = int(min(max(round(h.theta_min * scale * (1 << ACC_FRACTION_BITS)), 0),
                              ACC_MAX))
            acc_max = ACC_MAX if not math.isfinite(h.theta_max) else int(
                min(round(h.theta_max * scale * (1 << ACC_FRACTION_BITS)), ACC_MAX))
            acc_max = max(acc_max, acc_min)
            homeo = {"eta_q": eta_q, "target_q": target_q, "acc_min": acc_min,
                     "acc_max": acc_max}
            eta_real = eta_q / ((1 << (ACC_FRACTION_BITS - COUNT_FRACTION_BITS)) * scale)
            target_real = target_q / (1 << COUNT_FRACTION_BITS) / (net.sample_steps * net.dt)
            h_report = {"eta": h.eta, "eta_realised": eta_real, "eta_rel_error": _rel(eta_real,
                                                                                      h.eta),
                        "target_rate": h.target_rate, "target_rate_realised": target_real,
                        "theta_min_realised": acc_min / (1 << ACC_FRACTION_BITS) / scale,
                        "theta_max_realised": acc_max / (1 << ACC_FRACTION_BITS) / scale,
                        "eta_q": eta_q, "target_q": target_q}
        third = None
        if teacher is not None and teacher.population == pop.name and any(
                isinstance(p.learning, SupervisedSTDP) for p in net.incoming(pop.name)):
            third = "teacher"
        if any(isinstance(p.learning, SBP) for p in net.incoming(pop.name)):
            third = "relay"
        if any(isinstance(p.learning, NACA) for p in net.incoming(pop.name)):
            third = "dopamine"
        pops_out.append(FixedPopulation(pop.name, pop.n, scale, du, dv, vth, bias_mant,
                                        bias_exp, homeo, third))
        tau_u_r, tau_v_r = realised_tau(du + 1, net.dt), realised_tau(dv, net.dt)
        bias_r = bias_mant * 2 ** bias_exp / (64 * scale)
        pop_reports[pop.name] = {
            "scale": scale, "scale_limited_by": limited_by, "vth": vth,
            "threshold": pop.threshold, "threshold_realised": vth / scale,
            "threshold_rel_error": _rel(vth / scale, pop.threshold),
            "du": du, "dv": dv, "tau_u": pop.tau_u, "tau_u_realised": tau_u_r,
            "tau_u_rel_error": _rel(tau_u_r, pop.tau_u), "tau_v": pop.tau_v,
            "tau_v_realised": None if math.isinf(tau_v_r) else tau_v_r,
            "tau_v_rel_error": _rel(tau_v_r, pop.tau_v),
            "bias": pop.bias, "bias_mant": bias_mant, "bias_exp": bias_exp,
            "bias_realised": bias_r, "bias_rel_error": _rel(bias_r, pop.bias),
            "homeostasis": h_report, "third_factor": third}
        if dv == 0:
            notes.append(f"{where}: tau_v = {pop.tau_v} s gives dv = 0 (no voltage decay)")

    # projections: exponents and mantissas
    fixed_proj: dict[str, FixedProjection] = {}
    proj_reports = {}
    for proj in net.projections:
        scale = scales[proj.post]
        w_range = ranges[proj.name]
        exp = _smallest_exp(w_range, scale, exp_range)
        lsb = scale / 2.0 ** exp
        mode = as_sign_mode(proj.sign_mode)
        mant, clipped = quantize_weights(w_float[proj.name], lsb, mode, opts.num_weight_bits)
        mant = mant * conn[proj.name]
        mask = conn[proj.name]
        err = mant[mask] / lsb - w_float[proj.name][mask]
        bits = int(np.abs(mant).max()).bit_length() if mant.size else 0
        learn_lo, learn_hi = LEARN_RANGE[mode]
        rep = {"post_scale": scale, "weight_exp": exp, "lsb_per_unit": lsb,
               "sign_mode": proj.sign_mode, "num_weight_bits": opts.num_weight_bits,
               "step": (INIT_RANGE[mode][2] << (8 - opts.num_weight_bits)) / lsb,
               "bits_used": bits, "max_mantissa": int(np.abs(mant).max()) if mant.size else 0,
               "range": w_range,
               "max_abs_error": float(np.abs(err).max()) if err.size else 0.0,
               "rms_error": float(np.sqrt(np.mean(err ** 2))) if err.size else 0.0,
               "clipped": clipped, "synapses": int(mask.sum()), "rates": [], "traces": []}
        if mode is SignMode.MIXED:
            rep["note"] = MIXED_NOTE
        if proj.learning is not None:
            rep["learning_bounds"] = [proj.w_min, proj.w_max]
            rep["learning_bounds_realised"] = [learn_lo / lsb, learn_hi / lsb]
        fixed_proj[proj.name] = FixedProjection(
            name=proj.name, pre=proj.pre, post=proj.post, sign_mode=proj.sign_mode,
            weight_exp=exp, lsb_per_unit=lsb, weights=mant, connectivity=mask,
            num_weight_bits=opts.num_weight_bits)
        proj_reports[proj.name] = rep

    # learning rules: supervised first (teacher y and SBP sources need them)
    def rng_seed(proj) -> int:
        return seeds.int_seed(net.seed, seeds.LAVA_RNG, seeds.name_key(proj.name))

    def imp_max(pre_or_post: str, tau: float) -> int:
        if opts.trace_impulse_max is not None:
            return opts.trace_impulse_max
        return impulse_bound(rate_per_step(net, pre_or_post, opts), tau / net.dt)

    sup = [p for p in net.projections if isinstance(p.learning, SupervisedSTDP)]
    j_pop: dict[str, int] = {}
    for proj in sup:
        j = teacher_j_max(proj.learning, fixed_proj[proj.name].lsb_per_unit,
                          imp_max(proj.pre, proj.learning.tau_pre), opts.max_rate_error)
        j_pop[proj.post] = min(j_pop.get(proj.post, j), j)
    teacher_y = gate_y = 0
    for proj in net.projections:
        fp = fixed_proj[proj.name]
        rule = proj.learning
        where = f"projection '{proj.name}'"
        if isinstance(rule, SupervisedSTDP):
            fp.rule = supervised_stdp_plan(rule, fp.lsb_per_unit, net.dt,
                                           imp_max(proj.pre, rule.tau_pre), rng_seed(proj),
                                           teacher_j=j_pop[proj.post], where=where,
                                           max_rel_error=opts.max_rate_error)
            teacher_y = fp.rule.teacher_y
            if rule.gate == "taught":
                gate_y = GATE_Y
            fp.learn_mask = conn[proj.name].copy()
        elif isinstance(rule, STDP):
            fp.rule = stdp_plan(rule, fp.lsb_per_unit, net.dt, imp_max(proj.pre, rule.tau_plus),
                                imp_max(proj.post, rule.tau_minus), rng_seed(proj), where,
                                opts.max_rate_error)
            fp.learn_mask = conn[proj.name].copy() if fp.rule else None
    for proj in net.projections:
        rule = proj.learning
        if not isinstance(rule, SBP):
            continue
        fp = fixed_proj[proj.name]
        src = sbp_source(net, proj)
        m_sat = opts.sbp_m_sat if opts.sbp_m_sat is not None else default_m_sat(net, proj, src,
                                                                                 opts)
        if not m_sat > 0:
            raise BackendError(f"projection '{proj.name}': sbp_m_sat = {m_sat} must be > 0")
        if opts.sbp_epoch not in ("sample", "step"):
            raise SpecError(f"quantize option sbp_epoch = {opts.sbp_epoch!r} is invalid; "
                            "allowed: 'sample', 'step'")
        fp.rule, fp.relay = sbp_plan(rule, src.learning, src.name, fp.lsb_per_unit, net.dt,
                                     net.sample_steps, imp_max(proj.pre, rule.tau_elig), m_sat,
                                     rng_seed(proj), where=f"projection '{proj.name}'",
                                     t_epoch=opts.sbp_t_epoch if opts.sbp_t_epoch is not None
                                     else 1 if opts.sbp_epoch == "step" else None)
        if fp.rule is not None:
            fp.learn_mask = sbp_mask(net, proj)
            fp.relay_fanout = conn[src.name].copy()
    for proj in net.projections:
        rule = proj.learning
        if not isinstance(rule, NACA):
            continue

        fp = fixed_proj[proj.name]
        fp.rule, fp.dopamine, fp.dopamine_table = naca_plan(
            rule, fp.lsb_per_unit, net.dt, net.sample_steps, imp_max(proj.pre, rule.tau_pre),
            rule_ni(rule, net.size(proj.post), net.seed, proj.name), rng_seed(proj),
            where=f"projection '{proj.name}'",
            t_epoch=opts.sbp_t_epoch if opts.sbp_t_epoch is not None
            else 1 if opts.sbp_epoch == "step" else None, max_rel_error=opts.max_rate_error)
        fp.learn_mask = conn[proj.name].copy()
    for proj in net.projections:
        fp = fixed_proj[proj.name]
        rep = proj_reports[proj.name]
        if fp.dopamine is not None:
            rep["dopamine"] = fp.dopamine.to_dict()
        if fp.rule is not None:
            rep["rule"] = fp.rule.kind
            rep["lava_string"] = fp.rule.to_lava_string()
            rep["t_epoch"] = fp.rule.t_epoch
            rep["rates"] = [r.to_dict() for r in fp.rule.rates]
            rep["traces"] = [t.to_dict() for t in fp.rule.traces]
            rep["rule_notes"] = list(fp.rule.notes)
            rep["plastic_synapses"] = int(fp.learn_mask.sum()) if fp.learn_mask is not None \
                else int(conn[proj.name].size)
        if fp.relay is not None:
            rep["relay"] = fp.relay.to_dict()

    fixed_teacher = None
    if teacher is not None:
        drive = None
        if teacher.drive != 0:
            scale = scales[teacher.population]
            exp = _smallest_exp(abs(teacher.drive), scale, exp_range)
            mode = SignMode.EXCITATORY if teacher.drive > 0 else SignMode.INHIBITORY
            mant, _ = quantize_weights(np.array([teacher.drive]), scale / 2.0 ** exp, mode)
            drive = (int(mant[0]), exp, mode.name.lower())
        fixed_teacher = FixedTeacher(teacher.population, net.size(teacher.population),
                                     teacher_y, drive, gate_y)
    fixed = FixedNetwork(
        name=net.name, dt=net.dt, sample_steps=net.sample_steps,
        rest_steps=net.between_samples.rest_steps if net.between_samples.mode == "rest" else 0,
        reset=net.between_samples.mode == "reset", seed=net.seed,
        inputs=tuple((i.name, i.n) for i in net.inputs),
        populations=tuple(pops_out),
        projections=tuple(fixed_proj[p.name] for p in net.projections),
        teacher=fixed_teacher,
        readout=(net.readout.population, net.readout.n_classes) if net.readout else None)
    fixed.report = {"network": net.name, "backend": "lava-nc 0.10 fixed_pt (Loihi-1 widths)",
                    "options": {"state_headroom": opts.state_headroom,
                                "learning_headroom": opts.learning_headroom,
                                "sbp_m_sat": opts.sbp_m_sat, "sbp_epoch": opts.sbp_epoch,
                                "num_weight_bits": opts.num_weight_bits,
                                "trace_impulse_max": opts.trace_impulse_max,
                                "sbp_t_epoch": opts.sbp_t_epoch},
                    "populations": pop_reports, "projections": proj_reports, "notes": notes}
    return fixed


def format_report(report: dict) -> str:
    """The quantization report as Markdown tables."""
    lines = [f"# Quantization report: {report['network']} ({report['backend']})", "",
             "| population | scale | vth | θ err | du | τ_u realised | dv | τ_v realised |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def pct(x):
        return "n/a" if x is None else f"{100 * x:+.2f}%"

    for name, p in report["populations"].items():
        tv = p["tau_v_realised"]
        lines.append(f"| {name} | {p['scale']:.4g} | {p['vth']} | "
                     f"{pct(p['threshold_rel_error'])} | {p['du']} | "
                     f"{1e3 * p['tau_u_realised']:.3f} ms | {p['dv']} | "
                     f"{'inf' if tv is None else f'{1e3 * tv:.3f} ms'} |")
    lines += ["", "| projection | exp | bits | step | max err | RMS err | clipped |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, p in report["projections"].items():
        lines.append(f"| {name} | {p['weight_exp']} | {p['bits_used']} | {p['step']:.4g} | "
                     f"{p['max_abs_error']:.3g} | {p['rms_error']:.3g} | {p['clipped']} |")
    rates = [(name, r) for name, p in report["projections"].items() for r in p["rates"]]
    if rates:
        lines += ["", "| projection | rate | target | realised | error |",
                  "|---|---|---:|---:|---:|"]
        for name, r in rates:
            lines.append(f"| {name} | {r['name']} | {r['target']:.4g} | {r['realised']:.4g} | "
                         f"{pct(r['rel_error'])} |")
    notes = list(report.get("notes", ()))
    for name, p in report["projections"].items():
        if "note" in p:
            notes.append(f"{name}: {p['note']}")
        notes += [f"{name}: {n}" for n in p.get("rule_notes", ())]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines)
