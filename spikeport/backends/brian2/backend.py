"""The Brian2 backend: the float reference simulator (:mod:`spikeport.backends.brian2.sim` and its
rule code). Its model is a spec with float weights (and thresholds): a trained artefact, or any
object with ``net``, ``weights`` and ``thresholds``."""

from __future__ import annotations

from spikeport.backends.brian2.targets import resolve_target
from spikeport.flow.result import RunResult


class Brian2Backend:
    """``get_backend("brian2", target="cython")``: one Brian2 ``run()`` per batch."""

    name = "brian2"
    precision = "float"

    def __init__(self, target: str = "auto", timeout: float | None = None):

        self.target = resolve_target(target)

    def run(self, model, batch, *, learn: bool = False, record_weights: bool = False,
            progress: bool = False):
        from spikeport.backends.brian2.sim import simulate

        r = simulate(model.net, batch.inputs, model.weights,
                     batch.teacher if learn else None, target=self.target, progress=progress,
                     learn=learn, thresholds=model.thresholds or None,
                     labels=batch.labels if learn else None)
        return RunResult(r.spikes, r.weights, r.thresholds, wall_time=r.wall_time,
                         steps=len(batch) * model.net.steps_per_sample, learn=learn,
                         inputs=r.inputs, states=r.states,
                         backend=f"{self.name} ({self.target})")
