"""Lava Processes and fixed-point ProcessModels spikeport adds to stock Lava; they import lava,
nothing outside this package (and :mod:`spikeport.converters.to_lava`, lazily) does.

* :mod:`.lif` — ``ThirdFactorLIF``: Loihi LIF + third-factor input, bAP and y2/y3 outputs,
  sample resets, homeostasis.
* :mod:`.dense` — ``ResetDense`` (static) and ``PlasticDense`` (learning engine, learn mask,
  on/off), both resetting their in-flight input at sample boundaries.
* :mod:`.sources` — ``SpikeSource``: replays encoded inputs and the teaching signal.
* :mod:`.relay` — ``SBPRelay``: accumulates M_j, sends y2/y3 at the sample's end.
* :mod:`.run` — ``run_lava`` / ``run_lava_subprocess`` / ``python -m spikeport.lava_processes.run``.
* :mod:`.schedule` — sample schedule and result files (no lava).

Lava imports every module of this folder (under a bare name) when it looks for ProcessModels:
keep them import-safe, without scripts or dataclasses.
"""
