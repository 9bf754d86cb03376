"""Tsodyks–Markram STP: the u/x sequence of a known spike train derived here, the transmitted
weight w·u·x seen in the Brian2 reference, and the oracle's step function."""

import math

import numpy as np
import pytest
from learning_util import DT, run_both, spike_array
from oracles.float_reference import stp_step

from spikeport.models import STP, InputPopulation, LIFPopulation, Network, Projection

T = 8
STP_SPEC = STP(U=0.5, tau_f=0.004, tau_d=0.002)    # dt/τ_f = 0.25, dt/τ_d = 0.5
SPIKES = [0, 1, 4]

# Within a step (I = the presynaptic spike): u ← u − u·dt/τ_f + U·I·(1−u); r = u·x·I;
# x ← x + (1−x)·dt/τ_d − r; transmitted w·r. From u = 0, x = 1:
#   step 0 (I=1): u = 0.5,                       r = 0.5·1 = 0.5,       x = 1 − 0.5 = 0.5
#   step 1 (I=1): u = 0.5 − 0.125 + 0.25 = 0.625, r = 0.625·0.5 = 0.3125, x = 0.5 + 0.25 − 0.3125
#                                                                            = 0.4375
#   step 2 (I=0): u = 0.46875,                   x = 0.4375 + 0.28125 = 0.71875
#   step 3 (I=0): u = 0.3515625,                 x = 0.71875 + 0.140625 = 0.859375
#   step 4 (I=1): u = 0.263671875 + 0.32421875 = 0.587890625,
#                 r = 0.587890625·0.859375 = 0.505218505859375,
#                 x = 0.859375 + 0.0703125 − 0.505218505859375 = 0.424468994140625
U_SEQ = [0.5, 0.625, 0.46875, 0.3515625, 0.587890625]
X_SEQ = [0.5, 0.4375, 0.71875, 0.859375, 0.424468994140625]
R_SEQ = [0.5, 0.3125, 0.0, 0.0, 0.505218505859375]


def test_oracle_stp_sequence():
    u, x = np.zeros(1), np.ones(1)
    for t in range(5):
        r, u, x = stp_step(u, x, np.array([float(t in SPIKES)]), STP_SPEC, DT)
        assert (u[0], x[0], r[0]) == pytest.approx((U_SEQ[t], X_SEQ[t], R_SEQ[t]), rel=1e-12)


def test_brian2_transmits_w_u_x_and_resets_per_sample():
    # post neuron never spikes; u_post(t+1) = A·u_post(t) + w·r(t) with A = 0.75, so the
    # released fraction of step t is r(t) = (u(t+1) − 0.75·u(t))/w
    A = 0.75
    net = Network(name="stp", inputs=(InputPopulation("x", 1),),
                  populations=(LIFPopulation("h", 1, tau_u=-DT / math.log(A), threshold=1e9),),
                  projections=(Projection("x", "h", stp=STP_SPEC),), sample_steps=T)
    w = 2.0
    a, _ = run_both(net, {"x": spike_array(T, 1, {0: SPIKES}, samples=2)},
                    {"x->h": np.array([[w]])}, learn=False, record=("h",))
    u = a.states["h"]["u"][:, :, 0]
    r = (u[:, 1:6] - A * u[:, 0:5]) / w
    np.testing.assert_allclose(r[0], R_SEQ, rtol=1e-12, atol=1e-15)
    # the second sample starts again from u = 0, x = 1 (STP state is reset with the sample)
    np.testing.assert_allclose(r[1], R_SEQ, rtol=1e-12, atol=1e-15)
