"""Compare the spikes netx produced on Lava with spikeport's emulator, per layer, exactly.

Runs in spikeport's environment. usage:

    python check_netx.py inputs RUN INPUTS.npz            # the emulator run's input spikes
    python check_netx.py compare RUN NET.h5 NETX.npz -o RESULT.json

RUN/emulator_infer.npz (``spikeport run RUN [--learned] --backend emulator``) holds the
emulator's spikes per population and the input spikes; NETX.npz is what netx_lava.py wrote.
Both index sample step i in column i (see netx_lava.py), so equal rasters mean equal spikes at
equal steps. As a check that the comparison can fail, the result also counts the differences
if layer k's raster were read k steps off (ignoring the one-step delay of each Dense).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np


def _emulator(run: Path) -> dict:
    data = np.load(run / "emulator_infer.npz")
    return {k: data[k] for k in data.files}


def cmd_inputs(args) -> int:
    arrays = _emulator(Path(args.run))
    keys = [k for k in arrays if k.startswith("input/")]
    if len(keys) != 1:
        print(f"error: {args.run}/emulator_infer.npz: {len(keys)} input populations; netx takes 1",
              file=sys.stderr)
        return 2
    np.savez_compressed(args.out, input=arrays[keys[0]].astype(bool), labels=arrays["labels"])
    print(f"wrote {args.out}: {keys[0]} {arrays[keys[0]].shape}")
    return 0


def cmd_compare(args) -> int:
    import h5py

    run = Path(args.run)
    emu = _emulator(run)
    netx = np.load(args.netx)
    meta = json.loads(bytes(netx["meta_json"]).decode())
    summary = json.loads((run / "emulator_infer.json").read_text())
    with h5py.File(args.net, "r") as f:
        names = [f["layer"][str(i)].attrs["name"] for i in range(1, len(f["layer"]))]
    layers = []
    all_equal = True
    for k, name in enumerate(names, start=1):
        a = emu[f"spikes/{name}"].astype(bool)[: meta["samples"]]
        b = netx[f"layer{k}"].astype(bool)
        diff = a != b
        equal = not diff.any()
        all_equal &= equal
        first = None
        if not equal:
            s, t, n = (int(x) for x in np.argwhere(diff)[0])
            first = {"sample": s, "step": t, "neuron": n, "emulator": bool(a[s, t, n]),
                     "netx": bool(b[s, t, n])}
        # what a comparison that forgot the per-layer delay would see: b shifted by k steps
        shifted = np.zeros_like(b)
        shifted[:, k:] = b[:, :-k]
        layers.append({
            "layer": k, "population": name, "shape": list(a.shape),
            "spikes_emulator": int(a.sum()), "spikes_netx": int(b.sum()),
            "equal": bool(equal), "differing_entries": int(diff.sum()), "first_difference": first,
            "differing_if_read_k_steps_late": int((a != shifted).sum()),
            "samples_with_spikes": int((a.reshape(a.shape[0], -1).any(axis=1)).sum())})
    result = {
        "what": "spikeport export-netx -> lava-dl netx (hdf5.Network) on Lava's CPU simulator "
                "(Loihi2SimCfg fixed_pt) vs spikeport's bit-exact emulator, same input spikes",
        "network": summary.get("network"), "fixed_network": Path(summary["fixed_network"]).name,
        "samples": meta["samples"], "steps_per_sample": meta["steps"],
        "dataset": summary.get("dataset"), "split": summary.get("split"),
        "emulator_accuracy": summary.get("accuracy"),
        "all_layers_equal": bool(all_equal), "layers": layers,
        "alignment": "column i = sample step i for every raster; an input spike at step i "
                     "reaches layer k at step i + k in both (one step per Dense)",
        "reset": "state (u, v, Dense buffers) cleared at every sample boundary in both",
        "netx_wall_s": meta["wall_s"], "netx_table": meta["netx_table"],
        "side_environment": args.side_env, "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for la in layers:
        print(f"layer {la['layer']} ({la['population']}): emulator {la['spikes_emulator']} spikes,"
              f" netx {la['spikes_netx']}, {'equal' if la['equal'] else 'DIFFERENT'} "
              f"({la['differing_entries']} differing; {la['differing_if_read_k_steps_late']} if "
              f"read {la['layer']} step(s) late)")
    print(f"wrote {args.out}")
    return 0 if all_equal else 1


def cmd_neurobench(args) -> int:
    """spikeport's native NeuroBench metrics of the emulator run beside neurobench's own."""
    from spikeport.analysis.neurobench import footprint_bytes, from_run
    from spikeport.flow.fixed import FixedNetwork

    run = Path(args.run)
    nb = json.loads(Path(args.nb).read_text())
    theirs = nb["results"]
    native = from_run(run, "emulator", "infer")
    summary = json.loads((run / "emulator_infer.json").read_text())
    fixed = FixedNetwork.load(run / Path(summary["fixed_network"]).name)
    ours = {**native["static"], **native["workload"]}
    rows = {}

    def row(name, a, b, tol=1e-9, note=None):
        ok = a is not None and b is not None and abs(float(a) - float(b)) <= tol * max(
            1.0, abs(float(b)))
        rows[name] = {"spikeport": a, "neurobench": b, "equal": bool(ok)}
        if note:
            rows[name]["note"] = note

    row("ParameterCount", ours["ParameterCount"], theirs["ParameterCount"])
    row("ConnectionSparsity", round(ours["ConnectionSparsity"], 4), theirs["ConnectionSparsity"],
        note="neurobench rounds to 4 decimals")
    fp32 = footprint_bytes(fixed, weight_bytes=4)
    state = fp32 - sum(p.weights.size for p in fixed.projections) * 4
    row("Footprint (float32 weights)", fp32 - state,
        theirs["Footprint"] - nb["wrapper"]["snntorch_buffers_bytes"],
        note=f"neurobench counts the wrapper's torch tensors: float32 Linear weights plus "
             f"{nb['wrapper']['snntorch_buffers_bytes']} bytes of snnTorch neuron buffers; "
             f"spikeport's Footprint ({ours['Footprint']} bytes) counts the fixed-point storage "
             f"(1-2 bytes a weight) and {state} bytes of neuron state and parameters")
    row("ClassificationAccuracy", ours["ClassificationAccuracy"],
        theirs["ClassificationAccuracy"], tol=1e-6, note="neurobench returns float32")
    row("ActivationSparsity", ours["ActivationSparsity"], theirs["ActivationSparsity"])
    row("MembraneUpdates", ours["MembraneUpdates"], theirs["MembraneUpdates"],
        note="spikeport replays v with its integer kernels; neurobench compares the v that "
             "Lava's Monitor recorded in the netx run")
    for k in ("Effective_ACs", "Effective_MACs", "Dense"):
        row(f"SynapticOperations.{k}", ours["SynapticOperations"][k],
            theirs["SynapticOperations"][k])
    row("syn_ops counter vs Effective_ACs", native.get("syn_ops_counter_per_sample"),
        theirs["SynapticOperations"]["Effective_ACs"],
        note="spikeport's energy-model counter (spikes x stored nonzero fan-out)")
    result = {
        "what": "spikeport's native NeuroBench-named metrics (emulator run) vs the neurobench "
                "package's own metrics on a torch wrapper replaying the netx run on Lava "
                "(the same spikes, checked equal in interop_netx.json), per sample",
        "network": summary.get("network"), "samples": native["samples"],
        "neurobench": {"version": nb["neurobench_version"], "torch": nb["torch_version"],
                       "batch_size": nb["batch_size"]},
        "all_equal": all(r["equal"] for r in rows.values()), "metrics": rows,
        "spikeport_native": native, "neurobench_results": theirs,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    Path(args.out).write_text(json.dumps(result, indent=2, default=float) + "\n")
    for name, r in rows.items():
        print(f"{name}: spikeport {r['spikeport']}, neurobench {r['neurobench']} "
              f"{'equal' if r['equal'] else 'DIFFERENT'}")
    print(f"wrote {args.out}")
    return 0 if result["all_equal"] else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("inputs")
    p.add_argument("run")
    p.add_argument("out")
    p.set_defaults(func=cmd_inputs)
    p = sub.add_parser("compare")
    p.add_argument("run")
    p.add_argument("net")
    p.add_argument("netx")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--side-env", default="", help="versions of the side environment (text)")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("neurobench")
    p.add_argument("run")
    p.add_argument("nb", help="neurobench_check.py's JSON")
    p.add_argument("-o", "--out", required=True)
    p.set_defaults(func=cmd_neurobench)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
