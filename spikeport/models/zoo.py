"""The zoo: the papers' networks as specs, each with its no-SBP twin.

The specs live as YAML in ``spikeport/zoo/`` (installed with the package; ``examples/`` links to
them, the files users copy); this module names them and derives the twins, so a twin never
drifts from its SBP network:

* ``<name>_nosbp``: the same network with SBP's propagation factors set to 0 (the hidden layer
  stays at its random initial weights: a "frozen-hidden" twin).
* ``<name>_dense``: no SBP and all-to-all hidden→output synapses — the usual same-size
  network without SBP, the baseline SBP has to beat (DESIGN.md §3, "Connectivity matters").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from spikeport.errors import SpecError
from spikeport.models.rules import SBP
from spikeport.models.spec import Connectivity, Network, load_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "zoo"   # package data, also in a wheel
ZOO = {
    "digits_sbp": "digits_sbp.yaml",        # 64-100-10, sklearn digits
    "mnist_sbp": "mnist_sbp.yaml",          # 784-500-10, the SBP paper's MNIST network
    "nettalk_sbp": "nettalk_sbp.yaml",      # 189-500-51, NETtalk phonemes of the centre letter
    "dvsgesture_sbp": "dvsgesture_sbp.yaml",  # 1024-500-11, 32x32 DVSGesture frames via tonic
}
VARIANTS = ("", "_nosbp", "_dense")
# NACA networks for class-incremental learning (their twins: spikeport.continual.baselines)
NACA_ZOO = {
    "digits_naca": "digits_naca.yaml",      # 64-200-20, sklearn digits
    "mnist_naca": "mnist_naca.yaml",        # 784-500-20, MNIST
}


def names() -> list[str]:
    return [base + v for base in ZOO for v in VARIANTS] + list(NACA_ZOO)


def no_sbp_twin(net: Network) -> Network:
    """The same network with every SBP rule's f_ltp = f_ltd = 0 (hidden layer frozen)."""
    projs = tuple(replace(p, learning=replace(p.learning, f_ltp=0.0, f_ltd=0.0))
                  if isinstance(p.learning, SBP) else p for p in net.projections)
    return replace(net, name=f"{net.name}_nosbp", projections=projs)


def dense_twin(net: Network) -> Network:
    """No SBP (no rule on the hidden layer) and all-to-all synapses into the readout.

    With every hidden neuron reaching every output neuron, a readout restricted to excitatory
    weights cannot express evidence *against* a class, so the twin's readout weights are
    signed (mixed sign mode, bounds ±w_max): the strongest same-size network without SBP,
    not a straw man."""
    readout = net.readout.population if net.readout else None
    projs = []
    for p in net.projections:
        if isinstance(p.learning, SBP):
            p = replace(p, learning=None)
        if p.post == readout and p.connectivity.kind == "fan_out":
            bound = max(abs(p.w_max), abs(p.w_min)) if abs(p.w_max) != float("inf") else p.w_max
            p = replace(p, connectivity=Connectivity("all"), sign_mode="mixed",
                        w_min=-bound, w_max=bound)
        projs.append(p)
    return replace(net, name=f"{net.name}_dense", projections=tuple(projs))


def load(name: str) -> Network:
    """A zoo network by name (``mnist_sbp``, ``mnist_sbp_nosbp``, ``mnist_sbp_dense``, …)."""
    if name in NACA_ZOO:
        return load_spec(EXAMPLES / NACA_ZOO[name])
    for base, file in ZOO.items():
        for variant in VARIANTS:
            if name == base + variant:
                net = load_spec(EXAMPLES / file)
                if variant == "_nosbp":
                    return no_sbp_twin(net)
                if variant == "_dense":
                    return dense_twin(net)
                return net
    raise SpecError(f"no zoo network named {name!r}; allowed: {', '.join(names())}")
