"""Spike files: round trips (dense and sparse), atomic writes, no pickle."""

from __future__ import annotations

import numpy as np
import pytest

from spikeport.data import load_spikes, save_spikes
from spikeport.errors import DataError


@pytest.fixture
def spikes():
    return np.random.default_rng(0).random((3, 20, 7)) < 0.1


@pytest.mark.parametrize("sparse", [False, True])
def test_round_trip(tmp_path, spikes, sparse):
    path = save_spikes(tmp_path / "in.npz", spikes, labels=[2, 0, 1], sample_ids=[10, 11, 12],
                       sparse=sparse)
    got = load_spikes(path)
    assert got.spikes.dtype == bool
    np.testing.assert_array_equal(got.spikes, spikes)
    assert got.labels.tolist() == [2, 0, 1] and got.sample_ids.tolist() == [10, 11, 12]
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == ({"spikes_shape", "spikes_index"} if sparse else {"spikes"}) | {
            "labels", "sample_ids"}
    assert [p.name for p in tmp_path.iterdir()] == ["in.npz"]  # no temporary file left


def test_plain_user_file_and_other_key(tmp_path, spikes):
    # a file a user writes with numpy alone: 0/1 integers, no labels
    np.savez(tmp_path / "mine.npz", spikes=spikes.astype(np.uint8))
    got = load_spikes(tmp_path / "mine.npz")
    np.testing.assert_array_equal(got.spikes, spikes)
    assert got.labels is None and got.sample_ids is None
    np.savez(tmp_path / "run.npz", **{"input/pixels": spikes, "labels": np.arange(3)})
    np.testing.assert_array_equal(load_spikes(tmp_path / "run.npz", key="input/pixels").spikes,
                                  spikes)


def test_object_array_is_refused(tmp_path):
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = [1, 2], "x"
    np.savez(tmp_path / "evil.npz", spikes=obj)  # numpy pickles object arrays
    with pytest.raises(DataError, match=r"evil.npz: cannot read without pickle"):
        load_spikes(tmp_path / "evil.npz")
    # and never written: an object array is not spikes
    with pytest.raises(DataError, match="out.npz: spikes: dtype object; expected bool"):
        save_spikes(tmp_path / "out.npz", obj.reshape(1, 1, 2))
    assert not (tmp_path / "out.npz").exists()


def test_bad_files_are_named(tmp_path, spikes):
    path = tmp_path / "x.npz"
    np.savez(path, spikes=spikes.astype(float))
    with pytest.raises(DataError, match=r"x.npz: spikes: dtype float64; expected bool"):
        load_spikes(path)
    np.savez(path, spikes=spikes[0])
    with pytest.raises(DataError, match=r"shape \(20, 7\); expected 3 dimensions"):
        load_spikes(path)
    np.savez(path, spikes=spikes, labels=np.arange(2))
    with pytest.raises(DataError, match=r"labels: shape \(2,\) dtype int64; expected 3"):
        load_spikes(path)
    np.savez(path, other=spikes)
    with pytest.raises(DataError, match=r"no array 'spikes'.*holds other"):
        load_spikes(path)
    np.savez(path, spikes_shape=np.array([1, 2, 3]), spikes_index=np.array([0, 6]))
    with pytest.raises(DataError, match=r"spikes_index: values in \[0, 6\]; expected \[0, 6\)"):
        load_spikes(path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="junk.npz"):
        load_spikes(tmp_path / "junk.npz")
    with pytest.raises(DataError, match="no such file"):
        load_spikes(tmp_path / "absent.npz")


def test_failed_write_keeps_the_old_file(tmp_path, spikes):
    path = save_spikes(tmp_path / "in.npz", spikes)
    before = path.read_bytes()
    with pytest.raises(DataError, match="integer values in"):
        save_spikes(path, spikes.astype(np.int64) * 2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["in.npz"]
