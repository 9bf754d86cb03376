"""The hand-off types: what one stage of the pipeline gives the next.

spec → Brian2 reference → quantizer → fixed-point network → {emulator, Lava} → results →
{compare, energy}. Each arrow carries one of these records, and every stage imports them from
here rather than from the stage that makes them:

* :mod:`.batch` — :class:`Split` (features, labels, ids) and :class:`Batch` (input spikes,
  labels, teacher spikes): what any backend runs on.
* :mod:`.fixed` — :class:`FixedNetwork` and its populations, projections and teacher: the
  quantizer's product, what the fixed-point backends run (saved as ``fixed/``).
* :mod:`.plans` — :class:`RulePlan`, :class:`RelayPlan`, :class:`DopaminePlan`: learning rules
  lowered to integers.
* :mod:`.result` — :class:`RunResult`: what every backend returns.
* :mod:`.ops` — :class:`OpCounts`: the operations a run counted, what the energy model prices.

Records with checks and (de)serialisation, no behaviour; they import only the kernels' integer
ranges and the ground modules (errors, io).
"""

from spikeport.flow.batch import Batch, Split
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection, FixedTeacher
from spikeport.flow.ops import OpCounts
from spikeport.flow.plans import DopaminePlan, RelayPlan, RulePlan
from spikeport.flow.result import RunResult

__all__ = ["Batch", "DopaminePlan", "FixedNetwork", "FixedPopulation", "FixedProjection",
           "FixedTeacher", "OpCounts", "RelayPlan", "RulePlan", "RunResult", "Split"]
