"""NIR interoperability: spikeport networks to and from the Neuromorphic Intermediate
Representation (``nir`` 1.0; read and written by snnTorch, Norse, Sinabs, Rockpool, Spyx,
Nengo and lava-dl).

**Graph.** Each input population is an ``Input`` node, each LIF population a ``CubaLIF`` node,
each projection a ``Linear`` node between its pre and post nodes (a self-projection is a loop
through one ``Linear``); populations without outgoing projections, and the readout, feed
``Output`` nodes. Node names are the spikeport names.

**Weights.** NIR's ``weight`` is (out, in) = (post, pre); spikeport's are (pre, post).
:func:`swap_axes` is the one place where either direction is converted.

**Neuron.** NIR's CubaLIF is the ODE pair ::

    τ_syn·dI/dt = −I + w_in·S            τ_mem·dv/dt = (v_leak − v) + r·I

with S the output of the Affine/Linear node feeding it; spike if v > v_threshold, then
v ← v_reset. spikeport runs it as a discrete update of one step dt (the *discretisation*),
the current first and then the voltage from the new current (Loihi order)::

    I[t] = a_s·I[t−1] + g_s·w_in·S[t]
    v[t] = a_m·v[t−1] + g_m·(v_leak + r·I[t])

    euler (forward Euler, snnTorch's convention):        a = 1 − dt/τ      g = dt/τ
    exp   (exponential Euler, input held over the step):  a = exp(−dt/τ)   g = 1 − exp(−dt/τ)

With u = g_m·r·I this *is* spikeport's update (:mod:`spikeport.models.spec`)::

    τ_u = −dt_spec / ln a_s      τ_v = −dt_spec / ln a_m
    w[pre, post] = G_post · W[post, pre]      G = g_m·r·g_s·w_in   (the gain, per neuron)
    bias = g_m·v_leak      threshold = v_threshold      reset = v_reset

The Loihi update adds ``a_in`` to u and u to v with gain 1, so export writes ``r = 1/g_m``
and ``w_in = 1/g_s`` (G = 1: r ≈ τ_mem/dt and w_in ≈ τ_syn/dt, exactly snnTorch's convention
under euler) and leaves the weights as they are; import folds any G into the weight columns
(a G within 1e-12 of 1 is float round-off of such reciprocals and counts as 1). A ``nir.LIF``
has no synaptic current (S drives v, G = g_m·r): spikeport's current then decays as fast as
Loihi's 12-bit decay register allows, to 1/4096 per step (τ_u = dt_spec/ln 4096), so 1/4096
of each input still reaches v one step later — import warns.

**Timing.** spikeport delivers a spike to its targets one step after it is emitted (Lava's
Dense delay, DESIGN.md §3); frameworks that deliver within the step (snnTorch) produce the
same spikes one step earlier per layer. The graph metadata says
``synaptic_delay_steps: 1``.

**Metadata is provenance.** Export writes ``dt``, ``discretisation``, ``reset``, the update
order and the delay into the graph metadata, and each population's τ_u, τ_v and bias into
its node's. Import takes ``dt``, ``discretisation`` and ``reset`` as arguments and only
compares them with the metadata (a mismatch is a warning). A node's recorded τ_u, τ_v or bias
replaces the value computed from the NIR fields only when both agree to 1e-9 (it undoes float
round-off, so a round trip is exact); otherwise it is ignored.

**Not in NIR**: learning rules, homeostasis, encoder, teacher, readout, sign modes, weight
bounds, connectivity, sample length, seed. Export drops them from the graph with a warning
and returns them as *extras* (a YAML mapping, schema ``spikeport-nir-extras/1``; ``spikeport
export-nir`` writes it beside the ``.nir`` file) that import takes back (``--rules``).

**Refused** with a one-line :class:`~spikeport.errors.SpecError` naming the node and the
reason: convolutions, pooling, scaling, bare thresholds, non-spiking or leak-free neurons,
delay nodes, Affine biases (a constant input current has no spikeport equivalent), chains of
linear maps, loops through more than one population, neuron parameters that vary across a
population (τ, reset, v_leak; thresholds may vary: they become per-neuron thresholds of the
artefact), decays faster than 1/4096 per step, subtractive reset. On export: refractory
periods, STP and axonal delays (CubaLIF has none of them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikeport.errors import SpecError

DISCRETISATIONS = ("euler", "exp")
RESETS = ("value", "subtract")
EXTRAS_SCHEMA = "spikeport-nir-extras/1"
UPDATE_ORDER = "I[t] from S[t], then v[t] from I[t]; spike if v > v_threshold, v <- v_reset"
GAIN_ROUNDOFF = 1e-12     # |G − 1| below this is round-off of r = 1/g, w_in = 1/g
PROVENANCE_RTOL = 1e-9    # recorded spikeport values replace computed ones only this close
MIN_DECAY = 1.0 / 4096    # fastest per-step decay a 12-bit du/dv register represents
SIDECAR_SUFFIX = ".spikeport.yaml"
REPORT = "nir_import.json"   # the import report, in an imported artefact's directory

# what an extras mapping may set, per section (everything else comes from the NIR graph)
EXTRAS_NETWORK = ("name", "description", "sample_steps", "seed", "between_samples", "teacher",
                  "readout")
EXTRAS_INPUT = ("encoder",)
EXTRAS_POPULATION = ("homeostasis", "threshold")
EXTRAS_PROJECTION = ("learning", "sign_mode", "w_min", "w_max", "connectivity")

_REFUSED = {
    "Conv1d": "a convolution (shared kernels): spikeport projections are dense (pre, post) "
              "matrices without weight sharing",
    "Conv2d": "a convolution (shared kernels): spikeport projections are dense (pre, post) "
              "matrices without weight sharing",
    "SumPool2d": "pooling: spikeport has no node that sums spikes without a neuron",
    "AvgPool2d": "pooling: spikeport has no node that averages spikes without a neuron",
    "Scale": "elementwise scaling between nodes: fold it into the Affine/Linear before export",
    "Threshold": "a bare threshold without membrane dynamics: no spikeport neuron computes it",
    "I": "a non-spiking integrator: spikeport populations are spiking LIF neurons",
    "IF": "integrate-and-fire without leak (tau = inf): spikeport's LIF needs a finite tau_v",
    "LI": "a non-spiking leaky integrator: spikeport populations spike (readouts count spikes)",
    "CubaLI": "a non-spiking leaky integrator: spikeport populations spike (readouts count "
              "spikes)",
    "Delay": "a delay node: spikeport's Brian2 and Lava backends run projections without "
             "axonal delays",
}
SUPPORTED = "Input, Output, Affine (zero bias), Linear, CubaLIF, LIF, Flatten, NIRGraph"


class NirWarning(UserWarning):
    """Something an import or export could not carry over exactly (also in the report)."""


def _nir():
    import nir

    return nir


def swap_axes(w: np.ndarray) -> np.ndarray:
    """(pre, post) ↔ (out, in) = (post, pre): the one place weights change orientation.

    NIR's Affine/Linear ``weight`` maps input to output, ``y = W·x``, so it is (post, pre);
    spikeport and Brian2 index synapses (pre, post). The swap is its own inverse and is used
    in both directions."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"a weight matrix must be 2-D, got shape {w.shape}")
    return np.ascontiguousarray(w.T)


@dataclass(frozen=True)
class Discretisation:
    """One step ``dt`` [s] of ``τ·dx/dt = −x + drive``: ``x[t] = a·x[t−1] + g·drive[t]``.

    ``euler``: a = 1 − dt/τ, g = dt/τ.  ``exp``: a = exp(−dt/τ), g = 1 − exp(−dt/τ).
    """

    kind: str
    dt: float

    def __post_init__(self):
        if self.kind not in DISCRETISATIONS:
            raise SpecError(f"discretisation = {self.kind!r} is invalid; allowed: "
                            + ", ".join(repr(d) for d in DISCRETISATIONS))
        if not isinstance(self.dt, (int, float)) or isinstance(self.dt, bool) \
                or not math.isfinite(self.dt) or self.dt <= 0:
            raise SpecError(f"dt = {self.dt!r} is invalid; allowed: a time step > 0 in seconds")

    def decay(self, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        return 1.0 - self.dt / tau if self.kind == "euler" else np.exp(-self.dt / tau)

    def gain(self, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        return self.dt / tau if self.kind == "euler" else -np.expm1(-self.dt / tau)

    def tau_for(self, decay: float) -> float:
        """The NIR τ whose per-step decay is ``decay`` (the inverse of :meth:`decay`)."""
        if self.kind == "euler":
            return self.dt / (1.0 - decay)
        return -self.dt / math.log(decay)


def _ms(seconds: float) -> str:
    return f"{1e3 * seconds:.4g}"


def _unique(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name
