"""Pure numpy integer kernels: the one place where Loihi / Lava 0.10 fixed-point arithmetic is
written. Lava ProcessModels and the batched emulator call these; nothing else re-derives it.

Modules (each documents the hardware reason for its shifts and widths, and the Lava quirks it
reproduces):

* :mod:`.lif` — LIF neuron step (``PyLifModelBitAcc``).
* :mod:`.dense` — weight clipping/truncation by sign mode, synaptic input and the Dense delay.
* :mod:`.traces` — trace decay with stochastic rounding, impulses, epoch replay.
* :mod:`.random_streams` — Lava's rounding random streams (trace seeds, constant seed 2).
* :mod:`.learning` — structured learning rules, Lava rule strings, fixed-point products.
* :mod:`.engine` — the learning engine over an epoch (``LearningDense`` fixed_pt).

All arrays are batch-first (leading sample axis). Kernels never import lava.
"""

from .dense import (
    SignMode,
    as_sign_mode,
    clip_weights,
    dense_accumulate,
    dense_step,
    infer_sign_mode,
    quantize_dense_weights,
    truncate_weights,
    truncation_bits,
    weight_bounds,
)
from .engine import LearningEngine, PlasticState
from .learning import (
    Factor,
    LearningRule,
    Product,
    evaluate_products,
    stochastic_round_accumulator,
    update_synaptic_variable,
)
from .lif import LifParams, LifState, decay_toward_zero, lif_init_state, lif_step
from .random_streams import RandomStreams
from .traces import add_impulse, decay_traces, decompose_impulse, replay_epoch

__all__ = [
    "SignMode",
    "as_sign_mode",
    "clip_weights",
    "dense_accumulate",
    "dense_step",
    "infer_sign_mode",
    "quantize_dense_weights",
    "truncate_weights",
    "truncation_bits",
    "weight_bounds",
    "LearningEngine",
    "PlasticState",
    "Factor",
    "LearningRule",
    "Product",
    "evaluate_products",
    "stochastic_round_accumulator",
    "update_synaptic_variable",
    "LifParams",
    "LifState",
    "decay_toward_zero",
    "lif_init_state",
    "lif_step",
    "RandomStreams",
    "add_impulse",
    "decay_traces",
    "decompose_impulse",
    "replay_epoch",
]
