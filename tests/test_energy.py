"""Energy from measured op counts × profile: a hand count on a 2-input, 1-neuron network (the
expected energies derived below from the profile values), range arithmetic, unknown trace
energy reported as missing, the run-directory report (SBP refused on Loihi 1), learning per
epoch and to threshold from a training curve, the backprop baselines and like-for-like
comparisons in the same report, the files `spikeport energy` writes (PNG included), and one
Lava-backed check of the ProcessModels' counters against a hand count."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_mapping import sbp_net

from spikeport.cli import main
from spikeport.converters.quantize import quantize
from spikeport.errors import DataError
from spikeport.hw_profiles.baselines import ratio
from spikeport.hw_profiles.energy import (
    epochs_to_threshold,
    learning_costs,
    mesh_hops,
    phase_energy,
)
from spikeport.hw_profiles.energy_report import format_energy
from spikeport.hw_profiles.mapping import map_network
from spikeport.hw_profiles.ranges import fmt_range, radd, rmul, rng, rscale
from spikeport.models import (
    Encoder,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    WeightInit,
)
from spikeport.models.weights import initial_weights
from spikeport.workflows.energy import energy_report, write_energy

PJ, NS = 1e-12, 1e-9


def net_2_1() -> Network:
    return Network(name="n21", dt=0.001, sample_steps=10,
                   inputs=(InputPopulation("inp", 2, Encoder("poisson", max_rate=100.0)),),
                   populations=(LIFPopulation("out", 1, threshold=1.0),),
                   projections=(Projection("inp", "out",
                                           weights=WeightInit("constant", value=0.5)),))


# one sample of 10 steps: inp 0 spikes 3 times, inp 1 twice (5 host input spikes); each has
# one stored nonzero synapse, so syn_ops = 5 x 1; the neuron is updated every step (10) and
# spikes once
OPS = {"population:out": {"neuron_updates": 10, "spikes": 1, "threshold_updates": 0},
       "projection:inp->out": {"syn_ops": 5},
       "input:inp": {"values_sent": 5}}


def close(r, lo, hi, rel=1e-9):
    assert r["low"] == pytest.approx(lo, rel=rel) and r["high"] == pytest.approx(hi, rel=rel)


def test_range_arithmetic():
    close(radd(rng(1, 2), rng(3)), 4, 5)
    close(rscale(rng(1, 2), 3), 3, 6)
    close(rmul(rng(1, 2), rng(3, 4)), 3, 8)
    assert fmt_range(rng(1.5e-6, 2.5e-6)) == "1.5–2.5 µJ"
    assert fmt_range(rng(118e-12)) == "118 pJ"
    # the low end would print as 0.0589 J: each end gets its own prefix
    assert fmt_range(rng(0.0589, 1.06)) == "58.9 mJ–1.06 J"
    assert mesh_hops(1) == mesh_hops(4) == 0 and mesh_hops(5) == 1 and mesh_hops(16) == 2


def test_hand_count_loihi1():
    m = map_network(net_2_1(), "loihi1", learn=False)
    r = phase_energy(OPS, m, "loihi1", samples=1)
    cat = r["categories"]
    # synaptic ops: 5 x 23.6 pJ = 118 pJ (Davies 2018 Table 2, a minimum)
    close(cat["synaptic_ops"]["energy_J"], 118 * PJ, 118 * PJ)
    # neuron updates: low = 1 spiking (active, 81 pJ) + 9 inactive (52 pJ) = 549 pJ;
    # high = 10 active = 810 pJ
    close(cat["neuron_updates"]["energy_J"], 549 * PJ, 810 * PJ)
    # messages: 5 input spikes x 1 destination core (out has none); one core: 0 hops, so
    # 5 x 1.7 pJ at both ends
    close(cat["spike_messages"]["count"], 5, 5)
    close(cat["spike_messages"]["energy_J"], 8.5 * PJ, 8.5 * PJ)
    close(r["dynamic_J"], (118 + 549 + 8.5) * PJ, (118 + 810 + 8.5) * PJ)
    # real time: 10 steps x 1 ms x 0.104 W = 1.04 mJ of static energy
    rt = r["pacing"]["real_time"]
    close(rt["static_J"], 1.04e-3, 1.04e-3)
    close(rt["latency_per_sample_s"], 0.01, 0.01)
    # as fast as possible, one core: low = 5 x 3.5 + 1 x 8.4 + 9 x 5.3 = 73.6 ns of work
    # + 10 barriers x 113 ns; high = 5 x 3.5 + 10 x 8.4 = 101.5 ns + 10 x 465 ns
    fast = r["pacing"]["as_fast_as_possible"]
    close(fast["time_s"], (73.6 + 1130) * NS, (101.5 + 4650) * NS)
    close(fast["static_J"], 0.104 * 1203.6 * NS, 0.104 * 4751.5 * NS)
    close(fast["edp_per_sample_Js"], fast["total_J"]["low"] * fast["time_s"]["low"],
          fast["total_J"]["high"] * fast["time_s"]["high"])
    # host I/O counted, not priced
    assert {"category": "host_io", "count": 5} == {k: v for k, v in r["missing"][0].items()
                                                   if k != "reason"}


def test_hand_count_loihi2_is_a_range():
    m = map_network(net_2_1(), "loihi2", learn=False)
    r = phase_energy(OPS, m, "loihi2", samples=1)
    # Loihi 2: estimated per-op ranges derived from Loihi 1 (x [0.3, 1])
    close(r["categories"]["synaptic_ops"]["energy_J"], 5 * 7.1 * PJ, 5 * 23.6 * PJ)
    assert r["categories"]["synaptic_ops"]["per_op"][0]["status"] == "estimated"
    # static 0.23-0.28 W over 10 ms
    close(r["pacing"]["real_time"]["static_J"], 2.3e-3, 2.8e-3)


def test_learning_counts_and_unknown_trace_energy():
    ops = json.loads(json.dumps(OPS))
    ops["projection:inp->out"].update(syn_updates=20, trace_updates=10, epochs=10)
    m = map_network(net_2_1(), "loihi1", learn=False)
    r = phase_energy(ops, m, "loihi1", samples=2)
    # 20 synaptic updates x 120 pJ = 2.4 nJ
    close(r["categories"]["synaptic_updates"]["energy_J"], 2400 * PJ, 2400 * PJ)
    # trace updates: counted, energy not published, not in the dynamic total
    assert "trace_updates" not in r["categories"]
    miss = {x["category"]: x for x in r["missing"]}
    assert miss["trace_updates"]["count"] == 10
    assert "not published" in miss["trace_updates"]["reason"]
    close(r["dynamic_J"], (118 + 549 + 8.5 + 2400) * PJ, (118 + 810 + 8.5 + 2400) * PJ)
    close(r["dynamic_per_sample_J"], (118 + 549 + 8.5 + 2400) / 2 * PJ,
          (118 + 810 + 8.5 + 2400) / 2 * PJ)


def test_epoch_split_doubles_u_updates():
    # SBP with T = 100 on loihi2: two chip epochs per sample, the u0 rule touches its plastic
    # synapses twice: 100 measured synaptic updates are priced as 200
    m = map_network(sbp_net(sample_steps=100), "loihi2")
    ops = {"projection:inp->hid": {"syn_ops": 0, "syn_updates": 100, "trace_updates": 0,
                                   "epochs": 1}}
    r = phase_energy(ops, m, "loihi2", samples=1)
    assert r["counts"]["syn_updates_measured"] == 100 and r["counts"]["syn_updates"] == 200
    close(r["categories"]["synaptic_updates"]["energy_J"], 200 * 36 * PJ, 200 * 120 * PJ)


def _run_dir(tmp_path, net, learn_ops, infer_ops, samples=2):
    fixed = quantize(net, initial_weights(net))
    fixed.save(tmp_path / "fixed")
    for name, ops, mode in (("lava_learn.json", learn_ops, "learn"),
                            ("lava_infer.json", infer_ops, "infer")):
        (tmp_path / name).write_text(json.dumps({
            "mode": mode, "network": net.name, "samples": samples, "dataset": "hand",
            "split": "train", "fixed_network": str(tmp_path / "fixed"), "ops": ops}))
    return tmp_path


def test_report_from_run_dir(tmp_path):
    net = sbp_net()
    learn_ops = {"population:hid": {"neuron_updates": 300, "spikes": 20, "threshold_updates": 10},
                 "population:out": {"neuron_updates": 120, "spikes": 6, "threshold_updates": 0},
                 "projection:inp->hid": {"syn_ops": 400, "syn_updates": 36, "trace_updates": 12,
                                         "epochs": 2},
                 "projection:hid->out": {"syn_ops": 20, "syn_updates": 600,
                                         "trace_updates": 300, "epochs": 60},
                 "relay:inp->hid": {"relay_updates": 300, "values_sent": 7},
                 "input:inp": {"values_sent": 80}, "teacher": {"values_sent": 9}}
    infer_ops = {"population:hid": {"neuron_updates": 300, "spikes": 20, "threshold_updates": 0},
                 "population:out": {"neuron_updates": 120, "spikes": 6, "threshold_updates": 0},
                 "projection:inp->hid": {"syn_ops": 400}, "projection:hid->out": {"syn_ops": 20},
                 "input:inp": {"values_sent": 80}}
    rep = energy_report(_run_dir(tmp_path, net, learn_ops, infer_ops))
    l1, l2 = rep["profiles"]["loihi1"]["phases"], rep["profiles"]["loihi2"]["phases"]
    assert "graded_third_factor" in l1["learning"]["refused"]
    assert any(e["process"] == "SBPRelay" for e in l1["learning"]["readiness"])
    assert "dynamic_J" in l1["inference"] and "dynamic_J" in l2["learning"]
    learn = l2["learning"]
    # relay updates priced as neuron updates: 300 x [15.6 (inactive, low), 81 (active, high)] pJ
    close(learn["categories"]["relay_updates"]["energy_J"], 300 * 15.6 * PJ, 300 * 81 * PJ)
    # 30-step samples: no epoch split; 636 synaptic updates x 36-120 pJ
    close(learn["categories"]["synaptic_updates"]["energy_J"], 636 * 36 * PJ, 636 * 120 * PJ)
    assert {x["category"] for x in learn["missing"]} == {"trace_updates", "threshold_updates",
                                                         "host_io"}
    # host I/O: 80 input spikes + 9 teacher values + 6 readout spikes
    assert {x["category"]: x["count"] for x in learn["missing"]}["host_io"] == 95
    for pacing in learn["pacing"].values():
        for key in ("time_s", "static_J", "total_J", "energy_per_sample_J",
                    "latency_per_sample_s", "edp_per_sample_Js"):
            assert pacing[key]["low"] <= pacing[key]["high"]
    json.dumps(rep)
    md = format_energy(rep)
    assert "Refused" in md and "not published" in md and "as fast as possible" in md


def test_epochs_to_threshold():
    # epoch 0 is the untrained network and never counts, even at threshold
    assert epochs_to_threshold([0.9, 0.5, 0.79, 0.81, 0.7], 0.8) == 3
    assert epochs_to_threshold([0.1, 0.5], 0.8) is None


def _priced(dyn_lo, dyn_hi):
    """The parts of a priced learning phase that learning_costs reads."""
    return {"dynamic_per_sample_J": rng(dyn_lo, dyn_hi),
            "pacing": {"real_time": {"energy_per_sample_J": rng(10 * dyn_lo, 10 * dyn_hi),
                                     "latency_per_sample_s": rng(0.1)}}}


def test_learning_costs_span_curves_and_bound_the_unreached():
    c = learning_costs(_priced(1e-6, 2e-6), epoch_samples=100, epochs=[1, 3], epochs_trained=5,
                       threshold=0.8, curve_source="test")
    # per epoch: 100 × [1, 2] µJ; to threshold: low 1 epoch × 100 × 1 µJ, high 3 × 100 × 2 µJ
    close(c["per_epoch"]["dynamic_J"], 100e-6, 200e-6)
    close(c["to_threshold"]["dynamic_J"], 100e-6, 600e-6)
    close(c["to_threshold"]["total_J"]["real_time"], 1e-3, 6e-3)
    close(c["to_threshold"]["time_s"]["real_time"], 10.0, 30.0)
    assert "not_reached_lower_bound" not in c
    c = learning_costs(_priced(1e-6, 2e-6), 100, [2, None], 5, 0.8, "test")
    # one curve never reached it: the 5 epochs it trained, 500 × 1 µJ, is a lower bound
    assert (c["reached"], c["curves"]) == (1, 2)
    close(c["not_reached_lower_bound"]["dynamic_J"], 500e-6, 1000e-6)
    close(c["to_threshold"]["dynamic_J"], 200e-6, 400e-6)
    c = learning_costs(_priced(1e-6, 2e-6), 100, [None], 5, 0.8, "test")
    assert c["to_threshold"] is None and c["reached"] == 0


def digits_net() -> Network:
    return Network(name="d8", dt=0.001, sample_steps=10, seed=2,
                   inputs=(InputPopulation("px", 64, Encoder("poisson", max_rate=100.0)),),
                   populations=(LIFPopulation("hid", 8, threshold=1.0),
                                LIFPopulation("out", 10, threshold=1.0)),
                   projections=(Projection("px", "hid",
                                           weights=WeightInit("constant", value=0.1)),
                                Projection("hid", "out",
                                           weights=WeightInit("constant", value=0.1))),
                   readout=Readout("out", 10))


DIGITS_OPS = {"population:hid": {"neuron_updates": 160, "spikes": 12, "threshold_updates": 0},
              "population:out": {"neuron_updates": 200, "spikes": 4, "threshold_updates": 0},
              "projection:px->hid": {"syn_ops": 800, "syn_updates": 0, "trace_updates": 0,
                                     "epochs": 0},
              "projection:hid->out": {"syn_ops": 120, "syn_updates": 0, "trace_updates": 0,
                                      "epochs": 0},
              "input:px": {"values_sent": 100}}


def _digits_run(tmp_path):
    net = digits_net()
    run = _run_dir(tmp_path, net, DIGITS_OPS, DIGITS_OPS)
    for name in ("lava_learn.json", "lava_infer.json"):
        summary = json.loads((run / name).read_text())
        summary["dataset"] = "digits"
        (run / name).write_text(json.dumps(summary))
    (run / "artefact").mkdir()
    (run / "artefact" / "metrics.json").write_text(json.dumps({
        "dataset": "digits", "splits": {"train": 1078, "val": 359, "test": 360},
        "epochs": [{"epoch": e, "val_accuracy": a}
                   for e, a in enumerate([0.1, 0.5, 0.75, 0.85, 0.9])]}))
    return run


def test_report_learning_to_threshold_and_baselines(tmp_path):
    rep = energy_report(_digits_run(tmp_path), profiles=("loihi1",), threshold=0.8, mlp_lr=0.2)
    learn = rep["profiles"]["loihi1"]["phases"]["learning"]
    lc = learn["learning_costs"]
    # the curve first reaches 80% after epoch 3: 3 × 1078 samples at the measured mean
    assert lc["epochs_to_threshold"] == [3]
    per = learn["dynamic_per_sample_J"]
    close(lc["to_threshold"]["dynamic_J"], per["low"] * 3 * 1078, per["high"] * 3 * 1078)
    close(lc["per_epoch"]["dynamic_J"], per["low"] * 1078, per["high"] * 1078)
    rt = learn["pacing"]["real_time"]["energy_per_sample_J"]
    close(lc["to_threshold"]["total_J"]["real_time"], rt["low"] * 3234, rt["high"] * 3234)
    mlp = rep["baselines"]["mlp"]
    assert mlp["sizes"] == [64, 8, 10] and mlp["threshold"] == 0.8 and mlp["seed"] == 2
    assert mlp["lr"] == 0.2 and mlp["batch"] == 1
    assert mlp["epoch_curve_val"][-1] >= 0.8
    assert mlp["to_threshold"]["compute_only_J"] == mlp["energy"]["compute_only_J"]
    assert not rep["baselines"]["device"]["applies"]  # the GPU was measured on MNIST only
    # papers' metric: 3 epochs × (64·8 + 8·10 + 8) = 3 × 600
    assert rep["baselines"]["paper_cost_snn"]["to_threshold"] == 1800
    cmp = {(c["quantity"], c["chip_figure"]): c for c in rep["comparisons"]}
    # like for like only: chip dynamic vs MLP compute only; no whole-device pair for digits
    assert set(cmp) == {("per sample", "dynamic"), ("to threshold", "dynamic")}
    r = cmp[("to threshold", "dynamic")]
    expected = ratio(mlp["to_threshold"]["compute_only_J"], lc["to_threshold"]["dynamic_J"],
                     "x")
    assert (r["ratio"]["low"], r["ratio"]["high"]) == pytest.approx(
        (expected["low"], expected["high"]))
    md = format_energy(rep)
    for needle in ("to threshold", "Backprop baseline, compute only", "papers' cost metric",
                   "baseline ÷ chip", "Measured on mnist only"):
        assert needle in md, needle


def test_report_reads_emulator_runs_where_lava_is_absent(tmp_path):
    run = _digits_run(tmp_path)
    (run / "lava_learn.json").rename(run / "emulator_learn.json")
    rep = energy_report(run, profiles=("loihi2",), baselines=False)
    assert rep["phases"]["learning"]["backend"] == "emulator"
    assert rep["phases"]["inference"]["backend"] == "lava"
    with pytest.raises(DataError, match="lava_infer.json / lava_learn.json"):
        energy_report(run / "artefact", backend="lava")
    rep = energy_report(run, profiles=("loihi2",), baselines=False, backend="emulator")
    assert list(rep["phases"]) == ["learning"]


def test_curve_of_another_dataset_is_not_used(tmp_path):
    run = _digits_run(tmp_path)
    path = run / "artefact" / "metrics.json"
    m = json.loads(path.read_text())
    path.write_text(json.dumps({**m, "dataset": "mnist"}))
    rep = energy_report(run, profiles=("loihi2",), baselines=False)
    assert rep["learning"]["curve"] is None
    assert any("not used for energy to threshold" in n for n in rep["notes"])
    assert "to_threshold" not in rep["profiles"]["loihi2"]["phases"]["learning"][
        "learning_costs"]


def test_energy_cli_writes_json_md_png(tmp_path, capsys):
    run = _digits_run(tmp_path)
    assert main(["energy", str(run), "--profile", "loihi2", "--no-baselines"]) == 0
    assert "written:" in capsys.readouterr().out
    rep = json.loads((run / "energy.json").read_text())
    assert list(rep["profiles"]) == ["loihi2"] and rep["baselines"].get("mlp") is None
    assert (run / "energy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Learning phase" in (run / "energy.md").read_text()
    assert main(["energy", str(run), "--threshold", "1.5"]) == 2
    assert "threshold = 1.5" in capsys.readouterr().err
    rep = write_energy(run, profiles=("loihi1",), baselines=False)
    assert rep["files"]["png"] == str(run / "energy.png")
    assert list(json.loads((run / "energy.json").read_text())["profiles"]) == ["loihi1"]


@pytest.mark.lava
def test_lava_counters_hand_count():
    """2 inputs -> 2 LIF all-to-all (stored nonzero fan-out 2 each), one 10-step sample: input
    0 spikes at steps 1, 4, 7, input 1 at step 2; a threshold no input can reach. Expected:
    syn_ops = 4 spikes x 2 = 8, neuron_updates = 2 x 10 = 20, spikes 0, values_sent 4."""
    pytest.importorskip("lava")
    from spikeport.lava_processes.run import run_lava

    net = Network(name="hand", dt=0.001, sample_steps=10,
                  inputs=(InputPopulation("inp", 2),),
                  populations=(LIFPopulation("out", 2, threshold=100.0),),
                  projections=(Projection("inp", "out",
                                          weights=WeightInit("constant", value=0.5)),))
    fixed = quantize(net, initial_weights(net))
    x = np.zeros((1, 10, 2), bool)
    x[0, [1, 4, 7], 0] = True
    x[0, 2, 1] = True
    res = run_lava(fixed, {"inp": x}, learn=False)
    assert res.ops["projection:inp->out"]["syn_ops"] == 8
    assert res.ops["population:out"] == {"neuron_updates": 20, "spikes": 0,
                                         "threshold_updates": 0}
    assert res.ops["input:inp"] == {"values_sent": 4}
    m = map_network(fixed, "loihi1", learn=False)
    r = phase_energy(res.ops, m, "loihi1", samples=1)
    # 8 x 23.6 pJ; neuron updates all inactive (no spike) to all active: 20 x [52, 81] pJ
    close(r["categories"]["synaptic_ops"]["energy_J"], 8 * 23.6 * PJ, 8 * 23.6 * PJ)
    close(r["categories"]["neuron_updates"]["energy_J"], 20 * 52 * PJ, 20 * 81 * PJ)
