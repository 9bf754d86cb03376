"""``spikeport train`` as one function: the backend's precision picks the learner (the float
reference trains an artefact; a fixed-point backend converts first and learns on the chip's
arithmetic, writing a run directory)."""

from __future__ import annotations

from pathlib import Path

from spikeport.backends.base import backend_names
from spikeport.errors import DataError


def train(source: str | Path, out: str | Path, *, backend: str = "brian2",
          eta_decay: float | None = None, target: str = "auto", **options) -> dict:
    """Train ``source`` (spec, zoo name or artefact) into ``out`` on ``backend``; ``options``:
    dataset, data_dir, epochs, train_samples, eval_samples, progress, resume."""
    if backend in backend_names("fixed"):
        from spikeport.training.fixed import train_fixed

        if eta_decay is not None:
            raise DataError(f"--eta-decay {eta_decay} is for the Brian2 backend; the "
                            "fixed-point rates are set once, at conversion")
        return train_fixed(source, out, backend=backend, **options)
    if backend not in backend_names("float"):
        raise DataError(f"backend {backend!r} is unknown; allowed: {', '.join(backend_names())}")
    from spikeport.training.brian2 import train as train_brian2

    return train_brian2(source, out, eta_decay=eta_decay, target=target, **options)
