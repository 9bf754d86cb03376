"""The backend interface and the registry: the one place a backend is chosen by name.

A backend runs a model on a :class:`~spikeport.flow.batch.Batch` and returns a
:class:`~spikeport.flow.result.RunResult`::

    backend = get_backend("emulator")
    result = backend.run(fixed_network, batch, learn=False)

``precision`` says what it runs: ``"float"`` (the Brian2 reference: a spec with float weights)
or ``"fixed"`` (a :class:`~spikeport.flow.fixed.FixedNetwork` in Loihi integers). The backend,
not its caller, makes sure inference never sees the teacher (a teacher drive would hand it the
labels) and that learning gets the labels NACA needs.

The registry maps a name to ``"module:attribute"`` and imports it only when asked, so Lava,
Brian2 and numba load only for the backend in use. Adding a backend is one folder and one line
here — or, for a package outside spikeport, an entry point in the group ``spikeport.backends``
(``name = "package.module:BackendClass"``).
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

from spikeport.errors import BackendError

#: name -> "module:attribute" of a class whose instances are backends
REGISTRY: dict[str, str] = {
    "brian2": "spikeport.backends.brian2.backend:Brian2Backend",
    "emulator": "spikeport.backends.emulator.backend:EmulatorBackend",
    "lava": "spikeport.lava_processes.backend:LavaBackend",
}
#: the fixed-point backend used when none is named (bit-exact to Lava, much faster)
DEFAULT_FIXED = "emulator"
ENTRY_POINT_GROUP = "spikeport.backends"


@runtime_checkable
class Backend(Protocol):
    """What every backend offers."""

    name: str
    precision: str          # "float" | "fixed"

    def run(self, model, batch, *, learn: bool = False, record_weights: bool = False,
            progress: bool = False):
        """Run ``model`` on ``batch`` (learning on or off) and return a RunResult."""
        ...


def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points

    try:
        return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # noqa: BLE001 — a broken third-party install must not break ours
        return {}


def backend_names(precision: str | None = None) -> list[str]:
    """Registered names (``precision``: only ``"float"`` or ``"fixed"`` ones)."""
    names = list(REGISTRY) + [n for n in _entry_points() if n not in REGISTRY]
    if precision is None:
        return names
    return [n for n in names if _class(n).precision == precision]


def register_backend(name: str, target: str) -> None:
    """Register ``"module:attribute"`` under ``name`` (tests, plug-ins)."""
    if ":" not in target:
        raise ValueError(f"backend target {target!r} must be 'module:attribute'")
    REGISTRY[name] = target


def _class(name: str):
    target = REGISTRY.get(name) or _entry_points().get(name)
    if target is None:
        raise BackendError(f"backend {name!r} is unknown; allowed: "
                           f"{', '.join(backend_names())}")
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise BackendError(f"backend {name!r} ({target}) cannot be loaded here: "
                           f"{type(exc).__name__}: {exc}") from None


def get_backend(name: str | None = None, **options) -> Backend:
    """The backend called ``name`` (default: :data:`DEFAULT_FIXED`), built with ``options``
    (e.g. ``timeout`` for Lava, ``target`` for Brian2). Unknown names and backends that cannot
    run here (Lava not installed) are one-line :class:`~spikeport.errors.BackendError`\\ s."""
    return _class(name or DEFAULT_FIXED)(**options)
