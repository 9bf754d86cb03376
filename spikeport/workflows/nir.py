"""`spikeport import-nir` with a probe run: import the graph (:mod:`spikeport.converters.nir`),
then drive the imported network with a few samples of random input spikes in the Brian2
reference and warn when it is silent (nothing reaches the output) or saturated (neurons fire
on nearly every step). A file read under the wrong convention is typically one of the two:
spyx's ``r = β, w_in = 1`` read with NIR's equations is a gain of β(1−β)(1−α), a silent net.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport.backends.base import get_backend
from spikeport.converters.nir.common import REPORT
from spikeport.flow.batch import Batch
from spikeport.io import atomic_write_json

PROBE_SAMPLES = 8
SATURATED = 0.9      # a population firing on this share of (neuron, step) pairs or more


def probe_network(art, samples: int = PROBE_SAMPLES, seed: int = 0) -> dict:
    """Rates of every population on ``samples`` samples of independent random input spikes
    (each input neuron fires with probability p per step, p = half its encoder's top rate ×
    dt, within [0.02, 0.5]), and the warnings: an output population that never fires, or any
    population firing on ≥ 90% of its (neuron, step) pairs."""
    net = art.net
    rng = np.random.default_rng(seed)
    inputs, p_in = {}, {}
    for inp in net.inputs:
        rate = getattr(inp.encoder, "max_rate", 0.0) or 100.0
        p = float(np.clip(0.5 * rate * net.dt, 0.02, 0.5))
        p_in[inp.name] = p
        inputs[inp.name] = rng.random((samples, net.sample_steps, inp.n)) < p
    batch = Batch(inputs, np.full(samples, -1), np.arange(samples), None, "probe", "probe")
    res = get_backend("brian2", target="numpy").run(art, batch, learn=False)
    rates = {p: float(np.mean(s)) for p, s in res.spikes.items()}
    fed = {q.pre for q in net.projections if not q.is_recurrent}
    outs = ([net.readout.population] if net.readout is not None
            else [p.name for p in net.populations if p.name not in fed])
    warnings = []
    probe = (f"a probe of {samples} samples × {net.sample_steps} steps of random input spikes "
             f"(per step: " + ", ".join(f"{k} p = {v:.2f}" for k, v in p_in.items()) + ")")
    for pop in outs:
        if rates.get(pop, 0.0) == 0.0:
            silent_in = [p for p, r in rates.items() if r == 0.0]
            warnings.append(f"the imported network is silent: population '{pop}' fired no "
                            f"spike on {probe} (silent: {', '.join(silent_in)}); check "
                            "--convention (a spyx file read as nir has a gain of "
                            "beta(1-beta)(1-alpha)), --dt and the gains in the report")
    for pop, r in rates.items():
        if r >= SATURATED:
            warnings.append(f"the imported network is saturated: population '{pop}' fires on "
                            f"{100 * r:.0f}% of its neuron-steps on {probe}; check "
                            "--convention, --dt and the gains in the report")
    return {"samples": samples, "steps": net.sample_steps, "p_input": p_in,
            "rates": rates, "outputs": outs, "warnings": warnings}


def import_and_probe(nir_file, out, probe: bool = True, **options) -> dict:
    """:func:`~spikeport.converters.nir.import_nir_to`, then (``probe``) :func:`probe_network`
    on what it wrote; the report (and ``OUT/nir_import.json``) gets ``probe``."""
    from spikeport.converters.nir import import_nir_to
    from spikeport.models.artefact import load_source

    report = import_nir_to(nir_file, out, **options)
    if not probe:
        return report
    report["probe"] = probe_network(load_source(report["out"]))
    if Path(report["out"]).is_dir():
        saved = {k: v for k, v in report.items() if k not in ("out", "network")}
        atomic_write_json(Path(report["out"]) / REPORT, saved)
    return report
