"""Workflows: one module per user verb that needs more than one stage — :mod:`.simulate`,
:mod:`.deploy` (run, deploy, demo), :mod:`.compare`. With :mod:`spikeport.training` and the two
applications (:mod:`spikeport.continual`, :mod:`spikeport.sweep`), the only callers of the
backends."""
