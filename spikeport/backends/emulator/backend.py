"""The emulator backend: Loihi's integer arithmetic (the kernels of :mod:`spikeport.kernels`),
compiled with numba, bit-exact to Lava's ``fixed_pt`` models — the default fixed-point backend.
The engine itself is :mod:`spikeport.backends.emulator`."""

from __future__ import annotations


class EmulatorBackend:
    """``get_backend("emulator")``: runs a FixedNetwork in this process."""

    name = "emulator"
    precision = "fixed"

    def __init__(self, timeout: float | None = None, batch_size: int = 256):
        # ``timeout`` is accepted for a uniform interface: the emulator runs in-process and
        # cannot hang the way a Lava child can.
        self.batch_size = batch_size
        from spikeport.backends.emulator import run_emulator  # numba compiles on first use

        self._run = run_emulator

    def run(self, model, batch, *, learn: bool = False, record_weights: bool = False,
            progress: bool = False):
        res = self._run(model, batch.inputs, batch.teacher if learn else None, learn=learn,
                        record_weights=record_weights, batch=self.batch_size,
                        progress=progress, labels=batch.labels if learn else None)
        res.backend = self.name
        return res
