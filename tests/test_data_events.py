"""Event sets through tonic, on tiny files written here in each dataset's own on-disk format.

tonic's download functions are patched to fail: every load below reads local files only.
Expected frames are computed here from the events written, independently of the loader:
step = (t - t_first) // bin_us, feature = p·H·W + y·W + x (tonic's (P, H, W) frame order).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from spikeport.data import load_dataset
from spikeport.data.events import TEST_OFFSET
from spikeport.errors import DataError

tonic = pytest.importorskip("tonic")
h5py = pytest.importorskip("h5py")


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"tonic tried to download: {args} {kwargs}")

    import tonic.dataset
    import tonic.download_utils

    for mod in (tonic.dataset, tonic.download_utils):
        for name in ("download_and_extract_archive", "download_url"):
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, refuse)


# ----------------------------------------------------------------------------- N-MNIST
def nmnist_bytes(events) -> bytes:
    """N-MNIST's 40-bit records: x, y, then p in bit 7 and a 23-bit µs timestamp (big end)."""
    out = bytearray()
    for x, y, p, t in events:
        assert 0 <= t < 1 << 23
        out += bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def random_nmnist_events(rng, n):
    t = np.sort(rng.integers(0, 20_000, n))  # µs, within 20 ms
    return [(int(rng.integers(0, 34)), int(rng.integers(0, 34)), int(rng.integers(0, 2)),
             int(ti)) for ti in t]


@pytest.fixture(scope="module")
def nmnist_dir(tmp_path_factory):
    """NMNIST/Train/<digit>/*.bin (10 files) and NMNIST/Test/<digit>/*.bin (3 files)."""
    root = tmp_path_factory.mktemp("events")
    rng = np.random.default_rng(1)
    written = {"Train": [], "Test": []}
    for part, digits in (("Train", [0, 0, 1, 2, 3, 4, 5, 6, 7, 9]), ("Test", [8, 3, 3])):
        for k, d in enumerate(digits):
            folder = root / "NMNIST" / part / str(d)
            folder.mkdir(parents=True, exist_ok=True)
            ev = random_nmnist_events(rng, 40)
            path = folder / f"{k:05d}.bin"
            path.write_bytes(nmnist_bytes(ev))
            written[part].append((str(path), d, ev))
    # tonic lists files in path order: that is its index
    for part in written:
        written[part].sort(key=lambda item: item[0])
    return root, written


def expected_spikes(events, T, bin_us, n_feat, feature):
    out = np.zeros((T, n_feat), bool)
    t0 = min(e[-1] for e in events)
    for e in events:
        k = (e[-1] - t0) // bin_us
        if k < T:
            out[k, feature(e)] = True
    return out


def test_nmnist_frames_match_events(nmnist_dir):
    root, written = nmnist_dir
    T, bin_us = 8, 2000  # 16 ms of the 20 ms written: some events fall after the window
    ds = load_dataset("nmnist", "train", data_dir=root, as_spikes=True, T=T, bin_us=bin_us)
    val = load_dataset("nmnist", "val", data_dir=root)
    assert len(ds) == 9 and len(val) == 1  # val = ⌊10/10⌋ of the official training set
    assert set(ds.index) | set(val.index) == set(range(10))
    assert ds.spikes.shape == (9, T, 2312) and ds.spikes.dtype == bool
    assert ds.X.shape == (9, 2312) and ds.X.dtype == np.float32

    def feature(e):
        x, y, p, _ = e
        return p * 34 * 34 + y * 34 + x

    dropped = 0
    for row, i in enumerate(ds.index):
        path, digit, ev = written["Train"][i]
        assert ds.y[row] == digit
        want = expected_spikes(ev, T, bin_us, 2312, feature)
        np.testing.assert_array_equal(ds.spikes[row], want)
        t0 = ev[0][3]
        dropped += sum(e[3] - t0 >= T * bin_us for e in ev)
    assert ds.meta["events_dropped_after_window"] == dropped > 0


def test_nmnist_count_image_and_test_split(nmnist_dir):
    root, written = nmnist_dir
    ds = load_dataset("nmnist", "test", data_dir=root, merge_polarities=True)
    assert ds.X.shape == (3, 34 * 34)
    assert sorted(ds.index) == [TEST_OFFSET + k for k in range(3)]
    for row, idx in enumerate(ds.index):
        _, digit, ev = written["Test"][idx - TEST_OFFSET]
        counts = np.zeros(34 * 34)
        for x, y, _, _ in ev:
            counts[y * 34 + x] += 1
        np.testing.assert_allclose(ds.X[row], counts / counts.max(), rtol=1e-6)
        assert ds.y[row] == digit
    # max_samples takes the first samples of the split's fixed order
    two = load_dataset("nmnist", "test", data_dir=root, merge_polarities=True, max_samples=2)
    np.testing.assert_array_equal(two.index, ds.index[:2])
    # the same folder given as the dataset folder itself
    again = load_dataset("nmnist", "test", data_dir=root / "NMNIST", merge_polarities=True)
    np.testing.assert_array_equal(again.X, ds.X)


def test_nmnist_missing_files_name_the_folder(tmp_path):
    (tmp_path / "NMNIST" / "Train").mkdir(parents=True)
    with pytest.raises(DataError) as err:
        load_dataset("nmnist", "train", data_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "NMNIST") in msg and "Train" in msg and ".bin" in msg
    assert "never downloads" in msg and "\n" not in msg


# ----------------------------------------------------------------------------- DVSGesture
@pytest.fixture(scope="module")
def dvs_dir(tmp_path_factory):
    """DVSGesture/ibmGestureTrain/user<NN>_<lighting>/<class>.npy: (n, 4) x, y, p, t in ms."""
    root = tmp_path_factory.mktemp("dvs")
    rng = np.random.default_rng(2)
    written = []
    for user, lighting, label in ((1, "fluorescent", 3), (1, "fluorescent", 10),
                                  (2, "led", 0), (3, "natural", 7)):
        folder = root / "DVSGesture" / "ibmGestureTrain" / f"user{user:02d}_{lighting}"
        folder.mkdir(parents=True, exist_ok=True)
        n = 60
        ev = np.stack([rng.integers(0, 128, n), rng.integers(0, 128, n),
                       rng.integers(0, 2, n), np.sort(rng.integers(100, 130, n))], axis=1)
        path = folder / f"{label}.npy"
        np.save(path, ev.astype(np.int64))
        written.append((str(path), label, ev))
    written.sort(key=lambda item: item[0])
    return root, written


def test_dvsgesture_downsampled_merged_frames(dvs_dir):
    root, written = dvs_dir
    T = 20  # 1 ms bins (bin_us = dt = 1 ms): 20 of the 30 ms written
    train = load_dataset("dvsgesture", "train", data_dir=root, as_spikes=True, T=T, dt=1e-3)
    val = load_dataset("dvsgesture", "val", data_dir=root, as_spikes=True, T=T, dt=1e-3)
    assert train.spikes.shape == (4, T, 1024) and train.X.shape == (4, 1024)
    assert val.spikes.shape == (0, T, 1024)  # val = ⌊4/10⌋ = 0 samples
    for ds in (train, val):
        for row, i in enumerate(ds.index):
            _, label, ev = written[i]
            assert ds.y[row] == label
            want = np.zeros((T, 1024), bool)
            t0 = ev[:, 3].min()
            for x, y, _p, t in ev:
                # Downsample(spatial_factor=32/128) floors x·0.25; merged polarity
                if t - t0 < T:
                    want[t - t0, (y // 4) * 32 + x // 4] = True
            np.testing.assert_array_equal(ds.spikes[row], want)


def test_dvsgesture_two_polarities(dvs_dir):
    root, written = dvs_dir
    ds = load_dataset("dvsgesture", "train", data_dir=root, merge_polarities=False, size=16)
    assert ds.X.shape == (len(ds), 2 * 16 * 16)
    for row, i in enumerate(ds.index):
        ev = written[i][2]
        counts = np.zeros(2 * 16 * 16)
        for x, y, p, _ in ev:
            counts[p * 256 + (y // 8) * 16 + x // 8] += 1
        np.testing.assert_allclose(ds.X[row], counts / counts.max(), rtol=1e-6)


def test_dvsgesture_event_off_the_sensor(tmp_path):
    folder = tmp_path / "DVSGesture" / "ibmGestureTest" / "user05_led"
    folder.mkdir(parents=True)
    np.save(folder / "2.npy", np.array([[3, 4, 1, 10], [130, 4, 0, 11]]))
    with pytest.raises(DataError, match=r"user05_led/2.npy: sample 0 has x in \[3, 130\]; "
                                        r"expected 0..127"):
        load_dataset("dvsgesture", "test", data_dir=tmp_path)


def test_dvsgesture_missing_test_set(dvs_dir):
    root, _ = dvs_dir
    with pytest.raises(DataError, match=r"ibmGestureTest.*never downloads"):
        load_dataset("dvsgesture", "test", data_dir=root)


# ----------------------------------------------------------------------------- SHD
def write_shd(path, samples):
    """SHD's HDF5 layout: spikes/times (s, ragged), spikes/units (ragged), labels, extra/."""
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),),
                                 dtype=h5py.vlen_dtype(np.float32))
        units = f.create_dataset("spikes/units", (len(samples),),
                                 dtype=h5py.vlen_dtype(np.uint16))
        for k, (t, u, _) in enumerate(samples):
            times[k] = np.asarray(t, np.float32)
            units[k] = np.asarray(u, np.uint16)
        f.create_dataset("labels", data=np.array([s[2] for s in samples], np.uint8))
        f.create_dataset("extra/keys", data=np.array([f"word{k}".encode() for k in range(20)]))
        f.create_dataset("extra/speaker", data=np.zeros(len(samples), np.uint8))


def test_shd_spikes_match_events(tmp_path):
    rng = np.random.default_rng(3)
    samples = []
    for label in (4, 19, 0):
        n = 50
        # tonic converts float seconds to int µs by truncation (1.0 ms may become 999 µs), and
        # bins start at the first event: first event at 0.2 ms, the others at (k + 0.5) ms, so
        # each lies (k + 0.3) ms after the first, well inside bin k
        steps = np.sort(rng.integers(0, 12, n - 1))
        samples.append((np.concatenate([[0.2e-3], (steps + 0.5) * 1e-3]),
                        rng.integers(0, 700, n), label))
    (tmp_path / "SHD").mkdir()
    write_shd(tmp_path / "SHD" / "shd_train.h5", samples[:2])
    write_shd(tmp_path / "SHD" / "shd_test.h5", samples[2:])
    T = 10
    ds = load_dataset("shd", "all", data_dir=tmp_path, as_spikes=True, T=T)
    assert ds.spikes.shape == (3, T, 700)
    for row, idx in enumerate(ds.index):
        t, u, label = samples[idx if idx < TEST_OFFSET else 2 + idx - TEST_OFFSET]
        assert ds.y[row] == label
        step = np.floor((t - t.min()) * 1e3 + 1e-6).astype(int)  # relative to first spike
        want = np.zeros((T, 700), bool)
        keep = step < T
        want[step[keep], u[keep]] = True
        np.testing.assert_array_equal(ds.spikes[row], want)
        assert ds.meta["events_merged_in_bins"] >= 0


def test_shd_missing_file(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("shd", "test", data_dir=tmp_path)
    assert "shd_test.h5" in str(err.value) and str(tmp_path) in str(err.value)


# ----------------------------------------------------------------------------- options
def test_event_options_are_checked(nmnist_dir):
    root, _ = nmnist_dir
    with pytest.raises(DataError, match="as_spikes=True needs T"):
        load_dataset("nmnist", "train", data_dir=root, as_spikes=True)
    with pytest.raises(DataError, match="unknown option.*colour"):
        load_dataset("nmnist", "train", data_dir=root, colour=True)
    with pytest.raises(DataError, match=r"size = 200"):
        load_dataset("dvsgesture", "train", data_dir=root, size=200)


def test_without_tonic_says_how_to_install(monkeypatch, nmnist_dir):
    root, _ = nmnist_dir
    monkeypatch.setitem(sys.modules, "tonic", None)  # import tonic → ImportError
    with pytest.raises(DataError, match=r"pip install spikeport\[events\]"):
        load_dataset("nmnist", "train", data_dir=root)
