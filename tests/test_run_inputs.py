"""Issue 20 items 6, 7 (result folders per backend) and 8, on the emulator.

6: ``--split all`` scores a whole file, and every printed accuracy names how many samples, of
   which split, and their sample-id range (a single IDX pair's default split is its last 2/8).
7: ``run --learn`` on two backends writes two folders; a run folder from before (one
   ``fixed_learned/``) is still read.
8: ``run``, ``compare`` and ``deploy`` take ``--spikes FILE.npz`` (what ``simulate`` takes).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_deploy_cli import write_spec

from spikeport.cli import main
from spikeport.data.registry import load_dataset
from spikeport.data.spikefile import save_spikes
from spikeport.io import load_npz
from spikeport.models.artefact import Artefact, save_artefact
from spikeport.models.inputs import load_batch
from spikeport.models.spec import load_spec
from spikeport.models.weights import initial_weights


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("seams")
    net = load_spec(write_spec(d / "tiny.yaml"))
    save_artefact(Artefact(net, initial_weights(net), {}, {"dataset": "digits"}), d / "art")
    assert main(["convert", str(d / "art"), "-o", str(d / "run")]) == 0
    return d / "run"


def test_run_split_all_scores_the_whole_set_and_says_which(converted, capsys):
    n_all = len(load_dataset("digits", "all").y)
    code, out, _ = cli(capsys, "run", converted, "--split", "all", "--samples", "all",
                       "--no-progress")
    assert code == 0
    assert f"all {n_all} samples of digits, all split (sample ids 0-{n_all - 1})" in out
    s = json.loads((converted / "emulator_infer.json").read_text())
    assert (s["samples"], s["split"], s["split_size"]) == (n_all, "all", n_all)
    assert s["sample_ids"] == [0, n_all - 1] and 0.0 <= s["abstained"] <= 1.0
    # the default: 100 of the test split, with the ids the loader gives them
    test = load_dataset("digits", "test")
    code, out, _ = cli(capsys, "run", converted, "--no-progress")
    lo, hi = int(test.index[:100].min()), int(test.index[:100].max())
    assert f"100 of the {len(test.y)} samples of digits, test split (sample ids {lo}-{hi})" in out
    assert "accuracy: " in out and "on 100 samples (abstained: " in out


def _write_idx(folder: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir()
    img = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    lab = rng.integers(0, 10, n, dtype=np.uint8)
    with gzip.open(folder / "tiny-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(np.array([2051, n, 28, 28], ">u4").tobytes() + img.tobytes())
    with gzip.open(folder / "tiny-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(np.array([2049, n], ">u4").tobytes() + lab.tobytes())


def test_evaluate_single_idx_pair_whole_file(tmp_path, capsys):
    """Before: --split all was refused and the default scored the last 2/8 saying only
    'on 20 samples'."""
    spec = tmp_path / "m.yaml"
    spec.write_text(write_spec(tmp_path / "t.yaml").read_text()
                    .replace("n: 64", "n: 784").replace("name: tiny_digits", "name: tiny_m"))
    net = load_spec(spec)
    save_artefact(Artefact(net, initial_weights(net), {}, {"dataset": "mnist"}), tmp_path / "a")
    _write_idx(tmp_path / "idx", 80)
    args = ("evaluate", tmp_path / "a", "--data-dir", tmp_path / "idx", "--target", "numpy",
            "--no-progress")
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "on all 20 samples of mnist, test split (sample ids 60-79)" in out
    code, out, _ = cli(capsys, *args, "--split", "all", "--json")
    res = json.loads(out)
    assert (res["samples"], res["split"], res["sample_ids"]) == (80, "all", [0, 79])
    assert res["classes"] == [str(i) for i in range(10)]


def test_learned_networks_of_two_backends_never_share_a_folder(converted, capsys):
    code, out, _ = cli(capsys, "run", converted, "--learn", "--samples", "3", "--no-progress")
    assert code == 0 and (converted / "emulator_learned" / "network.json").is_file()
    assert not (converted / "fixed_learned").exists()
    # stand-in for a Lava run's folder (Lava itself: test_deploy_cli's lava tests)
    shutil.copytree(converted / "fixed", converted / "lava_learned")
    code, out, _ = cli(capsys, "run", converted, "--learned", "--samples", "2", "--json",
                       "--no-progress")
    assert json.loads(out)["fixed_network"].endswith("emulator_learned")
    code, out, _ = cli(capsys, "run", converted, "--learned", "lava", "--samples", "2",
                       "--json", "--no-progress")
    assert json.loads(out)["fixed_network"].endswith("lava_learned")
    # an old run folder: only fixed_learned/ -> still what --learned runs
    old = converted.parent / "old"
    shutil.copytree(converted / "fixed", old / "fixed")
    shutil.copytree(converted / "emulator_learned", old / "fixed_learned")
    shutil.copy(converted / "spec.yaml", old / "spec.yaml")
    code, out, _ = cli(capsys, "run", old, "--learned", "--samples", "2", "--json",
                       "--no-progress")
    assert code == 0 and json.loads(out)["fixed_network"].endswith("fixed_learned")
    shutil.rmtree(converted / "lava_learned")


def _spike_file(converted: Path, path: Path, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    net = load_spec(converted / "spec.yaml")
    b = load_batch(net, "digits", None, "val", n)
    spikes = b.inputs["pixels"]
    labels = (b.labels + 1) % 10        # not the dataset's: proves the file's are used
    save_spikes(path, spikes, labels=labels)
    return spikes, labels


def test_run_takes_a_spike_file(converted, tmp_path, capsys):
    spikes, labels = _spike_file(converted, tmp_path / "in.npz")
    code, out, _ = cli(capsys, "run", converted, "--spikes", tmp_path / "in.npz",
                       "--no-progress")
    assert code == 0 and f"4 samples of {tmp_path / 'in.npz'} (sample ids 0-3)" in out
    data = load_npz(converted / "emulator_infer.npz")
    np.testing.assert_array_equal(data["input/pixels"], spikes)
    np.testing.assert_array_equal(data["labels"], labels)


def test_deploy_and_compare_take_a_spike_file(converted, tmp_path, capsys):
    spikes, labels = _spike_file(converted, tmp_path / "in.npz", n=3)
    art = converted.parent / "art"
    code, _, _ = cli(capsys, "deploy", art, "-o", tmp_path / "dep", "--spikes",
                     tmp_path / "in.npz", "--no-progress")
    assert code == 0
    s = json.loads((tmp_path / "dep" / "deploy.json").read_text())
    # reports name files relative to their folder (no absolute paths, issue 23)
    assert (s["samples"], s["split"], s["dataset"]) == (3, "file", "../in.npz")
    np.testing.assert_array_equal(load_npz(tmp_path / "dep" / "emulator_infer.npz")
                                  ["input/pixels"], spikes)
    code, _, _ = cli(capsys, "compare", art, "-o", tmp_path / "cmp", "--spikes",
                     tmp_path / "in.npz", "--no-learn", "--no-progress", "--target", "numpy")
    assert code == 0
    r = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert r["samples_from"]["infer"] == {"samples": 3, "dataset": "../in.npz",
                                          "split": "file", "split_size": 3,
                                          "sample_ids": [0, 2]}
