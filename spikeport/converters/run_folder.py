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

Commit point: ``convert`` marks the folder incomplete (:func:`spikeport.io.commit_point`),
removes what earlier runs derived from the previous network (run summaries and spikes,
``fixed_learned/``, deploy and energy reports, a fixed-point training's ``metrics.json``) so a
reused folder never mixes two networks' results, swaps ``fixed/`` in whole, writes the rest, and
only then removes the mark. A folder still marked is refused by every reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikeport.errors import DataError
from spikeport.io import (
    atomic_replace_dir,
    atomic_write_json,
    atomic_write_text,
    check_complete,
    check_output_dir,
    commit_point,
    temporary_dir,
)
from spikeport.models.artefact import load_source
from spikeport.models.spec import save_spec

FIXED = "fixed"
FIXED_LEARNED = "fixed_learned"
#: what runs derive from a converted network: removed when a new one is converted in
DERIVED = tuple(f"{b}_{m}.{x}" for b in ("emulator", "lava") for m in ("infer", "learn")
                for x in ("json", "npz")) + (
    "deploy.json", "deploy.md", "energy.json", "energy.md", "energy.png", "metrics.json")


def clear_derived(out: Path) -> list[str]:
    """Remove the files runs derived from the folder's previous network."""
    import shutil

    removed = []
    for name in DERIVED + (FIXED_LEARNED,):
        p = out / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()
        else:
            continue
        removed.append(name)
    return removed


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
    for p in fixed.populations:
        if int(np.min(p.vth)) < 1:
            raise DataError(f"{source}: population '{p.name}': its threshold quantizes to vth = "
                            f"{int(np.min(p.vth))} (scale {p.scale:.4g} LSB per unit); allowed: "
                            "vth >= 1 (vth 0 would fire on any positive voltage)")
    check_output_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    report = dict(fixed.report)
    report["source"] = str(source)
    with commit_point(out, "spikeport convert", override=True):
        clear_derived(out)
        tmp = temporary_dir(out / FIXED)
        fixed.save(tmp)
        atomic_replace_dir(tmp, out / FIXED)
        save_spec(art.net, out / "spec.yaml")
        atomic_write_json(out / "quantization.json", report)
        atomic_write_text(out / "quantization.md", format_report(fixed.report) + "\n")
    return report


def load_fixed(out: Path, learned: bool = False, allow: str | None = None):
    """The fixed-point network of a run folder (``fixed/``, or ``fixed_learned/``); refused
    while a command's interruption marks the folder (unless it is ``allow``, rerunning)."""
    from spikeport.flow.fixed import FixedNetwork

    check_complete(out, allow=allow)
    sub = FIXED_LEARNED if learned else FIXED
    if not (out / sub).is_dir():
        hint = ("run `spikeport run OUT --learn` first" if learned else
                "run `spikeport convert ARTEFACT -o OUT` first")
        raise DataError(f"{out}: no fixed-point network in {sub}/ ({hint})")
    return FixedNetwork.load(out / sub)
