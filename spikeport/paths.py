"""Reports name files relative to their run folder, never by absolute path.

A report is read on another machine, in a browser, or committed beside results: an absolute
path (``/home/me/runs/digits/fixed``) says nothing there and leaks the writer's file system.
:func:`relative_paths` rewrites every absolute path in a report (a JSON-like structure, or
Markdown text) relative to the folder the report is written into: ``fixed_learned``,
``emulator_infer.json``, or ``../artefact`` for a file beside it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# an absolute POSIX path: starts the string or follows a space, bracket, quote or backtick, and
# has at least two components (so "1/64", "pJ/op" or a lone "/" are left alone)
_ABS = re.compile(r"(?:(?<=^)|(?<=[\s(\[{'\"`=:]))/(?:[^/\s'\"`()\[\]{},|]+/)+"
                  r"[^/\s'\"`()\[\]{},|]*")


def _rel(path: str, base: Path) -> str:
    p = path.rstrip("/")
    try:
        rel = os.path.relpath(p, base)
    except ValueError:
        return Path(p).name
    return base.name if rel == "." else rel


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
