"""`spikeport run --backend emulator` and `spikeport train --backend emulator` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikeport.cli import main
from spikeport.flow.fixed import FixedNetwork


@pytest.mark.lava
def test_run_emulator_equals_run_lava(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["convert", "digits_sbp", "-o", str(out)]) == 0
    for backend in ("lava", "emulator"):
        assert main(["run", str(out), "--learn", "--samples", "4", "--backend", backend,
                     "--no-progress"]) == 0
        assert main(["run", str(out), "--samples", "6", "--backend", backend,
                     "--no-progress"]) == 0
    capsys.readouterr()
    for mode in ("learn", "infer"):
        lava = json.loads((out / f"lava_{mode}.json").read_text())
        emu = json.loads((out / f"emulator_{mode}.json").read_text())
        assert (lava["backend"], emu["backend"]) == ("lava", "emulator")
        assert lava["ops"] == emu["ops"] and lava["rates_hz"] == emu["rates_hz"]
        a, b = (np.load(out / f"{k}_{mode}.npz") for k in ("lava", "emulator"))
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{mode} {key}")


def test_train_fixed_point_resumes_and_runs(tmp_path, capsys):
    out = tmp_path / "fx"
    args = ["train", "digits_sbp", "--backend", "emulator", "-o", str(out),
            "--train-samples", "40", "--eval-samples", "20", "--no-progress"]
    assert main(args + ["--epochs", "1"]) == 0
    first = json.loads((out / "metrics.json").read_text())
    w1 = FixedNetwork.load(out / "fixed").projections[0].weights.copy()
    assert main(args + ["--epochs", "2"]) == 0
    second = json.loads((out / "metrics.json").read_text())
    assert second["backend"] == "emulator" and [r["epoch"] for r in second["epochs"]] == [0, 1, 2]
    assert second["epochs"][1] == first["epochs"][1]  # resumed, not redone
    w2 = FixedNetwork.load(out / "fixed").projections[0].weights
    assert not np.array_equal(w1, w2), "epoch 2 must keep learning"
    ops = second["epochs"][2]["learning_ops"]
    # 40 samples × 100 steps × 100 hidden neurons updated
    assert ops["population:hidden"]["neuron_updates"] == 40 * 100 * 100
    assert main(["run", str(out), "--backend", "emulator", "--samples", "20",
                 "--no-progress"]) == 0
    run = json.loads((out / "emulator_infer.json").read_text())
    # the same 20 test samples, the same network: the same accuracy as the trainer's score
    assert run["accuracy"] == second["epochs"][2]["test_accuracy"]


def test_train_fixed_point_refuses_a_brian2_artefact_dir(tmp_path, capsys):
    out = tmp_path / "fx"
    assert main(["train", "digits_sbp", "--backend", "emulator", "-o", str(out), "--epochs",
                 "1", "--train-samples", "10", "--eval-samples", "10", "--no-progress"]) == 0
    # a resume reads the last epoch's state, OUT/fixed_last (OUT/fixed is the best epoch's)
    inner = json.loads((out / "fixed_last" / "metrics.json").read_text())
    inner["backend"] = "brian2"
    (out / "fixed_last" / "metrics.json").write_text(json.dumps(inner))
    capsys.readouterr()
    assert main(["train", "digits_sbp", "--backend", "emulator", "-o", str(out),
                 "--epochs", "2", "--no-progress"]) == 2
    assert "not a fixed-point one" in capsys.readouterr().err
