"""The Lava backend for the registry (``get_backend("lava")``): Lava's CPU simulator
(``Loihi2SimCfg(select_tag="fixed_pt")``) in a child process with a timeout, the reference the
emulator is checked against. Import-safe: no dataclasses, nothing runs at import."""

from __future__ import annotations


class LavaBackend:
    name = "lava"
    precision = "fixed"

    def __init__(self, timeout: float | None = 3600.0):
        from spikeport.lava_processes import require_lava

        require_lava()                 # one line now, not a child's traceback later
        self.timeout = 3600.0 if timeout is None else float(timeout)

    def run(self, model, batch, *, learn: bool = False, record_weights: bool = False,
            progress: bool = False):
        """``record_weights`` is not available on Lava (a chip shows only its final weights):
        the result has no weight history."""
        from spikeport.lava_processes.run import run_lava_isolated

        return run_lava_isolated(model, batch.inputs, batch.teacher if learn else None,
                                 learn=learn, labels=batch.labels if learn else None,
                                 timeout=self.timeout)
