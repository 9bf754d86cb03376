"""The platform: Lava as an optional, fixed-up reference on Python >= 3.11, the emulator as the
default fixed-point backend, `spikeport doctor`, the Makefile's interpreter choice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spikeport.lava_processes import install as li

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for lava/magma/compiler/var_model.py with the exact failing pattern of lava-nc
# 0.10.0: a plain @dataclass used as a field default of another dataclass. Python >= 3.11 calls
# a default "mutable" when its class is unhashable, and eq=True without frozen sets __hash__ to
# None, so the import raises ValueError.
STOCK_MODULE = textwrap.dedent('''\
    from dataclasses import dataclass


    @dataclass
    class ByteEncoder:
        d: int = 0


    @dataclass
    class LoihiVarModel:
        x: ByteEncoder = ByteEncoder()
    ''')


def _fake_lava(root: Path) -> Path:
    pkg = root / "lava" / "magma" / "compiler"
    pkg.mkdir(parents=True)
    for d in (root / "lava", root / "lava" / "magma", pkg):
        (d / "__init__.py").write_text("")
    path = pkg / "var_model.py"
    path.write_text(STOCK_MODULE)
    return path


def _py(code: str, path: Path, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), str(ROOT)]),
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, **kw)


def test_stock_pattern_fails_and_the_import_hook_fixes_it_in_memory(tmp_path):
    path = _fake_lava(tmp_path)
    bare = _py("import lava.magma.compiler.var_model", tmp_path)
    assert bare.returncode != 0 and "mutable default" in bare.stderr
    hooked = _py("from spikeport.lava_processes.install import install_import_hook; "
                 "install_import_hook(); import lava.magma.compiler.var_model as m; "
                 "print(hash(m.LoihiVarModel().x) == hash(m.ByteEncoder()))", tmp_path)
    assert hooked.returncode == 0, hooked.stderr
    assert hooked.stdout.strip() == "True"
    assert path.read_text() == STOCK_MODULE, "the hook must not touch the file"


def test_apply_fix_is_idempotent_and_checked(tmp_path):
    path = _fake_lava(tmp_path)
    assert li.fix_state(path.read_text()) == "stock"
    assert li.apply_fix(path) is True
    text = path.read_text()
    assert text == STOCK_MODULE.replace("@dataclass\nclass ByteEncoder:",
                                        "@dataclass(unsafe_hash=True)\nclass ByteEncoder:")
    assert li.apply_fix(path) is False and path.read_text() == text   # second run: no change
    ok = _py("import lava.magma.compiler.var_model", tmp_path)
    assert ok.returncode == 0, ok.stderr
    path.write_text("something else entirely\n")
    with pytest.raises(li.LavaInstallError, match="neither the stock nor the fixed"):
        li.apply_fix(path)


def test_installed_lava_is_fixed_on_disk_and_imports_without_spikeport():
    """`make` installs Lava into the venv and fixes the file: plain `import lava` works for a
    user's own scripts, with no spikeport import and no hook."""
    pytest.importorskip("lava")
    st = li.lava_status()
    assert st["version"] == li.LAVA_VERSION
    if sys.version_info >= (3, 11):
        assert st["fix"] == "fixed", "run `python -m spikeport.lava_processes.install`"
    ok, why = li.smoke_import()
    assert ok, why


def _hidden_lava(args: list[str]) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh interpreter in which `lava` cannot be imported (a pip-only user)."""
    code = ("import sys; sys.modules['lava'] = None\n"
            "from spikeport.cli import main\n"
            f"sys.exit(main({args!r}))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=600)


def test_without_lava_everything_but_backend_lava_works(tmp_path):
    out = tmp_path / "run"
    conv = _hidden_lava(["convert", "digits_sbp", "-o", str(out)])
    assert conv.returncode == 0, conv.stderr
    emu = _hidden_lava(["run", str(out), "--samples", "5", "--no-progress", "--json"])
    assert emu.returncode == 0, emu.stderr
    assert json.loads(emu.stdout)["backend"] == "emulator"       # the default backend
    for cmd in (["run", str(out), "--samples", "5", "--backend", "lava"],
                ["compare", "digits_sbp", "-o", str(tmp_path / "cmp"), "--samples", "3",
                 "--no-learn", "--backend", "lava", "--no-progress"]):
        lava = _hidden_lava(cmd)
        assert lava.returncode == 2, lava.stderr
        lines = lava.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in lava.stderr, lava.stderr
        assert "Lava backend is not installed" in lines[0]
        assert "python -m spikeport.lava_processes.install" in lines[0]


def test_emulator_is_the_default_fixed_point_backend():
    from spikeport.cli import build_parser

    parser = build_parser()
    for argv in (["run", "OUT"], ["deploy", "SPEC", "-o", "OUT"],
                 ["compare", "SPEC", "-o", "OUT"], ["demo"]):
        assert parser.parse_args(argv).backend == "emulator", argv


def test_doctor_reports_and_exits_by_usability(capsys):
    from spikeport.cli import main

    code = main(["doctor", "--no-cython", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["problems"] else 0)
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))
    names = {p["name"]: p for p in report["packages"]}
    import numpy

    assert names["numpy"]["version"] == numpy.__version__ and names["numpy"]["error"] is None
    assert report["lava"]["installed"] == (li.lava_spec() is not None)
    assert report["cython"] is None


def test_doctor_names_a_broken_required_package(tmp_path):
    (tmp_path / "numba").mkdir()
    (tmp_path / "numba" / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = subprocess.run([sys.executable, "-m", "spikeport.cli", "doctor", "--no-cython"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "PROBLEM: numba does not import (ImportError: broken on purpose)" in proc.stdout


def test_find_python_runs_each_candidate(tmp_path):
    """A candidate that exists but fails (a pyenv shim without its version) is skipped; an
    explicit PYTHON that does not run is one clear line, exit 1."""
    shim = tmp_path / "python3"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    bad = subprocess.run([str(ROOT / "scripts" / "find_python.sh"), str(shim)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "does not run as Python >= 3.11" in bad.stderr
    good = subprocess.run([str(ROOT / "scripts" / "find_python.sh"), sys.executable],
                          capture_output=True, text=True)
    if sys.version_info >= (3, 11):
        assert good.returncode == 0
        assert Path(good.stdout.strip()).resolve() == Path(sys.executable).resolve() or \
            good.stdout.strip() == sys.executable
