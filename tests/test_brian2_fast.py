"""The fast paths of the Brian2 reference compute the same model as the current ones.

* SBP relay "fast" updates only the input synapses of inputs whose eligibility trace is
  nonzero at a sample's end; "exact" (the original pathway) visits every synapse of every
  hidden neuron. Tolerance: none — weights must be *bit-identical*. Why: a synapse the fast
  relay skips has e_i = 0, so the exact relay computes dw = g(M_j)·0 = ±0.0 and
  w ← clip(w + sbp_mask·(±0.0), w_lo, w_hi); w + (±0.0) == w exactly in IEEE arithmetic, and
  clip leaves w unchanged because weights start within [w_min, w_max] (simulate checks it) and
  every update clips. The synapses both relays do visit evaluate the same expression on the
  same operands (each synapse once per sample, independent of the others, so visiting order
  cannot matter). Any difference is a bug, not rounding.
* copies=C (inference) runs C independent copies side by side. Samples are reset (or rested)
  independently in every backend, and each copy's neurons only see their own copy's synapses,
  so spikes and states must also be identical, not merely close.
"""

import io

import numpy as np
import pytest
from learning_util import FAST, spike_array, tau_for
from oracles import float_reference

from spikeport.backends.brian2.copies import auto_copies, tile_samples, untile_samples
from spikeport.backends.brian2.progress import CompileNotice
from spikeport.backends.brian2.sim import import_brian2, simulate
from spikeport.errors import BackendError, SpecError
from spikeport.models import (
    SBP,
    BetweenSamples,
    Connectivity,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
)
from spikeport.models.readout import predict

T = 6
ETA = 0.1
F = 2.0
E = 0.75   # per-step decay of the eligibility trace
X = 0.5    # per-step decay of the hidden trace


def sbp_net(between=None):
    return Network(
        name="relay", inputs=(InputPopulation("x", 3),),
        populations=(LIFPopulation("h", 1, tau_u=FAST, tau_v=FAST, threshold=1.0),
                     LIFPopulation("o", 2, tau_u=FAST, tau_v=FAST, threshold=1.0)),
        projections=(
            Projection("x", "h", w_min=-20.0, w_max=20.0,
                       learning=SBP(f_ltp=F, f_ltd=F, rho=1.0, tau_elig=tau_for(E), seed=4)),
            Projection("h", "o", connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                       w_min=0.0, w_max=20.0,
                       learning=SupervisedSTDP(eta=ETA, tau_pre=tau_for(X)))),
        teacher=Teacher("o", rate=100.0), readout=Readout("o", 2), sample_steps=T, seed=7,
        between_samples=between or BetweenSamples())


def test_fast_relay_updates_eligible_inputs_that_spiked_before_the_last_step():
    # x0 spikes at 0 and 2 (weight 10: h spikes at 1 and 3), x1 at 1 (sub-threshold), x2 never.
    # None spikes at the last step (5): a relay keyed on last-step spikes would miss them all.
    # Teaching spikes for o0 at 3 and 5, o never spikes (w = 0.1):
    #   M = η·(x_h(3) + x_h(5)) = 0.1·(1.25 + 0.3125) = 0.15625
    #   e_0 = E^5 + E^3, e_1 = E^4, e_2 = 0  ->  Δw_i = f·M·e_i
    net = sbp_net()
    inputs = {"x": spike_array(T, 3, {0: [0, 2], 1: [1]})}
    teacher = spike_array(T, 2, {0: [3, 5]})
    w0 = {"x->h": np.array([[10.0], [0.5], [-0.25]]), "h->o": np.array([[0.1, 0.0]])}
    fast = simulate(net, inputs, w0, teacher=teacher, learn=True, relay="fast")
    exact = simulate(net, inputs, w0, teacher=teacher, learn=True, relay="exact")
    M = 0.15625
    expected = np.array([F * M * (E ** 5 + E ** 3), F * M * E ** 4, 0.0])
    np.testing.assert_allclose(fast.weights["x->h"][:, 0] - w0["x->h"][:, 0], expected,
                               rtol=1e-12, atol=0)
    assert fast.weights["x->h"][2, 0] == -0.25          # e_2 = 0: skipped, unchanged
    for name in fast.weights:
        np.testing.assert_array_equal(fast.weights[name], exact.weights[name])


def test_fast_relay_reads_traces_carried_over_a_rest_gap():
    # between_samples rest: nothing is reset, so in sample 1 (no input spikes at all) the
    # eligibility traces still hold sample 0's spikes: the fast relay must update those inputs
    # too. Checked against the exact relay (bit for bit) and the numpy float oracle.
    net = sbp_net(BetweenSamples("rest", rest_steps=2))
    x = np.zeros((2, T, 3), bool)
    x[0, [0, 2], 0] = True
    x[0, 1, 1] = True
    teacher = np.zeros((2, T, 2), bool)
    teacher[:, [3, 5], 0] = True
    w0 = {"x->h": np.array([[10.0], [0.5], [-0.25]]), "h->o": np.array([[0.1, 0.0]])}
    fast = simulate(net, {"x": x}, w0, teacher=teacher, learn=True, relay="fast")
    exact = simulate(net, {"x": x}, w0, teacher=teacher, learn=True, relay="exact")
    oracle = float_reference.simulate(net, {"x": x}, w0, teacher=teacher, learn=True)
    for name in fast.weights:
        np.testing.assert_array_equal(fast.weights[name], exact.weights[name])
        np.testing.assert_allclose(fast.weights[name], oracle.weights[name], rtol=0, atol=1e-9)
    # sample 1 changed x0's and x1's weights again (their traces were nonzero), x2's never
    one = simulate(net, {"x": x[:1]}, w0, teacher=teacher[:1], learn=True, relay="fast")
    assert np.all(fast.weights["x->h"][:2] != one.weights["x->h"][:2])
    assert fast.weights["x->h"][2, 0] == -0.25


def test_bad_relay_and_copies_are_refused():
    net = sbp_net()
    inputs = {"x": spike_array(T, 3, {0: [0]})}
    teacher = spike_array(T, 2, {0: [3]})
    w0 = {"x->h": np.array([[10.0], [0.5], [-0.25]]), "h->o": np.array([[0.1, 0.0]])}
    with pytest.raises(SpecError, match="relay 'slow' is invalid"):
        simulate(net, inputs, w0, teacher=teacher, learn=True, relay="slow")
    with pytest.raises(BackendError, match="copies = 2 needs learn=False"):
        simulate(net, inputs, w0, teacher=teacher, learn=True, copies=2)
    with pytest.raises(BackendError, match="copies = 0 is invalid"):
        simulate(net, inputs, w0, teacher=teacher, copies=0)


def test_tiling_round_trip_and_layout():
    rng = np.random.default_rng(0)
    a = rng.random((7, 4, 3)) < 0.3
    t = tile_samples(a, 3)
    # 7 samples in 3 copies: 3 periods; sample s is copy s % 3 of period s // 3
    assert t.shape == (3, 4, 9)
    np.testing.assert_array_equal(t[1, :, 2 * 3:3 * 3], a[5])    # sample 5: period 1, copy 2
    assert not t[2, :, 3:].any()                                  # padding is silent
    np.testing.assert_array_equal(untile_samples(t, 3, 7), a)
    # 4M synapse budget: 392,000 + 500 synapses -> 10 copies; never more than the samples
    assert auto_copies(392_500, 2000) == 10
    assert auto_copies(392_500, 3) == 3
    assert auto_copies(10, 1000) == 64


def test_copies_give_the_same_spikes_and_states():
    rng = np.random.default_rng(5)
    net = sbp_net()
    x = rng.random((7, T, 3)) < 0.4
    teacher = np.zeros((7, T, 2), bool)
    teacher[:, [2, 4], 0] = True
    w = {"x->h": np.array([[3.0], [1.5], [-0.5]]), "h->o": np.array([[2.0, 0.0]])}
    one = simulate(net, {"x": x}, w, teacher=teacher, record=("h", "o"))
    three = simulate(net, {"x": x}, w, teacher=teacher, record=("h", "o"), copies=3)
    assert one.spikes["h"].any() and one.spikes["o"].any()
    for pop in one.spikes:
        np.testing.assert_array_equal(three.spikes[pop], one.spikes[pop])
    for pop in one.states:
        for var in ("u", "v"):
            np.testing.assert_array_equal(three.states[pop][var], one.states[pop][var])
    for name in w:
        np.testing.assert_array_equal(three.weights[name], w[name])
    # with a rest gap a sample starts from the previous one's state: copies would change
    # which sample precedes which, so they are refused ("auto" runs one copy)
    rest = sbp_net(BetweenSamples("rest", rest_steps=3))
    with pytest.raises(BackendError, match="copies = 3 needs between_samples: reset"):
        simulate(rest, {"x": x}, w, teacher=teacher, copies=3)
    seq = simulate(rest, {"x": x}, w, teacher=teacher)
    auto = simulate(rest, {"x": x}, w, teacher=teacher, copies="auto")
    np.testing.assert_array_equal(auto.spikes["o"], seq.spikes["o"])


def test_compile_notice_says_once_before_a_missing_module(tmp_path):
    import logging
    import sysconfig

    b2 = import_brian2()
    out = io.StringIO()
    notice = CompileNotice(b2, "cython", stream=out)
    notice.folder = str(tmp_path)
    ext = sysconfig.get_config_var("EXT_SUFFIX")
    (tmp_path / f"_cython_magic_cached{ext}").write_bytes(b"")
    log = logging.getLogger(CompileNotice.LOGGER)
    with notice:
        log.log(5, '"g_stateupdater" using Cython module "_cython_magic_cached"')
        assert out.getvalue() == ""                     # cached: nothing to say
        log.log(5, '"g_thresholder" using Cython module "_cython_magic_new1"')
        log.log(5, '"g_resetter" using Cython module "_cython_magic_new2"')
    text = out.getvalue().splitlines()
    assert len(text) == 2
    assert text[0].startswith("brian2: compiling Cython code") and "once" in text[0]
    assert text[1].startswith("brian2: compiled 2 Cython module(s)")
    assert notice not in log.handlers


def _example(spec, dataset, data_dir, n_train, n_test):
    from spikeport.models.inputs import encode_batch, load_split
    from spikeport.models.spec import load_spec
    from spikeport.models.weights import initial_weights

    net = load_spec(spec)
    tr = load_split(net, dataset, data_dir, "train", n_train)
    te = load_split(net, dataset, data_dir, "test", n_test)
    return (net, encode_batch(net, tr.X, tr.y, tr.ids, dataset, "train"),
            encode_batch(net, te.X, te.y, te.ids, dataset, "test"), initial_weights(net))


def _agreement(net, btr, bte, w0, target):
    """One training pass with each relay, then inference with and without copies."""
    exact = simulate(net, btr.inputs, w0, teacher=btr.teacher, learn=True, relay="exact",
                     target=target)
    fast = simulate(net, btr.inputs, w0, teacher=btr.teacher, learn=True, relay="fast",
                    target=target, monitor=(net.readout.population,))
    for name in w0:   # tolerance 0: see the module docstring for the arithmetic
        assert np.abs(exact.weights[name] - w0[name]).max() > 0.01   # it did learn
        np.testing.assert_array_equal(fast.weights[name], exact.weights[name])
    for pop in exact.thresholds:
        np.testing.assert_array_equal(fast.thresholds[pop], exact.thresholds[pop])
    same_train = (predict(net, fast) == predict(net, exact)).mean()
    one = simulate(net, bte.inputs, exact.weights, teacher=bte.teacher, target=target,
                   thresholds=exact.thresholds)
    many = simulate(net, bte.inputs, exact.weights, teacher=bte.teacher, target=target,
                    thresholds=exact.thresholds, copies="auto")
    same_test = (predict(net, one) == predict(net, many)).mean()
    assert same_train >= 0.999 and same_test >= 0.999
    return same_train, same_test


def _target():
    from spikeport.backends.brian2.targets import resolve_target
    return resolve_target("auto")


def test_digits_epoch_fast_paths_agree_with_current_paths():
    # a whole training epoch of digits_sbp (1,078 samples) and the 360 test samples
    same_train, same_test = _agreement(*_example("examples/digits_sbp.yaml", "digits", None,
                                                 None, None), _target())
    assert same_train == 1.0 and same_test == 1.0


def test_mnist_fast_paths_agree_with_current_paths(request):
    import os
    data = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")
    if not os.path.isdir(data):
        pytest.skip(f"no MNIST at {data}")
    target = _target()
    if target != "cython":
        pytest.skip("MNIST-size runs need the cython target")
    same_train, same_test = _agreement(*_example("examples/mnist_sbp.yaml", "mnist", data,
                                                 200, 400), target)
    assert same_train == 1.0 and same_test == 1.0


def test_standalone_training_evaluates_in_a_runtime_target():
    from spikeport.backends.brian2.targets import resolve_target
    from spikeport.training.brian2 import eval_target

    assert eval_target("cpp_standalone") == resolve_target("auto")
    assert eval_target("numpy") == "numpy"
    with pytest.raises(BackendError, match="brian2 target 'cpp' is not supported"):
        simulate(sbp_net(), {"x": spike_array(T, 3, {0: [0]})},
                 {"x->h": np.zeros((3, 1)), "h->o": np.zeros((1, 2))}, target="cpp")
