"""Translations: float spec + weights -> Loihi fixed point (quantizer and its report), learning
rules -> integer plans, NIR in and out. Converters hand on :mod:`spikeport.flow` records and
never import a backend.

* :mod:`.quantize` — :func:`~.quantize.quantize`: spec + float weights ->
  :class:`~spikeport.flow.fixed.FixedNetwork` (integers + exponents, saved as a directory) with
  a per-layer report; refuses what a fixed-point backend cannot express.
* :mod:`.lava_rules` — spec learning rules + quantized scales -> integer plans
  (:class:`~spikeport.flow.plans.RulePlan`, ``to_lava_string()``) and the SBP relay's integers.
* :mod:`.nir` — NIR graphs in and out (import, export, their conventions).

The Lava process graph of a fixed network is built by :mod:`spikeport.lava_processes.graph`.
"""
