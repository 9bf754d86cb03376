"""Backprop baselines: the bundled baseline profiles (and their agreement with the raw GPU
measurement), malformed files naming the key, the MLP's operation counts against a hand count,
its gradient against finite differences, training to a threshold, the pricing arithmetic,
range ratios and the papers' cost metric."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHARED

from spikeport.errors import SpecError
from spikeport.hw_profiles.baselines import (
    MLP,
    OpCounts,
    available_baselines,
    device_baseline,
    load_baseline,
    mac_energy,
    paper_cost,
    ratio,
    train_mlp,
)
from spikeport.hw_profiles.profile import HERE, available_profiles, load_profile

PJ = 1e-12


def test_bundled_baselines_load_and_are_not_chips():
    assert {"horowitz_45nm", "gpu_h100"} <= set(available_baselines())
    assert not {"horowitz_45nm", "gpu_h100"} & set(available_profiles())
    with pytest.raises(SpecError, match="baseline profile, not a chip profile"):
        load_profile("gpu_h100")
    h = load_baseline("horowitz_45nm")
    # Horowitz 45 nm: a 32-bit float MAC is a mult (3.7 pJ) plus an add (0.9 pJ)
    assert h.ops["fp32_mac"].value == pytest.approx(h.ops["fp32_mult"].value +
                                                    h.ops["fp32_add"].value)
    assert not h.ops["fp32_exp"].known
    assert h.access(8192)[0] == "8 KB SRAM" and h.access(8193)[0] == "32 KB SRAM"
    assert h.access(2 * 2**20)[0] == "DRAM"
    g = load_baseline("gpu_h100")
    assert g.idle_power.status == "measured"
    assert {r.batch for r in g.runs} == {1, 16, 256}


def test_gpu_profile_matches_the_raw_measurement():
    raw_path = SHARED / "measurements" / "bp_energy_h100.json"
    if not raw_path.is_file():
        pytest.skip(f"{raw_path} not present")
    raw = json.loads(raw_path.read_text())
    g = load_baseline("gpu_h100")
    assert g.measurement["device"] == raw["gpu"]
    assert g.idle_power.value == pytest.approx(raw["idle_w"])
    by_batch = {r["batch"]: r for r in raw["runs"]}
    for run in g.runs:
        r = by_batch[run.batch]
        assert run.energy.value == pytest.approx(r["joules_total"])
        assert run.seconds.value == pytest.approx(r["seconds"])
        assert run.train_samples == r["train_samples"]
        assert run.epochs_to_threshold == r["epochs_to_90pct"]
        # per sample in the report = J / samples = the raw file's µJ per sample
        assert run.energy.value / run.train_samples == pytest.approx(
            1e-6 * r["uJ_per_sample_total"])


def test_device_baseline_ranges_and_scope():
    d = device_baseline("mnist")
    assert d["applies"] and not device_baseline("digits")["applies"]
    g = load_baseline("gpu_h100")
    per = [r.energy.value / r.train_samples for r in g.runs]
    assert d["per_sample_J"] == {"low": min(per), "high": max(per)}
    assert d["to_threshold_J"] == {"low": min(r.energy.value for r in g.runs),
                                   "high": max(r.energy.value for r in g.runs)}


@pytest.mark.parametrize("old, new, needle", [
    ('fp32_add = { value = 0.9,', 'fp32_sub = { value = 0.9,', "[ops] is missing 'fp32_add'"),
    ('capacity_bytes = 32768', 'capacity_bytes = 4096', "memory[1].capacity_bytes = 4096"),
    ('kind = "baseline_ops"', 'kind = "gpu"', "kind = 'gpu'"),
    ('status = "estimated", source = "Horowitz ISSCC 2014: 32-bit float add',
     'status = "maybe", source = "Horowitz ISSCC 2014: 32-bit float add',
     "ops.fp32_add.status = 'maybe'"),
])
def test_malformed_ops_profile_names_the_key(tmp_path, old, new, needle):
    text = (HERE / "horowitz_45nm.toml").read_text()
    assert old in text
    path = tmp_path / "ops.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_baseline(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_malformed_device_profile_names_the_key(tmp_path):
    text = (HERE / "gpu_h100.toml").read_text()
    path = tmp_path / "gpu.toml"
    path.write_text(text.replace("epochs_to_threshold = 15", "epochs_to_threshold = 0", 1))
    with pytest.raises(SpecError, match=r"runs\[2\]\.epochs_to_threshold = 0"):
        load_baseline(path)
    path.write_text(text.replace("threshold = 0.90", "threshold = 90", 1))
    with pytest.raises(SpecError, match="measurement.threshold = 90"):
        load_baseline(path)


def test_mlp_counts_by_hand():
    net = MLP((3, 2, 2), seed=1)
    x = np.ones((1, 3), np.float32)
    k = OpCounts()
    net.train_step(x, np.array([1]), 0.1, k)
    # m, n, C = 3, 2, 2, batch 1: forward m·n + n·C = 6 + 4 = 10; backward n·C (dW2) + n·C
    # (dh) + m·n (dW1) = 4 + 4 + 6 = 14; update m·n + n·C + n + C = 6 + 4 + 2 + 2 = 14
    assert (k.forward_mac, k.backward_mac, k.update_mac) == (10, 14, 14)
    # adds: forward b·(n+C) + b·n + 2·b·C = 4 + 2 + 4 = 10; backward b·C + b·n + b·(n+C)
    # = 2 + 2 + 4 = 8; mults b·C + 2·b·n = 2 + 4 = 6; exp and div b·(n+C) = 4 each
    assert (k.add, k.mult, k.exp, k.div) == (18, 6, 4, 4)
    # weight words: W1 read once forward + 4·m·n in backward/update = 5·6; W2 6·n·C = 24
    assert (k.words_w1, k.words_w2) == (30, 24)
    k4 = OpCounts()
    net.train_step(np.ones((4, 3), np.float32), np.array([0, 1, 0, 1]), 0.1, k4)
    # batch 4: forward 4·10 = 40; backward 2·4·2·2 + 4·3·2 = 56; update still 14 per step
    assert (k4.forward_mac, k4.backward_mac, k4.update_mac) == (40, 56, 14)


def _loss(net: MLP, x, y) -> float:
    h = 1 / (1 + np.exp(-(x @ net.W1.astype(np.float64) + net.b1)))
    z = h @ net.W2.astype(np.float64) + net.b2
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def test_mlp_step_is_gradient_descent():
    """W1 after one step = W1 − lr·∂L/∂W1, ∂L/∂W1 by central differences of the mean
    cross-entropy (float64)."""
    rng = np.random.default_rng(0)
    x = rng.random((3, 4)).astype(np.float32)
    y = np.array([0, 2, 1])
    net = MLP((4, 3, 3), seed=2)
    num = np.zeros_like(net.W1, dtype=np.float64)
    eps = 1e-3
    for i in range(4):
        for j in range(3):
            w0 = net.W1[i, j]
            net.W1[i, j] = w0 + eps
            up = _loss(net, x, y)
            net.W1[i, j] = w0 - eps
            down = _loss(net, x, y)
            net.W1[i, j] = w0
            num[i, j] = (up - down) / (2 * eps)
    before = net.W1.copy()
    net.train_step(x, y, 0.5, OpCounts())
    np.testing.assert_allclose(before - net.W1, 0.5 * num, atol=2e-4)


def test_train_mlp_stops_at_threshold_and_counts_every_step():
    # two separable classes: feature 0 high for class 1, feature 1 high for class 0
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)
    X = np.stack([y, 1 - y], axis=1).astype(np.float32) * 0.8 + 0.1
    run = train_mlp(X, y, X, y, n_hidden=4, n_classes=2, threshold=0.95, seed=1, lr=0.5,
                    max_epochs=30)
    assert run.reached and run.epoch_curve[-1] >= 0.95
    assert all(a < 0.95 for a in run.epoch_curve[:-1])
    assert run.samples_trained == run.epochs_to_threshold * 40
    # batch 1: per sample forward 2·4 + 4·2 = 16, backward 2·4·2 + 2·4 = 24, update
    # 2·4 + 4·2 + 4 + 2 = 22 MACs, so 62 per sample
    assert run.train_counts.macs == 62 * run.samples_trained
    assert run.samples_to_threshold_fine <= run.samples_trained
    # evaluation counted apart: 10 checks per epoch, 40 samples, forward 16 MACs each
    assert run.eval_counts.forward_mac == 10 * run.epochs_to_threshold * 40 * 16
    never = train_mlp(X, y, X, 1 - y, 4, 2, threshold=0.99, seed=1, lr=0.5, max_epochs=2)
    assert not never.reached and never.samples_trained == 80


def test_mac_energy_arithmetic():
    k = OpCounts(forward_mac=100, backward_mac=200, update_mac=50, add=10, mult=20, exp=5,
                 div=5, words_w1=1000, words_w2=400)
    e = mac_energy(k, samples=10, sizes=(3, 2, 2))
    # compute only: 350 MACs × 4.6 + 10 adds × 0.9 + 20 mults × 3.7 = 1610 + 9 + 74 pJ
    assert e["compute_only_J"]["low"] == pytest.approx(1693 * PJ)
    assert e["compute_only_per_sample_J"]["high"] == pytest.approx(169.3 * PJ)
    assert {m["category"] for m in e["missing"]} == {"exp", "div"}
    # memory: W1 (6 params × 8 B) and W2 (4 × 8 B) fit 8 KB (10 pJ per 64-bit access);
    # (1000 + 400) words × 4 B / 8 B = 700 accesses × 10 pJ
    assert e["memory"]["W1"]["level"] == "8 KB SRAM"
    assert e["memory_J"]["low"] == pytest.approx(7000 * PJ)
    with pytest.raises(SpecError, match="no per-operation energies"):
        mac_energy(k, 10, (3, 2, 2), profile="gpu_h100")


def test_ratio_and_paper_cost():
    r = ratio({"low": 1.0, "high": 2.0}, {"low": 4.0, "high": 8.0}, "end to end")
    # low = 1 / 8, high = 2 / 4
    assert (r["low"], r["high"], r["method"]) == (0.125, 0.5, "end to end")
    with pytest.raises(ValueError):
        ratio({"low": 1.0, "high": 1.0}, {"low": 0.0, "high": 1.0}, "x")
    pc = paper_cost(64, 100, 10, 2)
    # 2 × (64·100 + 100·10 + 100) = 2 × 7500
    assert pc["per_epoch"] == 7500 and pc["to_threshold"] == 15000
    assert paper_cost(64, 100, 10, None)["to_threshold"] is None
