"""File input and output every reader and writer shares.

Output is atomic: every writer goes to a temporary sibling ``.NAME.PID.XXXX.tmp`` in the
destination folder, fsyncs it, gives it the mode the user's umask asks for (0644 under umask
022; ``mkstemp`` alone would leave 0600), then ``os.replace`` swaps it in (atomic on POSIX) and
the folder is fsynced, so earlier artefacts survive a crash or a power cut intact. Temporaries a
killed writer left behind (their process is gone) are removed by the next write in that folder.
A folder written in several files has one commit point (:func:`commit_point`): a marker that
exists while the folder is being rewritten and is removed last; readers refuse a marked folder.

Input is guarded: :func:`read_bytes` refuses special files (FIFOs, devices, directories) and
files larger than a limit before reading them, and :func:`read_text` refuses text that is not
UTF-8 — each a one-line error naming the file. YAML is read with a safe loader that also
refuses duplicate keys, deep nesting and alias expansion past a bound (the "billion laughs").
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import stat
import tempfile
from pathlib import Path

import numpy as np

from spikeport.errors import DataError, SpecError

#: largest YAML file (spec, sweep file, rules) read: hand-written text, never megabytes
MAX_YAML_BYTES = 4 << 20
#: largest JSON document read (network.json, run summaries, metrics, sweep results)
MAX_JSON_BYTES = 256 << 20
#: YAML bounds: nesting depth and nodes after expanding aliases
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 1_000_000

#: test hook: ``SPIKEPORT_TEST_KILL_WRITE=N`` kills this process with SIGKILL in the middle of
#: its N-th atomic write (half the bytes in the temporary file), as a crash would
_KILL_ENV = "SPIKEPORT_TEST_KILL_WRITE"
_writes = 0


# ---------------------------------------------------------------------------------------------
# output

def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)  # not thread-safe; only where /proc is missing
    os.umask(old)
    return old


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: ``.NAME.PID.XXXXXXXX.tmp`` (a file), ``.NAME.PID.tmp`` (a folder), ``.NAME.PID.old.tmp``
_TEMPORARY = re.compile(r"^\.(.+?)\.(\d+)(\.[A-Za-z0-9_]{8}|\.old)?\.tmp$")


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries (``.NAME.PID.XXXX.tmp``, files or folders) that writers which no
    longer run left in ``folder``; return what was removed."""
    import shutil

    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        m = _TEMPORARY.match(e.name)
        if m is None:
            continue
        pid = int(m.group(2))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
            removed.append(Path(e.path))
    return removed


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_output_dir(path: str | Path, what: str = "output folder") -> Path:
    """``path`` as a folder to write into: refused (one line) when it, or a parent of it, is an
    existing file."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                where = "" if p == path else f" (its parent {p} is a file)"
                raise DataError(f"{path}: cannot be the {what}: {'' if p != path else 'it '}"
                                f"is an existing file{where}; name a folder")
            break
    return path


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """``path`` as a file to (over)write: refused when it is a folder or a parent is a file."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: cannot be the {what}: it is a folder; name a file")
    check_output_dir(path.parent, f"folder of the {what}")
    return path


def _write_error(path: Path, exc: OSError) -> DataError:
    return DataError(f"{path}: cannot write: {exc.strerror or exc}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    global _writes
    path = Path(path)
    check_output_dir(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(path.parent, exc) from None
    if path.is_dir():
        raise DataError(f"{path}: cannot write a file there: it is a folder")
    remove_stale_temporaries(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                   dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            kill_at = os.environ.get(_KILL_ENV)
            if kill_at:
                _writes += 1
                if _writes == int(kill_at):
                    import signal

                    fh.write(data[: len(data) // 2])
                    fh.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from None
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


def atomic_replace_dir(tmp: Path, dest: Path) -> None:
    """Swap a fully written folder ``tmp`` in as ``dest`` (its files already fsynced by the
    atomic writers): the old one is renamed aside first, then removed."""
    import shutil

    tmp, dest = Path(tmp), Path(dest)
    fsync_dir(tmp)
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.{os.getpid()}.old.tmp")
        if old.exists():
            shutil.rmtree(old)
        os.replace(dest, old)
    os.replace(tmp, dest)
    fsync_dir(dest.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def temporary_dir(dest: Path) -> Path:
    """A fresh temporary sibling of ``dest`` for :func:`atomic_replace_dir`."""
    import shutil

    dest = Path(dest)
    check_output_dir(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    return tmp


INCOMPLETE = ".incomplete"


@contextlib.contextmanager
def commit_point(folder: Path, what: str, override: bool = False):
    """Rewrite several files of ``folder`` as one step: a marker ``.incomplete`` naming
    ``what`` (the command) exists while they are written, and is removed — the commit — only
    when all of them are, then the folder is fsynced. :func:`check_complete` refuses a marked
    folder, so a failed or killed command never leaves it read half old, half new; rerunning
    the command completes it. ``override``: this command rewrites everything, so an earlier
    interruption of another command does not stop it."""
    folder = Path(folder)
    if not override:
        check_complete(folder, allow=what)
    marker = folder / INCOMPLETE
    atomic_write_text(marker, what + "\n")
    yield
    os.unlink(marker)
    fsync_dir(folder)


def check_complete(folder: Path, allow: str | None = None) -> None:
    """Refuse a folder a command was interrupted writing (unless that command is ``allow``,
    which is about to rewrite it)."""
    marker = Path(folder) / INCOMPLETE
    if marker.is_file():
        what = marker.read_text(errors="replace").strip() or "a command"
        if allow is not None and what == allow:
            return
        raise DataError(f"{folder}: incomplete: `{what}` was interrupted while writing this "
                        "folder; rerun it")


# ---------------------------------------------------------------------------------------------
# input

def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def check_regular_file(path: str | Path, what: str, max_bytes: int | None = None,
                       error=DataError) -> int:
    """Refuse ``path`` unless it is a regular file (not a FIFO, device or folder) of at most
    ``max_bytes``; return its size. Never opens it (a FIFO would block)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file ({what})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: cannot read {what}: it is {_kind(st.st_mode)}, not a regular "
                    "file")
    if max_bytes is not None and st.st_size > max_bytes:
        raise error(f"{path}: {what} is {_size(st.st_size)}; allowed: at most "
                    f"{_size(max_bytes)}")
    return st.st_size


def read_bytes(path: str | Path, what: str, max_bytes: int, error=DataError) -> bytes:
    """A regular file's bytes (at most ``max_bytes``), opened without blocking on a FIFO."""
    check_regular_file(path, what, max_bytes, error)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())       # the file opened is the file checked
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{path}: cannot read {what}: it is {_kind(st.st_mode)}")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(f"{path}: {what} is larger than {_size(max_bytes)}, the most allowed")
    return data


def read_text(path: str | Path, what: str, max_bytes: int, error=DataError) -> str:
    """A UTF-8 text file (BOM allowed) as a string; other encodings are refused by name."""
    data = read_bytes(path, what, max_bytes, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                    f"offset {exc.start}); save it as UTF-8") from None


def read_json(path: str | Path, what: str, max_bytes: int = MAX_JSON_BYTES, error=DataError):
    """A JSON document (NaN and Infinity refused, as spikeport never writes them)."""
    text = read_text(path, what, max_bytes, error)

    def no_constant(name):
        raise ValueError(f"{name} is not allowed")

    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: {what} is not valid JSON ({exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno})") from None
    except ValueError as exc:
        raise error(f"{path}: {what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise error(f"{path}: {what} nests too deeply") from None


def read_json_object(path: str | Path, what: str, max_bytes: int = MAX_JSON_BYTES,
                     error=DataError) -> dict:
    """:func:`read_json` of a document that must be an object."""
    doc = read_json(path, what, max_bytes, error)
    if not isinstance(doc, dict):
        raise error(f"{path}: {what} must be a JSON object, got {_json_type(doc)}")
    return doc


def _json_type(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` without pickle; a bad file is a DataError naming it."""
    path = Path(path)
    check_regular_file(path, ".npz file")
    _check_npz_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {}
            for k in z.files:
                out[k] = z[k]
            return out
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except MemoryError:
        raise DataError(f"{path}: an array is larger than the memory available") from None
    except ValueError as exc:
        raise DataError(f"{path}: cannot read without pickle ({exc}); spikeport reads only "
                        "plain numeric arrays") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise DataError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") \
            from None


def _check_npz_sizes(path: Path) -> None:
    """Refuse an ``.npz`` whose arrays (as their headers declare them) need more memory than
    there is, before decompressing any of them."""
    import zipfile

    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = {(1, 0): np.lib.format.read_array_header_1_0,
                            (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if read is None:
                        continue
                    shape, _, dtype = read(fh)
                n = 1
                for d in shape:
                    n *= int(d)
                total += n * dtype.itemsize
    except Exception:  # a malformed file: np.load says what is wrong, below
        return
    check_memory(total, f"{path}: its arrays")


# ---------------------------------------------------------------------------------------------
# YAML

def _safe_loader(where: str, error):
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that refuses duplicate keys, deep nesting and alias bombs."""

        _depth = 0

        def compose_node(self, parent, index):
            self._depth += 1
            try:
                if self._depth > MAX_YAML_DEPTH:
                    mark = self.peek_event().start_mark
                    raise error(f"{where}: YAML nests deeper than {MAX_YAML_DEPTH} levels at "
                                f"line {mark.line + 1}")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = key_node.value
                    if key in seen:
                        raise error(f"{where}: duplicate key {key!r} at line "
                                    f"{key_node.start_mark.line + 1} (first at line "
                                    f"{seen[key] + 1}); each key may appear once")
                    seen[key] = key_node.start_mark.line
            return super().construct_mapping(node, deep=deep)

    return Loader


def _expanded_size(node, memo: dict) -> int:
    """Nodes of ``node`` with every alias expanded, without expanding them (memoized)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1          # a recursive alias counts once (and then costs nothing)
    total = 1
    value = node.value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, tuple):
                total += _expanded_size(item[0], memo) + _expanded_size(item[1], memo)
            else:
                total += _expanded_size(item, memo)
            if total > MAX_YAML_NODES:
                break
    memo[key] = total
    return total


def parse_yaml(text: str, where: str, error=SpecError):
    """Safe-load YAML text with the bounds above; one-line ``error`` naming ``where``."""
    import yaml

    loader = _safe_loader(where, error)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_YAML_NODES:
            raise error(f"{where}: YAML expands to more than {MAX_YAML_NODES:,} nodes "
                        "(aliases repeating aliases); write the values out")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{where}: malformed YAML{at}: {problem}") from None
    except RecursionError:
        raise error(f"{where}: YAML nests too deeply") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path, what: str, error=SpecError):
    """A YAML file's data: a regular UTF-8 file of at most :data:`MAX_YAML_BYTES`, parsed by
    :func:`parse_yaml`; a one-line ``error`` naming the file (and, for malformed YAML, the line
    and column). ``what`` names the file's kind (e.g. ``"spec"``)."""
    text = read_text(path, what, MAX_YAML_BYTES, error)
    return parse_yaml(text, str(path), error)


def finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# ---------------------------------------------------------------------------------------------
# memory

def memory_limit() -> int:
    """Bytes this process may allocate: the machine's available memory (Linux
    ``MemAvailable``, else the physical memory), and at most an address-space rlimit."""
    limit = None
    try:
        with open("/proc/meminfo") as fh:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in fh
                    if line.split()[1:2] and line.split()[1].isdigit()}
        limit = info.get("MemAvailable", info.get("MemTotal"))
    except (OSError, ValueError, IndexError):
        pass
    if limit is None:
        try:
            limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            limit = 1 << 40
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            limit = min(limit, soft)
    except (ImportError, OSError, ValueError):
        pass
    return int(limit)


def check_memory(nbytes: int, what: str, error=DataError) -> None:
    """Refuse, before allocating, what needs more memory than :func:`memory_limit`."""
    limit = memory_limit()
    if nbytes > limit:
        raise error(f"{what} needs {_size(nbytes)} of memory; this machine has "
                    f"{_size(limit)} available")
