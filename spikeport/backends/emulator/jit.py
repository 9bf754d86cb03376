"""How the emulator's numba kernels are compiled and cached across processes.

Every compiled function of the emulator is declared with :data:`jit` in the modules
:data:`SOURCES`, all in this folder. numba writes the machine code of each one to disk
(``cache=True``) and a new process loads it instead of compiling again (tens of seconds the
first time, ~0.1–0.5 s to load). Where numba puts it:
``$NUMBA_CACHE_DIR`` if set, else ``__pycache__`` beside these sources when that folder is
writable (an editable or user install), else the per-user cache folder (``~/.cache/numba``
or the platform's equivalent): an installed, read-only package still caches.

Invalidation. numba keys a cached function on the timestamp and size of the file that
*defines* it, so editing ``engine.py`` recompiles the engine; but a function calls compiled
helpers from the other source files, and numba does not notice when one of those changes (it
would load the old machine code). :func:`ensure_fresh_cache` closes that gap: it keeps a
fingerprint (SHA-256 of all :data:`SOURCES` and of the numba version) beside the cache files
and deletes the emulator's cache files when the fingerprint differs, before anything loads
them. ``tests/test_emulator_cache.py`` checks both directions (a second process loads; a
changed source recompiles).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numba

HERE = Path(__file__).resolve().parent
SOURCES = ("compiled.py", "plasticity.py", "engine.py")
FINGERPRINT_FILE = "spikeport-emulator.fingerprint"

jit = numba.njit(cache=True, nogil=True)


def fingerprint() -> str:
    """SHA-256 over the compiled sources (names and bytes) and the numba version."""
    h = hashlib.sha256(numba.__version__.encode())
    for name in SOURCES:
        h.update(name.encode())
        h.update((HERE / name).read_bytes())
    return h.hexdigest()


def cache_dir(dispatcher) -> Path | None:
    """The folder numba reads and writes ``dispatcher``'s cache files in (None if caching is
    off or numba's layout is not the one this code knows)."""
    cache = getattr(dispatcher, "_cache", None)
    path = getattr(cache, "_cache_path", None)
    return Path(path) if path else None


def cache_files(folder: Path) -> list[Path]:
    """The emulator's numba cache files in ``folder`` (index ``.nbi`` and data ``.nbc``)."""
    stems = tuple(Path(s).stem + "." for s in SOURCES)
    return [p for p in folder.glob("*.nb[ic]") if p.name.startswith(stems)]


def ensure_fresh_cache(dispatcher) -> Path | None:
    """Delete the emulator's cache files if any compiled source changed since they were
    written (see module doc); return the cache folder."""
    folder = cache_dir(dispatcher)
    if folder is None:
        return None
    stamp = folder / FINGERPRINT_FILE
    want = fingerprint()
    try:
        have = stamp.read_text().strip()
    except OSError:
        have = None
    if have != want:
        for f in cache_files(folder):
            try:
                f.unlink()
            except OSError:
                pass
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp.write_text(want + "\n")
        except OSError:
            pass
    return folder


def is_cached(dispatcher) -> bool:
    """Whether ``dispatcher`` has an index in its cache folder (after
    :func:`ensure_fresh_cache`, an index means numba will load, not compile)."""
    folder = cache_dir(dispatcher)
    if folder is None:
        return False
    stem = Path(dispatcher.py_func.__code__.co_filename).stem
    return any(folder.glob(f"{stem}.{dispatcher.py_func.__qualname__}-*.nbi"))


def compile_notice(dispatcher) -> None:
    """Print one line to stderr when ``dispatcher`` is about to be compiled rather than loaded
    from the cache (once per install and source change; it takes a minute or two)."""
    if not is_cached(dispatcher):
        print("spikeport: compiling the emulator's kernels (once; later runs load them from "
              f"{cache_dir(dispatcher) or 'memory'})...", file=sys.stderr, flush=True)
