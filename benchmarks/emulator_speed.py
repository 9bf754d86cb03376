"""The emulator against spikeport's Lava backend: the same converted network, the same input
spikes, side by side in one process session. Outputs (spikes, final weights, thresholds and
every op counter) must be identical before any speed is printed.

Network: the MNIST SBP zoo network (784-500-20: two output neurons per class, supervised STDP
on hidden->output every step, SBP on input->hidden once per sample, homeostasis), converted
from its seeded initial weights. Learning runs at batch 1 (samples in sequence: weights carry
over); inference at batch 1, 64 and 256 (independent samples side by side; Lava has no batch,
it runs samples one after another). Writes ``benchmarks/results/emulator_speed.json``.

    .venv/bin/python benchmarks/emulator_speed.py --learn-samples 20 --infer-samples 40
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.converters.quantize import quantize  # noqa: E402
from spikeport.emulator import run_emulator  # noqa: E402
from spikeport.io import atomic_write_json  # noqa: E402
from spikeport.lava_processes.run import run_lava  # noqa: E402
from spikeport.models import zoo  # noqa: E402
from spikeport.models.inputs import load_batch  # noqa: E402
from spikeport.models.weights import initial_weights  # noqa: E402


def machine() -> dict:
    import lava
    import numba

    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__, "numba": numba.__version__,
            "lava": getattr(lava, "__version__", "0.10.0"),
            "load_average_at_start": list(os.getloadavg())}


def same(a, b) -> bool:
    """Identical spikes, weights, thresholds and op counters."""
    return (a.spikes.keys() == b.spikes.keys()
            and all(np.array_equal(a.spikes[k], b.spikes[k]) for k in a.spikes)
            and all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
            and all(np.array_equal(a.thresholds[k], b.thresholds[k]) for k in a.thresholds)
            and a.ops == b.ops)


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time over ``repeats`` calls (and the last result)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def peak_memory(fn) -> int:
    """Peak bytes the call allocated through Python (numpy arrays included; numba-internal
    temporaries are not traced: they are O(n_pre + n_post) per call)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return int(peak)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zoo", default="mnist_sbp")
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--learn-samples", type=int, default=20)
    ap.add_argument("--infer-samples", type=int, default=40)
    ap.add_argument("--batch-samples", type=int, default=512,
                    help="samples for the emulator's batched inference timing")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "emulator_speed.json"))
    args = ap.parse_args(argv)

    net = zoo.load(args.zoo)
    fixed = quantize(net, initial_weights(net))
    S = fixed.steps_per_sample
    n_big = max(args.learn_samples, args.infer_samples, args.batch_samples)
    data = load_batch(net, None, args.data_dir, "train", n_big)

    def sub(n):
        return {k: v[:n] for k, v in data.inputs.items()}, data.teacher[:n]

    # warm the compiled loops (numba caches them on disk; the first call of a session loads)
    run_emulator(fixed, *sub(2), learn=True)
    run_emulator(fixed, sub(2)[0], None, learn=False)

    report = {"command": "python benchmarks/emulator_speed.py " + " ".join(argv or sys.argv[1:]),
              "machine": machine(), "network": f"zoo {args.zoo}: " + " -> ".join(
                  [f"{n} ({k})" for n, k in fixed.inputs]
                  + [f"{p.name} ({p.n})" for p in fixed.populations]),
              "steps_per_sample": S}

    # ---- learning, batch 1
    inp, teach = sub(args.learn_samples)
    t0 = time.perf_counter()
    lava = run_lava(fixed, inp, teach, learn=True)
    lava_total = time.perf_counter() - t0
    emu_t, emu = timed(lambda: run_emulator(fixed, inp, teach, learn=True), args.repeats)
    if not same(lava, emu):
        raise SystemExit("learning: emulator and Lava outputs differ; no speed is reported")
    steps = args.learn_samples * S
    learn = {"samples": args.learn_samples, "steps": steps, "identical_outputs": True,
             "lava_run_s": lava.wall_time, "lava_total_s": lava_total,
             "lava_steps_per_s": steps / lava.wall_time, "emulator_s": emu_t,
             "emulator_steps_per_s": steps / emu_t,
             "ratio": (steps / emu_t) / (steps / lava.wall_time),
             "weights_changed": {k: int((emu.weights[k] != quantize(net, initial_weights(net))
                                         .projection(k).weights).sum()) for k in emu.weights}}
    print(f"learning, batch 1: Lava {learn['lava_steps_per_s']:.0f} steps/s, emulator "
          f"{learn['emulator_steps_per_s']:.0f} steps/s: {learn['ratio']:.0f}x "
          "(identical spikes, weights, thresholds, op counts)", flush=True)

    # ---- inference
    inp, _ = sub(args.infer_samples)
    lava = run_lava(fixed, inp, None, learn=False)
    emu = run_emulator(fixed, inp, None, learn=False, batch=1)
    if not same(lava, emu):
        raise SystemExit("inference: emulator and Lava outputs differ; no speed is reported")
    lava_rate = args.infer_samples * S / lava.wall_time
    infer = {"lava_samples": args.infer_samples, "lava_sample_steps_per_s": lava_rate,
             "identical_outputs": True, "batches": []}
    print(f"inference: Lava {lava_rate:.0f} sample-steps/s", flush=True)
    inp, _ = sub(args.batch_samples)
    ref = None
    for batch in (1, 64, 256):
        t, out = timed(lambda b=batch: run_emulator(fixed, inp, None, learn=False, batch=b),
                       args.repeats)
        if ref is None:
            ref = out
        elif not same(ref, out):
            raise SystemExit(f"inference: batch {batch} differs from batch 1")
        rate = args.batch_samples * S / t
        mem = peak_memory(lambda b=batch: run_emulator(fixed, inp, None, learn=False, batch=b))
        row = {"batch": batch, "samples": args.batch_samples, "emulator_s": t,
               "sample_steps_per_s": rate, "ratio": rate / lava_rate,
               "peak_traced_bytes": mem}
        infer["batches"].append(row)
        print(f"  emulator batch {batch:3d}: {rate:.0f} sample-steps/s = {row['ratio']:.0f}x "
              f"Lava, peak {mem / 2**20:.0f} MiB", flush=True)
    mem = peak_memory(lambda: run_emulator(fixed, *sub(args.learn_samples), learn=True))
    learn["peak_traced_bytes"] = mem
    report["learning"] = learn
    report["inference"] = infer

    # ---- a whole MNIST-6k training epoch in fixed point (learning on): the 5,000 training
    # and 1,000 validation images of ../shared/data/mnist, 6,000 samples
    parts = [load_batch(net, None, args.data_dir, s, None) for s in ("train", "val")]
    inputs = {k: np.concatenate([p.inputs[k] for p in parts]) for k in parts[0].inputs}
    teacher = np.concatenate([p.teacher for p in parts])
    n = len(teacher)
    t0 = time.perf_counter()
    run_emulator(fixed, inputs, teacher, learn=True)
    t_epoch = time.perf_counter() - t0
    report["training_epoch"] = {"samples": n, "steps": n * S, "emulator_s": t_epoch,
                                "steps_per_s": n * S / t_epoch}
    print(f"one fixed-point training epoch ({n} samples, {n * S} steps): {t_epoch:.1f} s",
          flush=True)
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    atomic_write_json(Path(args.out), report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
