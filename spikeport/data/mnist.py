"""MNIST from IDX files (LeCun's format), gzipped or raw: 784 features, 10 classes.

Files: a folder holding image/label pairs named like the official ones,
``<prefix>-images-idx3-ubyte[.gz]`` and ``<prefix>-labels-idx1-ubyte[.gz]`` (``.idx3`` with a
dot, as some mirrors spell it, is accepted too). Every header is checked: magic number 2051
(``0x00000803``) for images and 2049 (``0x00000801``) for labels, the counts of the two files
agree, and the byte count matches the header exactly (a truncated or padded file is an error
naming the file). Labels must be 0..9. ``X = pixels / 255``.

Folder (``data_dir``): given, else the ``SPIKEPORT_MNIST_DIR`` environment variable, else
``../shared/data/mnist`` beside the repository root if it exists, else an error asking for
``--data-dir``.

Splits (fixed, independent of any spec seed):

* **One pair** in the folder (e.g. ``mnist8k-*``, the first 8,000 official test images):
  contiguous blocks in file order, train = first ⌊5n/8⌋, val = next ⌊n/8⌋, test = the rest.
  For the 8,000-image file: the first 5,000 train, the next 1,000 validate, the last 2,000
  test. ``Dataset.index`` is the position in the file.
* **The official pair of pairs** ``train-*`` (60,000) and ``t10k-*`` (10,000): train = the
  first ⌊5n/6⌋ of the training file (50,000), val = the rest of it (10,000), test = the t10k
  file. ``index``: position in the training file, or 60,000 + position in the t10k file.
* Any other set of pairs is ambiguous: keep one pair (or the official two) in the folder.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

from spikeport.data.base import Dataset, check_split, default_data_dir, make_dataset, split_slices
from spikeport.errors import DataError
from spikeport.io import check_memory, check_regular_file

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
N_CLASSES = 10
ENV_VAR = "SPIKEPORT_MNIST_DIR"

_IMAGES_RE = re.compile(r"^(?P<prefix>.+)-images[-.]idx3-ubyte(?P<gz>\.gz)?$")


#: largest IDX file read (MNIST's training images are 47 MB; EMNIST's largest ~700 MB)
MAX_IDX_BYTES = 2 << 30


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if its name ends in .gz (at most :data:`MAX_IDX_BYTES`, a
    regular file: a FIFO or device is refused before it is opened)."""

    check_regular_file(path, "MNIST IDX file", MAX_IDX_BYTES)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read(MAX_IDX_BYTES + 1)
            if len(data) > MAX_IDX_BYTES:
                check_memory(1 << 62, f"mnist: {path}: decompressed beyond {MAX_IDX_BYTES} bytes;"
                             " it")
            return data
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"mnist: {path}: no such file") from None
    except EOFError:
        raise DataError(f"mnist: {path}: truncated gzip stream (the compressed file ends "
                        "before its end-of-stream marker)") from None
    except (OSError, zlib.error) as exc:
        kind = "gzip file" if path.suffix == ".gz" else "file"
        raise DataError(f"mnist: {path}: not a readable {kind} ({exc})") from None


def _magic_name(magic: int) -> str:
    if magic >> 16 == 0x1F8B:
        return "gzip data in a file not named .gz"
    return {IMAGES_MAGIC: "an idx3 image file", LABELS_MAGIC: "an idx1 label file"}.get(
        magic, "not an MNIST IDX file")


def read_idx_images(path: str | Path) -> np.ndarray:
    """The images of an idx3 file as uint8 (n, rows, cols), every header field checked."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 16:
        raise DataError(f"mnist: {path}: truncated: {len(data)} bytes, shorter than the 16-byte "
                        "idx3 header")
    magic, n, rows, cols = (int(v) for v in np.frombuffer(data, ">u4", count=4))
    if magic != IMAGES_MAGIC:
        raise DataError(f"mnist: {path}: magic number {magic} (0x{magic:08x}, "
                        f"{_magic_name(magic)}); expected {IMAGES_MAGIC} (0x{IMAGES_MAGIC:08x}) "
                        "for an idx3 image file")
    if n < 1:
        raise DataError(f"mnist: {path}: header says {n} images; expected at least one")
    if rows < 1 or cols < 1:
        raise DataError(f"mnist: {path}: header says images of {rows}x{cols}; expected "
                        "rows >= 1 and cols >= 1")
    expected = n * rows * cols
    have = len(data) - 16
    if have < expected:
        raise DataError(f"mnist: {path}: truncated: header says {n} images of {rows}x{cols} "
                        f"({expected} bytes) but file has {have} bytes of pixels")
    if have > expected:
        raise DataError(f"mnist: {path}: {have - expected} bytes after the last image: header "
                        f"says {n} images of {rows}x{cols} ({expected} bytes), file has {have}")
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)


def read_idx_labels(path: str | Path) -> np.ndarray:
    """The labels of an idx1 file as uint8 (n,), header checked, values in 0..9."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 8:
        raise DataError(f"mnist: {path}: truncated: {len(data)} bytes, shorter than the 8-byte "
                        "idx1 header")
    magic, n = (int(v) for v in np.frombuffer(data, ">u4", count=2))
    if magic != LABELS_MAGIC:
        raise DataError(f"mnist: {path}: magic number {magic} (0x{magic:08x}, "
                        f"{_magic_name(magic)}); expected {LABELS_MAGIC} (0x{LABELS_MAGIC:08x}) "
                        "for an idx1 label file")
    if n < 1:
        raise DataError(f"mnist: {path}: header says {n} labels; expected at least one")
    have = len(data) - 8
    if have < n:
        raise DataError(f"mnist: {path}: truncated: header says {n} labels but file has {have}")
    if have > n:
        raise DataError(f"mnist: {path}: {have - n} bytes after the last label: header says "
                        f"{n} labels, file has {have}")
    labels = np.frombuffer(data, np.uint8, offset=8)
    bad = np.flatnonzero(labels >= N_CLASSES)
    if bad.size:
        raise DataError(f"mnist: {path}: label {int(labels[bad[0]])} at position {int(bad[0])}; "
                        f"expected 0..{N_CLASSES - 1}")
    return labels


def find_idx_pairs(folder: str | Path) -> dict[str, tuple[Path, Path]]:
    """``{prefix: (images, labels)}`` for every image file in ``folder`` and its label file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"mnist: {folder}: no such folder (pass --data-dir DIR holding "
                        "*-images-idx3-ubyte[.gz] and *-labels-idx1-ubyte[.gz])")
    images: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        m = _IMAGES_RE.match(p.name)
        if m and p.is_file():
            images.setdefault(m["prefix"], []).append(p)
    if not images:
        raise DataError(f"mnist: {folder}: no *-images-idx3-ubyte[.gz] file in this folder")
    pairs = {}
    for prefix, found in images.items():
        if len(found) > 1:
            raise DataError(f"mnist: {folder}: ambiguous: {', '.join(p.name for p in found)} "
                            "hold the same images; keep one")
        img = found[0]
        sep = img.name[len(prefix) + len("-images")]
        gz = ".gz" if img.name.endswith(".gz") else ""
        expected = f"{prefix}-labels{sep}idx1-ubyte{gz}"
        labels = [folder / f"{prefix}-labels{s}idx1-ubyte{z}" for s in "-." for z in ("", ".gz")]
        labels = [p for p in labels if p.is_file()]
        if not labels:
            raise DataError(f"mnist: {folder}: {img.name} has no label file (expected "
                            f"{expected})")
        if len(labels) > 1:
            raise DataError(f"mnist: {folder}: ambiguous: {', '.join(p.name for p in labels)} "
                            f"all label {img.name}; keep one")
        pairs[prefix] = (img, labels[0])
    return pairs


def _read_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx_images(images)
    y = read_idx_labels(labels)
    if len(x) != len(y):
        raise DataError(f"mnist: {images} holds {len(x)} images but {labels} holds {len(y)} "
                        "labels; expected the same count")
    return x, y


def load_mnist(split: str = "train", data_dir: str | Path | None = None) -> Dataset:
    """One split of MNIST from IDX files (splits and folder rules: see the module docstring)."""
    check_split("mnist", split)
    folder = Path(data_dir) if data_dir is not None else default_data_dir(
        "mnist", ENV_VAR, "mnist")
    pairs = find_idx_pairs(folder)
    meta: dict = {"folder": str(folder)}
    if len(pairs) == 1:
        (prefix, (img, lab)), = pairs.items()
        x, y = _read_pair(img, lab)
        sl = split_slices(len(y), (5, 1, 2))[split]
        idx = np.arange(len(y))[sl]
        meta.update(files=[str(img), str(lab)],
                    split_rule="file order: train first 5/8, val next 1/8, test last 2/8")
        x, y = x[sl], y[sl]
    elif set(pairs) == {"train", "t10k"}:
        parts_x, parts_y, parts_i, files = [], [], [], []
        n_train_file = None
        if split in ("train", "val", "all"):
            img, lab = pairs["train"]
            x, y = _read_pair(img, lab)
            n_train_file = len(y)
            keep = split_slices(len(y), (5, 1, 0))[split]
            parts_x.append(x[keep]), parts_y.append(y[keep])
            parts_i.append(np.arange(len(y))[keep])
            files += [str(img), str(lab)]
        if split in ("test", "all"):
            img, lab = pairs["t10k"]
            if n_train_file is None:
                n_train_file = _count_header(pairs["train"][1])
            x, y = _read_pair(img, lab)
            parts_x.append(x), parts_y.append(y)
            parts_i.append(n_train_file + np.arange(len(y)))
            files += [str(img), str(lab)]
        x, y, idx = np.concatenate(parts_x), np.concatenate(parts_y), np.concatenate(parts_i)
        meta.update(files=files, split_rule="official: train = first 5/6 of train-*, val = "
                    "last 1/6 of train-*, test = t10k-*")
    else:
        raise DataError(f"mnist: {folder}: ambiguous: several image/label pairs "
                        f"({', '.join(sorted(pairs))}); keep one pair (or exactly the official "
                        "train-* and t10k-* pairs) in the folder")
    meta["image_shape"] = tuple(int(d) for d in x.shape[1:])
    X = x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0)
    return make_dataset("mnist", X, y, N_CLASSES, split, meta, idx)


def _count_header(labels: Path) -> int:
    """The label count in an idx1 header (to number t10k samples after the training file)."""
    return len(read_idx_labels(labels))
