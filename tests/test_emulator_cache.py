"""The emulator's compiled kernels are cached across processes, and a changed source never
loads stale machine code (:mod:`spikeport.backends.emulator.jit`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spikeport.backends.emulator import jit

# A child process: run a small learning network (STDP, t_epoch 1) and its inference on the
# emulator, then report what numba's dispatcher of the run loop did.
CHILD = r"""
import json, time
import numpy as np
t0 = time.perf_counter()
from spikeport.converters.lava_rules import RulePlan
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection
from spikeport.backends.emulator import engine, run_emulator
from spikeport.backends.emulator.jit import cache_dir
plan = RulePlan(kind="stdp", t_epoch=1, post="2F",
                products=(("x0", ("y1",), -1, -3), ("y0", ("x1",), 3, -3)),
                x_impulse=(16, 0), x_tau=(10, 0), y_impulse=(16, 0, 0), y_tau=(12, 0, 0),
                rng_seed=9)
w = np.random.default_rng(1).integers(0, 120, (6, 3))
pop = FixedPopulation("p", 3, scale=1.0, du=800, dv=300, vth=200)
proj = FixedProjection("in->p", "in", "p", "mixed", 0, 1.0, w, np.ones((6, 3), bool), rule=plan)
fixed = FixedNetwork("cache", 0.001, 20, 0, True, 0, (("in", 6),), (pop,), (proj,))
spikes = np.random.default_rng(2).random((4, 20, 6)) < 0.3
learned = run_emulator(fixed, {"in": spikes}, learn=True)
inferred = run_emulator(fixed, {"in": spikes})
stats = engine.run_sequential.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "folder": str(cache_dir(engine.run_sequential)),
                  "seconds": time.perf_counter() - t0,
                  "weights": learned.weights["in->p"].tolist(),
                  "spikes": int(inferred.spikes["p"].sum())}))
"""


def _child(cache: Path) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, timeout=900, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["notice"] = "compiling the emulator's kernels" in out.stderr
    return report


def test_second_process_loads_the_compiled_run_loop_from_the_cache(tmp_path):
    """A fresh cache folder: the first process says it compiles, compiles the run loop and
    writes its index and machine code; a second process loads it (a cache hit, no
    compilation, no notice), writes nothing new, and computes the same bits."""
    cache = tmp_path / "numba"
    first = _child(cache)
    assert first["misses"] >= 1 and first["hits"] == 0 and first["notice"]
    folder = Path(first["folder"])
    assert folder.is_relative_to(cache)
    files = {p.name: p.stat().st_mtime_ns for p in jit.cache_files(folder)}
    assert any(n.startswith("engine.run_sequential") and n.endswith(".nbi") for n in files)
    assert any(n.startswith("engine.run_sequential") and n.endswith(".nbc") for n in files)
    assert (folder / jit.FINGERPRINT_FILE).read_text().strip() == jit.fingerprint()
    second = _child(cache)
    assert second["hits"] >= 1 and second["misses"] == 0 and not second["notice"], second
    assert {p.name: p.stat().st_mtime_ns for p in jit.cache_files(folder)} == files
    assert second["weights"] == first["weights"] and second["spikes"] == first["spikes"]


def _fake_cache(folder: Path) -> list[Path]:
    folder.mkdir()
    names = ["engine.run_sequential-300.py311.nbi", "engine.run_sequential-300.py311.1.nbc",
             "compiled.wrap32-30.py311.nbi", "plasticity.settle-470.py311.nbi",
             "other_module.f-1.py311.nbi"]
    for n in names:
        (folder / n).write_bytes(b"x")
    return [folder / n for n in names]


def test_a_changed_source_drops_the_stale_cache(tmp_path, monkeypatch):
    """numba only watches the file that defines a function; ensure_fresh_cache deletes the
    emulator's cache files when the fingerprint of *any* compiled source differs, keeps them
    when nothing changed, and never touches other modules' files."""
    src = tmp_path / "src"
    src.mkdir()
    for name in jit.SOURCES:
        (src / name).write_bytes((jit.HERE / name).read_bytes())
    monkeypatch.setattr(jit, "HERE", src)
    folder = tmp_path / "cache"
    files = _fake_cache(folder)
    monkeypatch.setattr(jit, "cache_dir", lambda dispatcher: folder)

    jit.ensure_fresh_cache(None)  # no fingerprint yet: everything of ours goes
    assert [f.exists() for f in files] == [False, False, False, False, True]
    stamp = (folder / jit.FINGERPRINT_FILE).read_text().strip()
    assert stamp == jit.fingerprint()

    files = [f for f in files if not f.exists()]
    for f in files:  # numba recompiles and writes them again
        f.write_bytes(b"y")
    jit.ensure_fresh_cache(None)  # unchanged sources: kept
    assert all(f.exists() for f in files)

    # a helper's source changes (not the file that defines the run loop): all of ours go
    (src / "compiled.py").write_text((src / "compiled.py").read_text() + "\n# edited\n")
    assert jit.fingerprint() != stamp
    jit.ensure_fresh_cache(None)
    assert not any(f.exists() for f in files)
    assert (folder / "other_module.f-1.py311.nbi").exists()


@pytest.mark.parametrize("name", jit.SOURCES)
def test_every_compiled_module_is_in_the_fingerprint(name):
    """The fingerprint covers every module that declares compiled functions (a module left
    out could go stale unnoticed)."""
    declared = sorted(p.name for p in jit.HERE.glob("*.py")
                      if "@jit" in p.read_text() and p.name != "jit.py")
    assert declared == sorted(jit.SOURCES)
    assert name in declared
