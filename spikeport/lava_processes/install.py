"""Install Lava (lava-nc 0.10.0) on Python >= 3.11 and make it import: ``python -m
spikeport.lava_processes.install``.

Why this exists. lava-nc 0.10.0 is the last Lava release (its repositories are archived). Its
metadata declares ``Requires-Python >=3.10,<3.11`` and ``numpy<2``, so pip refuses it on any
current Python, and it is not one of spikeport's declared dependencies. Its code runs on 3.11–3.13
with numpy 2 except for one line: ``lava/magma/compiler/var_model.py`` declares ``ByteEncoder``
as a plain ``@dataclass`` and then uses an instance as a field default. Python 3.11 changed the
mutable-default check from "is it a list, dict or set" to "is it unhashable"; a plain dataclass
with ``eq=True`` sets ``__hash__ = None``, so the import fails with ``ValueError: mutable default
<class ...ByteEncoder> for field x is not allowed``. ``@dataclass(unsafe_hash=True)`` gives the
class a field-based ``__hash__`` and changes nothing else (the default instance was already
shared by every ``LoihiVarModel``; nothing mutates it), so the fix is that one decorator.

What this module does, each step checked:

1. ``pip install --no-deps --ignore-requires-python lava-nc==0.10.0`` into the running
   interpreter's environment, plus, pinned, the only third-party packages Lava imports that
   spikeport does not already depend on (:data:`LAVA_EXTRA_DEPS`; numpy, scipy and matplotlib are
   spikeport's own).
2. :func:`apply_fix`: the file is read, must contain the stock line exactly once (or the fixed
   line: then nothing is written), rewritten atomically, read back and checked — idempotent, so a
   reinstall of lava-nc is healed by running the command again. ``import lava`` then works for
   any code in that environment, not only through spikeport.
3. A fresh interpreter imports Lava's process, LIF, Dense and learning modules.

spikeport's own Lava backend does not depend on step 2 having run: :func:`install_import_hook`
(called by :func:`spikeport.lava_processes.prepare_lava_import`) applies the same one-line
change in memory when it loads an unfixed ``var_model.py``, so a ``pip install --force-reinstall
lava-nc`` cannot break ``--backend lava``; ``spikeport doctor`` says whether the file on disk is
fixed.

Import-safe (Lava imports every module of this folder under a bare name): definitions only.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

LAVA_VERSION = "0.10.0"
#: Lava's imports outside the standard library, numpy, scipy and matplotlib (checked against
#: the 0.10.0 wheel: ``networkx`` in the compiler graphs, ``asteval`` in the learning-rule
#: applier). Pinned to versions whose wheels exist for Python 3.11–3.13 and under which Lava's
#: own LIF, Dense and learning tests pass (Lava's metadata asks for older ones, which predate
#: Python 3.12).
LAVA_EXTRA_DEPS = ("asteval==1.0.10", "networkx==3.6.1")
INSTALL_COMMAND = "python -m spikeport.lava_processes.install"
FIXED_MODULE = "lava.magma.compiler.var_model"
STOCK_LINE = "@dataclass\nclass ByteEncoder:"
FIXED_LINE = "@dataclass(unsafe_hash=True)\nclass ByteEncoder:"
#: Modules a fresh interpreter must import for Lava to count as working.
SMOKE_IMPORTS = ("lava.magma.core.process.process", "lava.proc.lif.process",
                 "lava.proc.dense.process", "lava.magma.core.learning.learning_rule",
                 "lava.magma.core.run_configs")


class LavaInstallError(Exception):
    """A step of the install that did not do what it should (printed as one line)."""


def lava_spec():
    """The import spec of the ``lava`` package, or None (Lava is not imported to find it)."""
    try:
        return importlib.util.find_spec("lava")
    except (ImportError, ValueError):
        return None


def var_model_path() -> Path | None:
    spec = lava_spec()
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "magma" / "compiler" / "var_model.py"
    return path if path.is_file() else None


def fix_state(text: str) -> str:
    """``"fixed"``, ``"stock"`` or ``"unknown"`` for the source text of ``var_model.py``."""
    if FIXED_LINE in text:
        return "fixed"
    if text.count(STOCK_LINE) == 1:
        return "stock"
    return "unknown"


def fixed_source(text: str) -> str:
    """``text`` with the one-line fix applied (unchanged if already fixed)."""
    state = fix_state(text)
    if state == "fixed":
        return text
    if state != "stock":
        raise LavaInstallError(f"{FIXED_MODULE}: neither the stock nor the fixed ByteEncoder "
                               f"declaration found (not lava-nc {LAVA_VERSION}?)")
    return text.replace(STOCK_LINE, FIXED_LINE)


def apply_fix(path: Path) -> bool:
    """Fix ``path`` in place; True if it was changed, False if it was already fixed."""
    text = path.read_text(encoding="utf-8")
    if fix_state(text) == "fixed":
        return False
    new = fixed_source(text)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".var_model.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if fix_state(path.read_text(encoding="utf-8")) != "fixed":
        raise LavaInstallError(f"{path}: the fix did not persist")
    return True


class _FixingLoader(importlib.machinery.SourceFileLoader):
    """Loads ``var_model.py`` with the one-line fix applied to its source in memory."""

    def get_data(self, path):
        data = super().get_data(path)
        if str(path).endswith(".py"):
            return fixed_source(data.decode("utf-8")).encode("utf-8")
        return data

    def path_stats(self, path):
        # Never trust (or write) a bytecode cache compiled from the unfixed source.
        raise OSError("spikeport's Lava fix: compile from source")


class _FixingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != FIXED_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        if fix_state(Path(spec.origin).read_text(encoding="utf-8")) == "fixed":
            return spec          # the file is fixed on disk: load it as it is
        spec.loader = _FixingLoader(fullname, spec.origin)
        return spec


def install_import_hook() -> None:
    """Make an unfixed Lava import in this process (idempotent; no-op when Lava is absent)."""
    if FIXED_MODULE in sys.modules or any(isinstance(f, _FixingFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _FixingFinder())


def lava_status() -> dict:
    """What is installed, without importing Lava in this process."""
    path = var_model_path()
    try:
        version = importlib.metadata.version("lava-nc")
    except importlib.metadata.PackageNotFoundError:
        version = None
    state = fix_state(path.read_text(encoding="utf-8")) if path else None
    return {"installed": path is not None, "version": version,
            "var_model": str(path) if path else None, "fix": state}


def smoke_import(python: str = sys.executable, timeout: float = 300) -> tuple[bool, str]:
    """Import :data:`SMOKE_IMPORTS` in a fresh interpreter *without* spikeport's hook."""
    code = "; ".join(f"import {m}" for m in SMOKE_IMPORTS)
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"importing Lava took over {timeout:.0f} s"
    if proc.returncode == 0:
        return True, ""
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    return False, lines[-1] if lines else f"exit {proc.returncode}"


def _pip(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", *args]
    print("+", " ".join(cmd[2:]), flush=True)
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise LavaInstallError(f"pip install {' '.join(args)} failed (exit {proc.returncode})")


def install(skip_pip: bool = False) -> dict:
    """Install (unless ``skip_pip``), fix and check Lava in this interpreter's environment."""
    if sys.version_info < (3, 10):
        raise LavaInstallError(f"Python {sys.version.split()[0]}: Lava needs >= 3.10")
    status = lava_status()
    if not skip_pip:
        # Lava's own imports first: installed after lava-nc, pip would print its (known, and
        # here irrelevant) complaint that they do not meet lava-nc's declared pins.
        _pip(list(LAVA_EXTRA_DEPS))
    if not skip_pip and status["version"] != LAVA_VERSION:
        print(f"lava-nc {LAVA_VERSION} declares Python <3.11 and numpy<2; it runs on this "
              "Python with one fix, so it is installed without dependency resolution",
              flush=True)
        _pip(["--no-deps", "--ignore-requires-python", f"lava-nc=={LAVA_VERSION}"])
    importlib.invalidate_caches()
    path = var_model_path()
    if path is None:
        raise LavaInstallError(f"lava-nc is not installed in {sys.prefix}")
    changed = apply_fix(path)
    what = "fixed (ByteEncoder -> @dataclass(unsafe_hash=True))" if changed else "already fixed"
    print(f"{path}: {what}", flush=True)
    ok, why = smoke_import()
    if not ok:
        raise LavaInstallError(f"Lava still does not import: {why}")
    print(f"lava-nc {LAVA_VERSION} imports on Python {sys.version.split()[0]}", flush=True)
    return lava_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=INSTALL_COMMAND,
        description=f"Install lava-nc {LAVA_VERSION} into this Python environment without "
                    "dependency resolution (its metadata refuses Python >= 3.11 and numpy 2, "
                    "which it runs on), add the packages Lava imports, and apply the one-line "
                    "fix that lets it import on Python >= 3.11. Idempotent: run it again after "
                    "reinstalling lava-nc.")
    parser.add_argument("--fix-only", action="store_true",
                        help="do not run pip; only fix and check the installed lava-nc")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 0 if Lava is installed, fixed and imports")
    args = parser.parse_args(argv)
    try:
        if args.check:
            st = lava_status()
            ok, why = smoke_import() if st["installed"] else (False, "lava-nc is not installed")
            print(f"lava-nc {st['version'] or '-'}: file {st['fix'] or '-'}; "
                  f"{'imports' if ok else 'does not import: ' + why}")
            return 0 if ok else 1
        install(skip_pip=args.fix_only)
    except LavaInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
