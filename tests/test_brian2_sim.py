"""Brian2 reference: the discrete Loihi-order update against closed forms derived here."""

import math

import numpy as np
import pytest

from spikeport.backends.brian2.sim import simulate
from spikeport.models import (
    BetweenSamples,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    WeightInit,
    load_spec,
)
from spikeport.models.readout import readout_labels
from spikeport.models.weights import initial_weights

DT = 1e-3
A, B = 0.75, 0.875            # per-step decay factors of u and v
TAU_U = -DT / math.log(A)     # exp(-dt/tau_u) = 0.75
TAU_V = -DT / math.log(B)     # exp(-dt/tau_v) = 0.875


def one_neuron(threshold=1e6, steps=8, **pop):
    return Network(name="one", inputs=(InputPopulation("x", 1),),
                   populations=(LIFPopulation("n", 1, tau_u=TAU_U, tau_v=TAU_V,
                                              threshold=threshold, **pop),),
                   projections=(Projection("x", "n"),), sample_steps=steps)


def run_one(net, spike_steps, w=10.0, samples=1):
    spk = np.zeros((samples, net.sample_steps, 1), bool)
    spk[:, spike_steps, 0] = True
    return simulate(net, {"x": spk}, {"x->n": np.array([[w]])}, record=("n",))


def test_single_spike_closed_form():
    # Input spike at step 0 is delivered into a_in at step 0 and enters u at step 1:
    #   u_k = w·a^(k-1)                       for k >= 1, u_0 = 0
    #   v_k = b·v_(k-1) + u_k = w·(a^k − b^k)/(a − b)
    # e.g. u = 0, 10, 7.5, 5.625; v_2 = 0.875·10 + 7.5 = 16.25.
    r = run_one(one_neuron(), [0])
    k = np.arange(8)
    u_expected = np.where(k >= 1, 10 * A ** (k - 1.0), 0.0)
    v_expected = 10 * (A ** k - B ** k) / (A - B)
    np.testing.assert_allclose(r.states["n"]["u"][0, :, 0], u_expected, rtol=1e-12)
    np.testing.assert_allclose(r.states["n"]["v"][0, :, 0], v_expected, rtol=1e-12, atol=1e-12)
    assert not r.spikes["n"].any()


def test_first_spike_time_and_reset():
    # v_3 = 80·(0.875^3 − 0.75^3) = 80·(0.669921875 − 0.421875) = 19.84375 > 19 > v_2 = 16.25,
    # so the first spike is at step 3; v resets to 0 there, u keeps decaying: v_4 = u_4 = 10·a^3.
    r = run_one(one_neuron(threshold=19.0), [0])
    assert np.flatnonzero(r.spikes["n"][0, :, 0]).tolist() == [3]
    v = r.states["n"]["v"][0, :, 0]
    assert v[3] == 0.0
    assert v[4] == pytest.approx(10 * A ** 3)


def test_refractory_holds_v():
    # 2 steps refractory after the spike at step 3: v stays 0 at steps 4, 5 and integrates
    # again from step 6: v_6 = u_6 = 10·a^5.
    r = run_one(one_neuron(threshold=19.0, refractory=2 * DT), [0])
    v = r.states["n"]["v"][0, :, 0]
    assert v[3] == v[4] == v[5] == 0.0
    assert v[6] == pytest.approx(10 * A ** 5)


def test_bias_integrates():
    # no input, bias c: u = 0, v_k = b·v_(k-1) + c  =>  v_k = c·(1 − b^(k+1))/(1 − b)
    r = run_one(one_neuron(bias=0.5), [], w=0.0)
    k = np.arange(8)
    np.testing.assert_allclose(r.states["n"]["v"][0, :, 0], 0.5 * (1 - B ** (k + 1)) / (1 - B))


def test_samples_are_reset():
    # identical input in every sample -> identical states in every sample (u, v, a_in cleared)
    net = one_neuron(threshold=19.0)
    r = run_one(net, [0, 5, 7], samples=3)
    assert (r.states["n"]["v"][0] == r.states["n"]["v"][2]).all()
    assert (r.spikes["n"][0] == r.spikes["n"][1]).all()
    # the spike at step 7 of one sample is in flight at the boundary and must not leak into
    # the next sample: step 0 of sample 1 has u = 0.
    assert r.states["n"]["u"][1, 0, 0] == 0.0


def test_rest_gap_instead_of_reset():
    # with a rest gap of 4 steps and no reset, u carries over: a spike at step 0 of sample 0
    # gives u = 10·a^(k-1) at absolute step k; sample 1 starts at absolute step 8 + 4 = 12.
    net = one_neuron().replace(between_samples=BetweenSamples("rest", rest_steps=4))
    r = run_one(net, [0], samples=2)
    assert r.states["n"]["u"][1, 0, 0] == pytest.approx(10 * A ** 11 + 0.0)


def _digits_inputs(net, n):
    rng = np.random.default_rng(0)
    from sklearn.datasets import load_digits
    X = load_digits().data[:n] / 16.0
    return rng.random((n, net.sample_steps, 64)) < X[:, None, :] * 200 * net.dt


@pytest.mark.slow
def test_numpy_and_cython_targets_agree(examples_dir):
    net = load_spec(examples_dir / "digits_sbp.yaml")
    spk = _digits_inputs(net, 6)
    w = initial_weights(net, examples_dir)
    a = simulate(net, {"pixels": spk}, w, target="numpy")
    b = simulate(net, {"pixels": spk}, w, target="cython")
    assert a.spikes["hidden"].any() and a.spikes["output"].any()
    for pop in ("hidden", "output"):
        assert (a.spikes[pop] == b.spikes[pop]).all()


def test_readout_ties_go_to_lowest_class(examples_dir):
    net = load_spec(examples_dir / "digits_sbp.yaml")
    counts = np.zeros((3, 10), int)
    counts[0, [2, 7]] = 5          # tie between classes 2 and 7 -> 2
    counts[1, 9] = 1
    assert readout_labels(net, counts).tolist() == [2, 9, 0]


def test_weight_init_reproducible(examples_dir):
    net = load_spec(examples_dir / "digits_sbp.yaml")
    a, b = initial_weights(net), initial_weights(net)
    assert all((a[k] == b[k]).all() for k in a)
    c = initial_weights(net.replace(seed=net.seed + 1))
    assert not (a["pixels->hidden"] == c["pixels->hidden"]).all()


def test_unsupported_delay_is_refused():
    from spikeport.errors import BackendError
    net = one_neuron()
    net = net.replace(projections=(Projection("x", "n", delay=2,
                                              weights=WeightInit("constant", value=1.0)),))
    with pytest.raises(BackendError, match="delay = 2 steps is not supported"):
        run_one(net, [0])
