"""Helpers shared by the learning tests: spike arrays, a Brian2-vs-oracle runner."""

import math

import numpy as np
from oracles import float_reference

from spikeport.backends.brian2.sim import simulate

DT = 1e-3
# tau_u = tau_v = dt/ln(4096), the fastest decay the spec allows: per-step factor 1/4096, so a
# neuron's u and v are (almost) just the previous step's input. A driving spike of weight 10
# into a neuron of threshold 1 makes it spike exactly one step later, and once.
FAST = DT / math.log(4096)


def tau_for(decay: float) -> float:
    """The time constant whose per-step factor exp(-dt/tau) is ``decay``."""
    return -DT / math.log(decay)


def spike_array(T: int, n: int, steps: dict[int, list[int]], samples: int = 1) -> np.ndarray:
    """bool (samples, T, n) with neuron k spiking at ``steps[k]`` in every sample."""
    out = np.zeros((samples, T, n), bool)
    for k, ts in steps.items():
        out[:, ts, k] = True
    return out


def run_both(net, inputs, weights, teacher=None, learn=True, atol=1e-9, **kw):
    """Run Brian2 (numpy target) and the float oracle; assert they agree; return both."""
    a = simulate(net, inputs, weights, teacher=teacher, learn=learn, **kw)
    b = float_reference.simulate(net, inputs, weights, teacher=teacher, learn=learn, **kw)
    for pop in a.spikes:
        np.testing.assert_array_equal(a.spikes[pop], b.spikes[pop], err_msg=f"spikes {pop}")
    for name in a.weights:
        np.testing.assert_allclose(a.weights[name], b.weights[name], rtol=0, atol=atol,
                                   err_msg=f"weights {name}")
    for pop in a.thresholds:
        np.testing.assert_allclose(a.thresholds[pop], b.thresholds[pop], rtol=0, atol=atol,
                                   err_msg=f"thresholds {pop}")
    for pop in a.states:
        for var in a.states[pop]:
            np.testing.assert_allclose(a.states[pop][var], b.states[pop][var], rtol=0,
                                       atol=atol, err_msg=f"{pop}.{var}")
    return a, b
