"""NETtalk (Sejnowski & Rosenberg 1987): letters in context → the phoneme of the centre letter.

File format (``nettalk-dev.data``, the UCI corpus as tab-separated lines): ``word``, the
phoneme string, the stress string, a flag. The phoneme string aligns letter by letter with
the word (``-`` is a silent letter). Blank lines and lines starting with ``#`` are skipped;
so is any other line that does not parse (fewer than two tab-separated fields, a word with a
character outside a-z, phoneme and word of different lengths): their count and the first few
line numbers are in ``meta["skipped"]``, and a file where nothing parses is a DataError.

Samples: one per letter of every word. Input: the 7-letter window centred on the letter,
positions -3..+3, each a one-hot over 27 symbols (``a``..``z`` = 0..25, 26 = blank, used
beyond the word's ends), so 7 × 27 = 189 features, feature ``27·p + s`` for window position
``p`` (0 = three letters left) and symbol ``s``. Words are lower-cased. Target: the class
index of the centre letter's phoneme in ``meta["classes"]``, the sorted list of every
phoneme symbol in the file (all splits, so indices agree between splits). Another file may
hold other phonemes, so these indices are the file's own: a trained network stores the class
list it learned (``classes.json``) and the commands that score it re-index a file's labels
through that list (:func:`spikeport.data.base.map_classes`).

Split (fixed, by word, so no word's letters sit in two splits): bucket =
``zlib.crc32(word) % 10``; buckets 0-7 train, 8 val, 9 test (about 80/10/10 of the words).
A word keeps its split whatever else is in the file. ``Dataset.index`` is the sample's
position among all letters of the parsed words (in file order); ``meta["words"]`` lists the
split's words and ``meta["word"]`` gives each sample's word as an index into that list.

Folder (``data_dir``): a folder holding ``nettalk-dev.data`` (or ``nettalk.data``), or the
file itself; default ``SPIKEPORT_NETTALK_DIR``, else ``../shared/data/nettalk``.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from spikeport.data.base import Dataset, check_split, default_data_dir, make_dataset
from spikeport.errors import DataError

WINDOW = 7
HALF = WINDOW // 2
N_SYMBOLS = 27
BLANK = 26
N_FEATURES = WINDOW * N_SYMBOLS  # 189
FILE_NAMES = ("nettalk-dev.data", "nettalk.data")
ENV_VAR = "SPIKEPORT_NETTALK_DIR"
_SPLIT_OF_BUCKET = ("train",) * 8 + ("val", "test")


def word_split(word: str) -> str:
    """The split a word belongs to: ``crc32(word) % 10`` → 0-7 train, 8 val, 9 test."""
    return _SPLIT_OF_BUCKET[zlib.crc32(word.encode("ascii")) % 10]


def parse_nettalk(path: str | Path) -> tuple[list[str], list[str], dict]:
    """The (words, phoneme strings) of a NETtalk file and a report of skipped lines."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise DataError(f"nettalk: {path}: no such file") from None
    except OSError as exc:
        raise DataError(f"nettalk: {path}: cannot read ({exc})") from None
    words, phons, skipped = [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        word = fields[0].strip().lower()
        phon = fields[1].strip() if len(fields) > 1 else ""
        if (len(fields) < 2 or not word or not word.isascii() or not word.isalpha()
                or len(phon) != len(word)):
            skipped.append(lineno)
            continue
        words.append(word)
        phons.append(phon)
    report = {"count": len(skipped), "first_lines": skipped[:10]}
    if not words:
        raise DataError(f"nettalk: {path}: no line parses as 'word<TAB>phonemes<TAB>stress"
                        f"<TAB>flag' with a-z words and phonemes aligned letter by letter "
                        f"({len(skipped)} lines skipped, first at line "
                        f"{skipped[0] if skipped else '-'})")
    return words, phons, report


def window_features(words: list[str]) -> np.ndarray:
    """One-hot 7-letter windows, float32 (total letters, 189), one row per letter."""
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    total = int(lengths.sum())
    # symbol codes of every word, padded with HALF blanks on both sides, concatenated
    codes = np.concatenate([np.concatenate([np.full(HALF, BLANK, np.int64),
                                            np.frombuffer(w.encode("ascii"), np.uint8) - 97,
                                            np.full(HALF, BLANK, np.int64)]) for w in words])
    # position of each letter in the padded concatenation: word w starts at offset
    # sum(len + 2·HALF of the words before it) + HALF
    starts = np.concatenate([[0], np.cumsum(lengths + 2 * HALF)[:-1]]) + HALF
    centre = np.repeat(starts, lengths) + (np.arange(total) - np.repeat(
        np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths))
    X = np.zeros((total, N_FEATURES), np.float32)
    rows = np.arange(total)
    for p in range(WINDOW):
        X[rows, p * N_SYMBOLS + codes[centre + p - HALF]] = 1.0
    return X


def _resolve(data_dir) -> Path:
    base = Path(data_dir) if data_dir is not None else default_data_dir(
        "nettalk", ENV_VAR, "nettalk")
    if base.is_file():
        return base
    if not base.is_dir():
        raise DataError(f"nettalk: {base}: no such file or folder (pass --data-dir DIR "
                        f"holding {FILE_NAMES[0]})")
    for name in FILE_NAMES:
        if (base / name).is_file():
            return base / name
    raise DataError(f"nettalk: {base}: no {' or '.join(FILE_NAMES)} in this folder")


def nettalk_classes(data_dir: str | Path | None = None) -> list[str]:
    """The sorted phoneme symbols of a NETtalk file (all splits): its class list."""
    _, phons, _ = parse_nettalk(_resolve(data_dir))
    return sorted(set("".join(phons)))


def load_nettalk(split: str = "train", data_dir: str | Path | None = None) -> Dataset:
    """One split of NETtalk as windows (format, features and split: the module docstring)."""
    check_split("nettalk", split)
    path = _resolve(data_dir)
    words, phons, skipped = parse_nettalk(path)
    classes = sorted(set("".join(phons)))
    lookup = {c: i for i, c in enumerate(classes)}
    keep_word = np.array([split == "all" or word_split(w) == split for w in words])
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sel_words = [w for w, k in zip(words, keep_word) if k]
    X = window_features(sel_words) if sel_words else np.zeros((0, N_FEATURES), np.float32)
    y = np.fromiter((lookup[c] for p, k in zip(phons, keep_word) if k for c in p), np.int64)
    word_no = np.flatnonzero(keep_word)
    index = np.concatenate([first[w] + np.arange(lengths[w]) for w in word_no]) \
        if word_no.size else np.zeros(0, np.int64)
    meta = {"file": str(path), "classes": classes, "symbols": "abcdefghijklmnopqrstuvwxyz_",
            "window": WINDOW, "feature": "27*position + symbol (26 = blank)",
            "split_rule": "crc32(word) % 10: 0-7 train, 8 val, 9 test",
            "skipped": skipped, "words": sel_words,
            "word": np.repeat(np.arange(len(sel_words)), lengths[word_no])}
    return make_dataset("nettalk", X, y, len(classes), split, meta, index)
