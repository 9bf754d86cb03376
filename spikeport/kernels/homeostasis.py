"""Threshold homeostasis in integers, once per sample (spikeport's LIF; no stock Lava model).

:class:`spikeport.models.rules.Homeostasis` adapts each neuron's threshold after a sample of T
steps with n_i spikes::

    θ_i <- clip(θ_i + eta * (n_i - target_rate * T * dt), theta_min, theta_max)

In fixed point the threshold lives in an accumulator with 16 fractional bits below the 17-bit
``vth`` mantissa, and the spike-count target has 8 fractional bits::

    acc <- clip(acc + eta_q * ((n << 8) - target_q), acc_min, acc_max)
    vth  = clip((acc + 2**15) >> 16, 0, 131071)            (round half up)

so one spike moves ``acc`` by ``eta_q * 256``, i.e. ``vth`` by ``eta_q / 256`` LSB. The neuron
compares against ``vth << 6`` as usual (:mod:`.lif`). Arrays are batch-first ``(B, n)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_int_range, check_int_scalar
from .lif import VTH_RANGE

ACC_FRACTION_BITS = 16
COUNT_FRACTION_BITS = 8
ACC_MAX = VTH_RANGE[1] << ACC_FRACTION_BITS


@dataclass(frozen=True, eq=False)
class HomeostasisParams:
    """``eta_q`` (accumulator units per 1/256 spike), ``target_q`` (spikes per sample × 256),
    ``acc_min``/``acc_max`` (threshold bounds × 2**16), all integers."""

    eta_q: int
    target_q: int
    acc_min: int
    acc_max: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta_q", check_int_scalar("eta_q", self.eta_q, 0, 1 << 31))
        object.__setattr__(self, "target_q", check_int_scalar("target_q", self.target_q, 0,
                                                              1 << 40))
        object.__setattr__(self, "acc_min", check_int_scalar("acc_min", self.acc_min, 0,
                                                             ACC_MAX))
        object.__setattr__(self, "acc_max", check_int_scalar("acc_max", self.acc_max,
                                                             self.acc_min, ACC_MAX))


def threshold_to_acc(vth) -> np.ndarray:
    """The accumulator holding threshold mantissa ``vth`` exactly."""
    return check_int_range("vth", vth, *VTH_RANGE) << ACC_FRACTION_BITS


def threshold_from_acc(acc) -> np.ndarray:
    """``vth`` the neuron uses: the accumulator rounded half up to an integer mantissa."""
    acc = np.asarray(acc, dtype=np.int64)
    vth = (acc + (1 << (ACC_FRACTION_BITS - 1))) >> ACC_FRACTION_BITS
    return np.clip(vth, *VTH_RANGE)


def homeostasis_update(acc, counts, params: HomeostasisParams) -> np.ndarray:
    """New accumulator after a sample with ``counts`` spikes per neuron."""
    acc = np.asarray(acc, dtype=np.int64)
    n = np.asarray(counts, dtype=np.int64) << COUNT_FRACTION_BITS
    return np.clip(acc + params.eta_q * (n - params.target_q), params.acc_min, params.acc_max)
