"""Network spec (define once), learning-rule specs, and the Brian2 reference simulator."""

from spikeport.models.rules import NACA, SBP, STDP, STP, Homeostasis, SupervisedSTDP
from spikeport.models.spec import (
                                   BetweenSamples,
                                   Connectivity,
                                   Encoder,
                                   InputPopulation,
                                   LIFPopulation,
                                   Network,
                                   Projection,
                                   Readout,
                                   Teacher,
                                   WeightInit,
                                   dump_spec,
                                   load_spec,
                                   save_spec,
                                   spec_from_yaml,
)

__all__ = ["NACA", "SBP", "STDP", "STP", "Homeostasis", "SupervisedSTDP", "BetweenSamples",
           "Connectivity", "Encoder", "InputPopulation", "LIFPopulation", "Network",
           "Projection", "Readout", "Teacher", "WeightInit", "dump_spec", "load_spec",
           "save_spec", "spec_from_yaml"]
