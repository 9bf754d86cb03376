"""Run a netx HDF5 file on Lava's CPU simulator (fixed_pt), sample by sample.

Runs in the Python 3.10 side environment (lava-dl 0.6.0, stock lava-nc 0.10.0); imports no
spikeport. usage:

    python netx_lava.py NET.h5 INPUTS.npz -o SPIKES.npz [--samples N]

INPUTS.npz holds ``input`` (n_samples, steps, n_in) spikes (bool). SPIKES.npz gets each
layer's spikes ``layer{k}`` and membrane potential ``v{k}`` (n_samples, steps, n).

Every sample starts from a clean state, as spikeport's samples do: after each sample's
``steps`` the script zeroes every layer's u and v and each Dense layer's buffer (the input
computed on the last step, which would arrive one step later). netx's own ``reset_interval``
is not used: it resets layer k k steps late, following the pipeline, while spikeport resets
every layer at the sample boundary.

Alignment: Lava's RingBuffer sends column t-1 at time step t, and the sink stores what it
receives at time step t in column t-1, so column i of every array is sample step i. An input
spike at step i reaches layer k's neurons at step i + k (one step per Dense), as in spikeport.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("net")
    ap.add_argument("inputs")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--samples", type=int, default=None)
    args = ap.parse_args(argv)

    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.monitor.process import Monitor

    spk_in = np.load(args.inputs)["input"].astype(bool)
    if args.samples is not None:
        spk_in = spk_in[: args.samples]
    n_samples, steps, n_in = spk_in.shape
    total = n_samples * steps

    net = netx.hdf5.Network(net_config=args.net)
    print(net, flush=True)
    # samples one after another on the time axis; the state is cleared between them below
    src = Source(data=spk_in.reshape(total, n_in).T.astype(np.int32))
    src.s_out.connect(net.inp)
    sinks = []
    for layer in net.layers:
        sink = Sink(shape=layer.out.shape, buffer=total)
        layer.out.connect(sink.a_in)
        sinks.append(sink)
    monitors = []  # each layer's v (read after the reset, as Lava's Monitor reads Vars)
    for layer in net.layers:
        mon = Monitor()
        mon.probe(layer.neuron.v, total)
        monitors.append(mon)
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    t0 = time.perf_counter()
    try:
        for k in range(n_samples):
            net.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
            for layer in net.layers:
                n = layer.neuron
                for var in (n.u, n.v, layer.synapse.a_buff):
                    var.set(var.get() * 0)
            if (k + 1) % 10 == 0 or k + 1 == n_samples:
                print(f"netx on Lava: {k + 1}/{n_samples} samples "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
        data = [s.data.get() for s in sinks]
        volts = [m.get_data()[layer.neuron.name]["v"] for m, layer in zip(monitors, net.layers)]
    finally:
        net.stop()
    wall = time.perf_counter() - t0
    out = {}
    for i, d in enumerate(data):
        out[f"layer{i + 1}"] = (d.T.reshape(n_samples, steps, -1) != 0)
        out[f"v{i + 1}"] = np.asarray(volts[i]).reshape(n_samples, steps, -1).astype(np.int64)
    meta = {"samples": n_samples, "steps": steps, "wall_s": wall,
            "layers": [[int(x) for x in layer.out.shape] for layer in net.layers],
            "netx_table": str(net)}
    out["meta_json"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out}: {n_samples} samples x {steps} steps in {wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
