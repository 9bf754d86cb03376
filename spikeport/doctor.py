"""`spikeport doctor`: one screen describing this installation, to paste into a bug report.

It reports the Python, the versions of the packages spikeport uses, whether Lava is installed,
fixed for Python >= 3.11 and importable, whether Brian2's Cython target compiles here, and the
data folders found. :func:`diagnose` returns the facts as a dict (``--json``); a fact that makes
spikeport unusable is a *problem* (exit 1, with the reason), one that only costs a feature or
speed is a *note* (exit 0).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
import textwrap

from spikeport import __version__
from spikeport.data.base import repo_root
from spikeport.lava_processes.install import INSTALL_COMMAND, lava_status, smoke_import

SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))

#: (import name, distribution name, required?) — required packages make an unusable install.
PACKAGES = (
    ("numpy", "numpy", True), ("scipy", "scipy", True), ("brian2", "Brian2", True),
    ("numba", "numba", True), ("yaml", "PyYAML", True), ("matplotlib", "matplotlib", True),
    ("nir", "nir", True), ("sklearn", "scikit-learn", True), ("tqdm", "tqdm", True),
    ("dask", "dask", True), ("Cython", "Cython", True),
    ("tonic", "tonic", False), ("h5py", "h5py", False),
)

#: dataset name, environment variable, folder under ../shared/data
DATA_FOLDERS = (("mnist", "SPIKEPORT_MNIST_DIR", "mnist"),
                ("mnist-full", "SPIKEPORT_MNIST_DIR", "mnist-full"),
                ("nettalk", "SPIKEPORT_NETTALK_DIR", "nettalk"))

_CYTHON_PROBE = textwrap.dedent("""
    import brian2 as b2
    b2.prefs.codegen.target = "cython"
    b2.prefs.codegen.runtime.cython.multiprocess_safe = False
    g = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", reset="v = 0")
    g.v = 2
    net = b2.Network(g)
    net.run(1 * b2.ms)
    print("ok")
""")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages() -> list[dict]:
    rows = []
    for mod, dist, required in PACKAGES:
        row = {"name": dist, "version": _version(dist), "required": required, "error": None}
        try:
            importlib.import_module(mod)
        except Exception as exc:  # noqa: BLE001 — any import failure is what we report
            row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        rows.append(row)
    return rows


def check_lava() -> dict:

    st = lava_status()
    st["install_command"] = INSTALL_COMMAND
    st["imports"], st["error"] = (smoke_import() if st["installed"]
                                  else (False, "not installed"))
    return st


def check_cython(timeout: float = 300) -> dict:
    """Compile and run a two-neuron Brian2 network with the Cython target in a child process
    (its cache makes the second call fast)."""
    try:
        proc = subprocess.run([sys.executable, "-c", _CYTHON_PROBE], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"compiles": False, "error": f"no answer within {timeout:.0f} s"}
    if proc.returncode == 0 and proc.stdout.strip().endswith("ok"):
        return {"compiles": True, "error": None}
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    return {"compiles": False, "error": lines[-1] if lines else f"exit {proc.returncode}"}


def check_data() -> list[dict]:

    rows = []
    for name, env, sub in DATA_FOLDERS:
        path = os.environ.get(env) if name != "mnist-full" else None
        source = env if path else "../shared/data"
        path = path or str(repo_root().parent / "shared" / "data" / sub)
        found = os.path.isdir(path)
        n_files = len(os.listdir(path)) if found else 0
        rows.append({"name": name, "path": path, "source": source, "found": found,
                     "files": n_files})
    return rows


def diagnose(cython: bool = True) -> dict:
    """Every fact :func:`format_doctor` prints, with ``problems`` and ``notes``."""
    py = sys.version_info[:2]
    report = {"spikeport": __version__, "python": platform.python_version(),
              "executable": sys.executable, "platform": platform.platform(),
              "packages": check_packages(), "lava": check_lava(),
              "cython": check_cython() if cython else None, "data": check_data()}
    problems, notes = [], []
    if py not in SUPPORTED_PYTHONS:
        problems.append(f"Python {report['python']} is not supported (3.11, 3.12 or 3.13)")
    for row in report["packages"]:
        if row["error"] and row["required"]:
            problems.append(f"{row['name']} does not import ({row['error']})")
        elif row["error"]:
            notes.append(f"{row['name']} is not available: its feature is off "
                         f"({row['error']})")
    lava = report["lava"]
    if not lava["installed"]:
        notes.append("Lava is not installed: --backend lava is off (the emulator, bit-exact "
                     f"to it, is the default); install it with `{lava['install_command']}`")
    elif not lava["imports"]:
        problems.append(f"Lava is installed but does not import ({lava['error']}); run "
                        f"`{lava['install_command']} --fix-only`")
    elif lava["fix"] != "fixed" and sys.version_info >= (3, 11):
        notes.append("Lava's var_model.py is unfixed on disk: spikeport fixes it in memory, "
                     f"your own Lava scripts need `{lava['install_command']} --fix-only`")
    if report["cython"] is not None and not report["cython"]["compiles"]:
        notes.append("Brian2's Cython target does not compile here "
                     f"({report['cython']['error']}): Brian2 falls back to numpy, ~10x slower")
    if not any(d["found"] for d in report["data"]):
        notes.append("no data folder found: pass --data-dir DIR (MNIST IDX files, NETtalk); "
                     "digits ships with scikit-learn")
    report["problems"], report["notes"] = problems, notes
    return report


def format_doctor(r: dict) -> str:
    lines = [f"spikeport {r['spikeport']} on Python {r['python']} ({r['executable']})",
             f"platform: {r['platform']}", "", "packages:"]
    for row in r["packages"]:
        state = "ok" if not row["error"] else ("MISSING" if row["version"] is None
                                               else "BROKEN")
        opt = "" if row["required"] else " (optional)"
        lines.append(f"  {row['name']:<13} {row['version'] or '-':<12} {state}{opt}")
    lava = r["lava"]
    fix = {"fixed": "fixed for Python >= 3.11", "stock": "stock (unfixed) on disk",
           "unknown": "unrecognised var_model.py", None: "-"}[lava["fix"]]
    lines += ["", f"lava-nc: {lava['version'] or 'not installed'}"
                  + (f"; {fix}; {'imports' if lava['imports'] else 'does NOT import'}"
                     if lava["installed"] else f" (install: {lava['install_command']})")]
    if r["cython"] is not None:
        c = r["cython"]
        lines.append("Brian2 Cython target: " + ("compiles" if c["compiles"]
                                                  else f"does NOT compile ({c['error']})"))
    lines += ["", "data folders:"]
    for d in r["data"]:
        lines.append(f"  {d['name']:<11} {'found' if d['found'] else 'absent':<7} "
                     f"{d['path']} ({d['source']}" + (f", {d['files']} files)" if d["found"]
                                                      else ")"))
    lines.append("")
    for p in r["problems"]:
        lines.append(f"PROBLEM: {p}")
    for n in r["notes"]:
        lines.append(f"note: {n}")
    lines.append("all usable" if not r["problems"] else
                 f"{len(r['problems'])} problem(s): spikeport is not usable as installed")
    return "\n".join(lines)
