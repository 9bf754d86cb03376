"""Datasets, encoders, teaching spike trains and spike files.

Input spikes are data (DESIGN.md §3): a dataset gives features in [0, 1]
(:func:`load_dataset`), an encoder turns them into a bool spike array once (:func:`encode`),
and every backend consumes that array. Event datasets may give their spikes directly
(``as_spikes=True``), and a user may bring their own spike file (:func:`load_spikes`).

Importing this package needs numpy only: scikit-learn and tonic are imported by the loaders
that use them.
"""

from spikeport.data.base import SPLITS, Dataset
from spikeport.data.encoders import encode, latency, poisson_rate, regular_rate
from spikeport.data.registry import DATASETS, N_FEATURES, load_dataset
from spikeport.data.spikefile import SpikeData, load_spikes, save_spikes
from spikeport.data.teaching import teaching_spikes

__all__ = ["DATASETS", "N_FEATURES", "SPLITS", "Dataset", "SpikeData", "encode", "latency",
           "load_dataset", "load_spikes", "poisson_rate", "regular_rate", "save_spikes",
           "teaching_spikes"]
