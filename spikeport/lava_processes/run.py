"""Run a fixed-point network on Lava's CPU simulator (``Loihi2SimCfg(select_tag="fixed_pt")``).

:func:`run_lava` runs N samples of pre-encoded input spikes in this process, inference or
learning, all seeds set (the rules' ``rng_seed`` come from the spec's seed; Lava's
weight-rounding stream is seeded with the constant 2), and returns spikes per population
``(n_samples, sample_steps, n)``, final weights ``(n_pre, n_post)``, thresholds and op counts.
The runtime is always stopped (try/finally: also on error or KeyboardInterrupt).

Lava can hang silently and leak shared memory, so :func:`run_lava_subprocess` runs the same in
a child process (``python -m spikeport.lava_processes.run FIXED_DIR INPUTS.npz OUT.npz
[--learn]``) in its own session, with a timeout: on expiry the child gets SIGTERM (it stops its
runtime), then the whole group SIGKILL, and the shared-memory segments its processes had mapped
(read from ``/proc/<pid>/maps``) are unlinked.

This module is import-safe (Lava executes every module of this folder under a bare module name
when it looks for ProcessModels): nothing runs at import time, and it defines no dataclasses
(``dataclasses`` fails for a module missing from ``sys.modules``; the result type,
:class:`~spikeport.flow.result.RunResult`, lives in :mod:`spikeport.flow.result`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spikeport.errors import BackendError, SpikeportError
from spikeport.flow.result import RunResult
from spikeport.kernels.dense import quantize_dense_weights

EXIT_OK, EXIT_USER, EXIT_TIMEOUT, EXIT_BUG = 0, 2, 3, 1

__all__ = ["RunResult", "run_lava", "run_lava_isolated", "run_lava_subprocess", "load_inputs",
           "load_labels", "main"]


def _as_int(v) -> int:
    return int(np.asarray(v).reshape(-1)[0])


def run_lava(fixed, inputs: dict[str, np.ndarray], teacher: np.ndarray | None = None,
             learn: bool = False, flush_samples: int = 100,
             labels: np.ndarray | None = None) -> RunResult:
    """Run ``fixed`` (a :class:`~spikeport.converters.quantize.FixedNetwork`) on the batch.

    ``inputs``: input name -> bool (n_samples, sample_steps, n); ``teacher``: bool
    (n_samples, sample_steps, n_teacher) (needed to learn with supervised rules or SBP);
    ``labels``: (n_samples,) classes (needed to learn with NACA).
    ``flush_samples``: models file their spike records every so many samples (memory bound).
    """
    from spikeport.lava_processes import prepare_lava_import

    prepare_lava_import()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    from spikeport.lava_processes.graph import build_graph
    from spikeport.lava_processes.schedule import collect

    record_dir = tempfile.mkdtemp(prefix="spikeport_lava_")
    try:
        S = fixed.steps_per_sample
        graph = build_graph(fixed, inputs, teacher, learn=learn, record_dir=record_dir,
                            flush_steps=max(1, flush_samples) * S, labels=labels)
        proc = graph.any_process
        t0 = time.perf_counter()
        try:
            proc.run(condition=RunSteps(num_steps=graph.total_steps),
                     run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        finally:
            proc.stop()
        wall = time.perf_counter() - t0
        return _collect(graph, record_dir, collect, wall)
    finally:
        shutil.rmtree(record_dir, ignore_errors=True)


def _collect(graph, record_dir, collect, wall: float) -> RunResult:
    fixed = graph.fixed
    n, S, T = graph.n_samples, fixed.steps_per_sample, fixed.sample_steps
    spikes, thresholds, weights, ops = {}, {}, {}, {}
    for pop in fixed.populations:
        rows, last = collect(record_dir, graph.keys[("pop", pop.name)])
        if rows is None or rows.shape[0] != graph.total_steps:
            got = 0 if rows is None else rows.shape[0]
            raise BackendError(f"Lava run: population '{pop.name}' recorded {got} of "
                               f"{graph.total_steps} steps")
        spikes[pop.name] = rows.reshape(n, S, pop.n)[:, :T].astype(bool)
        thresholds[pop.name] = last["vth"].astype(np.int64)
        ops[f"population:{pop.name}"] = {k: _as_int(last[k]) for k in
                                         ("neuron_updates", "spikes", "threshold_updates")}
    for proj in fixed.projections:
        _, last = collect(record_dir, graph.keys[("proj", proj.name)])
        if "weights" in last:
            weights[proj.name] = last["weights"].T.astype(np.int64)
        else:  # static: what Dense used (clipped and truncated by sign mode on its first step)
            weights[proj.name] = quantize_dense_weights(
                np.asarray(proj.weights, dtype=np.int64).T, proj.sign_mode,
                proj.num_weight_bits).T
        ops[f"projection:{proj.name}"] = {k: _as_int(v) for k, v in last.items()
                                          if k not in ("weights", "time_step")}
    for name in graph.relays:
        _, last = collect(record_dir, graph.keys[("relay", name)])
        ops[f"relay:{name}"] = {k: _as_int(v) for k, v in last.items() if k != "time_step"}
    for name in graph.dopamine:
        _, last = collect(record_dir, graph.keys[("dopamine", name)])
        ops[f"dopamine:{name}"] = {k: _as_int(v) for k, v in last.items() if k != "time_step"}
    for name in graph.sources:
        _, last = collect(record_dir, graph.keys[("in", name)])
        ops[f"input:{name}"] = {"values_sent": _as_int(last["values_sent"])}
    if graph.teacher is not None:
        _, last = collect(record_dir, graph.keys[("teacher", fixed.teacher.population)])
        ops["teacher"] = {"values_sent": _as_int(last["values_sent"])}
        if graph.learn and fixed.teacher.gate_value:
            ops["teacher"]["gate_values_sent"] = _as_int(last["gate_values_sent"])
    if graph.drive is not None:
        _, last = collect(record_dir, graph.keys[("drive", fixed.teacher.population)])
        ops["teacher_drive"] = {"syn_ops": _as_int(last["syn_ops"])}
    return RunResult(spikes, weights, thresholds, ops, wall, graph.total_steps, graph.learn,
                     backend="lava")


# ---------------------------------------------------------------------------------------------
# subprocess wrapper

def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        # fields: state, ppid, pgrp, ...; a zombie holds nothing but its pid
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def _shm_segments(pids: list[int]) -> set[str]:
    paths = set()
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                if "/dev/shm/" in line:
                    paths.add(line.split(None, 5)[-1].replace(" (deleted)", ""))
        except OSError:
            continue
    return paths


def _kill_group(proc: subprocess.Popen, grace: float) -> tuple[set[str], list[str]]:
    """SIGTERM the child (it stops its Lava runtime, which frees its shared memory), then
    SIGKILL its whole session; unlink what shared memory its processes had mapped and is still
    there. Returns (segments seen, segments removed here)."""
    pgid = proc.pid  # start_new_session: the child leads its own group
    segments = _shm_segments(_group_pids(pgid))
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    segments |= _shm_segments(_group_pids(pgid))
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + grace
    while _group_pids(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    removed = []
    for path in segments:
        if path.startswith("/dev/shm/") and os.path.exists(path):
            try:
                os.unlink(path)
                removed.append(path)
            except OSError:
                pass
    return segments, removed


def run_lava_isolated(fixed, inputs: dict[str, np.ndarray], teacher: np.ndarray | None = None,
                      learn: bool = False, labels: np.ndarray | None = None,
                      timeout: float = 3600.0) -> RunResult:
    """:func:`run_lava` in a child process with a timeout: the fixed network and the batch go
    through a temporary directory (what ``run``, ``sweep`` and ``compare`` use; Lava can hang
    and leak shared memory, so it never runs in the caller's process)."""
    import tempfile

    from spikeport.io import atomic_savez
    from spikeport.lava_processes import require_lava

    require_lava()       # one line in the caller, not a child's traceback
    with tempfile.TemporaryDirectory(prefix="spikeport-lava-") as tmp:
        tmp = Path(tmp)
        fixed.save(tmp / "fixed")
        arrays = {f"input/{k}": v for k, v in inputs.items()}
        if teacher is not None:
            arrays["teacher"] = teacher
        if labels is not None:
            arrays["labels"] = np.asarray(labels, dtype=np.int64)
        atomic_savez(tmp / "inputs.npz", **arrays)
        return run_lava_subprocess(tmp / "fixed", tmp / "inputs.npz", tmp / "result.npz",
                                   learn=learn, timeout=timeout)


def run_lava_subprocess(fixed_dir: str | Path, inputs_npz: str | Path, out_npz: str | Path,
                        learn: bool = False, timeout: float = 600.0, grace: float = 10.0,
                        python: str | None = None) -> RunResult:
    """Run the CLI entry in a child process with a timeout and cleanup; return its result."""
    cmd = [python or sys.executable, "-m", "spikeport.lava_processes.run", str(fixed_dir),
           str(inputs_npz), str(out_npz)] + (["--learn"] if learn else [])
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        seen, removed = _kill_group(proc, grace)
        error = BackendError(f"Lava run exceeded {timeout:g} s and was killed (process group "
                             f"{proc.pid}; {len(seen)} shared-memory segments mapped, "
                             f"{len(removed)} left over and removed)")
        error.segments = sorted(seen)
        raise error from None
    except BaseException:
        _kill_group(proc, grace)
        raise
    if proc.returncode != EXIT_OK:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        raise BackendError(f"Lava run failed (exit {proc.returncode}): {tail[0]}")
    return RunResult.load(out_npz)


def load_inputs(path: str | Path) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """An inputs file: arrays ``input/<name>`` (bool (n_samples, T, n)) and optional
    ``teacher`` (as ``spikeport simulate`` writes them)."""
    from spikeport.io import load_npz

    data = load_npz(Path(path))
    inputs = {k.partition("/")[2]: v.astype(bool) for k, v in data.items()
              if k.startswith("input/")}
    teacher = data["teacher"].astype(bool) if "teacher" in data else None
    return inputs, teacher


def load_labels(path: str | Path) -> np.ndarray | None:
    """The optional ``labels`` (n_samples,) of an inputs file (NACA learning needs them)."""
    from spikeport.io import load_npz

    data = load_npz(Path(path))
    return data["labels"].astype(np.int64) if "labels" in data else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spikeport.lava_processes.run",
        description="Run a fixed-point network directory on Lava's CPU simulator (fixed_pt).")
    parser.add_argument("fixed_dir")
    parser.add_argument("inputs")
    parser.add_argument("out")
    parser.add_argument("--learn", action="store_true")
    args = parser.parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        from spikeport.flow.fixed import FixedNetwork

        fixed = FixedNetwork.load(args.fixed_dir)
        inputs, teacher = load_inputs(args.inputs)
        result = run_lava(fixed, inputs, teacher, learn=args.learn,
                          labels=load_labels(args.inputs))
        result.save(args.out)
    except SpikeportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_TIMEOUT
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
