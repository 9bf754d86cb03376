"""NeuroBench 2.3.0 itself on a netx run, through a torch wrapper that replays the recorded run.

Runs in the Python 3.10 side environment (neurobench, torch, snntorch); imports no spikeport.
usage:

    python neurobench_check.py NET.h5 INPUTS.npz NETX.npz -o NEUROBENCH.json

The wrapper (a ``TorchModel`` around an ``nn.Module``) holds one ``nn.Linear`` per dense layer
of NET.h5, without bias, whose weights are the file's integers (as float32), and after each an
snnTorch ``SpikingNeuron`` subclass that does not compute: it returns the spikes netx produced
on Lava for that layer and step, and exposes that step's Lava membrane potential as ``mem``.
Each step, every Linear is called on the spikes feeding it (the input spikes, then the previous
layer's recorded spikes), so NeuroBench's hooks see exactly what the network carried: its
``SynapticOperations`` binarise those inputs and weights themselves, ``ActivationSparsity``
counts the replayed spikes, ``MembraneUpdates`` compares Lava's v step to step, and the
prediction is the output neuron with the most spikes (first on ties).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("net")
    ap.add_argument("inputs")
    ap.add_argument("netx")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--batch", type=int, default=10)
    args = ap.parse_args(argv)

    import h5py
    import neurobench
    import snntorch as snn
    import torch
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics.static import ConnectionSparsity, Footprint, ParameterCount
    from neurobench.metrics.workload import (
        ActivationSparsity,
        ClassificationAccuracy,
        MembraneUpdates,
        SynapticOperations,
    )
    from neurobench.models import TorchModel
    from torch.utils.data import DataLoader, TensorDataset

    with h5py.File(args.net, "r") as f:
        weights = [f["layer"][str(i)]["weight"][()].astype(np.float32)
                   for i in range(1, len(f["layer"]))]
    inp = np.load(args.inputs)
    rec = np.load(args.netx)
    x_in, labels = inp["input"].astype(np.float32), inp["labels"].astype(np.int64)
    spikes = [rec[f"layer{k}"].astype(np.float32) for k in range(1, len(weights) + 1)]
    volts = [rec[f"v{k}"].astype(np.float32) for k in range(1, len(weights) + 1)]
    n_samples, steps, _ = x_in.shape
    x_in = x_in[:spikes[0].shape[0]]
    labels = labels[:spikes[0].shape[0]]
    n_samples = x_in.shape[0]

    class Replay(snn.SpikingNeuron):
        """Returns the recorded spikes of its layer; ``mem`` = the recorded v."""

        def __init__(self, n):
            super().__init__(init_hidden=False, output=True)
            self.n = n
            self.mem = torch.zeros(1, n)
            self.feed = None

        def forward(self, current):  # the Linear's output is not used: the run is replayed
            spk, v = self.feed
            self.mem = v
            return spk, v

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fcs = torch.nn.ModuleList()
            self.lifs = torch.nn.ModuleList()
            for w in weights:
                fc = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
                fc.weight.data = torch.from_numpy(w)
                self.fcs.append(fc)
                self.lifs.append(Replay(w.shape[0]))

        def forward(self, batch):
            n_in = weights[0].shape[1]
            sizes = [w.shape[0] for w in weights]
            x_all = batch[..., :n_in]
            offs = np.cumsum([n_in] + sizes + sizes)
            b = batch.shape[0]
            for lif in self.lifs:
                lif.mem = torch.zeros(b, lif.n)
            counts = torch.zeros(b, sizes[-1])
            for t in range(batch.shape[1]):
                x = x_all[:, t]
                for k, (fc, lif) in enumerate(zip(self.fcs, self.lifs)):
                    current = fc(x)
                    s = batch[:, t, offs[k]:offs[k + 1]]
                    v = batch[:, t, offs[k + len(sizes)]:offs[k + len(sizes) + 1]]
                    lif.feed = (s, v)
                    x, _ = lif(current)
                counts += x
            return torch.argmax(counts, dim=1)  # first maximum on ties

    data = np.concatenate([x_in] + spikes + volts, axis=2)
    loader = DataLoader(TensorDataset(torch.from_numpy(data), torch.from_numpy(labels)),
                        batch_size=args.batch, shuffle=False)
    model = TorchModel(Net())
    model.add_activation_module(Replay)
    static = [Footprint, ConnectionSparsity, ParameterCount]
    workload = [ClassificationAccuracy, ActivationSparsity, MembraneUpdates, SynapticOperations]
    bench = Benchmark(model, loader, [], [], [static, workload])
    results = bench.run(quiet=True)
    net = model.__net__()
    wrapper_buffers = sum(b.numel() * b.element_size() for b in net.buffers())
    out = {"neurobench_version": getattr(neurobench, "__version__", None) or
           __import__("importlib.metadata").metadata.version("neurobench"),
           "torch_version": torch.__version__, "samples": int(n_samples), "steps": int(steps),
           "batch_size": args.batch, "results": {k: (v if not hasattr(v, "item") else v.item())
                                                 for k, v in results.items()},
           "wrapper": {"linear_weights_float32_bytes": int(sum(w.size for w in weights) * 4),
                       "snntorch_buffers_bytes": int(wrapper_buffers)}}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2, default=float)
    print(json.dumps(out["results"], indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
