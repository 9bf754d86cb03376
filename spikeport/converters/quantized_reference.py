"""The quantized-parameter reference: the float spec carrying the fixed network's rounded
constants (time constants the decays realise, thresholds, learning rates, trace impulses) and
the dequantized weights, so a Brian2 run isolates what parameter rounding alone changes."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from spikeport.errors import BackendError
from spikeport.flow.fixed import LEARN_RANGE
from spikeport.kernels.dense import quantize_dense_weights
from spikeport.kernels.homeostasis import ACC_FRACTION_BITS, COUNT_FRACTION_BITS
from spikeport.models.rules import SBP, STDP, Homeostasis, SupervisedSTDP

# ---------------------------------------------------------------------------------------------
# the quantized-parameter reference

@dataclass
class QuantizedReference:
    """A spec whose constants are the quantizer's realised ones, the dequantized initial
    weights, per-neuron thresholds ``vth / scale``, and a record of every constant changed."""

    net: object
    weights: dict[str, np.ndarray]
    thresholds: dict[str, np.ndarray]
    constants: dict


def _spec_tau(tau: float, dt: float) -> float:
    """A realised time constant the spec can hold: 0 (full decay) becomes the spec's fastest
    (decay factor 1/4096), inf (no decay) a time constant whose decay factor is 1.0."""
    tau_min = dt / math.log(4096)
    if not tau > tau_min:
        return tau_min
    return tau if math.isfinite(tau) else 1e300


def quantized_reference(net, fixed) -> QuantizedReference:
    """The float spec with the fixed network's rounded constants (see the module docstring)."""
    from spikeport.converters.quantize import realised_tau
    from spikeport.models.spec import sbp_source

    dt, T = net.dt, net.sample_steps
    consts: dict = {"populations": {}, "projections": {}}
    pops, thresholds = [], {}
    for pop in net.populations:
        fp = fixed.population(pop.name)
        s = fp.scale
        theta = np.broadcast_to(np.asarray(fp.vth, dtype=np.float64), (pop.n,)) / s
        if not theta.max() > pop.reset:
            raise BackendError(f"population '{pop.name}': quantized thresholds vth/scale "
                               f"<= reset; cannot build the quantized reference")
        thresholds[pop.name] = theta.copy()
        tau_u = _spec_tau(realised_tau(fp.du + 1, dt), dt)
        tau_v = _spec_tau(realised_tau(fp.dv, dt), dt)
        bias = fp.bias_mant * 2.0 ** fp.bias_exp / (64.0 * s)
        c = {"tau_u_s": [pop.tau_u, tau_u], "tau_v_s": [pop.tau_v, tau_v],
             "threshold": [pop.threshold, float(theta.min()), float(theta.max())],
             "bias": [pop.bias, bias]}
        h = pop.homeostasis
        if h is not None and fp.homeostasis is not None:
            hq = fp.homeostasis
            h = Homeostasis(
                target_rate=hq["target_q"] / (1 << COUNT_FRACTION_BITS) / (T * dt),
                eta=hq["eta_q"] / ((1 << (ACC_FRACTION_BITS - COUNT_FRACTION_BITS)) * s),
                theta_min=hq["acc_min"] / (1 << ACC_FRACTION_BITS) / s,
                theta_max=hq["acc_max"] / (1 << ACC_FRACTION_BITS) / s)
            c["homeostasis"] = {k: [getattr(pop.homeostasis, k), getattr(h, k)]
                                for k in ("target_rate", "eta", "theta_min", "theta_max")}
        consts["populations"][pop.name] = c
        pops.append(replace(pop, tau_u=tau_u, tau_v=tau_v, threshold=float(theta.max()),
                            bias=bias, homeostasis=h))

    # the supervised rules' realised rates: SBP's relay gains carry f·η_source with the
    # *spec's* η_source, so the quantized SBP rate is f_realised·η_spec/η_realised
    eta_realised = {}
    for proj in net.projections:
        rule = fixed.projection(proj.name).rule
        if isinstance(proj.learning, SupervisedSTDP) and rule is not None:
            eta_realised[proj.name] = float(np.mean([r.realised for r in rule.rates
                                                     if r.field == "eta"]))
    projs, weights = [], {}
    for proj in net.projections:
        fpj = fixed.projection(proj.name)
        w_int = quantize_dense_weights(np.asarray(fpj.weights, dtype=np.int64), fpj.sign_mode,
                                       fpj.num_weight_bits)
        weights[proj.name] = fpj.dequantized(w_int)
        c = {"lsb_per_unit": fpj.lsb_per_unit, "weight_exp": fpj.weight_exp,
             "num_weight_bits": fpj.num_weight_bits}
        new = proj
        plan = fpj.rule
        if plan is not None:
            lo, hi = LEARN_RANGE[fpj.mode]
            w_min, w_max = lo / fpj.lsb_per_unit, hi / fpj.lsb_per_unit
            c["w_min"], c["w_max"] = [proj.w_min, w_min], [proj.w_max, w_max]
            rates: dict[str, list] = {}
            for r in plan.rates:
                rates.setdefault(r.field, []).append(r.realised)
            taus = {t.name: t.tau_steps * dt for t in plan.traces}
            rule = proj.learning
            changes = {k: float(np.mean(v)) for k, v in rates.items()}
            if isinstance(rule, SupervisedSTDP):
                changes["tau_pre"] = taus["x1"]
            elif isinstance(rule, SBP):
                changes["tau_elig"] = taus["x2"]
                src = sbp_source(net, proj)
                ratio = src.learning.eta / eta_realised.get(src.name, src.learning.eta)
                for k in ("f_ltp", "f_ltd"):
                    if k in changes:
                        changes[k] *= ratio
            elif isinstance(rule, STDP):
                if "x1" in taus:
                    changes["tau_plus"] = taus["x1"]
                if "y1" in taus:
                    changes["tau_minus"] = taus["y1"]
            c["learning"] = {k: [getattr(rule, k), v] for k, v in changes.items()}
            c["learning_terms"] = {k: v for k, v in rates.items() if len(v) > 1}
            new = replace(proj, w_min=w_min, w_max=w_max, learning=replace(rule, **changes))
        consts["projections"][proj.name] = c
        projs.append(new)

    teacher = net.teacher
    if teacher is not None and fixed.teacher is not None and fixed.teacher.drive is not None:
        mant, exp, _ = fixed.teacher.drive
        drive = mant * 2.0 ** exp / fixed.population(teacher.population).scale
        consts["teacher_drive"] = [teacher.drive, drive]
        teacher = replace(teacher, drive=drive)
    qnet = net.replace(populations=tuple(pops), projections=tuple(projs), teacher=teacher)
    return QuantizedReference(qnet, weights, thresholds, consts)
