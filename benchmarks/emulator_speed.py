"""The emulator against spikeport's Lava backend, side by side in one benchmark run, on the
digits (64-100-10) and MNIST (784-500-20) SBP zoo networks converted from their seeded initial
weights: supervised STDP on hidden->output every step, SBP on input->hidden once per sample,
homeostasis.

1. **In the run** (one Python process): the same converted network and the same input spikes
   through ``run_lava`` and ``run_emulator``; spikes, final weights, thresholds and every op
   counter must be identical before any speed is printed. Steps/s from each result's own
   ``wall_time`` (the run, not the set-up). The emulator's first call in the process (which
   loads its compiled kernels from numba's disk cache) is reported apart from its warm calls;
   it is also timed on more samples for a steadier rate. Learning runs samples in sequence
   (weights carry over); inference runs independent samples in blocks on all cores.
2. **Whole commands** (``spikeport run OUT --backend lava|emulator``, each a new process):
   wall time of the command, for the emulator first with an empty numba cache folder (it
   compiles, once per install: one signature serves every network) and then cached (a new
   process loading the kernels).

Writes ``benchmarks/results/emulator_speed.json`` and ``.md`` with the machine (CPU model,
cores, load average before and after, versions). The machine is shared: compare ratios
measured in the same run, not absolute rates across runs.

    .venv/bin/python benchmarks/emulator_speed.py            # ~10 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.backends.emulator import run_emulator  # noqa: E402
from spikeport.converters.quantize import quantize  # noqa: E402
from spikeport.io import atomic_write_json, atomic_write_text  # noqa: E402
from spikeport.models import zoo  # noqa: E402
from spikeport.models.inputs import load_batch  # noqa: E402
from spikeport.models.weights import initial_weights  # noqa: E402

MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"
NETWORKS = {"digits": ("digits_sbp", None), "mnist": ("mnist_sbp", MNIST_DIR)}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    import numba

    try:
        from importlib.metadata import version
        lava = version("lava-nc")
    except Exception:  # noqa: BLE001 (metadata missing: report it)
        lava = "unknown"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "lava_nc": lava, "spikeport_commit": commit,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def same(a, b) -> bool:
    """Identical spikes, weights, thresholds and op counters."""
    return (a.spikes.keys() == b.spikes.keys()
            and all(np.array_equal(a.spikes[k], b.spikes[k]) for k in a.spikes)
            and all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
            and all(np.array_equal(a.thresholds[k], b.thresholds[k]) for k in a.thresholds)
            and a.ops == b.ops)


def median_run(fn, repeats: int) -> tuple[float, object]:
    """Median ``wall_time`` (the run itself) over ``repeats`` calls, and the last result."""
    times, res = [], None
    for _ in range(repeats):
        res = fn()
        times.append(res.wall_time)
    return float(np.median(times)), res


def lava_marginal(fixed, sub, n: int, full, learn: bool) -> float | None:
    """Lava's steps/s without its start-up (process launch and compilation, inside a run's
    ``wall_time``): the extra steps of the ``n``-sample run over a 2-sample run, divided by
    the extra time."""
    from spikeport.lava_processes.run import run_lava

    inp, teach, labels = sub(2)
    small = run_lava(fixed, inp, teach if learn else None, learn=learn,
                     labels=labels if learn else None)
    extra, dt = full.steps - small.steps, full.wall_time - small.wall_time
    if extra <= 0 or dt < 0.2 * full.wall_time:  # too few samples to tell it apart: none
        return None
    return extra / dt


def ratio(a, b):
    return None if a is None or b is None else a / b


def x(value, suffix="x") -> str:
    return "n/a" if value is None else f"{value:.0f}{suffix}"


def in_run(key: str, args) -> dict:
    """Section 1 for one network."""
    from spikeport.lava_processes.run import run_lava

    name, data_dir = NETWORKS[key]
    net = zoo.load(name)
    fixed = quantize(net, initial_weights(net))
    S = fixed.steps_per_sample
    n_big = max(args.learn_samples, args.infer_samples, args.emulator_samples)
    data = load_batch(net, None, str(data_dir) if data_dir else None, "train", n_big)

    def sub(n):
        return {k: v[:n] for k, v in data.inputs.items()}, data.teacher[:n], data.labels[:n]

    row = {"network": f"zoo {name}: " + " -> ".join(
        [f"{n} ({k})" for n, k in fixed.inputs] + [f"{p.name} ({p.n})"
                                                    for p in fixed.populations]),
        "steps_per_sample": S}
    # ---- learning (samples in sequence)
    inp, teach, labels = sub(args.learn_samples)
    steps = args.learn_samples * S
    first = run_emulator(fixed, inp, teach, learn=True, labels=labels)
    lava = run_lava(fixed, inp, teach, learn=True, labels=labels)
    if not same(lava, first):
        raise SystemExit(f"{key} learning: emulator and Lava differ; no speed is reported")
    warm_t, _ = median_run(lambda: run_emulator(fixed, inp, teach, learn=True, labels=labels),
                           args.repeats)
    inp_b, teach_b, labels_b = sub(args.emulator_samples)
    big_t, _ = median_run(lambda: run_emulator(fixed, inp_b, teach_b, learn=True,
                                               labels=labels_b), args.repeats)
    lava_rate = steps / lava.wall_time
    marginal = lava_marginal(fixed, sub, args.learn_samples, lava, True)
    big_rate = args.emulator_samples * S / big_t
    row["learning"] = {
        "samples": args.learn_samples, "steps": steps, "identical_outputs": True,
        "lava_s": lava.wall_time, "lava_steps_per_s": lava_rate,
        "lava_marginal_steps_per_s": marginal,
        "ratio_warm_vs_lava_marginal": ratio(steps / warm_t, marginal),
        "emulator_first_call_s": first.wall_time,
        "emulator_first_call_steps_per_s": steps / first.wall_time,
        "emulator_warm_s": warm_t, "emulator_warm_steps_per_s": steps / warm_t,
        "emulator_samples_long": args.emulator_samples,
        "emulator_long_steps_per_s": big_rate,
        "ratio_warm": steps / warm_t / lava_rate, "ratio_long": big_rate / lava_rate,
        "ratio_long_vs_lava_marginal": ratio(big_rate, marginal),
        "ratio_first_call": steps / first.wall_time / lava_rate}
    # ---- inference (independent samples)
    inp, _, _ = sub(args.infer_samples)
    steps = args.infer_samples * S
    lava = run_lava(fixed, inp, None, learn=False)
    emu = run_emulator(fixed, inp, None, learn=False)
    if not same(lava, emu):
        raise SystemExit(f"{key} inference: emulator and Lava differ; no speed is reported")
    warm_t, _ = median_run(lambda: run_emulator(fixed, inp, None), args.repeats)
    inp_b, _, _ = sub(args.emulator_samples)
    ref = None
    rates = {}
    for batch, label in ((args.emulator_samples, "one_core"), (args.batch, "all_cores")):
        t, out = median_run(lambda b=batch: run_emulator(fixed, inp_b, None, batch=b),
                            args.repeats)
        if ref is None:
            ref = out
        elif not same(ref, out):
            raise SystemExit(f"{key} inference: blocks of {batch} differ from one block")
        rates[label] = args.emulator_samples * S / t
    lava_rate = steps / lava.wall_time
    marginal = lava_marginal(fixed, sub, args.infer_samples, lava, False)
    row["inference"] = {
        "samples": args.infer_samples, "steps": steps, "identical_outputs": True,
        "lava_s": lava.wall_time, "lava_steps_per_s": lava_rate,
        "lava_marginal_steps_per_s": marginal,
        "ratio_warm_vs_lava_marginal": ratio(steps / warm_t, marginal),
        "ratio_all_cores_vs_lava_marginal": ratio(rates["all_cores"], marginal),
        "emulator_warm_s": warm_t, "emulator_warm_steps_per_s": steps / warm_t,
        "emulator_samples_long": args.emulator_samples, "batch": args.batch,
        "emulator_long_steps_per_s_one_core": rates["one_core"],
        "emulator_long_steps_per_s_all_cores": rates["all_cores"],
        "ratio_warm": steps / warm_t / lava_rate,
        "ratio_long_one_core": rates["one_core"] / lava_rate,
        "ratio_long_all_cores": rates["all_cores"] / lava_rate}
    for mode in ("learning", "inference"):
        r = row[mode]
        print(f"{key} {mode}: Lava {r['lava_steps_per_s']:.0f} steps/s; emulator warm "
              f"{r['emulator_warm_steps_per_s']:.0f} ({r['ratio_warm']:.0f}x)", flush=True)
    return row


def command(argv: list[str], env: dict | None = None) -> tuple[float, str]:
    exe = shutil.which("spikeport", path=str(Path(sys.executable).parent)) or "spikeport"
    t0 = time.perf_counter()
    out = subprocess.run([exe] + argv, env=env, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"spikeport {' '.join(argv)} failed:\n{out.stderr[-2000:]}")
    return wall, out.stderr


def whole_commands(args, work: Path) -> dict:
    """Section 2: every command a new process; the emulator's first command compiles into
    an empty numba cache folder, the later ones load from it."""
    cache = work / "numba-cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    rows = {}
    compile_row = None
    for key, (name, data_dir) in NETWORKS.items():
        out = work / key
        command(["convert", name, "-o", str(out)])
        data = ["--data-dir", str(data_dir)] if data_dir else []
        for mode, n in (("inference", args.cmd_infer_samples),
                        ("learning", args.cmd_learn_samples)):
            base = ["run", str(out), "--samples", str(n), "--no-progress"] + data
            base += ["--learn"] if mode == "learning" else []
            tag = "learn" if mode == "learning" else "infer"
            lava_wall, _ = command(base + ["--backend", "lava"], env)
            lava_run = json.loads((out / f"lava_{tag}.json").read_text())["wall_time_s"]
            if compile_row is None:  # the first emulator command ever: numba compiles
                wall, err = command(base + ["--backend", "emulator"], env)
                run = json.loads((out / f"emulator_{tag}.json").read_text())["wall_time_s"]
                compile_row = {"command": f"spikeport {' '.join(base)} --backend emulator",
                               "wall_s": wall, "run_s": run,
                               "notice_printed": "compiling" in err}
            walls, runs = [], []
            for _ in range(args.repeats):
                wall, _ = command(base + ["--backend", "emulator"], env)
                walls.append(wall)
                runs.append(json.loads((out / f"emulator_{tag}.json").read_text())[
                    "wall_time_s"])
            steps = n * json.loads((out / f"emulator_{tag}.json").read_text())[
                "steps_per_s"] * runs[-1] / n
            row = {"samples": n, "steps": int(round(steps)), "lava_command_s": lava_wall,
                   "lava_run_s": lava_run, "emulator_command_s": float(np.median(walls)),
                   "emulator_run_s": float(np.median(runs))}
            row["ratio_command"] = row["lava_command_s"] / row["emulator_command_s"]
            row["ratio_run"] = row["lava_run_s"] / row["emulator_run_s"]
            rows.setdefault(key, {})[mode] = row
            print(f"{key} {mode} command ({n} samples): Lava {lava_wall:.1f} s, emulator "
                  f"{row['emulator_command_s']:.1f} s ({row['ratio_command']:.0f}x); in the "
                  f"command's run {row['ratio_run']:.0f}x", flush=True)
    return {"first_emulator_command_compiles": compile_row, "networks": rows}


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = ["# Emulator vs Lava (one benchmark run, same networks, same inputs)", "",
             f"Machine: {m['cpu_model']}, {m['cpu_count']} cores ({m['usable_cores']} usable),"
             f" load average {m['load_average_at_start']} at start, "
             f"{m['load_average_at_end']} at end (other jobs ran). Python {m['python']}, "
             f"numpy {m['numpy']}, numba {m['numba']}, lava-nc {m['lava_nc']}, spikeport "
             f"{m['spikeport_commit']}.", "",
             "## In the run (steps/s; outputs identical to Lava, bit for bit)", "",
             "Lava: steps/s of its run (start-up included, as a user sees it) and, in "
             "brackets, without its start-up (the extra steps over a 2-sample run); ratios "
             "against both.", "",
             "| network | mode | Lava | emulator, first call in process | emulator warm | "
             "ratio warm | emulator, more samples | ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for key, row in r["in_run"].items():
        lr, inf = row["learning"], row["inference"]
        lines.append(f"| {key} | learning ({lr['samples']} samples) | "
                     f"{lr['lava_steps_per_s']:.0f} ({x(lr['lava_marginal_steps_per_s'], '')}) | "
                     f"{lr['emulator_first_call_steps_per_s']:.0f} | "
                     f"{lr['emulator_warm_steps_per_s']:.0f} | {lr['ratio_warm']:.0f}x "
                     f"({x(lr['ratio_warm_vs_lava_marginal'])}) | "
                     f"{lr['emulator_long_steps_per_s']:.0f} ({lr['emulator_samples_long']}) | "
                     f"{lr['ratio_long']:.0f}x ({x(lr['ratio_long_vs_lava_marginal'])}) |")
        lines.append(f"| {key} | inference ({inf['samples']} samples) | "
                     f"{inf['lava_steps_per_s']:.0f} ({x(inf['lava_marginal_steps_per_s'], '')}) | "
                     f"– | {inf['emulator_warm_steps_per_s']:.0f} | "
                     f"{inf['ratio_warm']:.0f}x ({x(inf['ratio_warm_vs_lava_marginal'])}) | "
                     f"{inf['emulator_long_steps_per_s_all_cores']:.0f} "
                     f"all cores / {inf['emulator_long_steps_per_s_one_core']:.0f} one "
                     f"({inf['emulator_samples_long']}) | {inf['ratio_long_all_cores']:.0f}x / "
                     f"{inf['ratio_long_one_core']:.0f}x "
                     f"({x(inf['ratio_all_cores_vs_lava_marginal'])} all cores) |")
    c = r["commands"]
    fc = c["first_emulator_command_compiles"]
    lines += ["", "## Whole commands (`spikeport run`, each a new process)", "",
              f"First emulator command with an empty numba cache (compiles once per install): "
              f"{fc['wall_s']:.1f} s (`{fc['command']}`; compile notice printed: "
              f"{fc['notice_printed']}). Every later command loads the cached kernels:", "",
              "| network | mode | samples | Lava command | emulator command (cached) | ratio | "
              "Lava run | emulator run | ratio |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for key, modes in c["networks"].items():
        for mode, cm in modes.items():
            lines.append(f"| {key} | {mode} | {cm['samples']} | {cm['lava_command_s']:.1f} s | "
                         f"{cm['emulator_command_s']:.2f} s | {cm['ratio_command']:.0f}x | "
                         f"{cm['lava_run_s']:.2f} s | {cm['emulator_run_s']:.3f} s | "
                         f"{cm['ratio_run']:.0f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--learn-samples", type=int, default=20)
    ap.add_argument("--infer-samples", type=int, default=40)
    ap.add_argument("--emulator-samples", type=int, default=500,
                    help="samples for the emulator's longer timing (in-run)")
    ap.add_argument("--batch", type=int, default=64, help="inference block (all cores)")
    ap.add_argument("--cmd-infer-samples", type=int, default=100)
    ap.add_argument("--cmd-learn-samples", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-commands", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "emulator_speed.json"))
    args = ap.parse_args(argv)

    report = {"command": "python benchmarks/emulator_speed.py " + " ".join(
        argv if argv is not None else sys.argv[1:]), "machine": machine()}
    report["in_run"] = {key: in_run(key, args) for key in NETWORKS}
    if not args.skip_commands:
        with tempfile.TemporaryDirectory() as tmp:
            report["commands"] = whole_commands(args, Path(tmp))
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.out)
    atomic_write_json(out, report)
    if "commands" in report:
        atomic_write_text(out.with_suffix(".md"), markdown(report))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
