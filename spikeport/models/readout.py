"""The readout: decode any run's output spikes (a :class:`~spikeport.flow.result.RunResult` from
any backend) into classes — each class's block of readout neurons summed, the largest wins."""

from __future__ import annotations

import numpy as np

from spikeport.errors import SpecError
from spikeport.models.spec import Network


def class_counts(net: Network, counts: np.ndarray) -> np.ndarray:
    """Readout spikes per sample and class, (n_samples, n_classes): each class's block of
    readout neurons summed (``counts``: spikes per sample and readout neuron)."""
    if net.readout is None:
        raise SpecError(f"network '{net.name}': no readout population to classify with")
    return counts.reshape(counts.shape[0], net.readout.n_classes, -1).sum(axis=2)


def readout_labels(net: Network, counts: np.ndarray) -> np.ndarray:
    """Predicted class per sample: the block of readout neurons with the most spikes; ties go
    to the lowest class index (``np.argmax`` keeps the first maximum)."""
    return np.argmax(class_counts(net, counts), axis=1)


def predict(net: Network, result) -> np.ndarray:
    """Predicted class per sample of any backend's result (anything with ``counts(pop)``)."""
    return readout_labels(net, result.counts(net.readout.population))
