"""One conformance suite over the backend registry: every fixed-point backend runs the same
scenarios and must give the kernel replay's bits (DESIGN §6; Brian2's feature tests are the
model: one test, every target).

The kernel replay (:func:`spikeport.backends.emulator.reference.replay`) is the
specification — the integer kernels of :mod:`spikeport.kernels` stepped one Lava time step at a
time — and every backend (``backend_names("fixed")``: the emulator, Lava; a future one is
covered the day it is registered) must reproduce its spikes, final thresholds and final weights.
Op counts have no replay: every backend must count what the emulator counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.scenarios import SCENARIOS, batch_of, scenario
from spikeport.backends import backend_names, get_backend
from spikeport.backends.emulator.reference import replay

FIXED = backend_names("fixed")
#: Lava runs a subprocess per scenario: one seed; the emulator is cheap: three
SEEDS = {"lava": (7,)}


def _params():
    for name in FIXED:
        marks = [pytest.mark.lava] if name == "lava" else []
        for seed in SEEDS.get(name, (0, 1, 2)):
            for sc in SCENARIOS:
                yield pytest.param(name, sc, seed, marks=marks, id=f"{name}-{sc}-{seed}")


def test_the_registry_lists_every_fixed_point_backend():
    assert {"emulator", "lava"} <= set(FIXED)
    assert backend_names("float") == ["brian2"]


@pytest.mark.parametrize("backend,name,seed", list(_params()))
def test_backend_equals_the_kernel_replay(backend, name, seed):
    fixed, learn, net = scenario(name, seed)
    batch = batch_of(net, seed)
    ref = replay(fixed, batch.inputs, batch.teacher if learn else None, learn=learn,
                 labels=batch.labels if learn else None)
    got = get_backend(backend, timeout=900).run(fixed, batch, learn=learn)
    n, S, T = len(batch), fixed.steps_per_sample, fixed.sample_steps
    for pop, spikes in ref["spikes"].items():
        np.testing.assert_array_equal(got.spikes[pop], spikes.reshape(n, S, -1)[:, :T],
                                      err_msg=f"{backend} {name}: spikes {pop}")
        np.testing.assert_array_equal(got.thresholds[pop], ref["thresholds"][pop],
                                      err_msg=f"{backend} {name}: thresholds {pop}")
    for proj, w in ref["weights"].items():       # replay: (steps, n_post, n_pre)
        np.testing.assert_array_equal(got.weights[proj], w[-1].T,
                                      err_msg=f"{backend} {name}: weights {proj}")
    assert ref["spikes"]["hid"].mean() > 0.02, "the scenario must be active to prove anything"
    if backend != "emulator":
        emu = get_backend("emulator").run(fixed, batch, learn=learn)
        assert got.ops == emu.ops, f"{backend} {name}: op counts differ from the emulator's"


@pytest.mark.parametrize("backend", FIXED)
def test_inference_never_sees_the_teacher(backend):
    """The backend, not its caller, keeps teaching spikes out of inference: the same batch with
    and without its teacher gives the same spikes (the scenario's teacher has a drive)."""
    if backend == "lava":
        pytest.importorskip("lava")
    fixed, _, net = scenario("inference", 3)
    assert fixed.teacher is not None and fixed.teacher.drive is not None
    batch = batch_of(net, 3)
    runner = get_backend(backend, timeout=900)
    with_teacher = runner.run(fixed, batch, learn=False)
    batch.teacher = None
    without = runner.run(fixed, batch, learn=False)
    for pop in with_teacher.spikes:
        np.testing.assert_array_equal(with_teacher.spikes[pop], without.spikes[pop])
