"""CLI: one-line errors with exit code 2, help for every command, the simulate summary."""

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

from spikeport.cli import build_parser, main
from spikeport.models import load_spec


def run_cli(*args):
    """The console entry point in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "spikeport.cli", *args], capture_output=True,
                          text=True, timeout=300)


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_for_every_command(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name in commands:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        assert "usage: spikeport " + name in capsys.readouterr().out


def test_malformed_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: spikeport/1\nname: x\ninputs: [\n")
    assert_one_line_error(run_cli("simulate", str(bad)), "bad.yaml", "malformed YAML")


def test_negative_tau(tmp_path, examples_dir):
    text = (examples_dir / "digits_sbp.yaml").read_text().replace("tau_u: 5 ms", "tau_u: -5 ms", 1)
    bad = tmp_path / "neg.yaml"
    bad.write_text(text)
    assert_one_line_error(run_cli("simulate", str(bad)), "neg.yaml", "population 'hidden'",
                          "tau_u = -0.005", "> 0")


def test_mismatched_weight_shape(tmp_path, examples_dir):
    np.savez(tmp_path / "w.npz", w=np.zeros((10, 100)))
    text = (examples_dir / "digits_sbp.yaml").read_text().replace(
        "weights: {kind: uniform, low: 0.0, high: 0.5}", "weights: {kind: file, path: w.npz, key: w}")
    spec = tmp_path / "shape.yaml"
    spec.write_text(text)
    assert_one_line_error(run_cli("simulate", str(spec)), "projection 'hidden->output'",
                          "weights shape (10, 100)", "(n_pre=100, n_post=10)")


def test_truncated_idx(tmp_path, shared_data, examples_dir):
    src = shared_data / "mnist"
    images = gzip.open(src / "mnist8k-images-idx3-ubyte.gz").read()
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(images[:5000])
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(
        (src / "mnist8k-labels-idx1-ubyte.gz").read_bytes())
    proc = run_cli("simulate", str(examples_dir / "mnist_sbp.yaml"), "--data-dir", str(tmp_path))
    assert_one_line_error(proc, "t10k-images-idx3-ubyte.gz", "truncated")


def test_simulate_summary_and_outputs(tmp_path, examples_dir):
    out = tmp_path / "run"
    proc = run_cli("simulate", str(examples_dir / "digits_sbp.yaml"), "--samples", "5", "-o",
                   str(out), "--json", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["samples"] == 5 and summary["dataset"] == "digits"
    assert set(summary["populations"]) == {"pixels", "hidden", "output"}
    written = json.loads((out / "simulate.json").read_text())
    assert written["populations"] == summary["populations"]
    T = load_spec(examples_dir / "digits_sbp.yaml").sample_steps
    with np.load(out / "spikes.npz", allow_pickle=False) as z:
        assert z["input/pixels"].shape == (5, T, 64)
        assert z["spikes/hidden"].shape == (5, T, 100)
        # the summary's spike count is the stored spikes' count
        per_sample = z["spikes/hidden"].sum() / 5
    assert summary["populations"]["hidden"]["spikes_per_sample"] == pytest.approx(per_sample)


def test_failed_run_keeps_earlier_artefacts(tmp_path, examples_dir):
    out = tmp_path / "run"
    ok = run_cli("simulate", str(examples_dir / "digits_sbp.yaml"), "--samples", "2", "-o",
                 str(out), "--no-progress")
    assert ok.returncode == 0, ok.stderr
    before = (out / "simulate.json").read_bytes()
    bad = run_cli("simulate", str(examples_dir / "digits_sbp.yaml"), "--samples", "2", "-o",
                  str(out), "--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere"))
    assert bad.returncode == 2
    assert (out / "simulate.json").read_bytes() == before


def test_own_spike_file(tmp_path, examples_dir):
    from spikeport.data.spikefile import save_spikes
    # every pixel channel spikes at every step of one sample, none in the other
    T = load_spec(examples_dir / "digits_sbp.yaml").sample_steps
    spikes = np.zeros((2, T, 64), bool)
    spikes[0] = True
    save_spikes(tmp_path / "mine.npz", spikes, labels=np.array([3, 4]))
    out = tmp_path / "run"
    proc = run_cli("simulate", str(examples_dir / "digits_sbp.yaml"), "--spikes",
                   str(tmp_path / "mine.npz"), "-o", str(out), "--json", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    # 64 channels x T steps in sample 0, nothing in sample 1: 64·T/2 input spikes per sample
    assert summary["populations"]["pixels"]["spikes_per_sample"] == 64 * T / 2
    with np.load(out / "spikes.npz", allow_pickle=False) as z:
        assert (z["input/pixels"] == spikes).all()
        assert not z["spikes/hidden"][1].any()    # silent input, no bias: silent network


def test_spike_file_shape_error(tmp_path, examples_dir):
    from spikeport.data.spikefile import save_spikes
    T = load_spec(examples_dir / "digits_sbp.yaml").sample_steps
    save_spikes(tmp_path / "wrong.npz", np.zeros((2, T, 10), bool))
    proc = run_cli("simulate", str(examples_dir / "digits_sbp.yaml"), "--spikes",
                   str(tmp_path / "wrong.npz"))
    assert_one_line_error(proc, "wrong.npz", f"(2, {T}, 10)", "n=64")


def test_map_refuses_sbp_on_loihi1_and_maps_on_loihi2(examples_dir):
    spec = str(examples_dir / "digits_sbp.yaml")
    proc = run_cli("map", spec, "--profile", "loihi1")
    assert_one_line_error(proc, "graded per-neuron third factor", "loihi1")
    ok = run_cli("map", spec, "--profile", "loihi1", "--infer-only")
    assert ok.returncode == 0, ok.stderr
    ok2 = run_cli("map", spec, "--profile", "loihi2")
    assert ok2.returncode == 0, ok2.stderr
    assert "SBPRelay" in ok2.stdout
