"""Plain pair STDP (STDPLoihi-like) in the Brian2 reference: golden weight change derived here,
and agreement with the float oracle."""

import numpy as np
import pytest
from learning_util import FAST, run_both, spike_array, tau_for

from spikeport.models import STDP, InputPopulation, LIFPopulation, Network, Projection, WeightInit

T = 10
A_PLUS, A_MINUS = 0.1, 0.2


def net(w_min=0.0, w_max=1.0):
    """x -> h learns (pre trace decays by 0.5 per step, post trace by 0.25); d -> h drives:
    a spike of d at step t makes h spike at t+1."""
    return Network(
        name="stdp", inputs=(InputPopulation("x", 1), InputPopulation("d", 1)),
        populations=(LIFPopulation("h", 1, tau_u=FAST, tau_v=FAST, threshold=1.0),),
        projections=(
            Projection("x", "h", w_min=w_min, w_max=w_max,
                       learning=STDP(a_plus=A_PLUS, a_minus=A_MINUS, tau_plus=tau_for(0.5),
                                     tau_minus=tau_for(0.25))),
            Projection("d", "h", weights=WeightInit("constant", value=10.0))),
        sample_steps=T)


def run(network, x, d, w0=0.5):
    inputs = {"x": spike_array(T, 1, {0: x}), "d": spike_array(T, 1, {0: d})}
    weights = {"x->h": np.array([[w0]]), "d->h": np.array([[10.0]])}
    return run_both(network, inputs, weights)[0]


def test_pair_rule_golden():
    # pre (x) at 1, 5, 7; d at 2, 6 -> post (h) spikes at 3, 7.
    #   x(1)=1, x(3)=0.25, x(5)=0.125/2+1=1.0625, x(7)=1.0625/4+1=1.265625
    #   y(3)=1, y(5)=1/16=0.0625, y(7)=0.0625/16+1=1.00390625
    # step 1 pre:  −a₋·y(1) = 0
    # step 3 post: +a₊·x(3) = 0.1·0.25 = 0.025
    # step 5 pre:  −a₋·y(5) = −0.2·0.0625 = −0.0125
    # step 7 both (same-step spikes count together, traces include them):
    #              +a₊·x(7) − a₋·y(7) = 0.1265625 − 0.20078125 = −0.07421875
    # total −0.06171875 -> w = 0.5 − 0.06171875 = 0.43828125
    a = run(net(), x=[1, 5, 7], d=[2, 6])
    assert np.flatnonzero(a.spikes["h"][0, :, 0]).tolist() == [3, 7]
    assert a.weights["x->h"][0, 0] == pytest.approx(0.43828125, rel=1e-12)


def test_post_only_and_pre_only():
    # pre at 1, post at 3 only (d at 2): +a₊·x(3) = 0.1·0.25 = 0.025
    a = run(net(), x=[1], d=[2])
    assert a.weights["x->h"][0, 0] == pytest.approx(0.525, rel=1e-12)
    # post at 3 (d at 2), pre at 4: −a₋·y(4) = −0.2·0.25 = −0.05
    a = run(net(), x=[4], d=[2])
    assert a.weights["x->h"][0, 0] == pytest.approx(0.45, rel=1e-12)


def test_no_spikes_no_change_and_bounds():
    a = run(net(), x=[], d=[])
    assert a.weights["x->h"][0, 0] == 0.5
    # strong depression clipped at w_min = 0.4: post at 3, pre at 3 and 4:
    #   step 3: a₊·x(3) − a₋·y(3) = 0.1 − 0.2 = −0.1 -> 0.4; step 4: −a₋·y(4)=−0.05 -> clip 0.4
    a = run(net(w_min=0.4), x=[3, 4], d=[2])
    assert a.weights["x->h"][0, 0] == 0.4
