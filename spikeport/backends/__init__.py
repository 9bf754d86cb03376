"""Backends: what runs a network. :mod:`.base` holds the interface and the registry
(``get_backend(name)``); each backend is one folder — :mod:`.brian2` (the float reference),
:mod:`.emulator` (the bit-exact compiled emulator of Loihi's integer arithmetic) — and Lava's
lives in :mod:`spikeport.lava_processes` (the only code that imports lava). Backends never
import one another."""

from spikeport.backends.base import (
    DEFAULT_FIXED,
    Backend,
    backend_names,
    get_backend,
    register_backend,
)

__all__ = ["DEFAULT_FIXED", "Backend", "backend_names", "get_backend", "register_backend"]
