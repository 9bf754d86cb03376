"""SBP in the Brian2 reference: the sign of the propagated change follows the output
modification M_j, its size is f·M_j·e_i, masked and absent synapses never change. Golden values
derived here; every run is also checked against the float oracle."""

import numpy as np
import pytest
from learning_util import FAST, run_both, spike_array, tau_for

from spikeport import seeds
from spikeport.models import (
    SBP,
    Connectivity,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
    WeightInit,
)
from spikeport.models.weights import sbp_mask

T = 6
ETA = 0.1
F_LTP, F_LTD = 2.0, 3.0
E = 0.75   # per-step decay of the eligibility trace
X = 0.5    # per-step decay of the hidden trace of supervised STDP


def net(n_in=2, n_hidden=1, rho=1.0, connectivity=None):
    connectivity = connectivity or Connectivity()
    return Network(
        name="sbp", inputs=(InputPopulation("x", n_in),),
        populations=(LIFPopulation("h", n_hidden, tau_u=FAST, tau_v=FAST, threshold=1.0),
                     LIFPopulation("o", 2, tau_u=FAST, tau_v=FAST, threshold=1.0)),
        projections=(
            Projection("x", "h", connectivity=connectivity, w_min=-20.0, w_max=20.0,
                       learning=SBP(f_ltp=F_LTP, f_ltd=F_LTD, rho=rho, tau_elig=tau_for(E),
                                    seed=4)),
            Projection("h", "o", connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       w_min=0.0, w_max=20.0,
                       learning=SupervisedSTDP(eta=ETA, tau_pre=tau_for(X)))),
        teacher=Teacher("o", rate=100.0), readout=Readout("o", 2), sample_steps=T, seed=7)


def one_hidden(w_ho, teach0=(), teach1=()):
    # x0 spikes at 0 and 2 (weight 10: h spikes at 1 and 3); x1 at 1 (weight 0.5: sub-threshold)
    inputs = {"x": spike_array(T, 2, {0: [0, 2], 1: [1]})}
    teacher = spike_array(T, 2, {0: list(teach0), 1: list(teach1)})
    weights = {"x->h": np.array([[10.0], [0.5]]), "h->o": np.array([[w_ho, 0.0]])}
    a, _ = run_both(net(), inputs, weights, teacher)
    assert np.flatnonzero(a.spikes["h"][0, :, 0]).tolist() == [1, 3]
    return a, weights


# eligibility traces read at the last step (5): e_0 = E^5 + E^3 (spikes at 0, 2), e_1 = E^4
E0 = 0.75 ** 5 + 0.75 ** 3    # 0.6591796875
E1 = 0.75 ** 4                # 0.31640625


def test_positive_modification_potentiates_eligible_inputs():
    # h spikes at 1, 3: hidden trace x_h(3) = 0.25 + 1 = 1.25, x_h(5) = 0.3125. o never spikes
    # (w = 0.1); teaching spikes for o0 at 3 and 5:
    #   M = η·(x_h(3) + x_h(5)) = 0.1·1.5625 = 0.15625 > 0
    #   Δw_i = f_ltp·M·e_i: 2·0.15625·0.6591796875 and 2·0.15625·0.31640625
    # The teaching spike of o1 at 3 is not in out(h0) (no synapse h0 -> o1): no effect on M.
    a, w0 = one_hidden(0.1, teach0=[3, 5], teach1=[3])
    assert not a.spikes["o"].any()
    M = 0.15625
    np.testing.assert_allclose(a.weights["x->h"][:, 0] - w0["x->h"][:, 0],
                               [F_LTP * M * E0, F_LTP * M * E1], rtol=1e-12)
    assert a.weights["h->o"][0, 0] == pytest.approx(0.1 + M, rel=1e-12)
    assert a.weights["h->o"][0, 1] == 0.0


def test_negative_modification_depresses_eligible_inputs():
    # h->o weight 10: o0 spikes at 2 and 4, no teaching spikes:
    #   M = −η·(x_h(2) + x_h(4)) = −0.1·(0.5 + 0.625) = −0.1125 < 0
    #   Δw_i = −f_ltd·|M|·e_i
    a, w0 = one_hidden(10.0)
    assert np.flatnonzero(a.spikes["o"][0, :, 0]).tolist() == [2, 4]
    M = -0.1125
    np.testing.assert_allclose(a.weights["x->h"][:, 0] - w0["x->h"][:, 0],
                               [F_LTD * M * E0, F_LTD * M * E1], rtol=1e-12)
    assert a.weights["h->o"][0, 0] == pytest.approx(10.0 + M, rel=1e-12)


def test_zero_modification_no_change():
    # teaching spike and output spike at the same step (o0 at 2 and 4, teacher at 2 and 4):
    # M = 0, so the hidden inputs do not change at all
    a, w0 = one_hidden(10.0, teach0=[2, 4])
    np.testing.assert_array_equal(a.weights["x->h"], w0["x->h"])


def test_masked_and_absent_synapses_never_change():
    n_in, n_h = 12, 3
    conn = Connectivity("random", p=0.6, seed=1)
    network = net(n_in, n_h, rho=0.5, connectivity=conn)
    proj = network.projection("x->h")
    exists = (seeds.rng(network.seed, seeds.CONNECTIVITY, seeds.name_key("x->h"), 1)
              .random((n_in, n_h)) < 0.6)
    # the mask, derived here from the documented stream: Bernoulli(0.5) within existing synapses
    mask = (seeds.rng(network.seed, seeds.SBP_MASK, seeds.name_key("x->h"), 4)
            .random((n_in, n_h)) < 0.5) & exists
    np.testing.assert_array_equal(sbp_mask(network, proj), mask)
    assert mask.any() and (exists & ~mask).any()
    # every input spikes at step 0 (e_i = 0.75^5 at the end); every hidden neuron then spikes at
    # step 1 (≥ 3 inputs of weight 0.5 each); teaching spikes at 2 for both outputs; hidden
    # neurons reach o0, o1, o0 with weight 0.1 (no output spike):
    #   M_j = η·x_h(2) = 0.1·0.5 = 0.05,   Δw_ij = f_ltp·0.05·0.75^5·mask_ij
    w0 = 0.5 * exists
    assert exists.sum(axis=0).min() >= 3
    inputs = {"x": spike_array(T, n_in, {i: [0] for i in range(n_in)})}
    teacher = spike_array(T, 2, {0: [2], 1: [2]})
    weights = {"x->h": w0, "h->o": np.array([[0.1, 0], [0, 0.1], [0.1, 0]])}
    a, _ = run_both(network, inputs, weights, teacher)
    assert a.spikes["h"][0, 1].all() and a.spikes["h"].sum() == n_h    # once each, at step 1
    dw = a.weights["x->h"] - w0
    np.testing.assert_allclose(dw[mask], F_LTP * 0.05 * E ** 5, rtol=1e-12)
    assert (a.weights["x->h"][exists & ~mask] == 0.5).all()    # masked: exactly unchanged
    assert (a.weights["x->h"][~exists] == 0.0).all()           # absent: exactly zero


def test_weights_clip_after_sbp():
    # the positive case with w_max = 10.1 on x->h: x0's weight would reach 10.206 -> 10.1
    network = net()
    network = network.replace(projections=(
        Projection("x", "h", w_min=-20.0, w_max=10.1, learning=network.projections[0].learning,
                   weights=WeightInit()),
        network.projections[1]))
    inputs = {"x": spike_array(T, 2, {0: [0, 2], 1: [1]})}
    teacher = spike_array(T, 2, {0: [3, 5]})
    weights = {"x->h": np.array([[10.0], [0.5]]), "h->o": np.array([[0.1, 0.0]])}
    a, _ = run_both(network, inputs, weights, teacher)
    assert a.weights["x->h"][0, 0] == 10.1
    assert a.weights["x->h"][1, 0] == pytest.approx(0.5 + F_LTP * 0.15625 * E1, rel=1e-12)
