"""The class-incremental protocol: schedules, per-sample single-head prediction, the accuracy
matrix and its metrics on learners whose answers are known, EWC's penalty and Fisher against
finite differences, and `spikeport continual` end to end on a few digits."""

import json

import numpy as np
import pytest

from spikeport import seeds
from spikeport.cli import main
from spikeport.continual.baselines import (
    MLPLearner,
    NCMLearner,
    SpikingLearner,
    frozen_twin,
    sbp_twin,
)
from spikeport.continual.protocol import (
    CONTINUAL_KEY,
    MethodRun,
    ProtocolConfig,
    Splits,
    parse_tasks,
    predict_seen,
    run_protocol,
    select,
    task_schedule,
)
from spikeport.continual.report import aggregate, format_matrix, summarize
from spikeport.errors import SpecError
from spikeport.flow.batch import Split
from spikeport.models import zoo
from spikeport.models.rules import NACA, SBP
from spikeport.models.weights import initial_weights

# --- schedules ------------------------------------------------------------------------------


def test_task_schedule_is_the_seeded_permutation():
    order = seeds.rng(5, seeds.SHUFFLE, CONTINUAL_KEY, 0).permutation(10)
    assert task_schedule(10, 1, 5) == tuple((int(c),) for c in order)
    pairs = task_schedule(10, 2, 5)
    assert pairs == tuple((int(order[i]), int(order[i + 1])) for i in range(0, 10, 2))
    assert task_schedule(4, 2, 5, shuffle=False) == ((0, 1), (2, 3))
    with pytest.raises(SpecError, match="classes per task = 3 is invalid; allowed: a divisor "
                                        "of the class count 10"):
        task_schedule(10, 3)


def test_parse_tasks():
    assert parse_tasks("3,7/1,9", 10) == ((3, 7), (1, 9))
    assert parse_tasks("2", 4, 0) == task_schedule(4, 2, 0)
    with pytest.raises(SpecError, match="names class 12; allowed: classes 0..9"):
        parse_tasks("1/12", 10)
    with pytest.raises(SpecError, match="repeat a class"):
        ProtocolConfig(parse_tasks("1,2/2", 10))


def test_predict_seen_masks_unseen_classes_ties_and_abstentions():
    scores = np.array([[5.0, 1.0, 9.0], [2.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    # class 2 not seen yet: row 0 → 0 (5 > 1); row 1 tie 2 = 2 → lowest index 0
    np.testing.assert_array_equal(predict_seen(scores, [0, 1]), [0, 0, 0])
    np.testing.assert_array_equal(predict_seen(scores, [1, 2], abstain=np.array([0, 0, 1], bool)),
                                  [2, 1, -1])


# --- the protocol on learners with known answers ------------------------------------------


def toy_splits(n_classes=4, per_class=3):
    """One-hot features: sample of class c is e_c (so a class is trivially recognisable)."""
    y = np.repeat(np.arange(n_classes), per_class)
    X = np.eye(n_classes)[y]
    parts = {name: Split(X, y, np.arange(len(y)) + 100 * k, name)
             for k, name in enumerate(("train", "val", "test"))}
    return Splits(parts["train"], parts["val"], parts["test"], n_classes, "toy")


class Recency:
    """Predicts the class it saw last, whatever the sample: total forgetting."""

    name = "recency"

    def __init__(self):
        self.last = None
        self.epochs = 0

    def train_epoch(self, split, task, epoch):
        self.last = int(split.y[-1])
        self.epochs += 1

    def end_task(self, split, task):
        pass

    def predict(self, split, seen):
        return np.full(len(split), self.last)

    def learning_cost(self):
        return None


def test_recency_learner_gives_the_forgetting_matrix():
    splits = toy_splits()
    cfg = ProtocolConfig(((0,), (1,), (2,), (3,)), max_epochs=3, early_stop=0.9)
    run = run_protocol(Recency(), splits, cfg)
    # after task t only task t's samples are right: A = identity (lower triangle)
    expected = np.where(np.tril(np.ones((4, 4))) > 0, np.eye(4), np.nan)
    np.testing.assert_array_equal(run.matrix, expected)
    assert run.epochs == [1, 1, 1, 1]        # validation accuracy 1 after the first epoch
    s = summarize(run)
    # ACC = (0+0+0+1)/4; BWT = mean(0−1, 0−1, 0−1) = −1; forgetting = mean(1, 1, 1) = 1
    assert (s["final_mean_accuracy"], s["bwt"], s["forgetting"]) == (0.25, -1.0, 1.0)
    # seen accuracy after task t: 1/(t+1) (3 samples per class, only the last class right)
    assert s["seen_accuracy_after_task"] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4])
    assert "| 3 (3) | 0.0 | 0.0 | 0.0 | 100.0 | 25.0 |" in format_matrix(
        s["accuracy_matrix"], cfg.tasks)


def test_early_stop_counts_epochs_until_validation_accuracy():
    class Slow(Recency):
        """Right on the current task only from its second epoch of that task on."""

        def train_epoch(self, split, task, epoch):
            self.last = int(split.y[-1]) if epoch >= 1 else -5

    run = run_protocol(Slow(), toy_splits(), ProtocolConfig(((0,), (1,)), max_epochs=4,
                                                           early_stop=1.0))
    assert run.epochs == [2, 2]
    run = run_protocol(Slow(), toy_splits(), ProtocolConfig(((0,), (1,)), max_epochs=4))
    assert run.epochs == [4, 4]      # no early stop: every epoch


def test_ncm_never_forgets_separable_classes():
    splits = toy_splits()
    run = run_protocol(NCMLearner(4, 16, 4, seed=0), splits,
                       ProtocolConfig(((2, 0), (1, 3))))
    np.testing.assert_array_equal(run.matrix[1], [1.0, 1.0])
    s = summarize(run)
    assert s["bwt"] == 0.0 and s["final_mean_accuracy"] == 1.0


def test_aggregate_over_seeds():
    a = summarize(MethodRun("m", np.array([[1.0, np.nan], [0.5, 1.0]]), [1, 2], [1, .75],
                            [0, 0]))
    b = summarize(MethodRun("m", np.array([[1.0, np.nan], [0.0, 1.0]]), [1, 1], [1, .5],
                            [0, 0]))
    agg = aggregate([a, b])
    # ACC: 0.75 and 0.5 → mean 0.625, sample std sqrt(((0.125)² · 2)/1) = 0.1767…
    assert agg["final_mean_accuracy"]["mean"] == pytest.approx(0.625)
    assert agg["final_mean_accuracy"]["std"] == pytest.approx(np.sqrt(2 * 0.125 ** 2))
    assert agg["mean_accuracy_matrix"][1] == [0.25, 1.0]


# --- EWC ------------------------------------------------------------------------------------


def test_ewc_fisher_and_penalty_gradient_match_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.random((5, 3))
    y = np.array([0, 1, 2, 1, 0])
    mlp = MLPLearner(3, 4, 3, seed=1, ewc_lambda=2.0)
    mlp.params["b1"] = rng.normal(size=4)   # nonzero biases exercise every parameter

    def loss(n):
        logits = mlp._forward(X[n:n + 1])[2][0]
        return np.log(np.exp(logits).sum()) - logits[y[n]]

    F = mlp._grads(X, y, per_sample_sq=True)
    eps = 1e-6
    for name, idx in (("W1", (1, 2)), ("b1", (3,)), ("W2", (0, 1)), ("b2", (2,))):
        sq = []
        for n in range(5):   # central difference of each sample's loss, squared, averaged
            p = mlp.params[name]
            old = p[idx]
            p[idx] = old + eps
            up = loss(n)
            p[idx] = old - eps
            down = loss(n)
            p[idx] = old
            sq.append(((up - down) / (2 * eps)) ** 2)
        assert F[name][idx] == pytest.approx(np.mean(sq), rel=1e-5, abs=1e-10)
    # after end_task, the penalty (λ/2)·Σ F·(θ − θ*)² has gradient λ·F·(θ − θ*)
    mlp.end_task(Split(X, y, np.arange(5), "train"), 0)
    theta_star = {k: v.copy() for k, v in mlp.params.items()}
    for k in mlp.params:
        mlp.params[k] = mlp.params[k] + 0.1
    for k in mlp.params:
        grad = 2.0 * (mlp.fisher[k] * mlp.params[k] - mlp.fisher_anchor[k])
        np.testing.assert_allclose(grad, 2.0 * F[k] * (mlp.params[k] - theta_star[k]),
                                   rtol=1e-9, atol=1e-12)


def test_sgd_mlp_forgets_one_class_tasks():
    # with one class per task and no replay, SGD ends up predicting the last class
    splits = toy_splits(per_class=20)
    run = run_protocol(MLPLearner(4, 8, 4, seed=2, lr=0.5, batch=4), splits,
                       ProtocolConfig(((0,), (1,), (2,), (3,)), max_epochs=5))
    np.testing.assert_array_equal(run.matrix[-1], [0.0, 0.0, 0.0, 1.0])


# --- spiking learners -----------------------------------------------------------------------


def test_twins_of_the_naca_network():
    net = zoo.load("digits_naca")
    naca = net.projection("pixels->hidden").learning
    assert isinstance(naca, NACA)
    frozen = frozen_twin(net)
    assert frozen.projection("pixels->hidden").learning is None
    assert frozen.projection("hidden->output").learning == \
        net.projection("hidden->output").learning
    twin = sbp_twin(net, f=0.2, rho=0.4)
    sbp = twin.projection("pixels->hidden").learning
    assert sbp == SBP(f_ltp=0.2, f_ltd=0.2, rho=0.4, tau_elig=naca.tau_pre, seed=naca.seed)
    assert net.projection("hidden->output").learning.gate == "taught"
    assert twin.projection("hidden->output").learning.gate == "none"
    with pytest.raises(SpecError, match="no NACA projection to replace with SBP"):
        sbp_twin(zoo.load("digits_sbp"))


def test_spiking_prediction_is_per_sample():
    """A sample's prediction does not depend on the other samples it is scored with."""
    from spikeport.continual.protocol import load_splits

    net = zoo.load("digits_naca")
    learner = SpikingLearner(net, initial_weights(net), None, "digits", target="numpy")
    test = select(load_splits("digits").test, range(10), 2)
    learner.train_epoch(select(load_splits("digits").train, [3, 5], 4), 0, 0)
    batch = learner.scores(test)
    for i in (0, 7, 13):
        one = Split(test.X[i:i + 1], test.y[i:i + 1], test.ids[i:i + 1], test.name)
        np.testing.assert_array_equal(learner.scores(one)[0], batch[i])
    assert learner.learning_cost()["samples"] == 8


def test_continual_cli_writes_json_markdown_and_heatmap(tmp_path, capsys):
    code = main(["continual", "digits_naca", "-o", str(tmp_path), "--tasks", "2",
                 "--methods", "snn,mlp_sgd,mlp_ewc,ncm", "--train-per-class", "3",
                 "--val-per-class", "2", "--test-per-class", "2", "--target", "numpy",
                 "--no-progress", "--ewc-lambda", "10"])
    assert code == 0
    out = capsys.readouterr().out
    assert "| digits_naca |" in out and "| mlp_ewc |" in out
    result = json.loads((tmp_path / "continual.json").read_text())
    assert [len(t) for t in result["tasks"]] == [2] * 5
    m = result["methods"]["digits_naca"]
    assert len(m["accuracy_matrix"]) == 5 and m["accuracy_matrix"][0][1:] == [None] * 4
    assert m["learning_cost"]["ops"] is None and m["learning_cost"]["samples"] == 30
    assert result["test_samples"] == 20 and result["ewc_lambda"] == 10.0
    assert (tmp_path / "accuracy_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "# Class-incremental learning: digits_naca on digits" in \
        (tmp_path / "continual.md").read_text()


def test_continual_cli_bad_input_is_one_line(tmp_path, capsys):
    code = main(["continual", "digits_naca", "-o", str(tmp_path), "--tasks", "3",
                 "--methods", "ncm"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["spikeport: error: continual: classes per task = 3 is invalid; allowed: "
                   "a divisor of the class count 10"]
    assert main(["continual", "digits_naca", "-o", str(tmp_path), "--methods", "bp"]) == 2


def test_chip_learner_counts_its_learning_runs_and_prices_them():
    """NACA learning in fixed point (emulator): op counters summed over learning runs, energy
    per profile (Loihi 1 refuses NACA: no graded third factor), the learned network kept."""
    from spikeport.continual.baselines import ChipLearner
    from spikeport.continual.protocol import load_splits

    net = zoo.load("digits_naca")
    learner = ChipLearner(net, initial_weights(net), None, "digits")
    start = learner.fixed.projection("pixels->hidden").weights.copy()
    train = load_splits("digits").train
    learner.train_epoch(select(train, [3], 4), 0, 0)
    learner.train_epoch(select(train, [5], 2), 1, 0)
    cost = learner.learning_cost()
    n_hidden = net.size("hidden")
    # 6 samples × 50 steps × 200 hidden neurons, each updated once per step
    assert cost["ops"]["population:hidden"]["neuron_updates"] == 6 * net.sample_steps * n_hidden
    # t_epoch = T: one learning epoch per sample on the NACA projection
    assert cost["ops"]["projection:pixels->hidden"]["epochs"] == 6
    assert cost["samples"] == 6 and cost["steps"] == 6 * net.sample_steps
    assert "graded per-neuron third factor" in cost["energy"]["loihi1"]["refused"]
    e2 = cost["energy"]["loihi2"]["dynamic_per_sample_J"]
    assert 0 < e2["low"] <= e2["high"]
    assert not np.array_equal(learner.fixed.projection("pixels->hidden").weights, start)
    assert learner.scores(select(load_splits("digits").test, [3, 5], 2)).shape == (4, 10)


def test_continual_saves_each_spiking_network_as_trained(tmp_path):
    """OUT/networks/<method>/: the Brian2 artefact holds the learner's final weights; the
    fixed-point run directory, run by `spikeport run --backend emulator`, predicts the test
    samples as the protocol scored them."""
    from spikeport.continual.experiment import run_continual
    from spikeport.models.artefact import load_artefact
    from spikeport.workflows.deploy import run_fixed

    res = run_continual("digits_naca", out=tmp_path, tasks="0/1", methods="snn,snn_chip",
                        train_per_class=3, val_per_class=1, test_per_class=3, target="numpy",
                        progress=False)
    art = load_artefact(tmp_path / "networks" / "digits_naca")
    assert art.net.name == "digits_naca" and art.metrics["continual"]["final_mean_accuracy"] \
        == res["methods"]["digits_naca"]["final_mean_accuracy"]
    chip = tmp_path / "networks" / "digits_naca_chip"
    summary = run_fixed(chip, samples=None, backend="emulator", split="test")
    counts = summary["_result"].counts("output").reshape(summary["samples"], 10, -1).sum(axis=2)
    labels = np.load(chip / "emulator_infer.npz", allow_pickle=False)["labels"]
    row = res["methods"]["digits_naca_chip"]["accuracy_matrix"][-1]
    for k, c in enumerate((0, 1)):   # the protocol scored the first 3 test samples per class
        idx = np.flatnonzero(labels == c)[:3]
        pred = predict_seen(counts[idx], [0, 1], abstain=counts[idx][:, [0, 1]].max(1) <= 0)
        assert np.mean(pred == c) == row[k]
