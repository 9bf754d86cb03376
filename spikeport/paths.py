"""Reports name files relative to their run folder, never by absolute path.

A report is read on another machine, in a browser, or committed beside results: an absolute
path (``/home/me/runs/digits/fixed``) says nothing there and leaks the writer's file system.
:func:`relative_paths` rewrites every absolute path in a report (a JSON-like structure, or
Markdown text) relative to the folder the report is written into: ``fixed_learned``,
``emulator_infer.json``, ``../artefact`` for a file beside it, ``spikeport/hw_profiles/
loihi1.toml`` for spikeport's own files, and a file's name alone when it lies further away
(so a report does not change with how deep its folder sits).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# an absolute POSIX path: starts the string or follows a space, bracket, quote or backtick, and
# has at least two components (so "1/64", "pJ/op" or a lone "/" are left alone)
_ABS = re.compile(r"(?:(?<=^)|(?<=[\s(\[{'\"`=:]))/(?:[^/\s'\"`()\[\]{},|]+/)+"
                  r"[^/\s'\"`()\[\]{},|]*")


PACKAGE = Path(__file__).resolve().parent  # spikeport's own files: named from the package
MAX_UP = 2  # "../art", "../../specs/x.yaml"; anything further away is named by its file


def _rel(path: str, base: Path) -> str:
    """The report's name for ``path``: relative to the run folder (``fixed``), to spikeport's
    package for its own files (``spikeport/hw_profiles/loihi1.toml``), a short way up for
    files near the folder (``../art``), else the file name alone — never a name that depends
    on how deep the folder happens to sit in the file system."""
    p = Path(path.rstrip("/") or "/")
    if p == base:
        return base.name
    for root, prefix in ((base, ""), (PACKAGE, "spikeport/")):
        try:
            return prefix + p.relative_to(root).as_posix()
        except ValueError:
            pass
    try:
        rel = os.path.relpath(p, base)
    except ValueError:
        return p.name
    ups = 0
    for part in Path(rel).parts:
        if part != "..":
            break
        ups += 1
    return rel if ups <= MAX_UP else p.name


def relative_text(text: str, base: str | Path) -> str:
    """``text`` with each absolute path rewritten relative to ``base``."""
    base = Path(os.path.abspath(base))
    return _ABS.sub(lambda m: _rel(m.group(0), base), text)


def relative_paths(obj, base: str | Path):
    """A copy of a JSON-like ``obj`` with absolute paths in its strings (and keys) made
    relative to ``base``."""
    if isinstance(obj, str):
        return relative_text(obj, base)
    if isinstance(obj, dict):
        return {relative_paths(k, base) if isinstance(k, str) else k: relative_paths(v, base)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(relative_paths(v, base) for v in obj)
    return obj


def has_absolute_path(text: str) -> bool:
    return bool(_ABS.search(text))
