"""The conformance scenarios: one small network (input -> hidden with lateral inhibition ->
output, teacher, readout) and its variants — SBP once per sample and every step, rest gaps,
plain STDP, 5-bit weights, NACA with a gated readout, inference — quantized, with a seeded batch.
Every fixed-point backend runs the same ones (tests/conformance/test_backends.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from spikeport.converters.quantize import QuantizeOptions, quantize
from spikeport.models import (
    NACA,
    SBP,
    STDP,
    BetweenSamples,
    Connectivity,
    Encoder,
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
from spikeport.models.inputs import encode_batch
from spikeport.models.weights import initial_weights

N_SAMPLES = 8  # × 30 steps = 240 steps per scenario


def net_of(seed: int, lateral: bool = True, **changes) -> Network:
    projections = [
        Projection("inp", "hid", weights=WeightInit("uniform", low=-0.2, high=0.9),
                   w_min=-1.0, w_max=1.0,
                   learning=SBP(f_ltp=2.0, f_ltd=1.0, rho=0.6, tau_elig=0.02, seed=4)),
        Projection("hid", "out", sign_mode="excitatory", w_min=0.0, w_max=2.0,
                   weights=WeightInit("uniform", low=0.3, high=0.9),
                   connectivity=Connectivity("fan_out", groups=2, per_neuron=1),
                   learning=SupervisedSTDP(eta=0.05, tau_pre=0.01))]
    if lateral:
        projections.insert(1, Projection("hid", "hid", name="lateral", sign_mode="inhibitory",
                                         weights=WeightInit("constant", value=-0.1)))
    base = dict(
        name="conformance", dt=0.001, sample_steps=30, seed=seed,
        inputs=(InputPopulation("inp", 6, Encoder("poisson", max_rate=250.0)),),
        populations=(
            LIFPopulation("hid", 5, tau_u=0.004, tau_v=0.015, threshold=1.0, bias=0.02,
                          homeostasis=Homeostasis(target_rate=60.0, eta=0.05, theta_min=0.3,
                                                  theta_max=3.0)),
            LIFPopulation("out", 2, tau_u=0.004, tau_v=0.015, threshold=0.6)),
        projections=tuple(projections),
        teacher=Teacher("out", rate=150.0, kind="regular", drive=0.2),
        readout=Readout("out", 2))
    base.update(changes)
    return Network(**base)


def scenario(name: str, seed: int):
    """(fixed network, learn) of a named scenario."""
    net, opts, learn = net_of(seed), QuantizeOptions(), True
    sbp, *rest_projections = net.projections
    if name == "inference":
        learn = False
    elif name == "sbp_step":
        opts = QuantizeOptions(sbp_epoch="step")
    elif name == "bits5":  # 5-bit weights: Dense and LearningDense truncate 3 (4 MIXED) bits
        opts = QuantizeOptions(num_weight_bits=5)
    elif name == "rest":  # no resets: 5 silent steps between samples (and no SBP then)
        net = net.replace(projections=(replace(sbp, learning=None),) + tuple(rest_projections),
                          between_samples=BetweenSamples("rest", rest_steps=5))
    elif name == "naca":  # the label's dopamine code modulates the input layer; the output
        # learns only in the sample's taught neurons (gate: taught), as in continual learning
        lateral, out = rest_projections
        net = net.replace(projections=(
            replace(sbp, learning=NACA(eta=0.05, n_classes=2, tau_pre=0.01, x_offset=0.5,
                                       seed=2)),
            lateral, replace(out, learning=replace(out.learning, gate="taught"))))
    elif name == "stdp":  # unsupervised two-factor STDP on the input layer
        net = net.replace(projections=(replace(sbp, learning=STDP(
            a_plus=0.05, a_minus=0.04, tau_plus=0.01, tau_minus=0.012)),)
            + tuple(rest_projections))
    return quantize(net, initial_weights(net), opts), learn, net


def batch_of(net, seed: int, n: int = N_SAMPLES):
    rng = np.random.default_rng(seed)
    X = rng.random((n, net.inputs[0].n))
    labels = np.arange(n) % net.readout.n_classes
    return encode_batch(net, X, labels, np.arange(n))


SCENARIOS = ("sbp", "sbp_step", "rest", "stdp", "bits5", "naca", "inference")
