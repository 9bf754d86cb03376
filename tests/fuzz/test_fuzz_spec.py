"""Fuzz: spec files (``spikeport validate``) — table-driven corruptions, each a clean one-line
error naming the file and what is wrong, plus hypothesis-mutated specs that must each give a
clean error or a spec that round-trips."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from fuzz_support import COUNTS, DEFECTS, TINY, record, report, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikeport.models.spec import load_spec

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", autouse=True)
def tally(tmp_path_factory):
    COUNTS.clear()
    DEFECTS.clear()
    yield
    report(tmp_path_factory.getbasetemp(), "spec")


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    return "\n".join(lines) + "\nschema: spikeport/1\n"


def _huge_population() -> str:
    # 10^6 x 10^6 float64 weights = 7.3 TiB (+ a bool mask): more than any test machine has
    return (TINY.replace("n: 64", "n: 1000000").replace("n: 12\n", "n: 1000000\n"))


def _write(path: Path, data) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


# case -> (file contents, words the error must name)
CASES = {
    "duplicate key": (TINY.replace("seed: 3\n", "seed: 3\nseed: 4\n"), ("duplicate key", "seed")),
    "alias bomb": (_alias_bomb(), ("expands",)),
    "deep nesting": ("x: " + "[" * 5000 + "]" * 5000 + "\n", ("nests",)),
    "non-UTF-8": (TINY.encode().replace(b"fuzz_tiny", b"fuzz_\xff\xfe"), ("UTF-8",)),
    "50 MB key": ("k" * (50 << 20) + ": 1\n", ("at most",)),
    "huge populations": (_huge_population(), ("TiB", "memory")),
    "10^11 steps per sample": (TINY.replace("sample_steps: 10", "sample_steps: 100000000000"),
                               ("TiB", "memory")),
    "rule a list": (TINY.replace("learning: {rule: supervised_stdp,", "learning: {rule: [],"),
                    ("rule",)),
    "top level list": ("- 1\n- 2\n", ("mapping",)),
    "no schema": (TINY.replace("schema: spikeport/1\n", ""), ("schema",)),
    "negative n": (TINY.replace("n: 12", "n: -12"), ("hidden", "n")),
    "string tau": (TINY.replace("tau_u: 5 ms", "tau_u: fast", 1), ("tau_u",)),
    "unit of another dimension": (TINY.replace("tau_u: 5 ms", "tau_u: 5 Hz", 1), ("tau_u",)),
    "nan threshold": (TINY.replace("threshold: 3", "threshold: .nan"), ("threshold",)),
    "unknown key": (TINY.replace("seed: 3", "seed: 3\nsedd: 4"), ("sedd",)),
    "empty file": ("", ("spec",)),
    "binary garbage": (bytes(range(256)) * 4, ("spec",)),
    "malformed yaml": ("a: [1, 2\n", ("line",)),
    "missing weight file": (TINY.replace("weights: {kind: uniform, low: -0.3, high: 0.6}",
                                         "weights: {kind: file, path: nowhere.npz}"),
                            ("nowhere.npz",)),
    "readout not a divisor": (TINY.replace("n_classes: 10", "n_classes: 3"), ("n_classes",)),
    "self-referencing alias": ("a: &a [*a]\n", ("spec",)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_corrupt_spec_is_one_clean_line(case, tmp_path):
    data, must = CASES[case]
    path = _write(tmp_path / "spec.yaml", data)
    kind, _, detail = run_cli("validate", path)
    assert record(case, kind, detail, "error", must) == "clean", detail


@pytest.mark.parametrize("case", ["fifo", "/dev/zero", "a folder"])
def test_special_files_are_refused_before_reading(case, tmp_path):
    if case == "fifo":
        path = tmp_path / "spec.yaml"
        os.mkfifo(path)               # reading it would block forever
        must = ("FIFO",)
    elif case == "/dev/zero":
        path, must = Path("/dev/zero"), ("device",)
    else:
        path, must = tmp_path, ("folder",)
    kind, _, detail = run_cli("validate", path)
    assert record(case, kind, detail, "error", must) == "clean", detail


def test_valid_spec_and_a_fair_weight_file_are_accepted(tmp_path):
    np.savez(tmp_path / "w.npz", w=np.full((64, 12), 0.1))
    spec = _write(tmp_path / "spec.yaml", TINY.replace(
        "weights: {kind: uniform, low: -0.3, high: 0.6}",
        "weights: {kind: file, path: w.npz, key: w}"))
    kind, _, detail = run_cli("validate", spec)
    assert record("valid spec", kind, detail, "ok") == "accepted", detail


# ---------------------------------------------------------------------------- hypothesis
# mutate one field of the tiny spec at a time into an arbitrary YAML value

def _paths(tree, prefix=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


BASE = yaml.safe_load(TINY)
PATHS = [p for p in _paths(BASE) if p != ("schema",)]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["5 ms", "100 Hz", "-1 s", "inf",
                                                          "1e400", "hidden", "pixels"]))
VALUES = st.recursive(SCALARS, lambda c: st.one_of(st.lists(c, max_size=3),
                                                     st.dictionaries(st.text(max_size=6), c,
                                                                     max_size=3)),
                      max_leaves=6)


def _set(tree, path, value):
    for k in path[:-1]:
        tree = tree[k]
    tree[path[-1]] = value


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), VALUES), min_size=1, max_size=3))
def test_mutated_specs_give_a_clean_error_or_a_spec_that_round_trips(mutations, tmp_path):
    import copy

    tree = copy.deepcopy(BASE)
    for path, value in mutations:
        try:
            _set(tree, path, value)
        except (KeyError, IndexError, TypeError):
            pass                      # an earlier mutation replaced the parent: skip
    spec = tmp_path / "mut.yaml"
    spec.write_text(yaml.safe_dump(tree, sort_keys=False))
    kind, _, detail = run_cli("validate", spec)
    if kind == "exit0":
        # accepted: the normalised spec it printed must load to the same network
        again = tmp_path / "again.yaml"
        from spikeport.models.spec import dump_spec
        again.write_text(dump_spec(load_spec(spec)))
        assert load_spec(again) == load_spec(spec)
        outcome = record("mutated spec", kind, detail, "ok")
    else:
        outcome = record(f"mutated spec {mutations!r}"[:200], kind, detail, "error",
                         (str(spec),))
    assert outcome != "defect", detail
