"""What a run returns, on any backend: :class:`RunResult`.

The Brian2 reference, the emulator and Lava all hand back spikes per population ``(n_samples,
steps, n)``, the final weights and thresholds, and a wall time; the fixed-point backends add the
op counts they measured (:class:`~spikeport.flow.ops.OpCounts`). Readers (readout, metrics,
energy, compare) take a RunResult and never ask which backend made it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikeport.errors import DataError
from spikeport.flow.ops import OpCounts
from spikeport.io import atomic_savez, load_npz


@dataclass
class RunResult:
    """A run of N samples: arrays are per population/projection name.

    ``spikes``: bool (n_samples, steps, n). ``weights``: the final weights (float units from
    Brian2, integer mantissas ``(n_pre, n_post)`` from the fixed-point backends).
    ``thresholds``: final thresholds (homeostasis) per population. ``ops``: measured op counts
    (fixed point; empty for Brian2). ``steps``: simulated steps in all. ``learn``: learning was
    on. ``inputs``: the input spikes it ran on (Brian2 keeps them). ``states``: optional
    recorded state variables ``{var: {name: array}}``. ``backend``: who ran it (with the Brian2
    code-generation target, e.g. ``"brian2 (cython)"``). ``weight_history``: optional plastic
    weights at each sample's end ``{projection: (n_samples, n_pre, n_post)}``.
    """

    spikes: dict[str, np.ndarray]
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)
    ops: OpCounts = field(default_factory=OpCounts)
    wall_time: float = 0.0
    steps: int = 0
    learn: bool = False
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    backend: str = ""
    weight_history: dict = field(default_factory=dict)

    def __post_init__(self):
        self.ops = OpCounts.from_json(self.ops)

    @property
    def target(self) -> str:
        """The Brian2 code-generation target of a reference run (``""`` otherwise)."""
        b = self.backend
        return b[b.index("(") + 1:b.index(")")] if "(" in b else ""

    def counts(self, population: str) -> np.ndarray:
        """Spikes per sample and neuron, (n_samples, n)."""
        return self.spikes[population].sum(axis=1)

    # ---------------------------------------------------------------- files
    def save(self, path: str | Path) -> None:
        """One ``.npz``: arrays under ``spikes/``, ``weights/``, ``thresholds/`` and a
        ``meta_json`` byte array (ops, wall time, steps, learn) — the format a Lava subprocess
        hands its parent."""

        arrays = {f"spikes/{k}": v for k, v in self.spikes.items()}
        arrays.update({f"weights/{k}": v for k, v in self.weights.items()})
        arrays.update({f"thresholds/{k}": v for k, v in self.thresholds.items()})
        meta = {"ops": self.ops.to_json(), "wall_time": self.wall_time, "steps": self.steps,
                "learn": self.learn, "backend": self.backend}
        arrays["meta_json"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        atomic_savez(Path(path), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "RunResult":

        data = load_npz(Path(path))
        out = {"spikes": {}, "weights": {}, "thresholds": {}}
        for k, v in data.items():
            kind, _, name = k.partition("/")
            if kind in out:
                out[kind][name] = v
        try:
            meta = json.loads(bytes(data["meta_json"]).decode())
        except (KeyError, ValueError):       # UnicodeDecodeError and JSONDecodeError included
            meta = None
        if not isinstance(meta, dict) or not {"ops", "wall_time", "steps", "learn"} <= set(meta):
            raise DataError(f"{path}: meta_json is missing or not an object with ops, "
                            "wall_time, steps and learn (not a spikeport run result)")
        return cls(out["spikes"], out["weights"], out["thresholds"],
                   OpCounts.from_json(meta["ops"], f"{path}: ops"), meta["wall_time"],
                   meta["steps"], meta["learn"], backend=meta.get("backend", ""))
