"""spikeport's overhead on Lava: the same plastic network built from stock Lava processes and
by spikeport, run side by side in one Python session on the same input spikes.

Network: the digits network (64-100-10) with STDP on its output layer only — no SBP, no
homeostasis, no teacher, no sample resets (one continuous run): ``pixels -> hidden`` static
(MIXED), ``hidden -> output`` all-to-all (EXCITATORY) with spikeport's ``stdp`` rule, which the
quantizer turns into Lava's ``STDPLoihi`` form ``dw = −m₋·2^e₋·x0·y1 + m₊·2^e₊·y0·x1``.

* (a) stock Lava: ``RingBuffer`` (input spikes) → ``Dense`` → ``LIF`` → ``LearningDense``
  (``STDPLoihi`` with the quantizer's rates, impulses, taus and ``rng_seed``) → ``LIF``, the
  output LIF's ``s_out`` → ``s_in_bap``, its spikes into a sink ``RingBuffer``; the learned
  weights read back with ``weights.get()``.
* (b) spikeport: the equivalent spec → ``quantize`` → ``build_graph`` (SpikeSource, ResetDense,
  ThirdFactorLIF, PlasticDense, with their op counters and result files) → run → collect,
  exactly what :func:`spikeport.lava_processes.run.run_lava` does, with the run timed on its own.

Both use ``Loihi2SimCfg(select_tag="fixed_pt")``, the same input spikes (digits training samples
encoded with the spec seed, concatenated) and the same number of steps. Before any speed is
printed, the two runs must give identical output spikes (every step) and identical learned
weights. Then the runs alternate a, b, a, b, … (``--repeats`` pairs) and the report gives the
median steps/s of each (``run()`` only: compile, start-up and the steps; and end to end:
build + run + read-back + stop) and the ratio stock/spikeport speed (target ≤ 1.3×).

    .venv/bin/python benchmarks/lava_overhead.py --steps 3000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.converters.quantize import quantize  # noqa: E402
from spikeport.io import atomic_write_json  # noqa: E402
from spikeport.models import STDP, BetweenSamples, Connectivity, zoo  # noqa: E402
from spikeport.models.inputs import encode_batch, load_split  # noqa: E402
from spikeport.models.weights import initial_weights  # noqa: E402

TARGET_RATIO = 1.3
PLASTIC = "hidden->output"


def stdp_digits_net(seed: int = 1, a_plus: float = 0.004, a_minus: float = 0.004):
    """digits_sbp with STDP on hidden->output only (all-to-all), nothing else plastic."""
    net = zoo.load("digits_sbp")
    pops = tuple(replace(p, homeostasis=None) for p in net.populations)
    projs = []
    for p in net.projections:
        if p.post == "hidden":
            p = replace(p, learning=None)
        else:
            # all-to-all: 10x the fan-in of the one-class fan-out, so 10x smaller weights
            p = replace(p, connectivity=Connectivity("all"),
                        weights=replace(p.weights, high=p.weights.high / 10),
                        learning=STDP(a_plus=a_plus, a_minus=a_minus, tau_plus=0.02,
                                      tau_minus=0.02))
        projs.append(p)
    return replace(net, name="digits_stdp_output", populations=pops, projections=tuple(projs),
                   teacher=None, seed=seed,
                   between_samples=BetweenSamples(mode="rest", rest_steps=0))


def machine_info() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__, "lava": "0.10.0"}
    try:
        info["load_average_at_start"] = list(os.getloadavg())
    except OSError:
        pass
    return info


def stock_rule(plan):
    """Lava's STDPLoihi with the quantizer's constants: learning_rate 1, A± = ±m·2^e."""
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

    consts = {dep: m * 2.0 ** e for dep, _, m, e in plan.products}
    return STDPLoihi(learning_rate=1, A_plus=consts.get("y0", 0.0),
                     A_minus=consts.get("x0", 0.0), tau_plus=plan.x_tau[0],
                     tau_minus=plan.y_tau[0], x1_impulse=plan.x_impulse[0],
                     y1_impulse=plan.y_impulse[0], t_epoch=1, rng_seed=plan.rng_seed)


def run_stock(fixed, spikes: np.ndarray) -> dict:
    """(a) stock Lava. ``spikes``: bool (steps, n_in)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense, LearningDense
    from lava.proc.io import sink
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.utils.weightutils import SignMode

    t_build = time.perf_counter()
    steps = spikes.shape[0]
    src = RingBuffer(data=spikes.T.astype(np.int32))
    lifs = {p.name: LIF(shape=(p.n,), du=p.du, dv=p.dv, vth=p.vth, bias_mant=p.bias_mant,
                        bias_exp=p.bias_exp, name=f"stock_{p.name}")
            for p in fixed.populations}
    conns = {}
    for proj in fixed.projections:
        w = np.asarray(proj.weights).T
        mode = SignMode[proj.sign_mode.upper()]
        if proj.rule is not None:
            conn = LearningDense(weights=w, learning_rule=stock_rule(proj.rule),
                                 weight_exp=proj.weight_exp, sign_mode=mode)
            lifs[proj.post].s_out.connect(conn.s_in_bap)
        else:
            conn = Dense(weights=w, weight_exp=proj.weight_exp, sign_mode=mode)
        (src.s_out if proj.pre == fixed.inputs[0][0] else lifs[proj.pre].s_out).connect(
            conn.s_in)
        conn.a_out.connect(lifs[proj.post].a_in)
        conns[proj.name] = conn
    out_pop = fixed.populations[-1]
    snk = sink.RingBuffer(shape=(out_pop.n,), buffer=steps)
    lifs[out_pop.name].s_out.connect(snk.a_in)
    t_run = time.perf_counter()
    try:
        src.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        run_s = time.perf_counter() - t_run
        out_spikes = snk.data.get().T.astype(bool)
        weights = conns[PLASTIC].weights.get().T.astype(np.int64)
    finally:
        src.stop()
    return {"run_s": run_s, "total_s": time.perf_counter() - t_build,
            "output_spikes": out_spikes, "weights": weights}


def run_spikeport(fixed, inputs: dict) -> dict:
    """(b) spikeport: run_lava's steps (build_graph, run, stop, collect), the run timed alone."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    from spikeport.lava_processes.graph import build_graph
    from spikeport.lava_processes.run import _collect
    from spikeport.lava_processes.schedule import collect

    t_build = time.perf_counter()
    record_dir = tempfile.mkdtemp(prefix="spikeport_overhead_")
    try:
        graph = build_graph(fixed, inputs, None, learn=True, record_dir=record_dir,
                            flush_steps=100 * fixed.steps_per_sample)
        proc = graph.any_process
        t_run = time.perf_counter()
        try:
            proc.run(condition=RunSteps(num_steps=graph.total_steps),
                     run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
            run_s = time.perf_counter() - t_run
        finally:
            proc.stop()
        res = _collect(graph, record_dir, collect, run_s)
    finally:
        shutil.rmtree(record_dir, ignore_errors=True)
    out_pop = fixed.populations[-1].name
    return {"run_s": run_s, "total_s": time.perf_counter() - t_build,
            "output_spikes": res.spikes[out_pop].reshape(-1, res.spikes[out_pop].shape[-1]),
            "weights": res.weights[PLASTIC], "ops": res.ops.to_json()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000, help="multiple of 100 (>= 2000)")
    ap.add_argument("--repeats", type=int, default=3, help="(a, b) pairs to time")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" /
                                         "lava_overhead.json"))
    args = ap.parse_args(argv)
    if args.steps % 100:
        raise SystemExit("--steps must be a multiple of the sample length (100)")
    import lava  # noqa: F401  (sets the fork start method before anything else)

    info = machine_info()
    net = stdp_digits_net(args.seed)
    fixed = quantize(net, initial_weights(net))
    plan = fixed.projection(PLASTIC).rule
    n_samples = args.steps // net.sample_steps
    split = load_split(net, "digits", None, "train", n_samples)
    batch = encode_batch(net, split.X, split.y, split.ids, "digits", "train")
    spikes = batch.inputs["pixels"].reshape(-1, 64)  # (steps, 64): samples back to back

    # correctness first: identical output spikes (every step) and learned weights
    a = run_stock(fixed, spikes)
    b = run_spikeport(fixed, batch.inputs)
    w0 = np.asarray(fixed.projection(PLASTIC).weights)
    same_spikes = bool(np.array_equal(a["output_spikes"], b["output_spikes"]))
    same_weights = bool(np.array_equal(a["weights"], b["weights"]))
    check = {"identical_output_spikes": same_spikes, "identical_weights": same_weights,
             "output_spikes": int(a["output_spikes"].sum()),
             "output_spikes_spikeport": int(b["output_spikes"].sum()),
             "weights_changed": int(np.sum(a["weights"] != w0)),
             "weights_total": int(w0.size),
             "mean_abs_weight_change_lsb": float(np.abs(a["weights"] - w0).mean())}
    print(f"check: output spikes identical {same_spikes} ({check['output_spikes']} spikes), "
          f"learned weights identical {same_weights} ({check['weights_changed']} of "
          f"{check['weights_total']} changed)", flush=True)
    doc = {"benchmark": "stock Lava vs spikeport, same plastic network, same input spikes",
           "command": " ".join([sys.executable] + sys.argv), "machine": info,
           "setup": {"network": "digits 64-100-10, STDP (STDPLoihi form) on hidden->output "
                                "only, all-to-all (initial weights U(0, 0.05)); no SBP, "
                                "homeostasis, teacher or resets",
                     "steps": args.steps, "input": f"{n_samples} digits training samples "
                                                   "(spec-seed Poisson spikes), back to back",
                     "lava_rule": plan.to_lava_string(), "rng_seed": plan.rng_seed,
                     "x1_impulse": plan.x_impulse[0], "y1_impulse": plan.y_impulse[0],
                     "run_cfg": "Loihi2SimCfg(select_tag='fixed_pt')",
                     "timing": "run_s = the run() call (compile, start-up, steps); total_s = "
                               "build + run + read-back + stop; medians over alternating "
                               "runs"},
           "check": check}
    if not (same_spikes and same_weights):
        doc["error"] = "stock Lava and spikeport disagree: no speed reported"
        atomic_write_json(Path(args.out), doc)
        print(doc["error"])
        return 1

    times = {"stock": [], "spikeport": []}
    for i in range(args.repeats):
        for who, fn in (("stock", lambda: run_stock(fixed, spikes)),
                        ("spikeport", lambda: run_spikeport(fixed, batch.inputs))):
            r = fn()
            times[who].append({"run_s": r["run_s"], "total_s": r["total_s"]})
            print(f"  pair {i + 1}: {who:9s} run {r['run_s']:.2f} s "
                  f"({args.steps / r['run_s']:.0f} steps/s), total {r['total_s']:.2f} s",
                  flush=True)
    med = {who: {k: statistics.median(t[k] for t in ts) for k in ("run_s", "total_s")}
           for who, ts in times.items()}
    speed = {who: {"run_steps_per_s": args.steps / m["run_s"],
                   "end_to_end_steps_per_s": args.steps / m["total_s"]}
             for who, m in med.items()}
    ratio_run = med["spikeport"]["run_s"] / med["stock"]["run_s"]
    ratio_total = med["spikeport"]["total_s"] / med["stock"]["total_s"]
    doc.update({"runs": times, "median_s": med, "steps_per_s": speed,
                "ratio_stock_over_spikeport_speed": {"run": ratio_run, "end_to_end": ratio_total},
                "target_ratio": TARGET_RATIO, "within_target": ratio_run <= TARGET_RATIO,
                "spikeport_ops": b["ops"]})
    try:
        doc["machine"]["load_average_at_end"] = list(os.getloadavg())
    except OSError:
        pass
    atomic_write_json(Path(args.out), doc)
    print(f"stock Lava {speed['stock']['run_steps_per_s']:.0f} steps/s, spikeport "
          f"{speed['spikeport']['run_steps_per_s']:.0f} steps/s (run); spikeport takes "
          f"{ratio_run:.2f}× the stock time (target ≤ {TARGET_RATIO}); end to end "
          f"{ratio_total:.2f}×")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
