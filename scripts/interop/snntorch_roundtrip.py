"""snnTorch <-> spikeport through NIR, both directions on the same input spikes (issue 20).

Needs torch and snnTorch, which the default environment leaves out (PyPI's torch pulls GBs of
CUDA wheels): ``make interop`` runs this in its own environment. Writes
``benchmarks/results/interop_snntorch.json`` (or ``--out``).

1. spikeport -> snnTorch: a small spec exported with ``export-nir --time-step 1e-4`` (snnTorch's
   importer assumes dt = 1e-4 and r = tau_mem/dt: the per-step decays are kept, only the
   written tau changes), read by ``snntorch.import_nir.import_from_nir``.
2. snnTorch -> spikeport: ``Linear -> Synaptic -> Linear -> Synaptic`` written by
   ``snntorch.export_nir.export_to_nir``, read by ``spikeport import-nir --dt 1e-4``.

Both run the same input spikes. snnTorch delivers a spike within its step, spikeport one step
later per layer (Lava's Dense delay), so spikeport's output at step t + L is compared with
snnTorch's at t, L = the number of synaptic layers; the shift that agrees best is reported
too. Both reset v to 0 at a spike (snnTorch ``reset_mechanism="zero"``), so the trains are
expected to agree spike for spike once shifted.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SPEC = """\
schema: spikeport/1
name: interop_small
dt: 1 ms
sample_steps: 60
seed: 2
inputs:
  - name: pixels
    n: 16
    encoder: {kind: poisson, max_rate: 100 Hz}
populations:
  - name: hidden
    n: 12
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 1.5
  - name: output
    n: 4
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 1.2
projections:
  - pre: pixels
    post: hidden
    weights: {kind: uniform, low: -0.2, high: 0.8}
  - pre: hidden
    post: output
    weights: {kind: uniform, low: -0.2, high: 0.9}
"""


def spikeport(*args) -> None:
    subprocess.run([sys.executable, "-m", "spikeport.cli", *map(str, args)], check=True,
                   stdout=subprocess.DEVNULL)


def run_torch(module, x: np.ndarray) -> np.ndarray:
    """Step a module (init_hidden layers) over time-major input; returns (n, T, out) bool."""
    import torch
    from snntorch import utils

    out = []
    with torch.no_grad():
        utils.reset(module)
        for t in range(x.shape[1]):
            y = module(torch.as_tensor(x[:, t], dtype=torch.float32))
            y = y[0] if isinstance(y, tuple) else y
            out.append(np.asarray(y) > 0)
    return np.stack(out, axis=1)


def agreement(ours: np.ndarray, theirs: np.ndarray, layers: int) -> dict:
    T = ours.shape[1]

    def at(shift):
        return float((ours[:, shift:] == theirs[:, :T - shift]).mean())

    best = max(range(0, layers + 2), key=at)
    return {"expected_shift_steps": layers, "agreement_at_expected_shift": at(layers),
            "exact_at_expected_shift": bool(at(layers) == 1.0), "best_shift_steps": best,
            "agreement_at_best_shift": at(best), "spikeport_spikes": int(ours.sum()),
            "snntorch_spikes": int(theirs.sum())}


def spikeport_to_snntorch(work: Path, x: np.ndarray) -> dict:
    import nir
    from snntorch.import_nir import import_from_nir

    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.artefact import load_source

    (work / "small.yaml").write_text(SPEC)
    spikeport("export-nir", work / "small.yaml", "-o", work / "small.nir", "--time-step", 1e-4)
    module = import_from_nir(nir.read(work / "small.nir"))
    theirs = run_torch(module, x)
    art = load_source(work / "small.yaml")
    ours = simulate(art.net, {"pixels": x}, art.weights, target="numpy").spikes["output"]
    return agreement(ours, theirs, layers=2)


def snntorch_to_spikeport(work: Path, x: np.ndarray) -> dict:
    import nir
    import snntorch as snn
    import torch
    from snntorch.export_nir import export_to_nir

    from spikeport.backends.brian2.sim import simulate
    from spikeport.models.artefact import load_artefact

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(16, 12, bias=False),
        # per-neuron parameters: snnTorch's export writes a scalar's shape as (1,), which
        # NIR's type inference refuses; reset_delay=False: v is reset within the step, as in
        # NIR (and as snnTorch's own importer builds it)
        snn.Synaptic(alpha=torch.full((12,), 0.8), beta=torch.full((12,), 0.9),
                     threshold=torch.ones(12), init_hidden=True, reset_mechanism="zero",
                     reset_delay=False),
        torch.nn.Linear(12, 4, bias=False),
        snn.Synaptic(alpha=torch.full((4,), 0.7), beta=torch.full((4,), 0.85),
                     threshold=torch.ones(4), init_hidden=True, output=True,
                     reset_mechanism="zero", reset_delay=False))
    theirs = run_torch(net, x)
    graph = export_to_nir(net, torch.zeros(1, 16), ignore_dims=[0])
    nir.write(work / "snntorch.nir", graph)
    spikeport("import-nir", work / "snntorch.nir", "-o", work / "imported", "--dt", 1e-4,
              "--sample-steps", x.shape[1])
    art = load_artefact(work / "imported")
    report = json.loads((work / "imported" / "nir_import.json").read_text())
    out_pop, = report["probe"]["outputs"]         # the population feeding the Output node
    inp = art.net.inputs[0].name
    ours = simulate(art.net, {inp: x}, art.weights, target="numpy").spikes[out_pop]
    res = agreement(ours, theirs, layers=2)
    res.update({"convention": report.get("convention"),
                "probe_warnings": report.get("probe", {}).get("warnings"),
                "gains": {k: v["gain"] for k, v in report["populations"].items()}})
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"
                                         / "interop_snntorch.json"))
    args = ap.parse_args(argv)
    import nir
    import snntorch
    import torch

    x = np.random.default_rng(1).random((4, 60, 16)) < 0.2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result = {"command": "python scripts/interop/snntorch_roundtrip.py",
                  "versions": {"python": platform.python_version(), "torch": torch.__version__,
                               "snntorch": snntorch.__version__, "nir": nir.__version__},
                  "input": "4 samples x 60 steps x 16 inputs, Bernoulli(0.2) per step, seed 1",
                  "spikeport_to_snntorch": spikeport_to_snntorch(work, x),
                  "snntorch_to_spikeport": snntorch_to_spikeport(work, x)}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
