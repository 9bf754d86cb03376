"""`spikeport energy RUN --second-opinion sanafe`: SANA-FE replays a run's inference on its
Loihi description; rasters and synaptic-event counts are checked against values derived here.
Needs the optional package sanafe (skipped without it, except the missing-package error)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

import spikeport
from spikeport.backends.emulator import run_emulator
from spikeport.cli import main
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection
from spikeport.io import atomic_savez, atomic_write_json

ROOT = Path(__file__).resolve().parents[1]


def _run_folder(tmp_path: Path, du: int, seed: int = 3, samples: int = 6) -> tuple[Path, dict]:
    """A run folder as `spikeport run --backend emulator` writes it, for a hand-made
    feed-forward network 20 -> 12 -> 4 with some zero weights."""
    rng = np.random.default_rng(seed)
    steps = 30
    w1 = rng.integers(0, 60, size=(20, 12))
    w1[rng.random(w1.shape) < 0.3] = 0
    w2 = rng.integers(-40, 80, size=(12, 4)) * 2  # MIXED: even mantissas
    w2[rng.random(w2.shape) < 0.3] = 0
    h = FixedPopulation("h", 12, scale=1.0, du=du, dv=300, vth=90)
    o = FixedPopulation("o", 4, scale=1.0, du=du, dv=300, vth=60)
    p1 = FixedProjection("in->h", "in", "h", "excitatory", 0, 1.0, w1, np.ones_like(w1, bool))
    p2 = FixedProjection("h->o", "h", "o", "mixed", 0, 1.0, w2, np.ones_like(w2, bool))
    fixed = FixedNetwork("hand", 0.001, steps, 0, True, 0, (("in", 20),), (h, o), (p1, p2))
    x = rng.random((samples, steps, 20)) < 0.15
    res = run_emulator(fixed, {"in": x})
    run = tmp_path / f"run_du{du}"
    fixed.save(run / "fixed")
    atomic_savez(run / "emulator_infer.npz", **{f"spikes/{k}": v for k, v in res.spikes.items()},
                 **{"input/in": x, "labels": np.zeros(samples, dtype=np.int64)})
    atomic_write_json(run / "emulator_infer.json", {"fixed_network": str(run / "fixed"),
                                                    "samples": samples})
    return run, {"x": x, "w1": w1, "w2": w2, "spikes": res.spikes}


def test_missing_package_is_one_line(tmp_path, monkeypatch, capsys):
    run, _ = _run_folder(tmp_path, du=4095, samples=1)
    monkeypatch.setitem(__import__("sys").modules, "sanafe", None)  # import raises ImportError
    capsys.readouterr()   # the run folder's own output (a first compile's notice) is not ours
    assert main(["energy", str(run), "--second-opinion", "sanafe", "--no-baselines"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install sanafe" in err


def test_sanafe_wheel_does_not_shadow_ours():
    pytest.importorskip("sanafe")
    from spikeport.hw_profiles.sanafe import SHADOWED, import_sanafe

    import_sanafe()
    assert Path(spikeport.__file__).resolve().parent == ROOT / "spikeport"
    # sanafe's wheel drops top-level scripts/, src/, tests/, docs/, plugins/ into
    # site-packages; nothing of ours may import a top-level module of those names
    for folder in ("spikeport", "tests", "benchmarks", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    assert name.split(".")[0] not in SHADOWED, f"{path}: imports {name}"


@pytest.mark.parametrize("connections", ["sparse", "dense"])
def test_replay_exact_when_current_decay_cannot_truncate(tmp_path, connections):
    pytest.importorskip("sanafe")
    from spikeport.hw_profiles.sanafe import SYNAPSE_J, second_opinion

    # du = 4095: Lava's u keeps nothing of itself ((4096 - 4096) / 4096), so its integer
    # truncation never bites and SANA-FE's float u equals Lava's exactly; v decays by
    # (4096 - 300) / 4096 and both truncate it to one weight LSB (64 state units)
    run, d = _run_folder(tmp_path, du=4095)
    rep = second_opinion(run, connections=connections, progress=False)
    for pop in ("h", "o"):
        assert rep["rasters"][pop]["equal"], rep["rasters"]
        assert rep["rasters"][pop]["spikes_sanafe"] == int(d["spikes"][pop].sum())
    # synaptic events per sample: every spike of a source times its synapses, which are the
    # nonzero weights (sparse) or every entry of the matrix (dense)
    s_in, s_h = d["x"].sum(axis=(0, 1)), d["spikes"]["h"].sum(axis=(0, 1))
    if connections == "sparse":
        events = (s_in * (d["w1"] != 0).sum(axis=1)).sum() + (s_h * (d["w2"] != 0).sum(axis=1)).sum()
    else:
        events = s_in.sum() * 12 + s_h.sum() * 4
    n = d["x"].shape[0]
    assert rep["synaptic_events_per_sample"] == pytest.approx(events / n, rel=1e-9)
    assert rep["energy_J_per_sample"]["synapse"] == pytest.approx(
        events / n * SYNAPSE_J[connections], rel=1e-9)


def test_cli_second_opinion_writes_reports(tmp_path, capsys):
    pytest.importorskip("sanafe")
    run = tmp_path / "digits"
    assert main(["convert", "digits_sbp", "-o", str(run)]) == 0
    assert main(["run", str(run), "--backend", "emulator", "--samples", "4",
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["energy", str(run), "--second-opinion", "sanafe", "--no-baselines",
                 "--profile", "loihi1", "--sanafe-samples", "4"]) == 0
    out = capsys.readouterr().out
    assert "Executed steps" not in out  # SANA-FE's own progress kept off spikeport's output
    rep = json.loads((run / "sanafe.json").read_text())
    energy = json.loads((run / "energy.json").read_text())
    inf = energy["profiles"]["loihi1"]["phases"]["inference"]
    row = {r["component"]: r for r in rep["beside_spikeport"]}
    lo, hi = row["total"]["loihi1_J"]
    assert lo == pytest.approx(inf["dynamic_per_sample_J"]["low"])
    assert hi == pytest.approx(inf["dynamic_per_sample_J"]["high"])
    assert rep["samples"] == 4 and rep["connections"] == "sparse"
    # sparse synapses = nonzero weights: SANA-FE's synaptic events equal spikeport's syn_ops
    # counter (spikes x stored nonzero fan-out) when the rasters agree
    summary = json.loads((run / "emulator_infer.json").read_text())
    syn_ops = sum(v["syn_ops"] for k, v in summary["ops"].items() if k.startswith("projection:"))
    if rep["rasters_equal"]:
        assert rep["synaptic_events_per_sample"] == pytest.approx(syn_ops / 4)
    else:  # du = 741 truncates u on Lava, not in SANA-FE: a few spikes may move
        assert rep["synaptic_events_per_sample"] == pytest.approx(syn_ops / 4, rel=0.05)
    for pop, r in rep["rasters"].items():
        assert r["differing_entries"] >= 0 and f"raster '{pop}'" in out
    assert "SANA-FE" in (run / "sanafe.md").read_text()
