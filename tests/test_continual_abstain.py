"""Issue 20 item 7: a network that never decides is reported as abstaining, never as a method
that forgets nothing (its 0% accuracy once gave "forgetting 0.0")."""

from __future__ import annotations

import numpy as np

from spikeport.continual.protocol import ProtocolConfig, Splits, run_protocol
from spikeport.continual.report import aggregate, format_report, format_table, summarize
from spikeport.flow.batch import Split


def _split(name, per_class=4, n_classes=3):
    y = np.repeat(np.arange(n_classes), per_class)
    return Split(np.zeros((len(y), 2), np.float32), y, np.arange(len(y)), name)


class Learner:
    """silent: never decides; amnesic: knows only the classes of the last task trained."""

    def __init__(self, name):
        self.name, self.last = name, ()

    def train_epoch(self, split, task, epoch):
        self.last = tuple(np.unique(split.y))

    def end_task(self, split, task):
        pass

    def predict(self, split, seen):
        if self.name == "silent":
            return np.full(len(split.y), -1)
        return np.where(np.isin(split.y, self.last), split.y, self.last[0])

    def learning_cost(self):
        return None


def _run(name):
    splits = Splits(_split("train"), _split("val"), _split("test"), 3, "toy")
    return run_protocol(Learner(name), splits, ProtocolConfig(tasks=((0,), (1,), (2,))))


def test_silent_network_abstains_and_has_no_forgetting_value():
    m = summarize(_run("silent"))
    assert m["final_mean_accuracy"] == 0.0 and m["final_abstained"] == 1.0
    assert m["forgetting"] is None and m["bwt"] is None      # was 0.0: "perfect memory"
    assert m["tasks_never_decided"] == [0, 1, 2]
    assert m["abstained_matrix"][2] == [1.0, 1.0, 1.0]
    table = format_table({"silent": m})
    row = table.splitlines()[2].split("|")
    assert [c.strip() for c in row[2:6]] == ["0.0", "100.0", "n/a (abstained)",
                                             "n/a (abstained)"]
    agg = aggregate([m, m])
    assert agg["forgetting"]["mean"] is None
    assert "n/a (abstained)" in format_table({"silent": agg})


def test_forgetting_of_a_deciding_network_is_still_measured():
    m = summarize(_run("amnesic"))
    # task k is right (1.0) right after it, wrong (0.0) once another task came: F = 1, BWT = -1
    assert m["forgetting"] == 1.0 and m["bwt"] == -1.0
    assert m["final_abstained"] == 0.0 and m["tasks_never_decided"] == []
    report = format_report({"network": "toy", "dataset": "toy", "tasks": [[0], [1], [2]],
                            "seed": 0, "test_samples": 12, "max_epochs": 1,
                            "methods": {"amnesic": m}})
    assert "Abstained (%" in report
