"""Conformance of the emulator's fast paths (:mod:`spikeport.backends.emulator.engine`): event-driven
sums of int16 weights in int32 (only spiking inputs add their row) against the kernels' dense
matrix product (:func:`spikeport.kernels.dense.dense_accumulate` through the kernel replay),
on random networks with full-range weights and every weight exponent; blocks of independent
samples on threads against one block; and a large fan-in worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from spikeport.backends.emulator import run_emulator
from spikeport.backends.emulator.packed import MAX_FAN_IN
from spikeport.backends.emulator.reference import replay
from spikeport.errors import BackendError
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection


def _random_network(seed: int, reset: bool) -> tuple[FixedNetwork, dict]:
    """Two input populations (the engine concatenates them), two LIF populations, static
    connections of every sign mode with weights over the whole 9-bit range, random weight
    exponents and sparsity, a lateral connection; random LIF constants and biases."""
    rng = np.random.default_rng(seed)
    n_a, n_b, n_h, n_o = rng.integers(5, 60), rng.integers(5, 60), rng.integers(5, 40), \
        rng.integers(2, 12)
    T = int(rng.integers(10, 25))

    def pop(name, n):
        return FixedPopulation(name, int(n), 1.0, du=int(rng.integers(0, 4096)),
                               dv=int(rng.integers(0, 4096)), vth=int(rng.integers(1, 60)),
                               bias_mant=rng.integers(-200, 200, int(n)),
                               bias_exp=rng.integers(0, 4, int(n)))

    def proj(name, pre, post, n_pre, n_post, mode):
        lo, hi = {"mixed": (-256, 256), "excitatory": (0, 256), "inhibitory": (-255, 1)}[mode]
        w = rng.integers(lo, hi, (int(n_pre), int(n_post)))
        w[rng.random(w.shape) < rng.uniform(0, 0.7)] = 0
        return FixedProjection(name, pre, post, mode, int(rng.integers(-8, 8)), 1.0, w, w != 0)

    projections = (proj("a->h", "a", "h", n_a, n_h, "mixed"),
                   proj("b->h", "b", "h", n_b, n_h, "excitatory"),
                   proj("h->o", "h", "o", n_h, n_o, "mixed"),
                   proj("h->h", "h", "h", n_h, n_h, "inhibitory"),
                   proj("a->o", "a", "o", n_a, n_o, "excitatory"))
    fixed = FixedNetwork(f"random{seed}", 0.001, T, 0 if reset else int(rng.integers(0, 5)),
                         reset, seed, (("a", int(n_a)), ("b", int(n_b))),
                         (pop("h", n_h), pop("o", n_o)), projections)
    n = 6
    inputs = {"a": rng.random((n, T, int(n_a))) < rng.uniform(0.05, 0.5),
              "b": rng.random((n, T, int(n_b))) < rng.uniform(0.05, 0.5)}
    return fixed, inputs


@pytest.mark.parametrize("reset", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_event_driven_sums_equal_the_dense_product(seed, reset):
    """Emulator (step schedule, states recorded) ≡ kernel replay (dense int64 matmul,
    shift, int32 wrap) at every step: u, v and spikes."""
    fixed, inputs = _random_network(seed, reset)
    ref = replay(fixed, inputs)
    got = run_emulator(fixed, inputs, record_states=True)
    S, T = fixed.steps_per_sample, fixed.sample_steps
    n = next(iter(inputs.values())).shape[0]
    for pop in ("h", "o"):
        np.testing.assert_array_equal(got.states["u"][pop], ref["u"][pop], err_msg=f"u {pop}")
        np.testing.assert_array_equal(got.states["v"][pop], ref["v"][pop], err_msg=f"v {pop}")
        np.testing.assert_array_equal(got.spikes[pop],
                                      ref["spikes"][pop].reshape(n, S, -1)[:, :T])
    assert 0 < ref["spikes"]["h"].sum() < ref["spikes"]["h"].size, "the test needs activity"


@pytest.mark.parametrize("seed", range(4))
def test_blocks_on_threads_equal_one_block(seed):
    """Independent samples in blocks of 1, 2 and 5 on all cores ≡ one block ≡ the recorded
    step schedule: spikes and every op counter."""
    fixed, inputs = _random_network(100 + seed, True)
    one = run_emulator(fixed, inputs, record_states=True)
    for batch in (1, 2, 5, 64):
        got = run_emulator(fixed, inputs, batch=batch)
        for pop in one.spikes:
            np.testing.assert_array_equal(got.spikes[pop], one.spikes[pop])
        assert got.ops == one.ops


def _fan_in_network(n_pre: int, weight_exp: int) -> FixedNetwork:
    w = np.full((n_pre, 1), 255)
    pop = FixedPopulation("p", 1, 1.0, du=4095, dv=0, vth=131071)
    proj = FixedProjection("in->p", "in", "p", "excitatory", weight_exp, 1.0, w, w != 0)
    return FixedNetwork("fan", 0.001, 3, 0, True, 0, (("in", n_pre),), (pop,), (proj,))


@pytest.mark.parametrize("weight_exp, u2", [
    # 2000 inputs × 255 = 510,000 in the int32 sum; << 6 into u = 32,640,000 > 2**23: Lava's
    # single conditional wrap subtracts 2**24 once: 32,640,000 − 16,777,216 = 15,862,784
    (0, 510_000 * 64 - 2**24),
    # exponent −3 floors the sum: 510,000 >> 3 = 63,750; << 6 = 4,080,000 (no wrap)
    (-3, (510_000 >> 3) * 64),
    # exponent 7: 510,000 << 7 = 65,280,000 (fits int32); << 6 = 4,177,920,000 wraps in
    # int32 to 4,177,920,000 − 2**32 = −117,047,296; u then wraps once: + 2**24 = −100,270,080
    (7, (510_000 * 128 * 64 - 2**32) + 2**24),
])
def test_large_fan_in_by_hand(weight_exp, u2):
    """All 2,000 inputs spike at step 1 with weight 255; du = 4095 (u keeps only this step's
    input), so at step 2 u is the shifted int32 sum, MSB-aligned, wrapped as Lava does."""
    fixed = _fan_in_network(2000, weight_exp)
    spikes = np.zeros((1, 3, 2000), bool)
    spikes[0, 0] = True
    for kw in ({"record_states": True}, {}):
        got = run_emulator(fixed, {"in": spikes}, **kw)
        assert got.ops["projection:in->p"]["syn_ops"] == 2000
    got = run_emulator(fixed, {"in": spikes}, record_states=True)
    assert got.states["u"]["p"][1, 0] == u2
    np.testing.assert_array_equal(replay(fixed, {"in": spikes})["u"]["p"][:, 0],
                                  got.states["u"]["p"][:, 0])


def test_fan_in_beyond_int32_sums_is_refused():
    """The int32 sum is exact up to MAX_FAN_IN inputs of magnitude 256; more is refused
    rather than silently wrapped."""
    assert MAX_FAN_IN * 256 <= 2**31
    w = np.ones((MAX_FAN_IN + 1, 1), dtype=np.int64)
    pop = FixedPopulation("p", 1, 1.0, du=0, dv=0, vth=10)
    proj = FixedProjection("in->p", "in", "p", "excitatory", 0, 1.0, w, w != 0)
    fixed = FixedNetwork("big", 0.001, 1, 0, True, 0, (("in", MAX_FAN_IN + 1),), (pop,),
                         (proj,))
    with pytest.raises(BackendError, match="int32"):
        run_emulator(fixed, {"in": np.zeros((1, 1, MAX_FAN_IN + 1), bool)})
