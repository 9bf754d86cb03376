"""Training keeps the best-validation epoch as the artefact and the last one beside it
(issue 20.5): `evaluate`, `convert` and `deploy` take the best; a resume continues the last."""

from __future__ import annotations

import json

import numpy as np

from spikeport.models.artefact import load_artefact
from spikeport.training.brian2 import train
from spikeport.training.loop import best_epoch


def test_best_epoch_is_the_highest_validation_accuracy_earliest_of_equals():
    rows = [{"epoch": 0, "val_accuracy": 0.1}, {"epoch": 1, "val_accuracy": 0.6},
            {"epoch": 2, "val_accuracy": 0.4}, {"epoch": 3, "val_accuracy": 0.6}]
    assert best_epoch(rows) == 1          # 0.6 first reached at epoch 1; epoch 3 only ties
    assert best_epoch([{"epoch": 0}]) is None


def test_artefact_holds_the_best_epoch_and_last_holds_the_last(tmp_path):
    kw = dict(train_samples=40, eval_samples=30, target="numpy", progress=False)
    out = tmp_path / "a"
    metrics = train("digits_sbp", out, epochs=3, **kw)
    rows = metrics["epochs"]
    best = best_epoch(rows)
    assert metrics["best_epoch"] == best and metrics["last_epoch"] == 3
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["best_epoch"] == best
    last = load_artefact(out / "last")
    # the last epoch's weights are those a fresh 3-epoch run ends with; the artefact's are
    # the best epoch's: the same as a run stopped after `best` epochs
    stopped = train("digits_sbp", tmp_path / "b", epochs=max(best, 1), **kw)
    acc = [(r["epoch"], r["val_accuracy"], r["test_accuracy"]) for r in rows]
    assert [(r["epoch"], r["val_accuracy"], r["test_accuracy"])
            for r in stopped["epochs"]][: best + 1] == acc[: best + 1]
    kept = load_artefact(out).weights
    expected = load_artefact(tmp_path / "b" / "last").weights if best > 0 else None
    if expected is not None:
        assert all(np.array_equal(kept[k], expected[k]) for k in kept)
    if best != 3:
        assert any(not np.array_equal(kept[k], last.weights[k]) for k in kept)
