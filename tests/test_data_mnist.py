"""MNIST IDX loader: the shared 8,000-image files, and broken files written here."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from spikeport.data import load_dataset
from spikeport.data.mnist import read_idx_images
from spikeport.errors import DataError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MNIST = SHARED / "data" / "mnist"


@pytest.fixture(scope="module")
def raw():
    """The shared files decoded here, independently of the loader (IDX: big-endian header)."""
    if not MNIST.is_dir():
        pytest.fail(f"{MNIST} is missing: the tests run with ../shared beside the clone")
    images = gzip.open(MNIST / "mnist8k-images-idx3-ubyte.gz").read()
    labels = gzip.open(MNIST / "mnist8k-labels-idx1-ubyte.gz").read()
    return images, labels


def idx_images(pixels: np.ndarray, magic: int = 2051) -> bytes:
    n, r, c = pixels.shape
    return struct.pack(">IIII", magic, n, r, c) + pixels.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray, magic: int = 2049) -> bytes:
    return struct.pack(">II", magic, len(labels)) + np.asarray(labels, np.uint8).tobytes()


def test_shared_mnist_splits(raw, monkeypatch):
    monkeypatch.delenv("SPIKEPORT_MNIST_DIR", raising=False)
    images, labels = raw
    n = struct.unpack(">I", images[4:8])[0]
    assert n == 8000
    pix = np.frombuffer(images[16:], np.uint8).reshape(8000, 784)
    lab = np.frombuffer(labels[8:], np.uint8)
    sizes = {"train": 5000, "val": 1000, "test": 2000, "all": 8000}
    start = {"train": 0, "val": 5000, "test": 6000, "all": 0}
    for split, size in sizes.items():
        ds = load_dataset("mnist", split)  # default folder: ../shared/data/mnist
        assert ds.X.shape == (size, 784) and ds.X.dtype == np.float32
        assert ds.y.dtype == np.int64 and ds.n_classes == 10
        assert 0 <= ds.y.min() and ds.y.max() <= 9
        assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0
        s = start[split]
        np.testing.assert_array_equal(ds.index, np.arange(s, s + size))
        np.testing.assert_array_equal(ds.y, lab[s:s + size])
        # pixels / 255, first and last sample of the split
        for k in (0, size - 1):
            np.testing.assert_allclose(ds.X[k], pix[s + k] / 255.0, rtol=1e-6)
    assert set(np.unique(load_dataset("mnist", "test").y)) == set(range(10))


def test_truncated_gz_names_the_file(tmp_path, raw):
    images, labels = raw
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(images[:1250])  # header says 8000 images; 1234 bytes of pixels follow
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "train", data_dir=tmp_path)
    assert str(err.value) == (
        f"mnist: {tmp_path / 't10k-images-idx3-ubyte.gz'}: truncated: header says 8000 images "
        "of 28x28 (6272000 bytes) but file has 1234 bytes of pixels")


def test_cut_gzip_stream_names_the_file(tmp_path, raw):
    images, labels = raw
    gz = gzip.compress(images[:20000])
    (tmp_path / "x-images-idx3-ubyte.gz").write_bytes(gz[: len(gz) // 2])
    (tmp_path / "x-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(DataError, match=r"x-images-idx3-ubyte\.gz: truncated gzip stream"):
        load_dataset("mnist", "train", data_dir=tmp_path)


def test_wrong_magic_names_the_file(tmp_path):
    pix = np.zeros((10, 28, 28), np.uint8)
    lab = np.arange(10)
    # a label file saved under an image file's name: magic 2049, not 2051
    (tmp_path / "a-images-idx3-ubyte").write_bytes(idx_labels(lab))
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_labels(lab))
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "train", data_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "a-images-idx3-ubyte") in msg
    assert "magic number 2049" in msg and "expected 2051" in msg
    (tmp_path / "a-images-idx3-ubyte").write_bytes(idx_images(pix))
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_images(pix))
    with pytest.raises(DataError, match=r"a-labels-idx1-ubyte: magic number 2051 .*expected 2049"):
        load_dataset("mnist", "train", data_dir=tmp_path)


def test_raw_files_and_proportional_split(tmp_path, raw):
    images, labels = raw
    n = 80  # train ⌊80·5/8⌋ = 50, val ⌊80/8⌋ = 10, test the last 20
    pix = np.frombuffer(images[16:16 + n * 784], np.uint8).reshape(n, 28, 28)
    lab = np.frombuffer(labels[8:8 + n], np.uint8)
    (tmp_path / "small-images-idx3-ubyte").write_bytes(idx_images(pix))
    (tmp_path / "small-labels-idx1-ubyte").write_bytes(idx_labels(lab))
    got = {s: load_dataset("mnist", s, data_dir=tmp_path) for s in ("train", "val", "test")}
    assert [len(got[s]) for s in ("train", "val", "test")] == [50, 10, 20]
    np.testing.assert_array_equal(got["val"].y, lab[50:60])
    np.testing.assert_allclose(got["test"].X, pix[60:].reshape(20, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(read_idx_images(tmp_path / "small-images-idx3-ubyte"), pix)


def test_official_train_and_t10k_pairs(tmp_path):
    rng = np.random.default_rng(0)
    tr_pix = rng.integers(0, 256, (12, 28, 28))
    tr_lab = rng.integers(0, 10, 12)
    te_pix = rng.integers(0, 256, (3, 28, 28))
    te_lab = rng.integers(0, 10, 3)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_images(tr_pix)))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_labels(tr_lab)))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_images(te_pix))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_labels(te_lab))
    train = load_dataset("mnist", "train", data_dir=tmp_path)
    val = load_dataset("mnist", "val", data_dir=tmp_path)
    test = load_dataset("mnist", "test", data_dir=tmp_path)
    # train = first ⌊12·5/6⌋ = 10 of train-*, val = the last 2, test = t10k-*
    np.testing.assert_array_equal(train.y, tr_lab[:10])
    np.testing.assert_array_equal(val.y, tr_lab[10:])
    np.testing.assert_array_equal(test.y, te_lab)
    np.testing.assert_array_equal(test.index, [12, 13, 14])


def test_folder_problems_are_one_line_errors(tmp_path, raw, monkeypatch):
    images, labels = raw
    with pytest.raises(DataError, match="no such folder"):
        load_dataset("mnist", "train", data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"no \*-images-idx3-ubyte"):
        load_dataset("mnist", "train", data_dir=tmp_path)
    pix = np.zeros((8, 28, 28))
    (tmp_path / "a-images-idx3-ubyte").write_bytes(idx_images(pix))
    with pytest.raises(DataError, match=r"a-images-idx3-ubyte has no label file \(expected "
                                        r"a-labels-idx1-ubyte\)"):
        load_dataset("mnist", "train", data_dir=tmp_path)
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_labels(np.arange(7)))
    with pytest.raises(DataError, match="holds 8 images but .* holds 7 labels"):
        load_dataset("mnist", "train", data_dir=tmp_path)
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_labels([0, 1, 2, 3, 12, 5, 6, 7]))
    with pytest.raises(DataError, match="label 12 at position 4; expected 0..9"):
        load_dataset("mnist", "train", data_dir=tmp_path)
    (tmp_path / "a-labels-idx1-ubyte").write_bytes(idx_labels(np.arange(8)))
    (tmp_path / "b-images-idx3-ubyte").write_bytes(idx_images(pix))
    (tmp_path / "b-labels-idx1-ubyte").write_bytes(idx_labels(np.arange(8)))
    with pytest.raises(DataError, match=r"ambiguous: several image/label pairs \(a, b\)"):
        load_dataset("mnist", "train", data_dir=tmp_path)
    (tmp_path / "b-images-idx3-ubyte").unlink()
    (tmp_path / "b-labels-idx1-ubyte").unlink()
    # the environment variable is the default folder
    monkeypatch.setenv("SPIKEPORT_MNIST_DIR", str(tmp_path))
    assert len(load_dataset("mnist", "all")) == 8
