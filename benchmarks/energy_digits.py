"""Energy of the digits network on the chip profiles, from op counts measured in Lava runs.

Takes a deployed digits run directory (default: the one ``benchmarks/lava_vs_brian2.py`` wrote
for seed 1; it holds ``lava_infer.json`` over the 360 test digits), runs ``--learn-samples``
samples of on-chip learning on Lava in it (``spikeport run OUT --learn``), and prices both
phases with ``spikeport energy`` (Loihi 1 and Loihi 2 profiles), with the learning phase per
epoch and to threshold from the artefact's training curve and the backprop baselines. Writes
``benchmarks/results/energy_digits.json``, ``.md`` and ``.png``.

    .venv/bin/python benchmarks/energy_digits.py
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikeport.hw_profiles.energy_report import format_energy, plot_energy  # noqa: E402
from spikeport.io import atomic_write_bytes, atomic_write_json, atomic_write_text  # noqa: E402
from spikeport.workflows.deploy import run_on_lava  # noqa: E402
from spikeport.workflows.energy import energy_report  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run-dir", default=str(ROOT / "benchmarks" / "runs" / "lava_vs_brian2" /
                                            "seed1"))
    ap.add_argument("--learn-samples", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "energy_digits"))
    args = ap.parse_args(argv)
    run_dir = Path(args.run_dir)
    learn = run_on_lava(run_dir, learn=True, samples=args.learn_samples)
    print(f"on-chip learning: {learn['samples']} samples, {learn['steps_per_s']:.0f} steps/s")
    report = energy_report(run_dir, profiles=("loihi1", "loihi2"))
    report["command"] = "python benchmarks/energy_digits.py " + " ".join(argv or sys.argv[1:])
    report["machine"] = {"node": platform.node(), "machine": platform.machine()}
    atomic_write_json(Path(args.out + ".json"), report)
    text = format_energy(report)
    atomic_write_text(Path(args.out + ".md"), text + "\n")
    atomic_write_bytes(Path(args.out + ".png"), plot_energy(report))
    print(text)


if __name__ == "__main__":
    main()
