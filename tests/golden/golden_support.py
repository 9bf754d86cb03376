"""Helpers of the golden-format suite (tests/golden/README.md says what is locked and why).

* :func:`check` compares a produced text with its golden file, or rewrites the golden file
  when ``SPIKEPORT_UPDATE_GOLDEN=1``.
* :func:`normalise_help` removes the known differences between Python versions' argparse
  output, so one golden help text per command passes on Python 3.11 and 3.13.
* :func:`skeleton` turns a JSON document into its golden form: every field name, nested, with
  the value's type, plus the value itself where it is deterministic (see :data:`VOLATILE`).
* :func:`describe_folder` is the golden form of a folder a command wrote: file names, JSON
  skeletons, array names/dtypes/shapes (+ counts of integer arrays), Markdown headings,
  HDF5 (NIR) structure.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.metadata
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"
UPDATE = os.environ.get("SPIKEPORT_UPDATE_GOLDEN") == "1"
COLUMNS = "100"   # terminal width every help text is rendered at
FLOAT_DIGITS = 6  # significant digits a locked float is compared at


# ----------------------------------------------------------------------------- entry point

@functools.cache
def spikeport_main():
    """The installed console script ``spikeport`` (what users run), whichever module it
    points at after a restructure; the in-tree ``spikeport.cli.main`` if not installed.
    (No conftest.py here: a second ``conftest`` module would shadow ``tests/conftest.py``,
    which other test modules import by that name.)"""
    for ep in importlib.metadata.entry_points(group="console_scripts"):
        if ep.name == "spikeport":
            return ep.load()
    from spikeport.cli import main

    return main


# --------------------------------------------------------------------------- golden files

def check(name: str, actual: str, normalise=None) -> None:
    """Compare ``actual`` with ``data/<name>`` (after ``normalise`` of both sides, if given);
    with SPIKEPORT_UPDATE_GOLDEN=1 write ``actual`` there instead."""
    path = DATA / name
    if UPDATE:
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        same = old is not None and (old == actual if normalise is None
                                    else normalise(old) == normalise(actual))
        if not same:  # (a help golden is not rewritten only because another Python wrote it)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        return
    if not path.is_file():
        pytest.fail(f"golden file {path} is missing; create it deliberately with "
                    "SPIKEPORT_UPDATE_GOLDEN=1 pytest tests/golden (see tests/golden/README.md)")
    expected = path.read_text(encoding="utf-8")
    if normalise is not None:
        actual, expected = normalise(actual), normalise(expected)
    assert actual == expected, f"output differs from golden file {path}"


def check_json(name: str, obj) -> None:
    """:func:`check` for a JSON-able golden form (compared as data, not as text)."""
    text = json.dumps(obj, indent=1, ensure_ascii=False) + "\n"
    path = DATA / name
    if UPDATE or not path.is_file():
        check(name, text)
        return
    expected = json.loads(path.read_text(encoding="utf-8"))
    actual = json.loads(text)
    if actual != expected:
        diffs = "\n".join(list(differences(expected, actual))[:30])
        pytest.fail(f"output differs from golden file {path} (golden -> now):\n{diffs}")


def differences(expected, actual, path: str = ""):
    """Paths where two golden forms differ, one line each."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected:
            if k not in actual:
                yield f"{path}.{k}: field gone"
            else:
                yield from differences(expected[k], actual[k], f"{path}.{k}")
        for k in actual:
            if k not in expected:
                yield f"{path}.{k}: new field"
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from differences(e, a, f"{path}[{i}]")
    elif expected != actual:
        yield f"{path}: {json.dumps(expected)[:200]} -> {json.dumps(actual)[:200]}"


# ------------------------------------------------------------------------------ help texts

# Python 3.13's argparse writes "-o, --out DIR" where 3.11 writes "-o DIR, --out DIR".
_SHORT_LONG = re.compile(r"^(-\w) (\S+), (--[\w-]+) \2$")


def normalise_help(text: str) -> str:
    """The help text with what differs between Python 3.11 and 3.13 argparse taken out.

    Known differences (COLUMNS fixed at 100):
    1. an option with a short and a long flag: ``-o DIR, --out DIR`` (3.11) vs
       ``-o, --out DIR`` (3.13) — rewritten to the 3.13 form;
    2. the help column of an option/command list is computed differently (so the help text
       of an item starts in another column, on the invocation's line or the next one, and
       wraps elsewhere, e.g. inside a hyphenated word) — each item becomes one line,
       ``invocation :: help words``, whitespace collapsed;
    3. the usage block wraps at other places (3.13 may split a mutually exclusive group
       across lines) — the usage becomes one line, whitespace collapsed.
    Description and epilog paragraphs (not indented) are kept line for line: both versions
    wrap them identically at a fixed width. Words, flags, metavars, choices, defaults and
    the order of everything stay locked."""
    out: list[str] = []
    usage: list[str] | None = None    # lines of the usage block
    item: list | None = None          # [indent, invocation, help text] of a list item

    def flush_item():
        nonlocal item
        if item is not None:
            out.append(f"{' ' * item[0]}{item[1]} :: {item[2]}".rstrip())
            item = None

    for line in text.splitlines():
        if usage is not None and line.strip():
            usage.append(line.strip())
            continue
        if usage is not None:
            out.append(" ".join(" ".join(usage).split()))
            usage = None
        indent = len(line) - len(line.lstrip(" "))
        if line.startswith("usage:"):
            flush_item()
            usage = [line]
        elif not line.strip():
            flush_item()
            out.append("")
        elif indent == 0:            # description, section heading, epilog
            flush_item()
            out.append(line.rstrip())
        elif indent <= 4 and (item is None or indent <= item[0] + 2):
            # an item starts: an option or argument (indent 2) or a subcommand (indent 4)
            flush_item()
            head, _, rest = line.strip().partition("  ")
            item = [indent, _SHORT_LONG.sub(r"\1, \3 \2", head.strip()), " ".join(rest.split())]
        else:                        # continuation of the item's help text
            words = " ".join(line.split())
            if item is None:
                out.append(words)
            elif re.search(r"\w-$", item[2]):  # a word broken after its hyphen
                item[2] += words
            else:
                item[2] = f"{item[2]} {words}".strip()
    if usage is not None:
        out.append(" ".join(" ".join(usage).split()))
    flush_item()
    return "\n".join(out).rstrip() + "\n"


# ----------------------------------------------------------------------------- JSON forms

# Fields whose *value* is not locked (their name and type still are), as fnmatch patterns
# over the dotted field path (".epochs[].train_time_s": a "." before each key, "[]" for a list
# item; ".id" is a top-level field), with the reason.
VOLATILE: dict[str, str] = {
    # timings and throughputs: machine and load
    "*time_s": "wall-clock time",
    "*wall_time_s*": "wall-clock time",
    "*samples_per_s": "throughput",
    "*steps_per_s": "throughput",
    "*samples_per_s_*": "throughput",
    "*timings_s.*": "wall-clock time",
    "*.time": "a timestamp (sweep run.log)",
    "*run.started": "a timestamp (sweep points): at 6 digits it changes every ~3 hours",
    "*.pid": "a process id (sweep run.log)",
    "*.workers": "the local pool size defaults to the CPU count",
    # environment
    "*provenance.python": "interpreter version",
    "*provenance.numpy": "library version",
    "*provenance.brian2": "library version",
    "*provenance.lava_nc": "library version",
    "*provenance.machine": "machine description",
    "*provenance.spikeport": "package version (bumped by releases, not by a refactor)",
    "*versions.*": "library versions",
    "*.producer*": "names the package version",
    "*.sha256": "hashes bytes whose layout depends on the h5py/HDF5 build",
    "*.nir_version": "nir library version",
    # the backprop baseline of `spikeport energy`: a numpy MLP trained sample by sample for up
    # to 20 epochs through BLAS matrix products, whose float rounding depends on the CPU's
    # BLAS kernels; its curve, the threshold it reaches and every figure derived from that
    "*.baselines.mlp.*": "numpy MLP trained through BLAS (CPU-dependent float rounding)",
    "*.comparisons[].baseline_J.*": "derived from the MLP baseline",
    "*.comparisons[].ratio.*": "derived from the MLP baseline",
    # identifiers derived from absolute paths
    "*.id": "sweep job id: hash of a config holding absolute paths",
}


# Lists whose *length* is not locked either (one item's form is): those same MLP curves.
VARIABLE_LENGTH: dict[str, str] = {
    "*.baselines.mlp.*curve*": "the MLP stops at its threshold: the number of checkpoints varies",
}


def _matches(path: str, patterns) -> str | None:
    for pat in patterns:
        if fnmatch.fnmatchcase(path, pat):
            return pat
    return None


def _type(value) -> str:
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, int):
        return "<int>"
    if isinstance(value, float):
        return "<float>"
    if isinstance(value, str):
        return "<str>"
    return f"<{type(value).__name__}>"


def round_float(x: float):
    if not math.isfinite(x):
        return repr(x)
    if x == 0:
        return 0.0
    return float(f"{x:.{FLOAT_DIGITS}g}")


def substitutions(workspace: Path) -> tuple[tuple[str, str], ...]:
    """Folder prefixes that differ between machines and checkouts, and their stand-ins:
    the test's workspace ($WS), the installed spikeport package ($PKG), the repository
    ($REPO). Paths below them stay locked."""
    import spikeport

    pkg = Path(spikeport.__file__).resolve().parent
    return ((str(workspace), "$WS"), (str(pkg), "$PKG"), (str(pkg.parent), "$REPO"))


def _sub(text: str, subs) -> str:
    for old, new in subs:
        text = text.replace(old, new)
    return text


def skeleton(obj, path: str = "", volatile=(), subs=()):
    """The golden form of a JSON value: dicts keep every key; lists keep every item (one
    item and a length when all items have the same form); a leaf keeps its value (floats
    rounded to FLOAT_DIGITS significant digits, folders replaced as :func:`substitutions`)
    unless its path matches :data:`VOLATILE` or ``volatile`` — then only its type."""
    if isinstance(obj, dict):
        return {k: skeleton(v, f"{path}.{k}", volatile, subs)
                for k, v in obj.items()}
    if isinstance(obj, list):
        items = [skeleton(v, f"{path}[]", volatile, subs) for v in obj]
        if _matches(path, VARIABLE_LENGTH):
            return {"<list of any length>": items[0] if items else None}
        if len(items) > 3 and all(i == items[0] for i in items):
            return {"<list>": len(items), "<each>": items[0]}
        return items
    if _matches(path, list(VOLATILE) + list(volatile)):
        return _type(obj)
    if isinstance(obj, float):
        return round_float(obj)
    if isinstance(obj, str):
        return _sub(obj, subs)
    return obj


# --------------------------------------------------------------------------- folder forms

_HASH_NAME = re.compile(r"[0-9a-f]{16}")


def _rel_names(folder: Path) -> list[str]:
    names = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            names.append(_HASH_NAME.sub("<id>", p.relative_to(folder).as_posix()))
    return sorted(names)


def describe_array(a: np.ndarray, path: str, volatile=()) -> dict:
    out = {"dtype": str(a.dtype), "shape": list(a.shape)}
    if _matches(path, volatile):
        return out
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
        out["sum"] = int(a.sum())       # spike counts, integer weights
    return out


def describe_npz(path: Path, prefix: str, volatile=()) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: describe_array(z[k], f"{prefix}:{k}", volatile) for k in sorted(z.files)}


def describe_h5(path: Path) -> dict:
    """Every group and dataset of an HDF5 (NIR) file: dtype and shape of each dataset, the
    value of string and integer ones (node types, shapes, metadata)."""
    import h5py

    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            value = obj[()]
            entry = {"shape": list(obj.shape)}
            if obj.dtype.kind in "OSU":
                entry["value"] = value.decode() if isinstance(value, bytes) else str(value)
            else:
                entry["dtype"] = str(obj.dtype)
                if obj.dtype.kind in "iub":
                    entry["value"] = np.asarray(value).tolist()
            out[name] = skeleton(entry, "." + name.replace("/", "."))
        else:
            out[name + "/"] = sorted(obj.attrs)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def describe_folder(folder: Path, root: Path, volatile=(), skip=()) -> dict:
    """Golden form of a folder: its file names and, per file, what is locked of it."""
    folder = Path(folder)
    subs = substitutions(root)
    form = {"files": _rel_names(folder), "json": {}, "npz": {}, "md_headings": {},
            "yaml": {}, "png": []}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = _HASH_NAME.sub("<id>", p.relative_to(folder).as_posix())
        if _matches(rel, skip):
            continue
        if p.suffix == ".json" and "<id>" in rel:
            # files named by a hash (sweep points): one list, in a content-defined order
            form["json"].setdefault(rel, []).append(
                skeleton(json.loads(p.read_text()), "", volatile, subs))
            form["json"][rel].sort(key=lambda x: json.dumps(x, sort_keys=True))
        elif p.suffix == ".json":
            form["json"][rel] = skeleton(json.loads(p.read_text()), "", volatile, subs)
        elif p.suffix == ".log":  # JSON lines (sweep run.log)
            form["json"][rel] = [skeleton(json.loads(line), "", volatile, subs)
                                 for line in p.read_text().splitlines() if line.strip()]
        elif p.suffix == ".npz":
            form["npz"][rel] = describe_npz(p, rel, volatile)
        elif p.suffix == ".md":
            form["md_headings"][rel] = [_sub(line, subs) for line in
                                        p.read_text().splitlines() if line.startswith("#")]
        elif p.suffix == ".yaml":
            form["yaml"][rel] = _sub(p.read_text(), subs)
        elif p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
            form["png"].append(rel)
    for key in [k for k, v in form.items() if not v]:
        del form[key]
    return form
