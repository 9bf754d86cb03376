"""Brian2-trained digits networks converted to Lava fixed point: inference accuracy on Lava vs
the Brian2 reference, on the same test samples and the same input spikes.

For each seed, the script trains ``examples/digits_sbp.yaml`` in Brian2 (or reuses the artefact
``benchmarks/accuracy.py`` left in ``benchmarks/runs/digits/sbp_seed<s>/artefact``), then runs
``spikeport deploy`` on it over the whole digits test split (360 samples): Lava inference and
the Brian2 reference on identical spikes. Writes ``benchmarks/results/lava_vs_brian2.json``.

    .venv/bin/python benchmarks/lava_vs_brian2.py --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.io import atomic_write_json  # noqa: E402
from spikeport.models import zoo  # noqa: E402
from spikeport.models.artefact import is_artefact  # noqa: E402
from spikeport.models.spec import save_spec  # noqa: E402
from spikeport.training.brian2 import train  # noqa: E402
from spikeport.workflows.deploy import deploy  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--samples", type=int, default=360)
    ap.add_argument("--workdir", default=str(ROOT / "benchmarks" / "runs"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lava_vs_brian2.json"))
    args = ap.parse_args(argv)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        art = Path(args.workdir) / "digits" / f"sbp_seed{seed}" / "artefact"
        if not is_artefact(art):
            spec = art.parent / "spec.yaml"
            spec.parent.mkdir(parents=True, exist_ok=True)
            save_spec(replace(zoo.load("digits_sbp"), seed=seed), spec)
            train(spec, art, epochs=args.epochs, progress=False)
        out = Path(args.workdir) / "lava_vs_brian2" / f"seed{seed}"
        s = deploy(art, out, samples=args.samples, progress=False)
        row = {"seed": seed, "samples": s["samples"], "brian2_accuracy": s["brian2_accuracy"],
               "lava_accuracy": s["lava_accuracy"],
               "difference_points": 100 * (s["lava_accuracy"] - s["brian2_accuracy"]),
               "classification_agreement": s["classification_agreement"],
               "spike_count_correlation": s["spike_count_correlation"],
               "lava_steps_per_s": s["lava"]["steps_per_s"]}
        print(f"seed {seed}: Brian2 {100 * row['brian2_accuracy']:.1f}%, Lava "
              f"{100 * row['lava_accuracy']:.1f}% ({row['difference_points']:+.1f} points), "
              f"agreement {100 * row['classification_agreement']:.1f}%", flush=True)
        rows.append(row)
    result = {"command": "python benchmarks/lava_vs_brian2.py " + " ".join(argv or sys.argv[1:]),
              "machine": {"node": platform.node(), "machine": platform.machine(),
                          "python": platform.python_version()},
              "network": "examples/digits_sbp.yaml trained in Brian2 (best-validation epoch is "
                         "not selected: the artefact holds the last epoch)",
              "split": "digits test split (360 samples)", "runs": rows,
              "mean_difference_points": float(np.mean([r["difference_points"] for r in rows])),
              "max_abs_difference_points": float(max(abs(r["difference_points"])
                                                     for r in rows))}
    atomic_write_json(Path(args.out), result)
    print(f"mean difference {result['mean_difference_points']:+.2f} points, max |difference| "
          f"{result['max_abs_difference_points']:.2f}")


if __name__ == "__main__":
    main()
