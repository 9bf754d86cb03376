"""Sample schedule and result files shared by spikeport's ProcessModels (no lava import).

Time steps count from 1 (Lava's ``time_step``). A sample occupies ``period`` steps: its
``sample_steps`` steps, then ``period - sample_steps`` silent rest steps. With ``reset``, every
model returns its per-sample state to zero at the first step of each sample, *before* that
step's update (DESIGN.md §3).

Reading results back through ``Var.get()`` costs about 20 µs per value in Lava 0.10 (each value
crosses a channel on its own), so models write what the runner needs (spike records, final
weights, thresholds, op counts) to ``.npz`` files in ``record_dir`` every ``flush_steps`` steps
and at ``total_steps``; :func:`collect` reads them back in order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Schedule:
    """``sample_steps`` steps of a sample, ``period`` steps per sample, ``reset`` or not.

    (A plain class: Lava executes every module of this folder under a bare module name when it
    looks for ProcessModels, and ``dataclasses`` fails for modules missing from sys.modules.)
    """

    __slots__ = ("sample_steps", "period", "reset")

    def __init__(self, sample_steps: int, period: int, reset: bool = True) -> None:
        if sample_steps < 1 or period < sample_steps:
            raise ValueError(f"sample_steps={sample_steps}, period={period}: need "
                             "1 <= sample_steps <= period")
        self.sample_steps = int(sample_steps)
        self.period = int(period)
        self.reset = bool(reset)

    @classmethod
    def from_params(cls, params) -> "Schedule":
        return cls(int(params["sample_steps"]), int(params["period"]), bool(params["reset"]))

    def phase(self, t: int) -> int:
        """Step within the sample, 0-based (>= sample_steps in a rest gap)."""
        return (t - 1) % self.period

    def sample_start(self, t: int) -> bool:
        return self.phase(t) == 0

    def in_sample(self, t: int) -> bool:
        return self.phase(t) < self.sample_steps

    def sample_last(self, t: int) -> bool:
        return self.phase(t) == self.sample_steps - 1


class Recorder:
    """Per-step rows and end-of-chunk state written to ``{record_dir}/{key}.{t:010d}.npz``."""

    def __init__(self, params, n: int = 0, record_rows: bool = False) -> None:
        self.dir = params.get("record_dir", None)
        self.key = str(params.get("key", "proc"))
        self.flush_steps = int(params.get("flush_steps", 0) or 0)
        self.total_steps = int(params.get("total_steps", 0) or 0)
        self.rows = [] if (record_rows and self.dir) else None
        self.n = n

    @property
    def active(self) -> bool:
        return self.dir is not None

    def add(self, row: np.ndarray) -> None:
        if self.rows is not None:
            self.rows.append(np.asarray(row, dtype=bool).copy())

    def due(self, t: int) -> bool:
        if not self.active:
            return False
        return (self.flush_steps and t % self.flush_steps == 0) or t == self.total_steps

    def flush(self, t: int, **state) -> None:
        from spikeport.io import atomic_savez

        arrays = {k: np.asarray(v) for k, v in state.items()}
        if self.rows is not None:
            arrays["rows"] = (np.array(self.rows, dtype=bool) if self.rows
                              else np.zeros((0, self.n), dtype=bool))
            self.rows = []
        arrays["time_step"] = np.array(t)
        atomic_savez(Path(self.dir) / f"{self.key}.{t:010d}.npz", **arrays)


def collect(record_dir: str | Path, key: str) -> tuple[np.ndarray | None, dict]:
    """All rows a model recorded under ``key`` (concatenated in time) and its last state."""
    from spikeport.io import load_npz

    files = sorted(Path(record_dir).glob(f"{key}.*.npz"))
    rows, last = [], {}
    for f in files:
        data = load_npz(f)
        if "rows" in data:
            rows.append(data.pop("rows"))
        last = data
    return (np.concatenate(rows) if rows else None), last
