"""Golden output formats: what the CLI writes and prints for a tiny seeded network.

One module-scoped workspace runs the commands once, in process, through the installed
``spikeport`` entry point (a few seconds each; the first emulator run after a fresh checkout
also compiles the numba kernels, cached after that):

    train (Brian2, numpy target) -> evaluate --json -> convert -> run --backend emulator
    (--infer, --learn) -> energy -> export-nir / import-nir -> deploy (Lava) ; and on the
    spec: simulate, compare (emulator), train --backend emulator, a 2-job sweep +
    sweep-report, sweep --dry-run of examples/sweep_digits.yaml, continual (digits_naca).

Each test compares one folder's golden form (golden_support.describe_folder: file names, JSON
field names/types/deterministic values, array dtypes/shapes/integer sums, Markdown headings,
spec text) or one ``--json`` stdout with data/outputs/<name>.json. Values that vary across
machines or library versions are listed in golden_support.VOLATILE (all reports) and in
NOT_LOCKED below (Brian2 float results) — their field names and types stay locked."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from golden_support import (
    check_json,
    describe_folder,
    describe_h5,
    skeleton,
    spikeport_main,
    substitutions,
)

ROOT = Path(__file__).resolve().parents[2]

# A 64-20-10 digits network with every kind of rule the converter lowers (SBP, supervised
# STDP, homeostasis): 20 steps per sample keeps each run to about a second.
TINY = """\
schema: spikeport/1
name: tiny_golden
dt: 1 ms
sample_steps: 20
seed: 7
inputs:
  - name: pixels
    n: 64
    encoder: {kind: poisson, max_rate: 200 Hz}
populations:
  - name: hidden
    n: 20
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 4
    homeostasis: {target_rate: 50 Hz, eta: 0.05, theta_min: 1.0, theta_max: 20.0}
  - name: output
    n: 10
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 2
projections:
  - pre: pixels
    post: hidden
    weights: {kind: uniform, low: -0.3, high: 0.6}
    w_min: -1.0
    w_max: 1.0
    learning: {rule: sbp, f_ltp: 0.5, f_ltd: 0.5, rho: 0.5, tau_elig: 20 ms, seed: 3}
  - pre: hidden
    post: output
    weights: {kind: uniform, low: 0.0, high: 0.5}
    sign_mode: excitatory
    connectivity: {kind: fan_out, groups: 10, per_neuron: 2}
    w_min: 0.0
    w_max: 2.0
    learning: {rule: supervised_stdp, eta: 0.005, tau_pre: 20 ms}
teacher: {population: output, rate: 200 Hz, kind: regular}
readout: {population: output, n_classes: 10}
between_samples: {mode: reset}
"""

SWEEP = """\
schema: spikeport-sweep/1
name: golden
base: tiny.yaml
backend: emulator
dataset: digits
epochs: 1
train_samples: 6
eval_samples: 4
seeds: [1]
parameters:
  f: [projections.pixels->hidden.learning.f_ltp, projections.pixels->hidden.learning.f_ltd]
grid:
  f: [0.0, 0.5]
"""

# Values not locked beyond name and type, because they come out of Brian2's float
# simulation (or are computed from its results) and may change with the Brian2/numpy
# version (see README.md).
NOT_LOCKED: tuple[str, ...] = ()


class Workspace:
    def __init__(self, root: Path, main):
        self.root, self.main = root, main
        self.stdout: dict[str, str] = {}
        self.codes: dict[str, int] = {}
        self.snapshots: dict[str, dict] = {}
        self.seconds: dict[str, float] = {}

    def __call__(self, key: str, *argv) -> None:
        buf, t0 = io.StringIO(), time.perf_counter()
        with contextlib.redirect_stdout(buf):
            self.codes[key] = self.main([str(a) for a in argv])
        self.stdout[key] = buf.getvalue()
        self.seconds[key] = time.perf_counter() - t0  # printed at teardown (pytest -s)

    def form(self, sub: str, **kw) -> dict:
        return describe_folder(self.root / sub, self.root, NOT_LOCKED, **kw)

    def json_stdout(self, key: str):
        assert self.codes[key] == 0, key
        return skeleton(json.loads(self.stdout[key]), "", NOT_LOCKED,
                        substitutions(self.root))


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("golden")
    (root / "tiny.yaml").write_text(TINY)
    (root / "sweep.yaml").write_text(SWEEP)
    w = Workspace(root, spikeport_main())
    spec, art, run = root / "tiny.yaml", root / "art", root / "run"
    w("train", "train", spec, "-o", art, "--epochs", "1", "--train-samples", "10",
      "--eval-samples", "5", "--dataset", "digits", "--target", "numpy", "--no-progress")
    w("evaluate", "evaluate", art, "--samples", "5", "--target", "numpy", "--json",
      "--no-progress")
    w("convert", "convert", art, "-o", run)
    w.snapshots["convert"] = w.form("run")
    w("run_infer", "run", run, "--backend", "emulator", "--samples", "5", "--json",
      "--no-progress")
    w("run_learn", "run", run, "--backend", "emulator", "--learn", "--samples", "5", "--json",
      "--no-progress")
    w("energy", "energy", run, "--backend", "emulator", "--json")
    w("export_nir", "export-nir", art, "-o", root / "nir" / "net.nir", "--json")
    w("export_nir_zoo", "export-nir", "digits_sbp", "-o", root / "nirzoo" / "digits.nir",
      "--json")
    w("import_nir", "import-nir", root / "nir" / "net.nir", "-o", root / "imported",
      "--rules", root / "nir" / "net.spikeport.yaml", "--json")
    w("simulate", "simulate", spec, "--samples", "3", "-o", root / "sim", "--json",
      "--target", "numpy", "--no-progress")
    w("train_fixed", "train", spec, "--backend", "emulator", "-o", root / "fxtrain",
      "--epochs", "1", "--train-samples", "6", "--eval-samples", "4", "--dataset", "digits",
      "--no-progress")
    w("compare", "compare", spec, "-o", root / "cmp", "--backend", "emulator", "--samples", "3",
      "--learn-samples", "3", "--checkpoints", "2", "--target", "numpy", "--no-progress",
      "--fail-under", "accuracy=0", "--fail-over", "van_rossum=1000")
    w("continual", "continual", "digits_naca", "-o", root / "cil", "--tasks", "5",
      "--methods", "snn,mlp_sgd,mlp_ewc,ncm", "--train-per-class", "1", "--val-per-class",
      "1", "--test-per-class", "1", "--ewc-lambda", "10", "--target", "numpy",
      "--no-progress")
    w("sweep", "sweep", root / "sweep.yaml", "-o", root / "sweep", "--workers", "1", "--json",
      "--no-progress")
    w("sweep_report", "sweep-report", root / "sweep", "--json")
    w("sweep_plan", "sweep", ROOT / "examples" / "sweep_digits.yaml", "-o",
      root / "sweep_plan", "--dry-run", "--json", "--no-progress")
    yield w
    print("\ngolden workspace, seconds per command: "
          + ", ".join(f"{k} {v:.1f}" for k, v in w.seconds.items()))


def test_trained_artefact(ws):
    assert ws.codes["train"] == 0
    check_json("outputs/artefact.json", ws.form("art"))


def test_evaluate_json(ws):
    check_json("outputs/evaluate_stdout.json", ws.json_stdout("evaluate"))


def test_converted_run_folder(ws):
    assert ws.codes["convert"] == 0
    check_json("outputs/convert.json", ws.snapshots["convert"])


def test_emulator_runs_and_energy(ws):
    """run --infer / --learn (emulator_*.json/.npz, fixed_learned/) and energy.* in the same
    run folder; the --json stdout of each command too."""
    for key in ("run_infer", "run_learn", "energy"):
        assert ws.codes[key] == 0, key
    check_json("outputs/run_folder.json", ws.form("run"))
    check_json("outputs/stdout_run_energy.json",
               {k: ws.json_stdout(k) for k in ("run_infer", "run_learn", "energy")})


def test_nir_export(ws):
    forms = {}
    for key, sub, name in (("export_nir", "nir", "net"), ("export_nir_zoo", "nirzoo", "digits")):
        assert ws.codes[key] == 0, key
        forms[key] = {"folder": ws.form(sub), "nir": describe_h5(ws.root / sub / f"{name}.nir"),
                      "stdout": ws.json_stdout(key)}
    check_json("outputs/nir_export.json", forms)


def test_nir_import(ws):
    check_json("outputs/nir_import.json", {"folder": ws.form("imported"),
                                           "stdout": ws.json_stdout("import_nir")})


def test_simulate(ws):
    check_json("outputs/simulate.json", {"folder": ws.form("sim"),
                                         "stdout": ws.json_stdout("simulate")})


def test_fixed_point_training(ws):
    assert ws.codes["train_fixed"] == 0
    check_json("outputs/train_emulator.json", ws.form("fxtrain"))


def test_compare(ws):
    assert ws.codes["compare"] == 0
    check_json("outputs/compare.json", ws.form("cmp"))


def test_continual(ws):
    assert ws.codes["continual"] == 0
    check_json("outputs/continual.json", ws.form("cil"))


def test_sweep_and_report(ws):
    check_json("outputs/sweep.json", {"folder": ws.form("sweep"),
                                      "stdout": ws.json_stdout("sweep"),
                                      "report_stdout": ws.json_stdout("sweep_report"),
                                      "plan_of_example": ws.json_stdout("sweep_plan")})


@pytest.mark.lava
def test_deploy_on_lava(ws):
    """deploy of the trained artefact (no training): Lava inference in a subprocess, the
    Brian2 reference on the same spikes, deploy.json/.md, lava_infer.*, energy.*."""
    out = ws.root / "deploy"
    ws("deploy", "deploy", ws.root / "art", "-o", out, "--samples", "3", "--timeout", "300",
       "--no-progress")
    assert ws.codes["deploy"] == 0
    check_json("outputs/deploy.json", ws.form("deploy"))

