"""NACA in the Brian2 reference and the numpy oracle: the expectation code and the modulation
curve against the paper's values, the once-per-sample update Δw = −η·m·(x − x0)·p on tiny
networks with the expected weights derived here, the label read from teaching spikes, the
supervised gate, and Brian2 ≡ oracle on a random network with every NACA option."""

import math

import numpy as np
import pytest
from learning_util import FAST, run_both, spike_array, tau_for

from spikeport import seeds
from spikeport.backends.brian2.sim import simulate
from spikeport.errors import SpecError
from spikeport.kernels import naca
from spikeport.models import (
    NACA,
    Connectivity,
    Homeostasis,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
    WeightInit,
)
from spikeport.models.spec import spec_from_yaml
from spikeport.models.weights import initial_weights

T = 6
ETA = 0.2
X0 = 0.25       # x_offset
D_PRE = 0.5     # per-step decay of the presynaptic trace
D_POST = 0.75   # per-step decay of the postsynaptic trace


def g(nl, lam=0.5, th=1.2):
    """The modulation curve, written out branch by branch (PAPERS.md §3.3)."""
    if nl <= lam / 2:
        return th - (th - 1) * (4 * nl - lam) ** 2 / lam ** 2
    if nl <= lam:
        return 4 * (nl - lam) ** 2 / lam ** 2
    if nl <= 1.5 * lam:
        return -4 * (lam - nl) ** 2 / lam ** 2
    return (th - 1) * (4 * (2 * lam - nl) - lam) ** 2 / lam ** 2 - th


# --- the code and the curve -----------------------------------------------------------------

def test_expectation_slots_match_the_paper():
    # a_i = floor(sqrt(2 ln(10/i)) / sqrt(2 ln 10) · 18): i=2: sqrt(ln 5/ln 10) = 0.836 → 15.05;
    # i=5: sqrt(ln 2/ln 10) = 0.549 → 9.88; i=9: sqrt(ln(10/9)/ln 10) = 0.214 → 3.85; i=10: 0
    expected = [math.floor(math.sqrt(math.log(10 / i) / math.log(10)) * 18 + 1e-9)
                for i in range(1, 11)]
    assert expected == [18, 15, 13, 11, 9, 8, 7, 5, 3, 0]            # PAPERS.md §3.1
    np.testing.assert_array_equal(naca.expectation_slots(10), expected)
    # C = 2: a_1 = floor(1 · 2) = 2, a_2 = floor(0) = 0
    np.testing.assert_array_equal(naca.expectation_slots(2), [2, 0])
    E = naca.expectation(np.array([1, 0]), 2)
    np.testing.assert_array_equal(E, [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    with pytest.raises(ValueError, match="n_classes = 1 is invalid"):
        naca.expectation_slots(1)


def test_modulation_curve_values_and_symmetry():
    nl = np.array([0, 0.125, 0.25, 0.4, 0.5, 0.6, 0.75, 0.875, 1.0])
    # e.g. nl = 0.4 (λ/2 < nl ≤ λ): 4·(0.4 − 0.5)²/0.25 = 0.16; nl = 0.875 (> 3λ/2):
    # 0.2·(4·0.125 − 0.5)²/0.25 − 1.2 = −1.2
    np.testing.assert_allclose(naca.modulation(nl), [1, 1.2, 1, 0.16, 0, -0.16, -1, -1.2, -1],
                               atol=1e-12)
    d = np.linspace(0, 0.5, 11)
    np.testing.assert_allclose(naca.modulation(0.5 + d), -naca.modulation(0.5 - d), atol=1e-12)
    # another λ, θ: the curve is continuous at λ/2, λ, 3λ/2 and equals g written out above
    for x in np.linspace(0, 1, 41):
        assert naca.modulation(x, 0.4, 1.5) == pytest.approx(g(x, 0.4, 1.5), abs=1e-12)


@pytest.mark.parametrize("dist, draw", [
    ("uniform", lambda r, shape: r.random(shape)),
    ("normal", lambda r, shape: np.clip(r.normal(0.4, 0.7, shape), 0, 1)),
    ("beta", lambda r, shape: r.beta(0.3, 0.6, shape)),
])
def test_ni_matrix_is_the_documented_stream(dist, draw):
    rule = NACA(n_classes=3, ni_distribution=dist, ni_mean=0.4, ni_std=0.7, ni_alpha=0.3,
                ni_beta=0.6, seed=4)
    r = seeds.rng(11, seeds.NACA_NI, seeds.name_key("a->b"), 4)
    ni = naca.rule_ni(rule, 5, 11, "a->b")
    np.testing.assert_array_equal(ni, draw(r, (6, 5)))
    # the dopamine source's table: class c reads slots a_c, a_c + 1; C = 3:
    # a = ⌊√(ln(3/i)/ln 3)·4⌋ = [4, ⌊√(0.405/1.099)·4⌋ = ⌊2.43⌋ = 2, 0]
    table = naca.class_modulation(rule, ni)
    for c, a in enumerate([4, 2, 0]):
        np.testing.assert_allclose(table[c], [g((ni[a, j] + ni[a + 1, j]) / 2)
                                              for j in range(5)], atol=1e-12)


# --- the update on tiny networks -------------------------------------------------------------

def two_by_two(post="none", w_max=20.0):
    return Network(
        name="naca", seed=7, inputs=(InputPopulation("x", 2),),
        populations=(LIFPopulation("h", 2, tau_u=FAST, tau_v=FAST, threshold=1.0),),
        projections=(Projection("x", "h", w_min=-20.0, w_max=w_max, learning=NACA(
            eta=ETA, n_classes=2, tau_pre=tau_for(D_PRE), x_offset=X0, post=post,
            tau_post=tau_for(D_POST), seed=5)),),
        sample_steps=T)


def ni_levels(net):
    """nl[c, j] derived from the NI stream: class 0 reads slots 2, 3; class 1 slots 0, 1."""
    NI = seeds.rng(net.seed, seeds.NACA_NI, seeds.name_key("x->h"), 5).random((4, 2))
    return np.array([0.5 * (NI[2] + NI[3]), 0.5 * (NI[0] + NI[1])])


def test_post_none_update_per_sample_matches_derivation():
    net = two_by_two()
    m = np.vectorize(g)(ni_levels(net))
    assert (m > 0).any() and (m < 0).any()        # both LTD and LTP are exercised
    # x0 spikes at steps 0 and 2, x1 at step 4; weights 0.3 keep h silent
    inputs = {"x": spike_array(T, 2, {0: [0, 2], 1: [4]}, samples=2)}
    w0 = np.full((2, 2), 0.3)
    # traces at the last step (5): x0 = 0.5^5 + 0.5^3 = 0.15625, x1 = 0.5^1 = 0.5
    x = np.array([0.5 ** 5 + 0.5 ** 3, 0.5])
    labels = np.array([1, 0])
    a, b = run_both(net, inputs, {"x->h": w0}, labels=labels)
    assert not a.spikes["h"].any()
    # sample 0 (class 1), then sample 1 (class 0): Δw_ij = −η·m_j·(x_i − x0)
    w1 = w0 - ETA * np.outer(x - X0, m[1])
    w2 = w1 - ETA * np.outer(x - X0, m[0])
    np.testing.assert_allclose(a.weights["x->h"], w2, rtol=0, atol=1e-12)
    # and the kernel's one-step function gives the same
    k = naca.naca_step(w0, x, np.ones(2), naca.modulation(ni_levels(net)[1]),
                       np.ones((2, 2), bool), ETA, X0, X0, -20.0, 20.0)
    np.testing.assert_allclose(k, w1, rtol=0, atol=1e-12)


def test_post_trace_update_and_clipping():
    net = two_by_two("trace", w_max=10.05)
    m = np.vectorize(g)(ni_levels(net))
    # x0 → h0 with weight 10 makes h0 spike one step after each x0 spike (1 and 3); h1 gets
    # 0.5 per x0 spike and stays silent
    inputs = {"x": spike_array(T, 2, {0: [0, 2], 1: [4]})}
    w0 = np.array([[10.0, 0.5], [0.5, 0.5]])
    a, _ = run_both(net, inputs, {"x->h": w0}, labels=np.array([0]))
    assert np.flatnonzero(a.spikes["h"][0, :, 0]).tolist() == [1, 3]
    assert not a.spikes["h"][0, :, 1].any()
    # post traces at step 5: y0 = 0.75^4 + 0.75^2 = 0.87890625, y1 = 0 (no change for h1)
    x = np.array([0.15625, 0.5])
    y = np.array([0.75 ** 4 + 0.75 ** 2, 0.0])
    expected = np.clip(w0 - ETA * np.outer(x - X0, m[0] * y), -20.0, 10.05)
    np.testing.assert_allclose(a.weights["x->h"], expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a.weights["x->h"][:, 1], w0[:, 1])
    if m[0, 0] > 0:   # x0's factor is x − x0 < 0: LTD with a negative factor potentiates
        assert a.weights["x->h"][0, 0] == 10.05


def with_readout(gate="none", drive=0.0):
    """x(2) → h(2) NACA; h → o(4, two classes of two) supervised STDP."""
    return Network(
        name="naca_out", seed=7, inputs=(InputPopulation("x", 2),),
        populations=(LIFPopulation("h", 2, tau_u=FAST, tau_v=FAST, threshold=1.0),
                     LIFPopulation("o", 4, tau_u=FAST, tau_v=FAST, threshold=1.0)),
        projections=(
            Projection("x", "h", w_min=-20.0, w_max=20.0, learning=NACA(
                eta=ETA, n_classes=2, tau_pre=tau_for(D_PRE), x_offset=X0, seed=5)),
            Projection("h", "o", w_min=-20.0, w_max=20.0, learning=SupervisedSTDP(
                eta=0.1, tau_pre=tau_for(0.5), gate=gate))),
        teacher=Teacher("o", rate=100.0, drive=drive), readout=Readout("o", 2), sample_steps=T)


def test_label_comes_from_the_teaching_spikes():
    net = with_readout()
    inputs = {"x": spike_array(T, 2, {0: [0, 2], 1: [4]}, samples=3)}
    teacher = np.zeros((3, T, 4), bool)
    teacher[0, 3, 2:] = True        # sample 0: class 1
    teacher[1, 5, 0] = True         # sample 1: class 0 (one of its two neurons)
    teacher[2, 1, 3] = True         # sample 2: class 1
    w = {"x->h": np.full((2, 2), 0.3), "h->o": np.zeros((2, 4))}
    a, _ = run_both(net, inputs, w, teacher)
    b, _ = run_both(net, inputs, w, teacher, labels=np.array([1, 0, 1]))
    np.testing.assert_array_equal(a.weights["x->h"], b.weights["x->h"])
    assert not np.array_equal(a.weights["x->h"], w["x->h"])
    teacher[1, 2, 2] = True         # sample 1 now taught for both classes
    with pytest.raises(SpecError, match="sample 1 has teaching spikes in 2 classes"):
        simulate(net, inputs, w, teacher, learn=True)
    with pytest.raises(SpecError, match=r"labels span \[0, 2\]; allowed: \[0, 1\]"):
        simulate(net, inputs, w, teacher, learn=True, labels=np.array([0, 2, 1]))


@pytest.mark.parametrize("gate", ["none", "taught"])
def test_supervised_gate_freezes_untaught_outputs(gate):
    net = with_readout(gate)
    # h0 spikes at 1 and 3 (x0 at 0 and 2 with weight 10); o1 and o3 (classes 0 and 1) spike one
    # step after each h0 spike (weight 10): at 2 and 4. The teacher teaches class 0 (o0, o1) at
    # step 4, so: o0 teach at 4 → LTP η·x_h0(4); o1 spike at 2 (no teach) → LTD η·x_h0(2), and
    # spike + teach at 4 → nothing; o3 (class 1, untaught) spikes at 2 and 4 → LTD at both
    # unless gated. x_h0 decays by 0.5: x_h0(2) = 0.5, x_h0(4) = 0.5·0.5 + 0.5 = 0.625
    inputs = {"x": spike_array(T, 2, {0: [0, 2]})}
    teacher = spike_array(T, 4, {0: [4], 1: [4]})
    w_ho = np.array([[0.0, 10.0, 0.0, 10.0], [0.0, 0.0, 0.0, 0.0]])
    w = {"x->h": np.array([[10.0, 0.0], [0.0, 0.0]]), "h->o": w_ho}
    a, _ = run_both(net, inputs, w, teacher)
    assert np.flatnonzero(a.spikes["o"][0, :, 3]).tolist() == [2, 4]
    dw = a.weights["h->o"] - w_ho
    np.testing.assert_allclose(dw[0, :3], [0.1 * 0.625, -0.1 * 0.5, 0.0], rtol=1e-12)
    expected_o3 = 0.0 if gate == "taught" else -0.1 * (0.5 + 0.625)
    assert dw[0, 3] == pytest.approx(expected_o3, abs=1e-12)
    assert (dw[1] == 0).all()   # h1 never spikes: its trace is 0


# --- Brian2 ≡ oracle with every option -----------------------------------------------------

def every_naca_option(seed, post, dist):
    return Network(
        name="every_naca", seed=seed, inputs=(InputPopulation("x", 10),),
        populations=(
            LIFPopulation("h", 8, tau_u=0.004, tau_v=0.01, threshold=0.8,
                          homeostasis=Homeostasis(target_rate=100.0, eta=0.02,
                                                  theta_min=0.3, theta_max=2.0)),
            LIFPopulation("o", 6, tau_u=0.004, tau_v=0.01, threshold=0.7)),
        projections=(
            Projection("x", "h", weights=WeightInit("uniform", low=-0.2, high=0.9),
                       connectivity=Connectivity("random", p=0.7, seed=2), w_min=-1.0,
                       w_max=1.0, learning=NACA(eta=0.05, n_classes=3, tau_pre=0.006,
                                                x_offset=0.4, post=post, tau_post=0.003,
                                                ni_distribution=dist, seed=1)),
            Projection("h", "h", name="lateral", weights=WeightInit("constant", value=-0.3),
                       sign_mode="inhibitory"),
            Projection("h", "o", weights=WeightInit("uniform", low=-0.2, high=0.8),
                       w_min=-1.0, w_max=1.2,
                       learning=SupervisedSTDP(eta=0.07, tau_pre=0.004, gate="taught"))),
        teacher=Teacher("o", rate=250.0), readout=Readout("o", 3), sample_steps=12)


@pytest.mark.parametrize("post, dist", [("none", "uniform"), ("trace", "beta")])
def test_brian2_matches_oracle_with_every_naca_option(post, dist):
    net = every_naca_option(3, post, dist)
    rng = np.random.default_rng(5)
    n = 6
    inputs = {"x": rng.random((n, 12, 10)) < 0.3}
    labels = rng.integers(0, 3, n)
    teacher = np.zeros((n, 12, 6), bool)
    for s, c in enumerate(labels):
        teacher[s, 1::3, 2 * c:2 * c + 2] = True
    w0 = initial_weights(net)
    a, _ = run_both(net, inputs, w0, teacher, record=("h",))
    assert a.spikes["h"].any() and a.spikes["o"].any()
    exists = w0["x->h"] != 0
    assert not np.array_equal(a.weights["x->h"], w0["x->h"])
    assert (a.weights["x->h"][~exists] == 0).all()                       # absent: stay zero
    assert a.weights["x->h"].max() <= 1.0 and a.weights["x->h"].min() >= -1.0
    np.testing.assert_array_equal(a.weights["lateral"], w0["lateral"])   # static


# --- spec checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, allowed", [
    ("lambda_inv", 0.0, "(0.0, 1.0]"),
    ("theta_max", 0.5, "[1.0, inf]"),
    ("post", "dendrite", "one of 'none', 'trace'"),
    ("x_offset", -1.0, "[0.0, inf]"),
    ("ni_std", 0.0, "> 0"),
    ("t_epoch", 1, "'T'"),
])
def test_naca_spec_errors_name_the_field(field, value, allowed):
    with pytest.raises(SpecError) as exc:
        NACA(**{field: value}).validate("projection 'x->h'.learning")
    assert str(exc.value) == (f"projection 'x->h'.learning: {field} = {value!r} is invalid; "
                              f"allowed: {allowed}")


def test_naca_class_count_must_match_the_readout():
    net = with_readout()
    bad = net.replace(projections=(
        Projection("x", "h", learning=NACA(n_classes=3, seed=5)), net.projections[1]))
    inputs = {"x": spike_array(T, 2, {0: [0]})}
    w = {"x->h": np.zeros((2, 2)), "h->o": np.zeros((2, 4))}
    with pytest.raises(SpecError, match="n_classes = 3 is invalid; allowed: the readout's "
                                        r"n_classes \(2\)"):
        simulate(net=bad, inputs=inputs, weights=w, teacher=spike_array(T, 4, {0: [1]}),
                 learn=True)


def test_naca_yaml_round_trip_with_units():
    text = """
schema: spikeport/1
name: y
inputs: [{name: x, n: 3}]
populations: [{name: h, n: 4}]
projections:
  - {pre: x, post: h, learning: {rule: naca, eta: 0.01, tau_pre: 30 ms, tau_post: 5 ms,
                                 post: trace, x_offset: 0.5, n_classes: 4}}
"""
    rule = spec_from_yaml(text).projections[0].learning
    assert (rule.tau_pre, rule.tau_post, rule.post, rule.n_classes) == (0.03, 0.005, "trace", 4)


def test_no_input_spikes_no_change_unless_offset():
    # x = 0 everywhere: Δw = −η·m·(0 − x0)·1 — zero for x_offset = 0, and exactly η·m·x0
    # otherwise (the offset moves silent inputs the other way, by design)
    from oracles import float_reference

    inputs = {"x": np.zeros((1, T, 2), bool)}
    w0 = np.full((2, 2), 0.3)
    net = two_by_two()
    m = np.vectorize(g)(ni_levels(net))
    zero = net.replace(projections=(Projection("x", "h", w_min=-20.0, w_max=20.0, learning=NACA(
        eta=ETA, n_classes=2, tau_pre=tau_for(D_PRE), x_offset=0.0, seed=5)),))
    r = float_reference.simulate(zero, inputs, {"x->h": w0}, learn=True, labels=np.array([0]))
    np.testing.assert_array_equal(r.weights["x->h"], w0)
    r = float_reference.simulate(net, inputs, {"x->h": w0}, learn=True, labels=np.array([0]))
    np.testing.assert_allclose(r.weights["x->h"], w0 + ETA * X0 * m[0][None, :], atol=1e-12)


def test_epoch_offset_keeps_the_inputs_above_it_in_lava():
    """The rate-matched offset: at the Bernoulli rate whose float trace averages x_offset,
    Lava's per-epoch x2 ((n−1)·d^T + d^(T−t_last): only the last spike keeps its time)
    averages the returned value. Checked by sampling spike trains, independent of the closed
    form; epoch = 1 (exact traces) leaves the offset alone."""
    from spikeport.converters.lava_rules import epoch_trace_offset

    x_off, tau, T = 1.2, 50.0, 50
    d = np.exp(-1.0 / tau)
    p = x_off * (1 - d) / (1 - d ** T)          # the rate whose float trace averages x_off
    rng = np.random.default_rng(0)
    spikes = rng.random((200_000, T)) < p
    t = np.arange(1, T + 1)
    x_float = (spikes * d ** (T - t)).sum(axis=1)
    n = spikes.sum(axis=1)
    last = np.where(n > 0, T - np.argmax(spikes[:, ::-1], axis=1), 0)
    x2 = np.where(n > 0, (n - 1) * d ** T + d ** (T - last), 0.0)
    assert x_float.mean() == pytest.approx(x_off, abs=0.01)
    assert epoch_trace_offset(x_off, tau, T) == pytest.approx(x2.mean(), abs=0.01)
    assert epoch_trace_offset(x_off, tau, T) < x_off       # earlier spikes lose their time
    assert epoch_trace_offset(x_off, tau, 1) == x_off
    assert epoch_trace_offset(100.0, tau, T) == 100.0     # no rate reaches it: unchanged
