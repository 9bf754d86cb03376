"""The run folder: what ``spikeport convert`` writes and every later command reads.

A run directory holds everything one deployment produced; later commands take it::


    OUT/
      artefact/            trained Brian2 artefact (deploy trains one when given a spec)
      spec.yaml            the network spec (what encodes the inputs)
      fixed/               fixed-point network: network.json + weights.npz (Lava's input)
      quantization.json    per-layer quantization report (also .md)
      emulator_infer.json  a fixed-point run's summary (accuracy, rates, op counts) on the
                           bit-exact emulator (the default backend); emulator_learn.json
      emulator_infer.npz   its spikes, input spikes, labels; *_learn.npz adds learned weights
      lava_infer.json/.npz the same from Lava's simulator (``--backend lava``, the reference)
      fixed_learned/       the fixed-point network after on-chip learning
      deploy.json / .md    deploy's summary: Brian2 reference vs fixed point on the same samples
      energy.json/.md/.png energy on the chip profiles, with baselines (``spikeport energy``)

Lava runs go through a subprocess with a timeout (Lava can hang and leak shared memory).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport.errors import DataError
from spikeport.io import atomic_write_json, atomic_write_text
from spikeport.models.artefact import load_source
from spikeport.models.spec import save_spec
from spikeport.paths import relative_paths

FIXED = "fixed"
FIXED_LEARNED = "fixed_learned"


def convert(source: str | Path, out: str | Path, options=None) -> dict:
    """Quantize an artefact (or an untrained spec) into ``OUT/fixed`` with its report."""
    from spikeport.converters.quantize import format_report, quantize

    art = load_source(source)
    out = Path(out)
    fixed = quantize(art.net, art.weights, options)
    if art.thresholds:
        # thresholds adapted by homeostasis during training, in this population's vth units
        vth = {p.name: np.rint(np.broadcast_to(art.thresholds[p.name], (p.n,)) * p.scale)
               .astype(np.int64) for p in fixed.populations if p.name in art.thresholds}
        fixed = fixed.with_learned(thresholds=vth)
    out.mkdir(parents=True, exist_ok=True)
    fixed.save(out / FIXED)
    save_spec(art.net, out / "spec.yaml")
    report = dict(fixed.report)
    report["source"] = str(source)
    atomic_write_json(out / "quantization.json", relative_paths(report, out))
    atomic_write_text(out / "quantization.md", format_report(fixed.report) + "\n")
    return report


def load_fixed(out: Path, learned: bool = False):
    """The fixed-point network of a run folder (``fixed/``, or ``fixed_learned/``)."""
    from spikeport.flow.fixed import FixedNetwork

    sub = FIXED_LEARNED if learned else FIXED
    if not (out / sub).is_dir():
        hint = ("run `spikeport run OUT --learn` first" if learned else
                "run `spikeport convert ARTEFACT -o OUT` first")
        raise DataError(f"{out}: no fixed-point network in {sub}/ ({hint})")
    return FixedNetwork.load(out / sub)
