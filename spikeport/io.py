"""Atomic file output: a failed or interrupted run never leaves a half-written artefact.

Every writer goes to a temporary file in the destination folder, then ``os.replace`` swaps it
in (atomic on POSIX), so earlier artefacts survive a crash intact.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from spikeport.errors import DataError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default)
                      + "\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_json"):          # flow records (OpCounts) write their own JSON form
        return obj.to_json()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def atomic_savez(path: Path, **arrays) -> None:
    """``np.savez_compressed`` through a temporary file; object arrays are refused."""
    for key, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise DataError(f"{path}: array {key!r} has dtype object, which spikeport never "
                            "writes (it would need pickle to read)")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` without pickle; a bad file is a DataError naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except ValueError as exc:
        raise DataError(f"{path}: cannot read without pickle ({exc}); spikeport reads only "
                        "plain numeric arrays") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise DataError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") \
            from None


def read_yaml(path: str | Path, what: str):
    """A YAML file's data (``yaml.safe_load``); a one-line SpecError naming the file and, for
    malformed YAML, the line and column. ``what`` names the file's kind (e.g. ``"spec"``)."""
    import yaml

    from spikeport.errors import SpecError

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read {what}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}: malformed YAML{at}: {problem}") from None
