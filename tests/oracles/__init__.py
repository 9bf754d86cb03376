"""Oracles: independent implementations the backends are checked against. They are tests'
code, not spikeport's — the package never imports them.

* :mod:`.float_reference` — the discrete network and its plasticity in float64 numpy, step by
  step: what the Brian2 reference must equal to rounding.
"""
