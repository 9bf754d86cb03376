"""Driving stock and spikeport Lava processes in tests: a run with a deadline, monitors and a
guaranteed ``stop()``."""

from __future__ import annotations

import contextlib
import signal

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.monitor.process import Monitor

RUN_CFG = Loihi2SimCfg(select_tag="fixed_pt")
DEADLINE_S = 60


@contextlib.contextmanager
def deadline(seconds: int = DEADLINE_S):
    """Fail instead of hanging forever if a Lava run stalls (Lava can hang silently)."""

    def _raise(signum, frame):
        raise TimeoutError(f"Lava run exceeded {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(proc, steps: int, monitors: dict, variables: dict | None = None) -> dict:
    """Run the graph containing ``proc``; return monitor data and final ``Var.get()`` values
    under their keys; always stop the runtime."""
    with deadline():
        try:
            proc.run(condition=RunSteps(num_steps=steps), run_cfg=RUN_CFG)
            out = {key: np.asarray(mon.get_data()[target.name][name])
                   for key, (mon, target, name) in monitors.items()}
            out.update({key: np.asarray(var.get()) for key, var in (variables or {}).items()})
            return out
        finally:
            proc.stop()


def probe(target, var_name: str, steps: int):
    mon = Monitor()
    mon.probe(getattr(target, var_name), steps)
    return mon, target, var_name
