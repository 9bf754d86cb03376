"""Run a sweep: plan, skip what is finished, execute the rest, write each result atomically.

Results folder::

    DIR/
      sweep.yaml           the sweep file as given
      sweep.json           the plan: parameters, seeds, jobs (id, index, params, seed)
      points/<id>.json     one result per job (status ok or error), written atomically by the
                           driver when the job returns; <id> hashes the job's config
      run.log              JSON lines: sweep start/end, and per job skip / done / error

A rerun plans the same jobs, skips every job whose ``points/<id>.json`` has status ``ok`` (and,
with ``skip_failed``, status ``error``), and runs the others: a killed sweep resumes, and a
finished one is a no-op. Jobs are pure (:mod:`spikeport.sweep.jobs`), so where they run does
not change their results.

Executors:

* local (default): a ``concurrent.futures.ProcessPoolExecutor`` (spawned workers, at most
  ``workers`` jobs in flight); jobs run in the workers' main thread.
* Dask ``distributed``: ``scheduler`` is the address of a running scheduler
  (``tcp://host:8786``), or ``cluster`` a YAML file describing a cluster to start — a
  dask-jobqueue batch cluster (``kind: slurm|pbs|sge|lsf|htcondor|moab|oar``, ``jobs: N``,
  ``options:`` passed to its constructor) or ``kind: local`` (``distributed.LocalCluster``).
  Each Dask task runs its job as ``python -m spikeport.sweep.jobs`` in a child process with a
  timeout (Brian2 must be imported in a main thread; Lava forks its own processes), so workers
  need spikeport installed, and results travel back to this process, which writes them.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path

import yaml

from spikeport.errors import BackendError, DataError, SpecError
from spikeport.io import atomic_write_json, atomic_write_text, read_json
from spikeport.sweep.config import Job, Sweep, load_sweep, parse_shard
from spikeport.sweep.jobs import error_record, execute_job

RESULT_SCHEMA = "spikeport-sweep-result/1"
POINTS = "points"
PLAN = "sweep.json"
LOG = "run.log"
GRACE_S = 30.0
WATCHDOG_S = 0.2      # how often a pool worker checks that the sweep driver still runs
JOBQUEUE = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
            "lsf": "LSFCluster", "htcondor": "HTCondorCluster", "moab": "MoabCluster",
            "oar": "OARCluster"}


def default_out(sweep: Sweep) -> Path:
    return sweep.out if sweep.out is not None else Path("runs") / "sweeps" / sweep.name


def result_path(out: Path, job_id: str) -> Path:
    return Path(out) / POINTS / f"{job_id}.json"


def read_result(path: Path) -> dict | None:
    """A result file, or None if absent or unreadable (then the job runs again)."""

    try:
        data = read_json(path, "sweep result")
    except (OSError, DataError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == RESULT_SCHEMA else None


class RunLog:
    """Append-only JSON lines (one small write per event)."""

    def __init__(self, path: Path, executor: str):
        self.path, self.executor = Path(path), executor

    def write(self, event: str, **fields) -> None:
        rec = {"time": time.time(), "event": event, "pid": os.getpid(),
               "executor": self.executor, **fields}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")


def read_log(out: str | Path) -> list[dict]:
    path = Path(out) / LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# executors: each yields (job, result dict) as jobs finish

def _crash_result(exc: BaseException, message: str | None = None) -> dict:
    err = error_record(exc)
    if message:
        err["message"] = message
    return {"status": "error", "error": err, "run": {"host": platform.node()}}


def _on_term(signum, frame):
    raise SystemExit(128 + signum)


def _worker_init(driver: int | None = None) -> None:
    """Pool workers turn SIGTERM into SystemExit, so a job stopped by the driver unwinds
    (a Lava child process is killed and its shared memory freed on the way) and the worker
    exits quietly. A worker also stops when the driver dies, even by SIGKILL: a watchdog thread
    sees its parent change and sends SIGTERM to the worker's main thread (a process-wide signal
    could land on another thread and leave the main one blocked on the job queue), then exits
    outright if the job has not unwound within a grace period. The multiprocessing resource
    tracker exits once the last worker has."""
    import threading

    signal.signal(signal.SIGTERM, _on_term)
    if driver is None:
        return
    main_ident = threading.main_thread().ident

    def watch():
        while os.getppid() == driver:
            time.sleep(WATCHDOG_S)
        signal.pthread_kill(main_ident, signal.SIGTERM)
        time.sleep(GRACE_S)
        os._exit(128 + signal.SIGTERM)

    threading.Thread(target=watch, name="spikeport-driver-watchdog", daemon=True).start()


def local_results(jobs: list[Job], workers: int, timeout: float):
    """Run ``jobs`` on a local process pool; at most ``workers`` in flight."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    pending = deque(jobs)

    def new_pool():
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                   initializer=_worker_init, initargs=(os.getpid(),))

    pool = new_pool()
    inflight: dict = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < workers:
                job = pending.popleft()
                inflight[pool.submit(execute_job, job.config, timeout)] = job
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                job = inflight.pop(fut)
                try:
                    yield job, fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    yield job, _crash_result(exc, "a worker process died while this job ran "
                                                  "(a crash in this job or in one running beside "
                                                  "it); rerun the sweep to retry")
            if broken:
                # every job still in the dead pool fails the same way; start a fresh pool
                for fut, job in list(inflight.items()):
                    inflight.pop(fut)
                    yield job, _crash_result(BrokenProcessPool(), "a worker process died while "
                                             "this job ran; rerun the sweep to retry")
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
    finally:
        if inflight:
            # interrupted (Ctrl-C, or the consumer stopped): stop the running jobs too.
            # ProcessPoolExecutor has no public way to stop its workers before Python 3.14.
            for proc in list(getattr(pool, "_processes", {}).values()):
                if proc.is_alive():
                    proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run_job_subprocess(config: dict, timeout: float) -> dict:
    """One job as ``python -m spikeport.sweep.jobs`` in its own session: the job's own
    SIGALRM timeout, then a hard kill ``GRACE_S`` later; a crash is an error result."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory(prefix="spikeport-sweep-job-") as tmp:
        cfg, res = Path(tmp) / "config.json", Path(tmp) / "result.json"
        cfg.write_text(json.dumps(config))
        cmd = [sys.executable, "-m", "spikeport.sweep.jobs", str(cfg), str(res),
               "--timeout", repr(float(timeout))]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout + GRACE_S)
        except subprocess.TimeoutExpired:
            _kill_session(proc)
            return _crash_result(TimeoutError(), f"the job process did not stop within "
                                 f"{timeout + GRACE_S:g} s and was killed")
        except BaseException:
            _kill_session(proc)
            raise
        if proc.returncode != 0 or not res.is_file():
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            return _crash_result(subprocess.CalledProcessError(proc.returncode, cmd),
                                 f"the job process exited with status {proc.returncode}: "
                                 f"{tail[0]}")
        return json.loads(res.read_text())


def load_cluster_spec(path: str | Path):
    """Start the cluster a YAML file describes; returns (cluster, description)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SpecError(f"{path}: cannot read cluster spec: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {str(exc).splitlines()[0]}") from None
    kinds = ("local",) + tuple(JOBQUEUE)
    if not isinstance(data, dict) or data.get("kind") not in kinds:
        kind = data.get("kind") if isinstance(data, dict) else data
        raise SpecError(f"{path}: kind = {kind!r} is invalid; allowed: {', '.join(kinds)}")
    unknown = sorted(set(data) - {"kind", "jobs", "options"})
    if unknown:
        raise SpecError(f"{path}: unknown key {unknown[0]!r}; allowed keys: kind, jobs, options")
    jobs = data.get("jobs", 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SpecError(f"{path}: jobs = {jobs!r} is invalid; allowed: integers >= 1")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise SpecError(f"{path}: options = {options!r} is invalid; allowed: a mapping of "
                        "keyword arguments for the cluster class")
    kind = data["kind"]
    if kind == "local":
        from distributed import LocalCluster

        cls, kwargs = LocalCluster, {"n_workers": jobs, "threads_per_worker": 1,
                                     "dashboard_address": None, **options}
    else:
        try:
            import dask_jobqueue
        except ImportError:
            raise BackendError(f"{path}: kind {kind!r} needs dask-jobqueue, which is not "
                               "installed (pip install dask-jobqueue)") from None
        cls, kwargs = getattr(dask_jobqueue, JOBQUEUE[kind]), options
    try:
        cluster = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{path}: options for {cls.__name__} are invalid: "
                        f"{str(exc).splitlines()[0]}") from None
    if kind != "local":
        cluster.scale(jobs=jobs)
    return cluster, f"{cls.__name__} ({jobs} {'workers' if kind == 'local' else 'jobs'})"


class DaskConnection:
    """A Dask client on a scheduler address, or on a cluster started from a spec file;
    connected on creation (so a bad address fails before anything is written), closed by
    :meth:`close` (the cluster too, if this started it)."""

    def __init__(self, scheduler: str | None = None, cluster_spec: str | Path | None = None):
        from distributed import Client

        self.cluster = None
        if cluster_spec is not None:
            self.cluster, self.description = load_cluster_spec(cluster_spec)
            target = self.cluster
        else:
            target, self.description = scheduler, str(scheduler)
        try:
            self.client = Client(target, timeout="20s")
        except (OSError, TimeoutError) as exc:
            self.close()
            raise BackendError(f"cannot reach the Dask scheduler at {self.description}: "
                               f"{str(exc).splitlines()[0]}") from None

    def results(self, jobs: list[Job], timeout: float):
        """Submit every job (one child process each, on the workers); yield as they finish."""
        from distributed import as_completed

        tag = uuid.uuid4().hex[:8]
        futures = {self.client.submit(run_job_subprocess, job.config, timeout, pure=False,
                                      key=f"spikeport-sweep-{job.id}-{tag}"): job
                   for job in jobs}
        try:
            for fut in as_completed(list(futures)):
                job = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # the task itself failed (worker lost, ...)
                    result = _crash_result(exc)
                yield job, result
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---------------------------------------------------------------------------------------------
# the driver

def job_states(sweep: Sweep, out: Path) -> dict[str, str | None]:
    """Job id -> ``ok``, ``error`` or None (not run yet / unreadable)."""
    states = {}
    for job in sweep.jobs:
        res = read_result(result_path(out, job.id))
        states[job.id] = None if res is None else res.get("status")
    return states


def run_sweep(file: str | Path, out: str | Path | None = None, workers: int | None = None,
              scheduler: str | None = None, cluster: str | Path | None = None,
              shard: str | None = None, skip_failed: bool = False, progress: bool = True,
              dry_run: bool = False) -> dict:
    """`spikeport sweep`: run the jobs of ``file`` not finished in ``out``; return a summary."""
    sweep = load_sweep(file)
    if scheduler is not None and cluster is not None:
        raise SpecError("give either a Dask scheduler address or a cluster spec, not both")
    sh = parse_shard(shard)
    out = Path(out) if out is not None else default_out(sweep)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    jobs = [j for j in sweep.jobs if sh is None or j.index % sh[1] == sh[0]]
    states = job_states(sweep, out) if out.is_dir() else {}
    finished = {"ok"} | ({"error"} if skip_failed else set())
    todo = [j for j in jobs if states.get(j.id) not in finished]
    known = {j.id for j in sweep.jobs}
    stale = sorted(p.stem for p in (out / POINTS).glob("*.json") if p.stem not in known) \
        if (out / POINTS).is_dir() else []
    skipped = [j for j in jobs if states.get(j.id) in finished]
    executor = ("dask:" + (scheduler or str(cluster))) if (scheduler or cluster) else "local"
    if workers is None:
        workers = max(1, min(os.cpu_count() or 1, len(todo) or 1))
    summary = {"sweep": sweep.name, "out": str(out), "jobs": len(sweep.jobs),
               "selected": len(jobs), "shard": shard, "skipped": len(skipped),
               "to_run": len(todo), "ok": 0, "failed": 0, "executor": executor,
               "workers": workers if executor == "local" else None, "errors": [],
               "other_results": len(stale)}
    if dry_run:
        summary["plan"] = [{"id": j.id, "index": j.index, "params": j.params, "seed": j.seed,
                            "state": states.get(j.id) or "pending"} for j in jobs]
        return summary
    dask = DaskConnection(scheduler, cluster) if executor != "local" and todo else None
    try:
        return _drive(sweep, Path(file), out, jobs, todo, skipped, states, dask, workers,
                      summary, progress)
    finally:
        if dask is not None:
            dask.close()


def _drive(sweep, file, out, jobs, todo, skipped, states, dask, workers, summary, progress):
    executor = summary["executor"]
    out.mkdir(parents=True, exist_ok=True)
    (out / POINTS).mkdir(exist_ok=True)
    atomic_write_text(out / "sweep.yaml", file.read_text())
    atomic_write_json(out / PLAN, sweep.plan())
    log = RunLog(out / LOG, executor)
    log.write("sweep-start", sweep=sweep.name, jobs=len(sweep.jobs), selected=len(jobs),
              shard=summary["shard"], to_run=len(todo))
    for j in skipped:
        log.write("skip", id=j.id, state=states[j.id])
    if not todo:
        results = iter(())
    elif dask is None:
        results = local_results(todo, workers, sweep.timeout)
    else:
        results = dask.results(todo, sweep.timeout)
    bar = None
    if progress and todo:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc=f"sweep {sweep.name}", unit="job")
    t0 = time.perf_counter()
    try:
        for job, res in results:
            record = {"schema": RESULT_SCHEMA, "sweep": sweep.name, "id": job.id,
                      "index": job.index, "params": job.params, "seed": job.seed,
                      "backend": sweep.backend, **res, "config": job.config}
            record["run"] = {**res.get("run", {}), "executor": executor}
            atomic_write_json(result_path(out, job.id), record)
            if res["status"] == "ok":
                summary["ok"] += 1
                log.write("done", id=job.id, status="ok")
            else:
                summary["failed"] += 1
                summary["errors"].append({"id": job.id, "params": job.params, "seed": job.seed,
                                          **res["error"]})
                log.write("done", id=job.id, status="error", error=res["error"])
            if bar is not None:
                bar.set_postfix(ok=summary["ok"], failed=summary["failed"], refresh=False)
                bar.update(1)
    finally:
        stop = getattr(results, "close", None)
        if stop is not None:  # interrupted: stop the running jobs now, not at garbage collection
            stop()
        if bar is not None:
            bar.close()
        summary["wall_time_s"] = time.perf_counter() - t0
        log.write("sweep-end", ok=summary["ok"], failed=summary["failed"],
                  wall_time_s=summary["wall_time_s"])
    return summary


def format_run(summary: dict) -> str:
    """The summary of :func:`run_sweep` as Markdown."""
    if "plan" in summary:
        lines = [f"# sweep {summary['sweep']}: {summary['selected']} of {summary['jobs']} jobs "
                 f"({summary['skipped']} finished, {summary['to_run']} to run) — dry run", "",
                 "| # | id | parameters | seed | state |", "|---:|---|---|---:|---|"]
        for j in summary["plan"]:
            params = ", ".join(f"{k}={v}" for k, v in j["params"].items())
            lines.append(f"| {j['index']} | {j['id']} | {params} | {j['seed']} | "
                         f"{j['state']} |")
        return "\n".join(lines)
    lines = [f"sweep {summary['sweep']} on {summary['executor']}: {summary['ok']} ok, "
             f"{summary['failed']} failed, {summary['skipped']} already finished "
             f"(of {summary['selected']} selected, {summary['jobs']} in the sweep) in "
             f"{summary.get('wall_time_s', 0.0):.0f} s"]
    if summary.get("other_results"):
        lines.append(f"  {summary['other_results']} result files in {summary['out']}/points "
                     "belong to no job of this sweep (another grid or base spec); kept, and "
                     "left out of sweep-report")
    for e in summary["errors"]:
        params = ", ".join(f"{k}={v}" for k, v in e["params"].items())
        lines.append(f"  failed: {params} seed {e['seed']}: {e['type']}: {e['message']}")
    lines.append(f"results: {summary['out']} (spikeport sweep-report {summary['out']})")
    return "\n".join(lines)


__all__ = ["run_sweep", "format_run", "local_results", "DaskConnection", "run_job_subprocess",
           "load_cluster_spec", "read_result", "read_log", "result_path", "job_states",
           "default_out", "RESULT_SCHEMA"]
