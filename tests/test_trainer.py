"""Trainer: artefacts, resume, evaluate, zoo twins — on a small digits subset (numpy target)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from spikeport.models import zoo
from spikeport.models.artefact import load_artefact
from spikeport.models.rules import SBP
from spikeport.training.brian2 import train
from spikeport.workflows.evaluate import evaluate


def test_zoo_twins():
    net = zoo.load("digits_sbp")
    twin = zoo.load("digits_sbp_nosbp")
    dense = zoo.load("digits_sbp_dense")
    sbp = [p.learning for p in twin.projections if isinstance(p.learning, SBP)]
    assert sbp and all(r.f_ltp == 0 and r.f_ltd == 0 for r in sbp)
    # everything but f is the same network
    assert twin.populations == net.populations and twin.seed == net.seed
    out = dense.projection("hidden->output")
    assert out.connectivity.kind == "all"
    assert dense.projection("pixels->hidden").learning is None
    for name in zoo.names():
        if name.startswith(("mnist", "nettalk", "digits", "dvsgesture")):
            assert zoo.load(name).readout is not None


def test_train_resume_and_evaluate(tmp_path):
    out = tmp_path / "art"
    m1 = train("digits_sbp", out, epochs=1, train_samples=40, eval_samples=30,
               target="numpy", progress=False)
    assert [r["epoch"] for r in m1["epochs"]] == [0, 1]
    art = load_artefact(out)
    w0 = zoo.load("digits_sbp")
    from spikeport.models.weights import initial_weights
    init = initial_weights(w0)
    # learning happened: the SBP and output weights moved, masks held
    assert not np.allclose(art.weights["hidden->output"], init["hidden->output"])
    assert (art.weights["hidden->output"][init["hidden->output"] == 0] == 0).all()
    assert set(art.thresholds) == {"hidden", "output"}
    # resume: asking for 2 epochs trains only the second one, from the saved weights
    m2 = train("digits_sbp", out, epochs=2, train_samples=40, eval_samples=30,
               target="numpy", progress=False)
    assert [r["epoch"] for r in m2["epochs"]] == [0, 1, 2]
    assert m2["epochs"][1] == json.loads(json.dumps(m1["epochs"][1]))
    # evaluate reproduces the epoch's validation accuracy with the saved weights/thresholds
    ev = evaluate(out, split="val", samples=30, target="numpy", progress=False)
    assert ev["accuracy"] == pytest.approx(m2["epochs"][2]["val_accuracy"])


def test_train_same_seed_same_weights(tmp_path):
    a = train("digits_sbp", tmp_path / "a", epochs=1, train_samples=20, eval_samples=10,
              target="numpy", progress=False)
    b = train("digits_sbp", tmp_path / "b", epochs=1, train_samples=20, eval_samples=10,
              target="numpy", progress=False)
    wa, wb = load_artefact(tmp_path / "a").weights, load_artefact(tmp_path / "b").weights
    assert all((wa[k] == wb[k]).all() for k in wa)
    assert a["epochs"][1]["val_accuracy"] == b["epochs"][1]["val_accuracy"]


def test_evaluate_cli_bad_artefact(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "spikeport.cli", "evaluate", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "not a trained artefact" in proc.stderr and "Traceback" not in proc.stderr


def test_eta_decay_schedules_every_learning_rate():
    """Epoch e learns with the rates × K^(e−1): supervised STDP/NACA eta, STDP a±; SBP's f
    (a ratio to the output change) and homeostasis stay."""
    from dataclasses import replace

    from spikeport.models.rules import STDP, SupervisedSTDP
    from spikeport.training.brian2 import scheduled

    net = zoo.load("digits_sbp")
    assert scheduled(net, 0.5, 1) is net                      # K^0 = 1
    later = scheduled(net, 0.5, 3)                            # K^2 = 0.25
    out, hid = later.projection("hidden->output"), later.projection("pixels->hidden")
    assert out.learning.eta == net.projection("hidden->output").learning.eta * 0.25
    assert hid.learning == net.projection("pixels->hidden").learning
    assert later.populations == net.populations
    stdp = net.replace(projections=(replace(net.projections[0], learning=None), replace(
        net.projections[1], learning=STDP(a_plus=0.02, a_minus=0.03))))
    rule = scheduled(stdp, 0.5, 2).projection("hidden->output").learning
    assert (rule.a_plus, rule.a_minus) == (0.01, 0.015)
    assert isinstance(net.projection("hidden->output").learning, SupervisedSTDP)


def test_eta_decay_second_epoch_is_the_halved_spec(tmp_path):
    """Two epochs at K = 0.5 end with the weights of one epoch, then a second epoch of the
    same network with its output eta halved by hand (same shuffle and input spikes)."""
    from dataclasses import replace

    from spikeport.models.artefact import save_artefact

    kw = dict(train_samples=30, eval_samples=10, target="numpy", progress=False)
    m = train("digits_sbp", tmp_path / "a", epochs=2, eta_decay=0.5, **kw)
    assert m["eta_decay"] == 0.5
    train("digits_sbp", tmp_path / "b", epochs=1, **kw)
    # a training resumes from OUT/last (the last epoch; OUT holds the best-validation one)
    art = load_artefact(tmp_path / "b" / "last")
    out = art.net.projection("hidden->output")
    halved = art.net.replace(projections=tuple(
        replace(p, learning=replace(out.learning, eta=out.learning.eta / 2))
        if p.name == out.name else p for p in art.net.projections))
    save_artefact(replace(art, net=halved), tmp_path / "b" / "last")
    train("digits_sbp", tmp_path / "b", epochs=2, **kw)
    wa = load_artefact(tmp_path / "a" / "last").weights
    wb = load_artefact(tmp_path / "b" / "last").weights
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    with pytest.raises(Exception, match="trained with eta_decay = 0.5, asked to continue "
                                        "with 0.9"):
        train("digits_sbp", tmp_path / "a", epochs=3, eta_decay=0.9, **kw)
