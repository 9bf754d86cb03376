"""One sweep job: ``config → result`` (pure: the result depends only on the config).

:func:`run_job` trains the point's network on its backend and scores it:

* ``brian2``: :func:`spikeport.training.brian2.train` for ``epochs`` epochs (one Brian2 run per
  epoch, validation and test scored after each, learning off) in a temporary folder.
* ``lava`` / ``emulator``: the spec's initial weights are quantized to Lava fixed point; each
  epoch presents the training split with learning on — in the same shuffled order and with the
  same per-epoch input spikes as the Brian2 trainer (``seeds.SHUFFLE``/``INPUT_SPIKES`` with the
  epoch number) — the learned integer weights and thresholds carry over to the next epoch, and
  validation and test run with learning off. Lava runs go through
  :func:`~spikeport.lava_processes.run.run_lava_subprocess` (a child process with a timeout:
  Lava forks its own processes, DESIGN.md §7); the emulator runs in-process
  (``spikeport.backends.emulator.run_emulator``, imported lazily).

Metrics: ``val_accuracy``/``test_accuracy`` after the last epoch, ``best_val_accuracy`` and
``test_accuracy_at_best_val`` over epochs ≥ 1 (the first best on ties), and with
``learning_energy`` the dynamic energy of the whole learning phase on each profile,
``E = Σ_categories count × E_op`` as a range (:func:`spikeport.hw_profiles.energy.phase_energy`
on the op counts summed over the epochs' learning runs), in total
(``learning_energy_<profile>_J``) and per training sample presented.

:func:`execute_job` wraps it for executors: a job that raises returns ``status: error`` with the
exception's type and first line, and a per-job timeout (SIGALRM, when run in a main thread).

``python -m spikeport.sweep.jobs CONFIG.json RESULT.json`` runs one job in its own process (how
Dask workers run jobs: Brian2 must be imported in a main thread, and Lava forks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from spikeport.backends.base import backend_names, get_backend
from spikeport.errors import BackendError, SpecError
from spikeport.hw_profiles.energy import phase_energy
from spikeport.hw_profiles.mapping import map_network
from spikeport.io import atomic_write_json
from spikeport.sweep.config import JOB_SCHEMA, point_network
from spikeport.training.loop import run_epochs

# history fields that depend on the machine, not on the config: kept out of results
TIMING_KEYS = ("train_time_s", "train_samples_per_s", "wall_time_s")


class JobTimeout(BackendError):
    """A job ran longer than the sweep's ``timeout``."""


def _epoch_metrics(history: list[dict]) -> dict:
    """Last-epoch accuracies and the test accuracy at the best validation epoch (≥ 1)."""
    last = history[-1]
    trained = [r for r in history if r["epoch"] >= 1] or history
    best = max(trained, key=lambda r: r["val_accuracy"])  # max keeps the first on ties
    return {"val_accuracy": last["val_accuracy"], "test_accuracy": last["test_accuracy"],
            "best_val_accuracy": best["val_accuracy"],
            "test_accuracy_at_best_val": best["test_accuracy"], "best_epoch": best["epoch"],
            "epochs": last["epoch"]}


def _run_brian2(config: dict, net) -> tuple[dict, list, dict]:
    from spikeport.models.spec import save_spec
    from spikeport.training.brian2 import train

    with tempfile.TemporaryDirectory(prefix="spikeport-sweep-") as tmp:
        spec = Path(tmp) / "spec.yaml"
        save_spec(net, spec)
        m = train(spec, Path(tmp) / "artefact", dataset=config["dataset"],
                  data_dir=config["data_dir"], epochs=config["epochs"],
                  train_samples=config["train_samples"], eval_samples=config["eval_samples"],
                  target=config["target"], progress=False, resume=False)
    history = [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in m["epochs"]]
    timing = {"train_time_s": sum(r.get("train_time_s", 0.0) for r in m["epochs"]),
              "brian2_target": m.get("target")}
    return _epoch_metrics(history), history, timing


class _Deadline:
    def __init__(self, seconds: float | None):
        self.end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float:
        if self.end is None:
            return 24 * 3600.0
        left = self.end - time.monotonic()
        if left <= 0:
            raise JobTimeout("the job ran out of time before its next Lava run")
        return left


def fixed_point_backend(name: str, deadline: _Deadline):
    """The registered fixed-point backend ``name`` (a Lava child gets what is left of the
    job's time as its timeout; the job's own alarm bounds the whole job too)."""

    return get_backend(name, timeout=deadline.remaining())


def learning_energy(fixed, ops: dict, samples: int, profiles: list[dict]) -> dict:
    """Per profile: the learning phase's dynamic energy (range) from summed op counts, or the
    mapper's refusal."""

    out = {}
    for prof in profiles:
        try:
            mapping = map_network(fixed, prof["path"], learn=True)
        except BackendError as exc:
            out[prof["name"]] = {"refused": str(exc)}
            continue
        mapping["readout"] = fixed.readout[0] if fixed.readout else None
        e = phase_energy(ops, mapping, prof["path"], samples)
        out[prof["name"]] = {
            "samples": samples, "dynamic_J": e["dynamic_J"],
            "dynamic_per_sample_J": e["dynamic_per_sample_J"],
            "total_real_time_J": e["pacing"]["real_time"]["total_J"],
            "total_as_fast_as_possible_J": e["pacing"]["as_fast_as_possible"]["total_J"],
            "counts": {k: v for k, v in e["counts"].items()},
            "missing": [m["category"] for m in e["missing"]], "cores_used": e["cores_used"]}
    return out


def _run_fixed_point(config: dict, net, backend) -> tuple[dict, list, dict]:
    from spikeport.converters.quantize import QuantizeOptions, quantize
    from spikeport.models.inputs import load_split
    from spikeport.models.weights import initial_weights
    from spikeport.training.fixed import FixedLearner

    ds, data_dir = config["dataset"], config["data_dir"]
    fixed = quantize(net, initial_weights(net), QuantizeOptions(**config["quantize"]))
    initial = fixed
    train_split = load_split(net, ds, data_dir, "train", config["train_samples"])
    evals = {s: load_split(net, ds, data_dir, s, config["eval_samples"])
             for s in ("val", "test")}
    learner = FixedLearner(net, fixed, ds, backend)
    history = run_epochs(learner, train_split, evals, config["epochs"], evaluate_initial=False)
    from spikeport.flow.ops import OpCounts

    ops = sum((OpCounts.from_json(row.pop("learning_ops")) for row in history),
              OpCounts()).to_json()
    wall = sum(row["train_time_s"] for row in history)
    n_train = len(train_split.y)
    metrics = _epoch_metrics(history)
    extra = {"learning_ops": ops}
    if "learning_energy" in config["metrics"]:
        energy = learning_energy(initial, ops, config["epochs"] * n_train,
                                 config["energy_profiles"])
        extra["learning_energy"] = energy
        for name, e in energy.items():
            if "refused" not in e:
                metrics[f"learning_energy_{name}_J"] = e["dynamic_J"]
                metrics[f"learning_energy_per_sample_{name}_J"] = e["dynamic_per_sample_J"]
    return metrics, history, {"backend_wall_time_s": wall, **extra}


def run_job(config: dict, deadline: _Deadline | None = None) -> dict:
    """Run one job; returns ``{"metrics", "history", "details"}`` (raises on failure)."""

    if config.get("schema") != JOB_SCHEMA:
        raise SpecError(f"job config: schema = {config.get('schema')!r}; allowed: "
                        f"{JOB_SCHEMA!r}")
    net = point_network(config)
    deadline = deadline or _Deadline(None)
    backend = config["backend"]

    if backend in backend_names("float"):
        metrics, history, details = _run_brian2(config, net)
    elif backend in backend_names("fixed"):
        metrics, history, details = _run_fixed_point(config, net,
                                                     fixed_point_backend(backend, deadline))
    else:
        raise SpecError(f"job config: backend = {backend!r}; allowed: "
                        f"{', '.join(backend_names())}")
    timing = {k: details.pop(k) for k in list(details)
              if k.endswith("_s") or k == "brian2_target"}
    return {"metrics": metrics, "history": history, "details": details, "timing": timing}


@contextmanager
def _alarm(seconds: float | None):
    """Raise JobTimeout after ``seconds`` (only in a main thread; elsewhere a no-op)."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise JobTimeout(f"the job exceeded the sweep's timeout of {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def error_record(exc: BaseException) -> dict:
    """``{"type", "message"}`` (first line) and, for non-user errors, where it was raised."""
    text = str(exc).strip()
    rec = {"type": type(exc).__name__,
           "message": text.splitlines()[0] if text else type(exc).__name__}
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        f = tb[-1]
        rec["where"] = f"{Path(f.filename).name}:{f.lineno} in {f.name}"
    return rec


def execute_job(config: dict, timeout: float | None = None) -> dict:
    """Run a job, never raising for the job's own failures: ``status`` is ``ok`` or ``error``
    (with ``error: {type, message, where}``); ``run`` holds host, pid and times."""
    started = time.time()
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    out: dict
    try:
        with _alarm(timeout):
            out = {"status": "ok", **run_job(config, _Deadline(timeout))}
    except Exception as exc:  # a failed point is recorded, the sweep goes on
        out = {"status": "error", "error": error_record(exc)}
    out["run"] = {"host": platform.node(), "pid": os.getpid(), "started": started,
                  "wall_time_s": time.perf_counter() - t0,
                  "cpu_time_s": _cpu_seconds() - cpu0, **out.pop("timing", {})}
    return out


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (e.g. Lava runs), user + sys."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spikeport.sweep.jobs",
                                 description="Run one sweep job (config JSON → result JSON).")
    ap.add_argument("config")
    ap.add_argument("result")
    ap.add_argument("--timeout", type=float, default=None)
    args = ap.parse_args(argv)

    config = json.loads(Path(args.config).read_text())
    atomic_write_json(Path(args.result), execute_job(config, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
