"""Kill safety (issue 21): ``convert``, ``run --learn`` and ``sweep`` killed at many points —
SIGKILL inside a write (the ``SPIKEPORT_TEST_KILL_WRITE=N`` hook of :mod:`spikeport.io` kills
the process half-way through its N-th atomic write), and SIGKILL / SIGTERM at seeded random
moments — then rerun. Each rerun must reach the uninterrupted run's exact bits, leave no
temporary file and no "incomplete" mark, and no process of a killed run may outlive it (sweep
pool workers and the multiprocessing resource tracker included). Between kill and rerun every
reader sees either the old complete folder or a folder marked incomplete (refused), never a
mix.

Write-hook points run until the command finishes without reaching the N-th write, so every
write it makes is interrupted once, whatever their number.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from spikeport.cli import main

SPEC = """\
schema: spikeport/1
name: kill_tiny
dt: 1 ms
sample_steps: 10
seed: 3
inputs:
  - name: pixels
    n: 64
    encoder: {kind: poisson, max_rate: 200 Hz}
populations:
  - name: hidden
    n: 12
    threshold: 3
  - name: output
    n: 10
    threshold: 2
projections:
  - pre: pixels
    post: hidden
    weights: {kind: uniform, low: -0.3, high: 0.6}
  - pre: hidden
    post: output
    weights: {kind: uniform, low: 0.0, high: 0.5}
    sign_mode: excitatory
    w_min: 0.0
    w_max: 2.0
    learning: {rule: supervised_stdp, eta: 0.005, tau_pre: 20 ms}
teacher: {population: output, rate: 200 Hz, kind: regular}
readout: {population: output, n_classes: 10}
"""
#: fields of a run summary that measure the machine, not the run
VOLATILE = {"wall_time_s", "steps_per_s"}


def spikeport(*argv, env=None, **kw) -> subprocess.Popen:
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "spikeport.cli", *map(str, argv)], env=e,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, **kw)


def in_process(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


def snapshot(folder: Path) -> dict:
    """Every file's content below ``folder``: arrays of .npz files, JSON without volatile
    fields, other files as bytes."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(folder))
        if p.suffix == ".npz":
            with np.load(p) as z:
                out[rel] = {k: z[k].tobytes() + str(z[k].dtype).encode() for k in z.files}
        elif p.suffix == ".json":
            doc = json.loads(p.read_text().replace(str(folder), "OUT"))  # paths it records
            if isinstance(doc, dict):
                doc = {k: v for k, v in doc.items() if k not in VOLATILE}
            out[rel] = doc
        elif p.suffix == ".md":   # a run's Markdown quotes its speed: the machine, not the run
            out[rel] = re.sub(rb"[\d,.]+ steps/s", b"N steps/s", p.read_bytes())
        else:
            out[rel] = p.read_bytes()
    return out


def leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.endswith(".tmp")
            or p.name == ".incomplete"]


def assert_never_mixed(out: Path, reference: dict, previous: dict) -> None:
    """After a kill: the folder is marked incomplete, or every file equals the finished run's
    or the state before the command (never a mix of the two)."""
    if (out / ".incomplete").exists():
        return
    now = {k: v for k, v in (snapshot(out) if out.exists() else {}).items() if ".tmp" not in k}
    assert now == reference or now == previous, "unmarked folder mixes two runs"


def kill_points(argv, out: Path, reference: dict, prepare, rerun, max_writes=40,
                random_kills=4, seed=21) -> dict:
    """Kill ``spikeport ARGV`` at each write and at random moments; rerun; compare."""
    results = {"write": 0, "signal": 0}
    for n in range(1, max_writes + 1):
        prepare()
        previous = snapshot(out) if out.exists() else {}
        proc = spikeport(*argv, env={"SPIKEPORT_TEST_KILL_WRITE": str(n)})
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            break                    # it made fewer than n writes: every write was hit
        assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
        assert_never_mixed(out, reference, previous)
        rerun()
        assert snapshot(out) == reference and not leftovers(out), f"write {n}"
        results["write"] += 1
    else:
        pytest.fail(f"still writing after {max_writes} writes")
    t_full = _timed(argv, prepare)
    rng = random.Random(seed)
    for i in range(random_kills):
        prepare()
        previous = snapshot(out) if out.exists() else {}
        proc = spikeport(*argv)
        time.sleep(rng.uniform(0.0, t_full))
        sig = signal.SIGKILL if i % 2 == 0 else signal.SIGTERM
        proc.send_signal(sig)
        proc.communicate(timeout=300)
        assert_never_mixed(out, reference, previous)
        rerun()
        assert snapshot(out) == reference and not leftovers(out), f"signal {sig} #{i}"
        results["signal"] += 1
    return results


def _timed(argv, prepare) -> float:
    prepare()
    t0 = time.perf_counter()
    proc = spikeport(*argv)
    proc.communicate(timeout=300)
    assert proc.returncode == 0
    return time.perf_counter() - t0


@pytest.fixture()
def spec(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def test_convert_survives_kills(spec, tmp_path):
    ref_dir = tmp_path / "ref"
    in_process("convert", spec, "-o", ref_dir)
    reference = snapshot(ref_dir)
    out = tmp_path / "out"

    def prepare():
        pass                         # convert over whatever the last kill left

    def rerun():
        in_process("convert", spec, "-o", out)

    # quantization.json records the source path: the same in both runs
    res = kill_points(["convert", spec, "-o", out], out, reference, prepare, rerun)
    assert res["write"] >= 5 and res["signal"] == 4, res


def test_run_learn_survives_kills(spec, tmp_path):
    ref_dir = tmp_path / "ref"
    in_process("convert", spec, "-o", ref_dir)
    argv = ["--learn", "--samples", "3", "--no-progress"]
    in_process("run", ref_dir, *argv)
    reference = snapshot(ref_dir)
    out = tmp_path / "out"
    in_process("convert", spec, "-o", out)

    def prepare():
        pass

    def rerun():
        in_process("run", out, *argv)

    res = kill_points(["run", out, *argv], out, reference, prepare, rerun, random_kills=2)
    assert res["write"] >= 4, res


SWEEP = """\
schema: spikeport-sweep/1
name: kill_sweep
base: tiny.yaml
backend: emulator
dataset: digits
epochs: 1
train_samples: 6
eval_samples: 4
seeds: [1, 2]
seed_fields: [seed]
parameters:
  eta: projections.hidden->output.learning.eta
grid:
  eta: [0.005]
timeout: 600
"""


def _points(out: Path) -> dict:
    """The results of a sweep folder without what describes the machine or the time."""
    res = {}
    for p in sorted((out / "points").glob("*.json")):
        doc = json.loads(p.read_text())
        doc.pop("run", None)          # host, pid, start time, CPU and wall time
        res[p.name] = json.dumps(_untimed(doc), sort_keys=True)
    return res


def _untimed(x):
    """``x`` without the durations and speeds it measured (``*time_s``, ``*_per_s``)."""
    if isinstance(x, dict):
        return {k: _untimed(v) for k, v in x.items()
                if not k.endswith(("time_s", "_per_s"))}
    if isinstance(x, list):
        return [_untimed(v) for v in x]
    return x


def test_sweep_killed_leaves_no_process_and_resumes_to_the_same_results(spec, tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    ref = tmp_path / "ref"
    proc = spikeport("sweep", sweep, "-o", ref, "--workers", "2", "--no-progress")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    reference = _points(ref)
    assert len(reference) == 2
    out = tmp_path / "out"
    rng = random.Random(7)
    for sig in (signal.SIGKILL, signal.SIGTERM):
        proc = spikeport("sweep", sweep, "-o", out, "--workers", "2", "--no-progress")
        driver = psutil.Process(proc.pid)
        seen: set[int] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            kids = driver.children(recursive=True)
            seen |= {k.pid for k in kids}
            if len([k for k in kids if "spawn_main" in " ".join(_cmdline(k))]) >= 2:
                break            # both pool workers are up
            time.sleep(0.1)
        time.sleep(rng.uniform(0.5, 3.0))
        seen |= {k.pid for k in _children(driver)}
        assert seen, "the sweep started no worker process"
        proc.send_signal(sig)
        proc.wait(timeout=120)       # not communicate(): a surviving worker holds stderr open
        survivors = _wait_gone(seen, 45)
        assert not survivors, f"after {sig!r}: still running: {survivors}"
    proc = spikeport("sweep", sweep, "-o", out, "--workers", "2", "--no-progress")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert _points(out) == reference
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def _cmdline(p) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _children(p) -> list:
    try:
        return p.children(recursive=True)
    except psutil.Error:
        return []


def _wait_gone(pids: set[int], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                q = psutil.Process(pid)
                if q.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {' '.join(_cmdline(q))[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _training_state(out: Path) -> dict:
    """What a training must reproduce bit for bit: the best and the last epoch's weights and
    thresholds, and each epoch's scores (timings measure the machine)."""
    state = {}
    for sub in ("", "last"):
        d = out / sub
        if (d / "weights.npz").is_file():
            with np.load(d / "weights.npz") as z:
                state[f"{sub}/weights"] = {k: z[k].tobytes() for k in z.files}
        if (d / "metrics.json").is_file():
            m = json.loads((d / "metrics.json").read_text())
            state[f"{sub}/epochs"] = [{k: v for k, v in r.items() if "time" not in k
                                       and "per_s" not in k} for r in m.get("epochs", [])]
            state[f"{sub}/best"] = m.get("best_epoch")
    return state


def test_train_survives_kills(spec, tmp_path):
    """`train` killed inside each of its writes (and at seeded random moments), then resumed:
    the same bits as the uninterrupted training, no temporaries left."""
    argv = ["--epochs", "2", "--train-samples", "12", "--eval-samples", "6", "--target",
            "numpy", "--no-progress"]
    ref = tmp_path / "ref"
    in_process("train", spec, "-o", ref, *argv)
    reference = _training_state(ref)
    out = tmp_path / "out"
    kills = 0
    for n in range(1, 80):
        proc = spikeport("train", spec, "-o", out, *argv,
                         env={"SPIKEPORT_TEST_KILL_WRITE": str(n)})
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
        kills += 1
        in_process("train", spec, "-o", out, *argv)          # resume
        assert _training_state(out) == reference, f"write {n}"
        assert not leftovers(out), f"write {n}"
        shutil.rmtree(out)
    assert kills >= 8, kills      # epoch 0's and two epochs' commits were all hit
    rng = random.Random(5)
    for i in range(2):
        proc = spikeport("train", spec, "-o", out, *argv)
        time.sleep(rng.uniform(1.0, 6.0))
        proc.send_signal(signal.SIGKILL if i == 0 else signal.SIGTERM)
        proc.communicate(timeout=300)
        in_process("train", spec, "-o", out, *argv)
        assert _training_state(out) == reference and not leftovers(out), f"random kill {i}"
        shutil.rmtree(out)
