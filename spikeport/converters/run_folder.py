"""The run folder: what ``spikeport convert`` writes and every later command reads.

A run directory holds everything one deployment produced; later commands take it::


    OUT/
      artefact/            trained Brian2 artefact (deploy trains one when given a spec)
      spec.yaml            the network spec (what encodes the inputs)
      fixed/               fixed-point network: network.json + weights.npz (Lava's input)
      quantization.json    per-layer quantization report (also .md)
      classes.json         the artefact's class list (label names by index), when known
      emulator_infer.json  a fixed-point run's summary (accuracy, rates, op counts) on the
                           bit-exact emulator (the default backend); emulator_learn.json
      emulator_infer.npz   its spikes, input spikes, labels; *_learn.npz adds learned weights
      lava_infer.json/.npz the same from Lava's simulator (``--backend lava``, the reference)
      emulator_learned/    the fixed-point network after on-chip learning on the emulator
      lava_learned/        ... and on Lava (runs before per-backend folders: fixed_learned/)
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
from spikeport.flow.fixed import FixedNetwork
from spikeport.io import (
    atomic_replace_dir,
    atomic_write_json,
    atomic_write_text,
    check_complete,
    check_output_dir,
    commit_point,
    temporary_dir,
)
from spikeport.models.artefact import load_source, training_classes, write_classes
from spikeport.models.spec import save_spec
from spikeport.paths import relative_paths

FIXED = "fixed"
FIXED_LEARNED = "fixed_learned"     # before backends had their own: still read, never written
LEARNED_BACKENDS = ("emulator", "lava")


def learned_name(backend: str) -> str:
    """The folder ``run --learn`` on ``backend`` writes: ``emulator_learned``, ``lava_learned``
    (one per backend, so learning on one never replaces what another learned)."""
    return f"{backend}_learned"


def find_learned(out: Path, backend: str, source: str | None = None) -> str:
    """The learned network ``run --learned`` takes: ``source``'s (a backend name), else
    ``backend``'s own, else the only learned network in the folder (a legacy
    ``fixed_learned/`` included); several and none of ``backend`` is an error listing them."""
    out = Path(out)
    if source is not None:
        if not (out / learned_name(source)).is_dir():
            raise DataError(f"{out}: no {learned_name(source)}/ (run `spikeport run {out} "
                            f"--learn --backend {source}` first)")
        return learned_name(source)
    if (out / learned_name(backend)).is_dir():
        return learned_name(backend)
    found = [learned_name(b) for b in LEARNED_BACKENDS if (out / learned_name(b)).is_dir()]
    if (out / FIXED_LEARNED).is_dir():
        found.append(FIXED_LEARNED)
    if len(found) == 1:
        return found[0]
    if not found:
        raise DataError(f"{out}: no learned fixed-point network ({learned_name(backend)}/); "
                        f"run `spikeport run {out} --learn` first")
    raise DataError(f"{out}: learned networks {', '.join(f + '/' for f in found)} and none "
                    f"from {backend}; choose one: --learned BACKEND (allowed: "
                    f"{', '.join(f.removesuffix('_learned') for f in found)})")


#: what runs derive from a converted network: removed when a new one is converted in
DERIVED = tuple(f"{b}_{m}.{x}" for b in LEARNED_BACKENDS for m in ("infer", "learn")
                for x in ("json", "npz", "md")) + (
    "deploy.json", "deploy.md", "energy.json", "energy.md", "energy.png", "metrics.json",
    "sanafe.json", "sanafe.md", "classes.json", "fixed_last")


def clear_derived(out: Path) -> list[str]:
    """Remove the files runs derived from the folder's previous network."""
    import shutil

    removed = []
    for name in DERIVED + (FIXED_LEARNED,) + tuple(learned_name(b) for b in LEARNED_BACKENDS):
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
        classes = training_classes(art)
        if classes is not None:     # what `run` maps a data file's labels through
            write_classes(out, classes, art.metrics.get("dataset"))
        atomic_write_json(out / "quantization.json", relative_paths(report, out))
        atomic_write_text(out / "quantization.md", format_report(fixed.report) + "\n")
    return report


def load_fixed(out: Path, learned: bool | str = False, allow: str | None = None):
    """The fixed-point network of a run folder: ``fixed/``, or with ``learned`` the folder it
    names (``emulator_learned``, ``lava_learned``, legacy ``fixed_learned``; True: the legacy
    name); refused while a command's interruption marks the folder (unless it is ``allow``,
    rerunning)."""

    check_complete(out, allow=allow)
    if learned is True:
        learned = FIXED_LEARNED
    sub = learned if learned else FIXED
    if not (out / sub).is_dir():
        hint = ("run `spikeport run OUT --learn` first" if learned else
                "run `spikeport convert ARTEFACT -o OUT` first")
        raise DataError(f"{out}: no fixed-point network in {sub}/ ({hint})")
    return FixedNetwork.load(out / sub)
