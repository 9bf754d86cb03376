"""Brian2 reference vs the float oracle on small random networks with every rule at once, and
property tests of the rules (hypothesis): no spikes ⇒ no weight change, weights stay within
their bounds, masked synapses never change."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from learning_util import run_both
from oracles import float_reference

from spikeport.backends.brian2.sim import simulate
from spikeport.models import (
    SBP,
    STDP,
    STP,
    BetweenSamples,
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
from spikeport.models.weights import connectivity_mask, initial_weights, sbp_mask

T = 12


def every_rule(seed=0, rest=0, stp=False, drive=0.0, rho=0.5):
    """x(8) -> h(6) SBP (random connectivity, optional STP), h -> h static recurrent,
    h -> o(4) supervised STDP (two-class fan-out), x -> o STDP; homeostasis on h."""
    return Network(
        name="every", seed=seed,
        inputs=(InputPopulation("x", 8),),
        populations=(
            LIFPopulation("h", 6, tau_u=0.004, tau_v=0.01, threshold=0.8, bias=0.02,
                          refractory=0.001,
                          homeostasis=Homeostasis(target_rate=150.0, eta=0.03,
                                                  theta_min=0.3, theta_max=2.0)),
            LIFPopulation("o", 4, tau_u=0.004, tau_v=0.01, threshold=0.7)),
        projections=(
            Projection("x", "h", weights=WeightInit("uniform", low=-0.2, high=0.9),
                       connectivity=Connectivity("random", p=0.7, seed=2), w_min=-1.0,
                       w_max=1.0, stp=STP(U=0.4, tau_f=0.01, tau_d=0.005) if stp else None,
                       learning=SBP(f_ltp=1.5, f_ltd=0.8, rho=rho, tau_elig=0.008, seed=1)),
            Projection("h", "h", weights=WeightInit("uniform", low=-0.3, high=0.1)),
            Projection("h", "o", weights=WeightInit("uniform", low=0.0, high=0.8),
                       sign_mode="excitatory",
                       connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       w_min=0.0, w_max=1.2, learning=SupervisedSTDP(eta=0.07, tau_pre=0.004)),
            Projection("x", "o", weights=WeightInit("uniform", low=0.0, high=0.3),
                       w_min=0.0, w_max=0.5,
                       learning=STDP(a_plus=0.03, a_minus=0.035, tau_plus=0.003,
                                     tau_minus=0.005))),
        teacher=Teacher("o", rate=250.0, drive=drive), readout=Readout("o", 2),
        sample_steps=T,
        between_samples=BetweenSamples("rest", rest) if rest else BetweenSamples())


def data(net, n_samples, seed, p=0.3):
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.random((n_samples, T, 8)) < p}
    teacher = np.zeros((n_samples, T, 4), bool)
    for s in range(n_samples):
        c = rng.integers(2)
        teacher[s, ::2, 2 * c:2 * c + 2] = True
    return inputs, teacher


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), rest=st.sampled_from([0, 3]), stp=st.booleans(),
       drive=st.sampled_from([0.0, 0.4]))
def test_brian2_matches_oracle_with_every_rule(seed, rest, stp, drive):
    net = every_rule(seed, rest, stp, drive)
    inputs, teacher = data(net, 5, seed)
    w0 = initial_weights(net)
    a, _ = run_both(net, inputs, w0, teacher, record=("h", "o"))
    assert a.spikes["h"].any() and a.spikes["o"].any()
    for name in ("x->h", "h->o", "x->o"):
        assert not np.array_equal(a.weights[name], w0[name]), name   # every rule did learn
    np.testing.assert_array_equal(a.weights["h->h"], w0["h->h"])      # static stays static


def test_learn_false_is_inference():
    net = every_rule(3)
    inputs, teacher = data(net, 3, 3)
    w0 = initial_weights(net)
    a, _ = run_both(net, inputs, w0, teacher, learn=False)
    for name in w0:
        np.testing.assert_array_equal(a.weights[name], w0[name])
    assert (a.thresholds["h"] == 0.8).all()


def test_no_spikes_no_change_brian2():
    # no input spikes, no teaching spikes, no bias (and no homeostasis, which would lower the
    # thresholds of silent neurons): nothing spikes, no weight changes
    net = every_rule(5).replace(populations=(
        LIFPopulation("h", 6, threshold=0.8), LIFPopulation("o", 4, threshold=0.7)))
    inputs = {"x": np.zeros((2, T, 8), bool)}
    teacher = np.zeros((2, T, 4), bool)
    w0 = initial_weights(net)
    a, _ = run_both(net, inputs, w0, teacher)
    assert not a.spikes["h"].any() and not a.spikes["o"].any()
    for name in w0:
        np.testing.assert_array_equal(a.weights[name], w0[name])


# --- properties, on the oracle (fast) ------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.floats(0.0, 0.6), rho=st.floats(0.0, 1.0),
       drive=st.sampled_from([0.0, 0.5]))
def test_bounds_and_masks_hold(seed, p, rho, drive):
    net = every_rule(seed, drive=drive, rho=rho)
    inputs, teacher = data(net, 3, seed, p)
    w0 = initial_weights(net)
    r = float_reference.simulate(net, inputs, w0, teacher, learn=True)
    for proj in net.projections:
        w = r.weights[proj.name]
        exists = connectivity_mask(net, proj)
        assert (w[~exists] == 0.0).all()
        if proj.learning is not None:
            assert w.min() >= proj.w_min and w.max() <= proj.w_max
    mask = sbp_mask(net, net.projection("x->h"))
    np.testing.assert_array_equal(r.weights["x->h"][~mask], w0["x->h"][~mask])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), drive=st.sampled_from([0.0, 0.5]))
def test_silence_changes_nothing(seed, drive):
    # no input spikes and no teaching spikes: no rule has a nonzero factor
    net = every_rule(seed, drive=drive).replace(populations=(
        LIFPopulation("h", 6, threshold=0.8), LIFPopulation("o", 4, threshold=0.7)))
    w0 = initial_weights(net)
    r = float_reference.simulate(net, {"x": np.zeros((2, T, 8), bool)}, w0,
                                 np.zeros((2, T, 4), bool), learn=True)
    for name in w0:
        np.testing.assert_array_equal(r.weights[name], w0[name])


# --- errors --------------------------------------------------------------------------------

def test_naca_classes_must_match_the_readout():
    """NACA's expectation code has one pair of slots per class: a rule for 10 classes on a
    2-class readout is a one-line SpecError when learning; inference does not read it."""
    from spikeport.errors import SpecError
    from spikeport.models.rules import NACA
    net = every_rule(1)
    projs = list(net.projections)
    projs[0] = Projection("x", "h", connectivity=projs[0].connectivity, w_min=-1.0, w_max=1.0,
                          learning=NACA(n_classes=10))
    net = net.replace(projections=tuple(projs))
    inputs, teacher = data(net, 1, 1)
    w0 = initial_weights(net)
    with pytest.raises(SpecError, match=r"projection 'x->h'.learning: n_classes = 10 is "
                                        r"invalid; allowed: the readout's n_classes \(2\)"):
        simulate(net, inputs, w0, teacher, learn=True)
    simulate(net, inputs, w0, teacher, learn=False)   # inference is fine


def test_supervised_learning_needs_teaching_spikes():
    from spikeport.errors import SpecError
    net = every_rule(1)
    inputs, _ = data(net, 1, 1)
    with pytest.raises(SpecError, match="'h->o': supervised_stdp learns from teaching spikes"):
        simulate(net, inputs, initial_weights(net), learn=True)


def test_initial_weights_outside_bounds_are_refused():
    from spikeport.errors import SpecError
    net = every_rule(1)
    inputs, teacher = data(net, 1, 1)
    w0 = initial_weights(net)
    w0["x->o"] = w0["x->o"] + 1.0
    with pytest.raises(SpecError, match="'x->o': initial weights span"):
        simulate(net, inputs, w0, teacher, learn=True)


@pytest.mark.slow
def test_cython_target_matches_oracle():
    # the one compiled run (about a minute on a cold Cython cache)
    net = every_rule(11, stp=True, drive=0.4)
    inputs, teacher = data(net, 4, 11)
    w0 = initial_weights(net)
    a = simulate(net, inputs, w0, teacher, learn=True, target="cython")
    b = float_reference.simulate(net, inputs, w0, teacher, learn=True)
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop], b.spikes[pop])
    for name in a.weights:
        np.testing.assert_allclose(a.weights[name], b.weights[name], rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.thresholds["h"], b.thresholds["h"], rtol=0, atol=1e-9)
