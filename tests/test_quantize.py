"""Quantizer: scales, decays, thresholds, biases, learning rates and the report, each derived
here from the spec (not pasted from a run); quantize -> dequantize within half a step; one-line
refusals; the fixed-point network directory round trip."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from spikeport.converters.lava_rules import TEACHER_Y_BASE, fit_scale, scale_value
from spikeport.converters.quantize import QuantizeOptions, format_report, quantize
from spikeport.errors import BackendError, DataError, SpecError
from spikeport.flow.fixed import INIT_RANGE, FixedNetwork
from spikeport.flow.plans import RulePlan
from spikeport.kernels.dense import as_sign_mode
from spikeport.kernels.learning import Factor, Product
from spikeport.models import (
    NACA,
    SBP,
    STDP,
    STP,
    BetweenSamples,
    Connectivity,
    Encoder,
    Homeostasis,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
    WeightInit,
    load_spec,
    spec_from_yaml,
)
from spikeport.models.weights import initial_weights

ROOT = Path(__file__).resolve().parents[1]


def one_layer(sign_mode="mixed", threshold=1.0, n_in=5, n_out=3, learning=None, w_min=-math.inf,
              w_max=math.inf, **pop) -> Network:
    return Network(
        name="one", inputs=(InputPopulation("inp", n_in, Encoder("poisson", max_rate=100.0)),),
        populations=(LIFPopulation("out", n_out, threshold=threshold, **pop),),
        projections=(Projection("inp", "out", sign_mode=sign_mode, learning=learning,
                                weights=WeightInit("constant", value=0.0),
                                w_min=w_min, w_max=w_max),),
        sample_steps=20)


def sbp_net(**changes) -> Network:
    base = dict(
        name="sbp", dt=0.001, sample_steps=30, seed=5,
        inputs=(InputPopulation("inp", 6, Encoder("poisson", max_rate=200.0)),),
        populations=(LIFPopulation("hid", 4, threshold=2.0,
                                   homeostasis=Homeostasis(target_rate=40.0, eta=0.05,
                                                           theta_min=0.5, theta_max=4.0)),
                     LIFPopulation("out", 2, threshold=1.0, bias=0.05)),
        projections=(
            Projection("inp", "hid", w_min=-1.0, w_max=1.0,
                       learning=SBP(f_ltp=1.0, f_ltd=0.5, rho=0.5, tau_elig=0.03, seed=2)),
            Projection("hid", "out", sign_mode="excitatory", w_min=0.0, w_max=2.0,
                       weights=WeightInit("uniform", low=0.0, high=0.5),
                       connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       learning=SupervisedSTDP(eta=0.02, tau_pre=0.02)),
        ),
        teacher=Teacher("out", rate=200.0), readout=Readout("out", 2))
    base.update(changes)
    return Network(**base)


# The numbers below are derived for this spec (a frozen copy of an early examples/digits_sbp.yaml;
# the example itself is tuned over time and only smoke-tested here).
DIGITS_YAML = """
schema: spikeport/1
name: digits_sbp
dt: 1 ms
sample_steps: 50
seed: 1
inputs:
  - {name: pixels, n: 64, encoder: {kind: poisson, max_rate: 200 Hz}}
populations:
  - name: hidden
    n: 100
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 40
    homeostasis: {target_rate: 40 Hz, eta: 0.02, theta_min: 1.0, theta_max: 20.0}
  - {name: output, n: 10, tau_u: 5 ms, tau_v: 20 ms, threshold: 8}
projections:
  - pre: pixels
    post: hidden
    weights: {kind: uniform, low: -0.3, high: 0.6}
    w_min: -1.0
    w_max: 1.0
    learning: {rule: sbp, f_ltp: 1.0, f_ltd: 1.0, rho: 0.5, tau_elig: 50 ms, seed: 3}
  - pre: hidden
    post: output
    weights: {kind: uniform, low: 0.0, high: 0.5}
    sign_mode: excitatory
    connectivity: {kind: fan_out, groups: 10, per_neuron: 1}
    w_min: 0.0
    w_max: 2.0
    learning: {rule: supervised_stdp, eta: 0.01, tau_pre: 20 ms}
teacher: {population: output, rate: 200 Hz, kind: regular}
readout: {population: output, n_classes: 10}
"""


@pytest.fixture(scope="module")
def digits():
    net = spec_from_yaml(DIGITS_YAML)
    w = initial_weights(net)
    return net, w, quantize(net, w)


def _network_examples() -> list:
    """The example files that are network specs (``examples/`` also holds sweep files)."""
    return [p for p in sorted((ROOT / "examples").glob("*.yaml"))
            if (yaml.safe_load(p.read_text()) or {}).get("schema") == "spikeport/1"]


@pytest.mark.parametrize("example", _network_examples(), ids=lambda p: p.stem)
def test_examples_quantize(example):
    """Every shipped example network converts (their parameters change as they are tuned)."""
    net = load_spec(example)
    fixed = quantize(net, initial_weights(net, example.parent))
    rep = fixed.report
    assert set(rep["projections"]) == {p.name for p in net.projections}
    for p in rep["projections"].values():
        assert p["clipped"] == 0 and p["max_abs_error"] <= p["step"] / 2 * (1 + 1e-9)
        assert all(abs(r["rel_error"]) < 0.5 for r in p["rates"])
    assert "| population |" in format_report(rep)


# ------------------------------------------------------------------------------- populations


def test_decays_thresholds_and_realised_tau_derived(digits):
    net, _, fixed = digits
    for pop in net.populations:
        fp = fixed.population(pop.name)
        rep = fixed.report["populations"][pop.name]
        # LOIHI.md A1: du + 1 ≈ 4096·(1 − e^{−dt/τ_u}), dv ≈ 4096·(1 − e^{−dt/τ_v})
        assert fp.du == round(4096 * (1 - math.exp(-net.dt / pop.tau_u))) - 1
        assert fp.dv == round(4096 * (1 - math.exp(-net.dt / pop.tau_v)))
        # the rounded decay realises τ = −dt / ln(1 − d/4096)
        tau_u = -net.dt / math.log(1 - (fp.du + 1) / 4096)
        tau_v = -net.dt / math.log(1 - fp.dv / 4096)
        assert rep["tau_u_realised"] == pytest.approx(tau_u, rel=1e-12)
        assert rep["tau_v_realised"] == pytest.approx(tau_v, rel=1e-12)
        assert rep["tau_u_rel_error"] == pytest.approx(tau_u / pop.tau_u - 1)
        # 5 ms: 4096·(1 − e^{−0.2}) = 742.4 -> du = 741; 20 ms: 199.8 -> dv = 200
        assert (fp.du, fp.dv) == (741, 200)
        assert fp.vth == round(pop.threshold * fp.scale)
        assert rep["threshold_realised"] == pytest.approx(fp.vth / fp.scale)


def test_scale_per_population_and_anchor_on_learning_bound(digits):
    net, _, fixed = digits
    hid, out = fixed.population("hidden"), fixed.population("output")
    # hidden: θ_ref = 40 (threshold > theta_max 20), headroom 8: S ≤ 131071/320 = 409.6;
    # anchored on pixels->hidden (w_max = 1): S = 255·2^e/1 ≤ 409.6 -> e = 0, S = 255
    assert hid.scale == 255.0
    # output: S ≤ 131071/64 = 2048; anchor hidden->output (w_max = 2): 255·2^4/2 = 2040
    assert out.scale == 2040.0
    ph, ho = fixed.projection("pixels->hidden"), fixed.projection("hidden->output")
    assert (ph.weight_exp, ho.weight_exp) == (0, 4)
    # the learning bound w_max lands on Lava's clip at mantissa 255
    assert 1.0 * ph.lsb_per_unit == 255 and 2.0 * ho.lsb_per_unit == 255
    rep = fixed.report["projections"]["pixels->hidden"]
    assert rep["learning_bounds_realised"] == [pytest.approx(-256 / 255), pytest.approx(1.0)]
    assert "lowest weight bit" in rep["note"]  # MIXED loses its LSB: step 2
    assert rep["step"] == pytest.approx(2 / 255)


def test_bias_is_mantissa_shifted_not_times_64():
    net = one_layer(threshold=2.0, bias=0.3)
    fixed = quantize(net, {"inp->out": np.full((5, 3), 0.1)})
    pop = fixed.population("out")
    # bias in v units = bias · scale · 64; mantissa is 13-bit signed, exponent 0..7
    target = 0.3 * pop.scale * 64
    assert pop.bias_mant * 2 ** pop.bias_exp == pytest.approx(target, abs=2 ** pop.bias_exp / 2)
    assert -4096 <= pop.bias_mant <= 4095
    if pop.bias_exp > 0:
        assert abs(round(target / 2 ** (pop.bias_exp - 1))) > 4095  # smallest exponent that fits


def test_homeostasis_integers_derived():
    net = sbp_net()
    fixed = quantize(net, initial_weights(net))
    hid = fixed.population("hid")
    h = net.population("hid").homeostasis
    # one spike moves the 16-fraction-bit accumulator by eta_q·256, i.e. vth by eta_q/256 LSB
    assert hid.homeostasis["eta_q"] == round(h.eta * hid.scale * 256)
    # 40 Hz × 30 steps × 1 ms = 1.2 spikes per sample, 8 fraction bits
    assert hid.homeostasis["target_q"] == round(1.2 * 256)
    assert hid.homeostasis["acc_min"] == round(0.5 * hid.scale * 2 ** 16)
    assert hid.homeostasis["acc_max"] == round(4.0 * hid.scale * 2 ** 16)
    rep = fixed.report["populations"]["hid"]["homeostasis"]
    assert rep["eta_realised"] == pytest.approx(hid.homeostasis["eta_q"] / (256 * hid.scale))


# ------------------------------------------------------------------------------- rules


def test_supervised_rates_realised_with_product_shift(digits):
    net, _, fixed = digits
    proj = fixed.projection("hidden->output")
    plan = proj.rule
    eta = net.projection("hidden->output").learning.eta
    (dep_t, f_t, m_t, e_t), (dep_o, f_o, m_o, e_o) = plan.products
    assert (dep_t, f_t, dep_o, f_o) == ("u0", ("x1", "y2"), "y0", ("x1",))
    assert plan.t_epoch == 1 and plan.post == "3F"
    # u0*x1*y2: widths 7 + 7 + mantissa 4 = 18 > 15 -> shifted right by 3, never back
    shift = Product("u0", [Factor("x1"), Factor("y2")]).right_shift()
    assert shift == 3
    imp = plan.x_impulse[0]
    y = plan.teacher_y
    assert y % TEACHER_Y_BASE == 0
    # Δw per teaching spike = m·2^e·x1·y2/2^3 LSB, x1 = impulse × float trace, L LSB per unit:
    eta_teach = m_t * 2.0 ** e_t * y / 2 ** shift * imp / proj.lsb_per_unit
    eta_own = -m_o * 2.0 ** e_o * imp / proj.lsb_per_unit
    assert eta_teach == eta_own  # both terms realise the same rate: updates cancel at match
    rates = {r["name"]: r for r in fixed.report["projections"]["hidden->output"]["rates"]}
    for r in rates.values():
        assert r["realised"] == pytest.approx(eta_teach)
        assert r["rel_error"] == pytest.approx(eta_teach / eta - 1)
    assert abs(eta_teach / eta - 1) < 0.05


def test_sbp_rates_through_relay_gain(digits):
    net, _, fixed = digits
    proj = fixed.projection("pixels->hidden")
    src = fixed.projection("hidden->output")
    rule = net.projection("pixels->hidden").learning
    eta_o = net.projection("hidden->output").learning.eta
    plan, relay = proj.rule, proj.relay
    assert plan.t_epoch == net.sample_steps and plan.post == "3F"
    (_, f1, m, e), (_, f2, m2, e2) = plan.products
    assert (f1, f2) == (("x2", "y2"), ("x2", "y3")) and (m2, e2) == (-m, e)
    r = m * 2.0 ** e / 2 ** 3  # u0*x2*y2: shift 3
    imp_e = plan.x_impulse[1]
    # Δw_ij = R·x2·y, x2 = I_e·e_i, y = acc·G, acc = I_r·M/η_o  =>  f = R·G·I_e·I_r/(L·η_o)
    gm, gs = relay.gain_ltp
    f_ltp = r * gm / 2 ** gs * imp_e * relay.impulse / (proj.lsb_per_unit * eta_o)
    assert f_ltp == pytest.approx(rule.f_ltp, rel=2 ** -15)
    rates = {x["field"]: x for x in fixed.report["projections"]["pixels->hidden"]["rates"]}
    assert rates["f_ltp"]["realised"] == pytest.approx(f_ltp, rel=1e-12)
    # relay trace: decay 4096·(1 − e^{−dt/τ_pre}) = 199.8 -> 200
    assert relay.decay == 200
    assert relay.tau_steps == pytest.approx(-1 / math.log(1 - 200 / 4096))
    assert np.array_equal(proj.relay_fanout, src.connectivity)
    # the SBP mask lives on the plastic connection, within the stored synapses
    assert proj.learn_mask is not None and not proj.learn_mask[~proj.connectivity].any()
    assert 0.3 < proj.learn_mask.mean() < 0.7  # rho = 0.5


def test_stdp_plan_is_stdploihi_form():
    net = one_layer(sign_mode="excitatory", w_min=0.0, w_max=1.0,
                    learning=STDP(a_plus=0.01, a_minus=0.012, tau_plus=0.02, tau_minus=0.03))
    fixed = quantize(net, {"inp->out": np.full((5, 3), 0.2)})
    proj = fixed.projection("inp->out")
    plan = proj.rule
    assert plan.post == "2F" and plan.t_epoch == 1
    deps = [(d, f) for d, f, _, _ in plan.products]
    assert deps == [("x0", ("y1",)), ("y0", ("x1",))]
    assert plan.x_tau[0] == 20 and plan.y_tau[0] == 30
    (_, _, mm, em), (_, _, mp, ep) = plan.products
    a_minus = -mm * 2.0 ** em * plan.y_impulse[0] / proj.lsb_per_unit
    a_plus = mp * 2.0 ** ep * plan.x_impulse[0] / proj.lsb_per_unit
    rates = {r["field"]: r["realised"] for r in fixed.report["projections"]["inp->out"]["rates"]}
    assert rates == {"a_minus": pytest.approx(a_minus), "a_plus": pytest.approx(a_plus)}
    assert abs(a_plus / 0.01 - 1) < 0.05 and abs(a_minus / 0.012 - 1) < 0.05


def test_rule_plan_round_trips_and_strings():
    net = sbp_net()
    fixed = quantize(net, initial_weights(net))
    for proj in fixed.projections:
        again = RulePlan.from_dict(proj.rule.to_dict())
        assert again == proj.rule
        assert again.to_lava_string() == proj.rule.to_lava_string()


@pytest.mark.parametrize("target, shift", [(0.03, 0), (1e-3, 3), (5.5, 0), (0.2, 12)])
def test_fit_scale_is_closest_representable(target, shift):
    m, e = fit_scale(target, shift)
    best = min(abs(scale_value(mm, ee, shift) / target - 1)
               for mm in range(1, 8) for ee in range(-7, 9))
    assert abs(scale_value(m, e, shift) / target - 1) == pytest.approx(best)


# ------------------------------------------------------------------------------- weights


@settings(max_examples=60, deadline=None)
@given(sign_mode=st.sampled_from(["mixed", "excitatory", "inhibitory"]),
       threshold=st.floats(0.05, 50.0),
       magnitude=st.floats(1e-3, 20.0),
       seed=st.integers(0, 2 ** 16),
       plastic=st.booleans())
def test_quantize_dequantize_within_half_a_step(sign_mode, threshold, magnitude, seed, plastic):
    rng = np.random.default_rng(seed)
    w = rng.uniform(-magnitude, magnitude, (5, 3))
    if sign_mode == "excitatory":
        w = np.abs(w)
    elif sign_mode == "inhibitory":
        w = -np.abs(w)
    bound = float(np.abs(w).max()) * 1.5
    lo = -bound if sign_mode != "excitatory" else 0.0
    hi = bound if sign_mode != "inhibitory" else 0.0
    learning = STDP(a_plus=0.01, a_minus=0.01)
    net = one_layer(sign_mode, threshold, learning=learning if plastic else None,
                    w_min=lo if plastic else -math.inf, w_max=hi if plastic else math.inf)
    try:
        fixed = quantize(net, {"inp->out": w})
    except BackendError as exc:  # e.g. a threshold far below the weights: vth would be 0
        assert "vth = 0" in str(exc) or "cannot be realised" in str(exc)
        return
    proj = fixed.projection("inp->out")
    lo_m, hi_m, step = INIT_RANGE[as_sign_mode(sign_mode)]
    assert proj.weights.min() >= lo_m and proj.weights.max() <= hi_m
    assert np.all(proj.weights % step == 0)
    err = np.abs(proj.dequantized() - w)
    assert err.max() <= proj.step / 2 * (1 + 1e-9)
    rep = fixed.report["projections"]["inp->out"]
    assert rep["clipped"] == 0
    assert rep["max_abs_error"] == pytest.approx(err.max())
    assert rep["rms_error"] == pytest.approx(np.sqrt(np.mean(err ** 2)))
    assert rep["bits_used"] == int(np.abs(proj.weights).max()).bit_length()


def test_absent_synapses_must_be_zero():
    net = sbp_net()
    w = initial_weights(net)
    w["hid->out"] = np.full_like(w["hid->out"], 0.1)
    with pytest.raises(SpecError, match="no synapse"):
        quantize(net, w)


# ------------------------------------------------------------------------------- refusals


def _one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("change, field", [
    (dict(stp=STP()), "stp"),
    (dict(learning=NACA(eta=0.1, post="trace")), "naca"),
    (dict(delay=3), "delay"),
])
def test_refuses_projection_features(change, field):
    net = one_layer()
    proj = net.projections[0]
    from dataclasses import replace
    net = net.replace(projections=(replace(proj, **change),))
    with pytest.raises(BackendError) as exc:
        quantize(net, {"inp->out": np.full((5, 3), 0.1)})
    msg = _one_line(exc)
    assert field in msg and "inp->out" in msg


@pytest.mark.parametrize("pop, field", [(dict(refractory=0.002), "refractory"),
                                        (dict(reset=-0.5), "reset")])
def test_refuses_population_features(pop, field):
    net = one_layer(**pop)
    with pytest.raises(BackendError) as exc:
        quantize(net, {"inp->out": np.full((5, 3), 0.1)})
    assert field in _one_line(exc)


def test_refuses_rest_gap_with_sbp():
    net = sbp_net(between_samples=BetweenSamples("rest", rest_steps=5))
    with pytest.raises(BackendError) as exc:
        quantize(net, initial_weights(net))
    assert "rest" in _one_line(exc)


def test_out_of_range_values_name_the_parameter():
    net = one_layer(threshold=1.0, bias=1e6)
    with pytest.raises(BackendError, match="bias"):
        quantize(net, {"inp->out": np.full((5, 3), 0.1)})
    net = one_layer(sign_mode="excitatory", w_min=0.0, w_max=1.0,
                    learning=STDP(a_plus=1e-7, a_minus=0.01))
    with pytest.raises(BackendError, match="a_plus"):
        quantize(net, {"inp->out": np.full((5, 3), 0.2)})


# ------------------------------------------------------------------------------- files


def test_fixed_network_directory_round_trip(tmp_path, digits):
    _, _, fixed = digits
    fixed.save(tmp_path / "fx")
    assert sorted(p.name for p in (tmp_path / "fx").iterdir()) == ["network.json",
                                                                    "weights.npz"]
    again = FixedNetwork.load(tmp_path / "fx")
    assert again.populations == fixed.populations
    assert again.teacher == fixed.teacher and again.readout == fixed.readout
    for a, b in zip(again.projections, fixed.projections):
        assert np.array_equal(a.weights, b.weights)
        assert np.array_equal(a.connectivity, b.connectivity)
        assert (a.learn_mask is None) == (b.learn_mask is None)
        if a.learn_mask is not None:
            assert np.array_equal(a.learn_mask, b.learn_mask)
        assert a.rule == b.rule and a.relay == b.relay
    assert "f_ltp" in format_report(again.report)


def test_fixed_network_detects_mixed_writes(tmp_path, digits):
    _, _, fixed = digits
    fixed.save(tmp_path / "fx")
    other = quantize(sbp_net(), initial_weights(sbp_net()))
    other.save(tmp_path / "other")
    (tmp_path / "fx" / "weights.npz").write_bytes((tmp_path / "other" / "weights.npz")
                                                  .read_bytes())
    with pytest.raises(DataError, match="SHA-256"):
        FixedNetwork.load(tmp_path / "fx")
    with pytest.raises(DataError, match="network.json"):
        FixedNetwork.load(tmp_path / "missing")


def test_options_change_headroom():
    net = one_layer(threshold=2.0)
    w = {"inp->out": np.full((5, 3), 0.1)}
    a = quantize(net, w, QuantizeOptions(state_headroom=8.0))
    b = quantize(net, w, QuantizeOptions(state_headroom=64.0))
    assert a.population("out").scale == pytest.approx(8 * b.population("out").scale)


def test_sbp_epoch_option():
    net = sbp_net()
    w = initial_weights(net)
    per_sample = quantize(net, w).projection("inp->hid").rule
    per_step = quantize(net, w, QuantizeOptions(sbp_epoch="step")).projection("inp->hid").rule
    assert (per_sample.t_epoch, per_step.t_epoch) == (net.sample_steps, 1)
    assert per_sample.products == per_step.products  # same rule, other epoch
    assert any("half the reference" in n for n in per_sample.notes)
    with pytest.raises(SpecError, match="sbp_epoch"):
        quantize(net, w, QuantizeOptions(sbp_epoch="epoch"))
