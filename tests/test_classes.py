"""Issue 20 item 3: class indices belong to the trained network, not to the file being read.

An "oracle" network (input position 3, the centre letter, wired to the output neuron of its
phoneme's class) scores every window of a NETtalk-format file right when labels are indexed
by the network's class list. A file missing a phoneme used to be re-indexed by its own sorted
symbols, shifting every label after the missing one.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from spikeport.cli import main
from spikeport.data.base import class_names, map_classes
from spikeport.data.registry import dataset_classes, load_dataset
from spikeport.errors import DataError
from spikeport.models.artefact import Artefact, load_artefact, save_artefact, training_classes
from spikeport.models.spec import load_spec

PHONEMES = "ABCDEF"           # letter a..f is pronounced A..F: class k = letter k
SPEC = """\
schema: spikeport/1
name: oracle
dt: 1 ms
sample_steps: 30
seed: 1
inputs:
  - name: letters
    n: 189
    encoder: {kind: regular, max_rate: 200 Hz}
populations:
  - name: output
    n: 6
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 1
projections:
  - pre: letters
    post: output
    weights: {kind: constant, value: 0.0}
readout: {population: output, n_classes: 6}
"""


def _words(seed=0, n=60):
    rng = random.Random(seed)
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice("abcdef") for _ in range(rng.randint(2, 5))))
    return sorted(words)


def _write(path, words):
    path.write_text("".join(f"{w}\t{w.upper()}\t{'0' * len(w)}\t0\n" for w in words))
    return path


@pytest.fixture
def oracle(tmp_path):
    (tmp_path / "oracle.yaml").write_text(SPEC)
    net = load_spec(tmp_path / "oracle.yaml")
    w = np.zeros((189, 6))
    for k in range(6):
        w[27 * 3 + k, k] = 2.0          # centre position (3), symbol k -> class k
    save_artefact(Artefact(net, {"letters->output": w}, classes=list(PHONEMES)),
                  tmp_path / "art")
    return tmp_path / "art"


def test_map_classes_reindexes_through_the_networks_list(tmp_path):
    words = [w for w in _words() if "a" not in w]
    ds = load_dataset("nettalk", "all", data_dir=_write(tmp_path / "noa.data", words))
    assert class_names(ds) == list("BCDEF")        # the file's own list lacks A
    mapped = map_classes(ds, list(PHONEMES), "the oracle")
    # expected: each window's centre letter, as its index in a..f
    centre = np.concatenate([[ord(c) - 97 for c in w] for w in words])
    assert (ds.y == centre - 1).all()              # the file's own indices: shifted by one
    assert (mapped.y == centre).all() and mapped.n_classes == 6
    assert class_names(mapped) == list(PHONEMES)


def test_unknown_label_is_a_one_line_error(tmp_path):
    path = _write(tmp_path / "g.data", ["bad", "dab"])
    path.write_text(path.read_text() + "cab\tCGB\t000\t0\n")
    ds = load_dataset("nettalk", "all", data_dir=path)
    with pytest.raises(DataError) as exc:
        map_classes(ds, list(PHONEMES), "artefact X")
    msg = str(exc.value)
    assert "\n" not in msg and "g.data" in msg and "'G'" in msg and "word 'cab'" in msg
    assert "6 classes of artefact X: A B C D E F" in msg


def test_artefact_stores_its_classes(tmp_path, oracle):
    assert load_artefact(oracle).classes == list(PHONEMES)
    assert json.loads((oracle / "classes.json").read_text())["classes"] == list(PHONEMES)
    # an artefact trained without a list gets the one of the file its metrics name
    path = _write(tmp_path / "full.data", _words())
    art = load_artefact(oracle)
    art.classes = None
    art.metrics = {"dataset": "nettalk", "data_dir": str(path)}
    assert training_classes(art) == dataset_classes("nettalk", path) == list(PHONEMES)
    save_artefact(art, tmp_path / "again")
    assert load_artefact(tmp_path / "again").classes == list(PHONEMES)


def test_evaluate_a_file_missing_a_phoneme(tmp_path, oracle, capsys):
    """The old loader indexed by the file's sorted symbols: B..F became 0..4, every label
    shifted, and the oracle scored 0% (exit 0)."""
    words = [w for w in _words() if "a" not in w]
    path = _write(tmp_path / "noa.data", words)
    n = sum(len(w) for w in words)
    assert main(["evaluate", str(oracle), "--dataset", "nettalk", "--data-dir", str(path),
                 "--split", "all", "--target", "numpy", "--no-progress", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["accuracy"] == 1.0 and res["samples"] == n and res["split_size"] == n
    assert res["classes"] == list(PHONEMES) and res["classes_from"] == "artefact"
    assert res["sample_ids"] == [0, n - 1] and res["abstained"] == 0.0
    # text form names the samples and the classes
    assert main(["evaluate", str(oracle), "--dataset", "nettalk", "--data-dir", str(path),
                 "--split", "all", "--target", "numpy", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"100.0% on all {n} samples of nettalk, all split (sample ids 0-{n - 1})" in out
    assert "6 classes (from the artefact): A B C D E F" in out
    # a phoneme the network never learned: exit 2, one line naming file, label and classes
    path.write_text(path.read_text() + "cab\tCGB\t000\t0\n")
    assert main(["evaluate", str(oracle), "--dataset", "nettalk", "--data-dir", str(path),
                 "--split", "all", "--target", "numpy", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "noa.data" in err and "label 'G'" in err
