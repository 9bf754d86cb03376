"""The convert / run / deploy commands end to end, on a tiny digits network this test writes
(64-20-10, 20 steps per sample, SBP + supervised STDP + homeostasis, as examples/digits_sbp.yaml
but smaller): what each command writes, the summary fields, masked synapses that stay put after
on-chip learning, and the one-line refusals (exit 2).

The Lava runs (marked ``lava``) go through the CLI's subprocess runner with a timeout and take a
few seconds each; never run them under pytest-xdist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikeport.cli import main
from spikeport.flow.fixed import FixedNetwork
from spikeport.io import load_npz
from spikeport.models.artefact import Artefact, load_artefact, save_artefact
from spikeport.models.spec import load_spec
from spikeport.models.weights import initial_weights

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = "180"

TINY = """\
schema: spikeport/1
name: tiny_digits
dt: 1 ms
sample_steps: 20
seed: 5
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
    {hidden_extra}
  - pre: hidden
    post: output
    weights: {kind: uniform, low: 0.0, high: 0.5}
    sign_mode: excitatory
    connectivity: {kind: fan_out, groups: 10, per_neuron: 1}
    w_min: 0.0
    w_max: 2.0
    learning: {rule: supervised_stdp, eta: 0.005, tau_pre: 20 ms}
teacher: {population: output, rate: 200 Hz, kind: regular}
readout: {population: output, n_classes: 10}
between_samples: {mode: reset}
"""
SBP = "learning: {rule: sbp, f_ltp: 0.5, f_ltd: 0.5, rho: 0.5, tau_elig: 20 ms, seed: 3}"


def write_spec(path: Path, hidden_extra: str = SBP) -> Path:
    path.write_text(TINY.replace("{hidden_extra}", hidden_extra))
    return path


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def artefact(tmp_path_factory) -> Path:
    """An artefact of the tiny spec with its seeded initial weights (no training needed)."""
    d = tmp_path_factory.mktemp("tiny")
    net = load_spec(write_spec(d / "tiny.yaml"))
    save_artefact(Artefact(net, initial_weights(net), {}, {"dataset": "digits"}), d / "artefact")
    return d / "artefact"


@pytest.fixture(scope="module")
def converted(artefact, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["convert", str(artefact), "-o", str(out)]) == 0
    return out


# ------------------------------------------------------------------------------------ convert

def test_convert_writes_fixed_network_and_report(artefact, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = cli(capsys, "convert", artefact, "-o", out)
    assert code == 0
    assert (out / "fixed" / "network.json").is_file() and (out / "fixed" / "weights.npz").is_file()
    assert (out / "spec.yaml").is_file()
    report = json.loads((out / "quantization.json").read_text())
    assert set(report["populations"]) == {"hidden", "output"}
    assert set(report["projections"]) == {"pixels->hidden", "hidden->output"}
    assert report["projections"]["pixels->hidden"]["rule"] == "sbp"
    assert report["projections"]["hidden->output"]["rule"] == "supervised_stdp"
    assert all(r["realised"] > 0 for p in report["projections"].values() for r in p["rates"])
    md = (out / "quantization.md").read_text()
    assert md.startswith("# Quantization report: tiny_digits") and "| pixels->hidden |" in md
    assert "fixed-point network:" in stdout
    # the saved network is the artefact's, quantized: same shapes, absent synapses zero
    fixed = FixedNetwork.load(out / "fixed")
    art = load_artefact(artefact)
    for p in fixed.projections:
        assert p.weights.shape == art.weights[p.name].shape
        assert not p.weights[~p.connectivity].any()


@pytest.mark.parametrize("extra, rule", [
    (SBP + "\n    stp: {U: 0.45, tau_f: 10 ms, tau_d: 2 ms}", "stp"),
    # NACA converts; its postsynaptic-trace variant has no Lava mapping yet
    ("learning: {rule: naca, eta: 0.01, post: trace}", "naca"),
])
def test_convert_refuses_stp_and_naca_post_trace_with_one_line(tmp_path, capsys, extra, rule):
    spec = write_spec(tmp_path / f"{rule}.yaml", extra)
    code, stdout, stderr = cli(capsys, "convert", spec, "-o", tmp_path / "out")
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spikeport: error: ")
    assert rule in lines[0].lower() and "pixels->hidden" in lines[0]
    assert "Traceback" not in stderr and not (tmp_path / "out" / "fixed").exists()


def test_convert_refusal_exit_code_from_the_real_command(tmp_path):
    spec = write_spec(tmp_path / "naca.yaml", "learning: {rule: naca, eta: 0.01, post: trace}")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "spikeport.cli", "convert", str(spec), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "naca" in proc.stderr


def test_run_without_fixed_network_exits_2_with_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for extra in ((), ("--learned",)):
        code, _, stderr = cli(capsys, "run", empty, "--samples", "2", *extra)
        assert code == 2
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("spikeport: error: ")
        assert ("no learned fixed-point network" if extra else "fixed/") in lines[0]


# ---------------------------------------------------------------------------------- Lava runs

@pytest.mark.lava
def test_run_infer_summary(converted, capsys):
    code, stdout, _ = cli(capsys, "run", converted, "--infer", "--samples", "4", "--json",
                          "--timeout", TIMEOUT, "--backend", "lava")
    assert code == 0
    s = json.loads(stdout)
    assert s["mode"] == "infer" and s["samples"] == 4
    assert (s["dataset"], s["split"], s["network"]) == ("digits", "test", "tiny_digits")
    assert 0.0 <= s["accuracy"] <= 1.0 and s["steps_per_s"] > 0 and s["wall_time_s"] > 0
    assert set(s["rates_hz"]) == {"hidden", "output"} and s["rates_hz"]["hidden"] > 0
    assert s["ops"]["population:hidden"]["neuron_updates"] == 4 * 20 * 20
    assert s["ops"]["projection:pixels->hidden"]["syn_ops"] > 0
    assert s["fixed_network"].endswith("fixed")
    assert json.loads((converted / "lava_infer.json").read_text())["samples"] == 4
    data = load_npz(converted / "lava_infer.npz")
    assert data["spikes/output"].shape == (4, 20, 10) and data["labels"].shape == (4,)
    assert data["input/pixels"].shape == (4, 20, 64)


@pytest.mark.lava
def test_run_learn_writes_learned_network_and_masked_synapses_stay(converted, capsys):
    code, stdout, _ = cli(capsys, "run", converted, "--learn", "--samples", "6", "--json",
                          "--timeout", TIMEOUT, "--backend", "lava")
    assert code == 0
    s = json.loads(stdout)
    assert s["mode"] == "learn" and s["split"] == "train"
    assert 0.0 <= s["accuracy_while_learning"] <= 1.0
    assert s["ops"]["projection:hidden->output"]["syn_updates"] > 0
    assert (converted / "lava_learned" / "network.json").is_file()
    fixed = FixedNetwork.load(converted / "fixed")
    learned = FixedNetwork.load(converted / "lava_learned")
    raw = load_npz(converted / "lava_learn.npz")
    changed = 0
    for p in fixed.projections:
        assert p.rule is not None and p.learn_mask is not None
        frozen = ~p.learn_mask
        for w in (raw[f"weights/{p.name}"], learned.projection(p.name).weights):
            np.testing.assert_array_equal(w[frozen], p.weights[frozen], err_msg=p.name)
            assert not w[~p.connectivity].any()
        changed += int(np.sum(raw[f"weights/{p.name}"] != p.weights))
    # SBP's mask leaves synapses out of the present hidden ones; and learning did happen
    hid = fixed.projection("pixels->hidden")
    assert (~hid.learn_mask & hid.connectivity).sum() > 0
    assert changed > 0
    # the learned network runs
    code, stdout, _ = cli(capsys, "run", converted, "--learned", "--samples", "2", "--json",
                          "--timeout", TIMEOUT, "--backend", "lava")
    assert code == 0
    assert json.loads(stdout)["fixed_network"].endswith("lava_learned")


@pytest.mark.lava
def test_deploy_tiny_artefact_compares_brian2_and_lava(artefact, tmp_path, capsys):
    out = tmp_path / "deploy"
    code, stdout, _ = cli(capsys, "deploy", artefact, "-o", out, "--samples", "5",
                          "--no-progress", "--timeout", TIMEOUT, "--backend", "lava")
    assert code == 0
    s = json.loads((out / "deploy.json").read_text())
    assert s["samples"] == 5 and s["split"] == "test" and s["dataset"] == "digits"
    assert s["backend"] == "lava" and s["fixed"]["backend"] == "lava"
    for key in ("brian2_accuracy", "fixed_accuracy", "classification_agreement"):
        assert 0.0 <= s[key] <= 1.0, key
    # same input spikes, same network: the hidden layers' spike counts track each other
    assert s["spike_count_correlation"].get("hidden", 0.0) > 0.5
    assert (out / "fixed").is_dir() and (out / "lava_infer.json").is_file()
    md = (out / "deploy.md").read_text()
    assert "Brian2 (float)" in md and "Lava fixed_pt" in md and "Lava fixed_pt" in stdout
