"""Conformance of the compiled emulator: one set of scenarios (inference; supervised STDP + SBP
+ homeostasis, once per sample and every step; plain STDP; rest gaps), several seeds, 240 steps
each, run through

* the kernel replay (:func:`spikeport.backends.emulator.reference.replay`, the array kernels alone):
  u, v, spikes and plastic weights at every step, final thresholds;
* spikeport's Lava graph (``run_lava``): spikes, final weights, thresholds and every op counter;
* stock Lava processes where they exist (``LIF`` + ``Dense``; ``LearningDense`` + ``STDPLoihi``).

Seeds set, Lava fixed_pt is deterministic: any difference is a finding, not noise.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conformance.scenarios import N_SAMPLES, SCENARIOS
from conformance.scenarios import batch_of as _batch
from conformance.scenarios import net_of as _net
from conformance.scenarios import scenario as _scenario

from spikeport.backends.emulator import run_emulator
from spikeport.backends.emulator.reference import replay
from spikeport.converters.quantize import quantize
from spikeport.errors import SpecError
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection
from spikeport.flow.plans import RulePlan
from spikeport.models import (
    BetweenSamples,
)
from spikeport.models.inputs import encode_batch
from spikeport.models.weights import initial_weights


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_emulator_equals_kernel_replay(scenario, seed):
    fixed, learn, net = _scenario(scenario, seed)
    batch = _batch(net, seed)
    ref = replay(fixed, batch.inputs, batch.teacher, learn=learn, labels=batch.labels)
    got = run_emulator(fixed, batch.inputs, batch.teacher, learn=learn, record_states=True,
                       labels=batch.labels)
    S, T = fixed.steps_per_sample, fixed.sample_steps
    for pop in ref["spikes"]:
        np.testing.assert_array_equal(got.states["u"][pop], ref["u"][pop], err_msg=f"u {pop}")
        np.testing.assert_array_equal(got.states["v"][pop], ref["v"][pop], err_msg=f"v {pop}")
        np.testing.assert_array_equal(
            got.spikes[pop], ref["spikes"][pop].reshape(N_SAMPLES, S, -1)[:, :T], pop)
        np.testing.assert_array_equal(got.thresholds[pop], ref["thresholds"][pop])
    assert ref["spikes"]["hid"].mean() > 0.02 and ref["spikes"]["out"].sum() > 5, "no activity"
    for proj, w in ref["weights"].items():  # replay: (steps, n_post, n_pre)
        np.testing.assert_array_equal(got.states["weights"][proj], w.transpose(0, 2, 1),
                                      err_msg=f"weights {proj}")
        assert len(np.unique(w.reshape(len(w), -1), axis=0)) > 1, f"{proj} never learned"
    assert set(ref["weights"]) == (set() if not learn else
                                   {p.name for p in fixed.projections if p.rule is not None})


@pytest.mark.parametrize("rest", [False, True])
def test_inference_in_blocks_equals_the_recorded_schedule(rest):
    """Inference runs independent samples in blocks of ``batch`` on all cores (with resets;
    without them one sequence); the same spikes and op counts as the recorded step schedule
    and the replay, any block size."""
    net = _net(5, lateral=False)
    if rest:  # (SBP needs resets on Lava: drop it, inference does not learn anyway)
        net = net.replace(between_samples=BetweenSamples("rest", rest_steps=4),
                          projections=(replace(net.projections[0], learning=None),)
                          + net.projections[1:])
    fixed = quantize(net, initial_weights(net))
    batch = _batch(net, 5)
    steps = run_emulator(fixed, batch.inputs, learn=False, record_states=True)
    ref = replay(fixed, batch.inputs, learn=False)
    S, T = fixed.steps_per_sample, fixed.sample_steps
    for size in (1, 3, 64):
        layers = run_emulator(fixed, batch.inputs, learn=False, batch=size)
        assert not hasattr(layers, "states") or not layers.states
        for pop in fixed.populations:
            np.testing.assert_array_equal(layers.spikes[pop.name], steps.spikes[pop.name])
            np.testing.assert_array_equal(
                layers.spikes[pop.name], ref["spikes"][pop.name].reshape(N_SAMPLES, S, -1)[:, :T])
        assert layers.ops == steps.ops
    assert steps.spikes["out"].sum() > 5


def test_weight_history_holds_each_samples_end():
    fixed, _, net = _scenario("sbp", 1)
    batch = _batch(net, 1)
    got = run_emulator(fixed, batch.inputs, batch.teacher, learn=True, record_weights=True,
                       record_states=True)
    S = fixed.steps_per_sample
    for proj, hist in got.weight_history.items():
        # the weights after the last step of sample i = per-step record at step (i + 1)·S − 1
        np.testing.assert_array_equal(hist, got.states["weights"][proj][S - 1::S])
        np.testing.assert_array_equal(hist[-1], got.weights[proj])


def test_learning_without_teacher_is_refused():
    fixed, _, net = _scenario("sbp", 0)
    batch = _batch(net, 0)
    with pytest.raises(SpecError, match="teaching spikes"):
        run_emulator(fixed, batch.inputs, None, learn=True)


def _hand_network(weights, vth=1000, steps=4) -> FixedNetwork:
    w = np.asarray(weights, dtype=np.int64)
    pop = FixedPopulation("p", w.shape[1], scale=1.0, du=4095, dv=0, vth=vth)
    proj = FixedProjection("in->p", "in", "p", "excitatory", 0, 1.0, w, w != 0)
    return FixedNetwork("hand", 0.001, steps, 0, False, 0, (("in", w.shape[0]),), (pop,), (proj,))


def test_op_counts_by_hand():
    """2 inputs → 2 neurons, weights (pre, post) [[5, 0], [7, 9]]: input 0 spikes at steps 1
    and 3, input 1 at step 2. syn_ops = Σ spikes × nonzero weights of the spiking input =
    2·1 + 1·2 = 4; neuron updates = 4 steps × 2 neurons = 8; values sent = 3 input spikes;
    thresholds 1000 (× 64 in v) are never reached: no spikes."""
    fixed = _hand_network([[5, 0], [7, 9]])
    spikes = np.zeros((1, 4, 2), bool)
    spikes[0, 0, 0] = spikes[0, 2, 0] = spikes[0, 1, 1] = True
    for schedule in ({}, {"record_states": True}):
        got = run_emulator(fixed, {"in": spikes}, **schedule)
        assert got.ops == {"population:p": {"neuron_updates": 8, "spikes": 0,
                                            "threshold_updates": 0},
                           "projection:in->p": {"syn_ops": 4},
                           "input:in": {"values_sent": 3}}


def test_spike_time_by_hand():
    """One input spiking every step into one neuron, weight 10, du = 4095 (u holds only this
    step's input: 4096 − (4095 + 1) = 0 keeps nothing), dv = 0 (v integrates):
    Dense delivers from step 2, u = 10 << 6 = 640 per step, v(t) = 640·(t − 1); vth = 20 →
    threshold 20·64 = 1280: v(3) = 1280 is not above it, v(4) = 1920 is: first spike at step 4,
    then v resets to 0 and the next spike is 3 steps later, at step 7."""
    fixed = _hand_network([[10]], vth=20, steps=8)
    got = run_emulator(fixed, {"in": np.ones((1, 8, 1), bool)}, record_states=True)
    np.testing.assert_array_equal(np.flatnonzero(got.spikes["p"][0, :, 0]) + 1, [4, 7])
    np.testing.assert_array_equal(got.states["v"]["p"][:, 0],
                                  [0, 640, 1280, 0, 640, 1280, 0, 640])


# ------------------------------------------------------------------------------ against Lava


def _same(a, b, what: str) -> None:
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop], b.spikes[pop], err_msg=f"{what} spikes {pop}")
        np.testing.assert_array_equal(a.thresholds[pop], b.thresholds[pop],
                                      err_msg=f"{what} thresholds {pop}")
    for proj in a.weights:
        np.testing.assert_array_equal(a.weights[proj], b.weights[proj],
                                      err_msg=f"{what} weights {proj}")
    assert a.ops == b.ops, what


@pytest.mark.lava
@pytest.mark.parametrize("scenario", ["sbp", "stdp", "bits5", "naca", "inference"])
def test_emulator_equals_spikeport_lava(scenario):
    from spikeport.lava_processes.run import run_lava

    fixed, learn, net = _scenario(scenario, 7)
    batch = _batch(net, 7)
    teacher, labels = (batch.teacher, batch.labels) if learn else (None, None)
    lava = run_lava(fixed, batch.inputs, teacher, learn=learn, labels=labels)
    emu = run_emulator(fixed, batch.inputs, teacher, learn=learn, labels=labels)
    _same(lava, emu, scenario)
    assert emu.spikes["out"].sum() > 5


@pytest.mark.lava
def test_emulator_equals_stock_lif_and_dense():
    """Stock ``LIF`` + ``Dense`` (MIXED weights, per-neuron bias) on 150 steps of one long
    sample: u, v and spikes at every step."""
    import lava_util
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    steps, n_in, n_out = 150, 10, 6
    rng = np.random.default_rng(12)
    spikes = rng.random((n_in, steps)) < 0.3
    w = rng.integers(-120, 200, (n_out, n_in))
    bias_mant = rng.integers(-300, 300, n_out)
    bias_exp = rng.integers(0, 4, n_out)
    src = RingBuffer(data=spikes.astype(np.int32))
    dense = Dense(weights=w)
    lif = LIF(shape=(n_out,), du=700, dv=250, vth=180, bias_mant=bias_mant, bias_exp=bias_exp)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    probes = {var: lava_util.probe(lif, var, steps) for var in ("u", "v", "s_out")}
    stock = lava_util.run(src, steps, probes)
    pop = FixedPopulation("p", n_out, scale=1.0, du=700, dv=250, vth=180,
                          bias_mant=bias_mant, bias_exp=bias_exp)
    proj = FixedProjection("in->p", "in", "p", "mixed", 0, 1.0, w.T.copy(), w.T != 0)
    fixed = FixedNetwork("stock", 0.001, steps, 0, False, 0, (("in", n_in),), (pop,), (proj,))
    got = run_emulator(fixed, {"in": spikes.T[None]}, record_states=True)
    np.testing.assert_array_equal(got.states["u"]["p"], stock["u"])
    np.testing.assert_array_equal(got.states["v"]["p"], stock["v"])
    np.testing.assert_array_equal(got.spikes["p"][0], stock["s_out"].astype(bool))
    assert 20 < got.spikes["p"].sum() < got.spikes["p"].size - 20


@pytest.mark.lava
def test_emulator_equals_stock_learning_dense_stdploihi():
    """Stock ``LearningDense`` with ``STDPLoihi`` (t_epoch 1) into a stock ``LIF``, bAP
    closing the loop, 200 steps: the weights at every step and the spikes."""
    import lava_util
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
    from lava.proc.lif.process import LIF

    steps, n_pre, n_post = 200, 8, 4
    rng = np.random.default_rng(6)
    spikes = rng.random((n_pre, steps)) < 0.25
    w0 = rng.integers(-60, 120, (n_post, n_pre))
    rule = STDPLoihi(learning_rate=0.125, A_plus=3, A_minus=-1, tau_plus=10, tau_minus=12,
                     t_epoch=1, rng_seed=9)
    src = RingBuffer(data=spikes.astype(np.int32))
    dense = LearningDense(weights=w0.copy(), learning_rule=rule)
    lif = LIF(shape=(n_post,), du=800, dv=300, vth=300)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(dense.s_in_bap)
    probes = {"w": lava_util.probe(dense, "weights", steps),
              "s": lava_util.probe(lif, "s_out", steps)}
    stock = lava_util.run(src, steps, probes)
    # STDPLoihi: dw = lr·A−·x0·y1 + lr·A+·y0·x1 = −1·2^−3·x0·y1 + 3·2^−3·y0·x1, impulses 16
    plan = RulePlan(kind="stdp", t_epoch=1, post="2F",
                    products=(("x0", ("y1",), -1, -3), ("y0", ("x1",), 3, -3)),
                    x_impulse=(16, 0), x_tau=(10, 0), y_impulse=(16, 0, 0), y_tau=(12, 0, 0),
                    rng_seed=9)
    pop = FixedPopulation("p", n_post, scale=1.0, du=800, dv=300, vth=300)
    proj = FixedProjection("in->p", "in", "p", "mixed", 0, 1.0, w0.T.copy(),
                           np.ones((n_pre, n_post), bool), rule=plan)
    fixed = FixedNetwork("stock", 0.001, steps, 0, False, 0, (("in", n_pre),), (pop,), (proj,))
    got = run_emulator(fixed, {"in": spikes.T[None]}, learn=True, record_states=True)
    np.testing.assert_array_equal(got.states["weights"]["in->p"],
                                  stock["w"].reshape(steps, n_post, n_pre).transpose(0, 2, 1))
    np.testing.assert_array_equal(got.spikes["p"][0], stock["s"].astype(bool))
    assert len(np.unique(stock["w"].reshape(steps, -1), axis=0)) > 20


def test_naca_dopamine_reaches_the_hidden_layer_once_per_sample():
    """The dopamine source sends the table row of each sample's class at its last step only:
    the NACA projection's weights move at steps 30, 60, ... and nowhere else, and the sent
    values are counted (nonzero entries of the rows of the labels used)."""
    fixed, _, net = _scenario("naca", 4)
    batch = _batch(net, 4)
    got = run_emulator(fixed, batch.inputs, batch.teacher, learn=True, record_states=True,
                       labels=batch.labels)
    w = got.states["weights"]["inp->hid"]
    moved = np.flatnonzero(np.any(w[1:] != w[:-1], axis=(1, 2))) + 1
    assert set(moved) <= {30 * k - 1 for k in range(1, N_SAMPLES + 1)} and len(moved) >= 2
    table = fixed.projection("inp->hid").dopamine_table
    expect = sum(int(np.count_nonzero(table[c])) for c in batch.labels)
    assert got.ops["dopamine:inp->hid"] == {"values_sent": expect, "labels_received": N_SAMPLES}
    with pytest.raises(SpecError, match="labels"):
        run_emulator(fixed, batch.inputs, batch.teacher, learn=True)


def test_gated_output_learns_only_in_taught_neurons():
    """gate: taught: every sample is class 0, so output neuron 1 is never taught: its
    synapses neither potentiate (no teaching spikes) nor depress (gate y3 = 0), however much
    it spikes; neuron 0's do change. Without the gate, neuron 1 depresses when it spikes."""
    fixed, _, net = _scenario("naca", 3)
    rng = np.random.default_rng(3)
    labels = np.zeros(N_SAMPLES, dtype=np.int64)
    batch = encode_batch(net, rng.random((N_SAMPLES, net.inputs[0].n)), labels,
                         np.arange(N_SAMPLES))
    assert batch.teacher[..., 1].sum() == 0 and batch.teacher[..., 0].sum() > 0
    w0 = fixed.projection("hid->out").weights
    got = run_emulator(fixed, batch.inputs, batch.teacher, learn=True, labels=labels)
    w = got.weights["hid->out"]
    assert got.spikes["out"][..., 1].sum() > 0, "neuron 1 must spike for the test to bite"
    np.testing.assert_array_equal(w[:, 1], w0[:, 1])
    assert (w[:, 0] != w0[:, 0]).any()
    out = net.projections[2]
    plain_net = net.replace(projections=net.projections[:2] + (
        replace(out, learning=replace(out.learning, gate="none")),))
    plain = run_emulator(quantize(plain_net, initial_weights(plain_net)), batch.inputs,
                         batch.teacher, learn=True, labels=labels)
    assert (plain.weights["hid->out"][:, 1] != w0[:, 1]).any()
