"""The Brian2 backend: the float reference simulator.

* :mod:`.sim` — ``simulate``: a spec with float weights on input spikes, all samples in one
  ``run()`` (learning on or off); :mod:`.rules` — the learning rules as Brian2 code;
  :mod:`.copies` — inference in independent copies; :mod:`.standalone` — the
  ``cpp_standalone`` device built once per network structure; :mod:`.progress` — progress and
  compile notices; :mod:`.targets` — which code-generation target ``auto`` means.
* :mod:`.backend` — :class:`~.backend.Brian2Backend`, what ``get_backend("brian2")`` returns.
"""
