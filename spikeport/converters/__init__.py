"""Float spec + weights -> Loihi fixed point (quantizer and its report), fixed-point network ->
Lava graph, NIR in/out.

* :mod:`.quantize` — :func:`~.quantize.quantize`: spec + float weights -> :class:`FixedNetwork`
  (integers + exponents, saved as a directory) with a per-layer report; refuses what the Lava
  backend cannot express.
* :mod:`.lava_rules` — spec learning rules + quantized scales -> structured Lava learning rules
  (:class:`~.lava_rules.RulePlan`, ``to_lava_string()``) and the SBP relay's integers.
* :mod:`.to_lava` — :func:`~.to_lava.build_graph`: fixed network -> Lava processes (imports
  lava lazily); the runner is :mod:`spikeport.lava_processes.run`.
"""
