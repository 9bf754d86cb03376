"""NETtalk windows (a tiny file written here, then the shared corpus), sklearn digits, and the
registry's checks."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from spikeport.data import load_dataset
from spikeport.data.nettalk import word_split
from spikeport.errors import DataError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def find_word(split: str, length: int) -> str:
    """A made-up a-z word that the crc32 rule puts in ``split``."""
    for k in range(10_000):
        word = "".join("abcdefghijklmnopqrstuvwxyz"[(k * 7 + i * 3) % 26] for i in range(length))
        if word_split(word) == split:
            return word
    raise AssertionError("no word found")


def one_hot(window: str) -> np.ndarray:
    """189 features: 27·position + symbol, a..z = 0..25, '_' (blank) = 26."""
    v = np.zeros(189, np.float32)
    for pos, ch in enumerate(window):
        v[27 * pos + (26 if ch == "_" else ord(ch) - 97)] = 1.0
    return v


def test_nettalk_windows_tiny_file(tmp_path):
    path = tmp_path / "nettalk-dev.data"
    path.write_text("# comment line\n"
                    "word\tphonemes\tstress\tflag\n"     # header: lengths differ, skipped
                    "cat\tk@t\t1<>\t0\n"
                    "\n"
                    "ox\tak\t1<\t0\n"
                    "bad line without tabs\n"
                    "it's\tI-ts\t1<<<\t0\n")            # apostrophe: not a-z, skipped
    ds = load_dataset("nettalk", "all", data_dir=tmp_path)
    assert ds.meta["classes"] == ["@", "a", "k", "t"]  # sorted phoneme symbols
    assert ds.meta["skipped"]["count"] == 3
    assert ds.X.shape == (5, 189) and ds.n_classes == 4
    # hand-checked windows: 3 blanks pad each side of a word
    expected = ["___cat_", "__cat__", "_cat___", "___ox__", "__ox___"]
    for row, window in enumerate(expected):
        np.testing.assert_array_equal(ds.X[row], one_hot(window), err_msg=window)
    # targets: c→k, a→@, t→t, o→a, x→k
    assert ds.y.tolist() == [2, 0, 3, 1, 2]
    np.testing.assert_array_equal(ds.index, np.arange(5))


def test_nettalk_split_by_word(tmp_path):
    words = {s: find_word(s, 4) for s in ("train", "val", "test")}
    lines = "".join(f"{w}\t{'abcd'}\t0000\t0\n" for w in words.values())
    (tmp_path / "nettalk.data").write_text(lines)
    for split, word in words.items():
        ds = load_dataset("nettalk", split, data_dir=tmp_path / "nettalk.data")
        assert ds.meta["words"] == [word] and len(ds) == 4
        bucket = zlib.crc32(word.encode()) % 10  # the documented rule, computed here
        assert {8: "val", 9: "test"}.get(bucket, "train") == split


def test_nettalk_nothing_parses(tmp_path):
    (tmp_path / "nettalk-dev.data").write_text("just\ttext that does not align\n# x\n")
    with pytest.raises(DataError, match=r"nettalk: .*nettalk-dev.data: no line parses"):
        load_dataset("nettalk", "train", data_dir=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no nettalk-dev.data or nettalk.data"):
        load_dataset("nettalk", "train", data_dir=tmp_path / "empty")


def test_nettalk_shared_corpus():
    folder = SHARED / "data" / "nettalk"
    parts = {s: load_dataset("nettalk", s, data_dir=folder) for s in ("train", "val", "test")}
    words = {s: set(parts[s].meta["words"]) for s in parts}
    assert not words["train"] & words["val"] and not words["train"] & words["test"]
    assert not words["val"] & words["test"]
    n = sum(len(p) for p in parts.values())
    assert 0.75 < len(parts["train"]) / n < 0.85  # crc32 buckets 0-7 of 10
    for p in parts.values():
        assert p.X.shape[1] == 189 and p.meta["classes"] == parts["train"].meta["classes"]
        # each row is 7 one-hots
        assert (p.X[:200].reshape(-1, 7, 27).sum(axis=2) == 1).all()
    assert parts["train"].meta["skipped"]["count"] == 0


def test_digits_split():
    parts = {s: load_dataset("digits", s) for s in ("train", "val", "test", "all")}
    assert [len(parts[s]) for s in ("train", "val", "test", "all")] == [1078, 359, 360, 1797]
    ids = np.concatenate([parts[s].index for s in ("train", "val", "test")])
    assert sorted(ids) == list(range(1797))
    from sklearn.datasets import load_digits

    bunch = load_digits()
    ds = parts["test"]
    np.testing.assert_allclose(ds.X, bunch.data[ds.index] / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.y, bunch.target[ds.index])
    assert ds.X.dtype == np.float32 and ds.X.max() <= 1.0 and ds.n_classes == 10
    # the split is fixed: the same indices on every call
    np.testing.assert_array_equal(load_dataset("digits", "test").index, ds.index)


def test_registry_rejects_bad_names():
    with pytest.raises(DataError, match="dataset = 'cifar'; expected one of digits, mnist"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="split = 'dev'; expected one of train, val, test, all"):
        load_dataset("digits", "dev")
    with pytest.raises(DataError, match="unknown option.*scale; allowed: none"):
        load_dataset("digits", "train", scale=2)
