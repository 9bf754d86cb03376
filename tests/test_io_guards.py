"""The ground every reader and writer stands on (:mod:`spikeport.io`): modes follow the umask,
temporaries of dead writers are removed and those of live ones kept, the commit mark."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spikeport.errors import DataError
from spikeport.io import (
    atomic_write_text,
    check_complete,
    commit_point,
    parse_yaml,
    remove_stale_temporaries,
)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_written_files_have_the_mode_the_umask_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_temporaries_of_dead_writers_go_those_of_live_ones_stay(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    live = str(os.getppid())
    (tmp_path / f".weights.npz.{dead}.abcd1234.tmp").write_bytes(b"")
    (tmp_path / f".fixed.{dead}.tmp").mkdir()
    (tmp_path / f".weights.npz.{live}.abcd1234.tmp").write_bytes(b"")
    (tmp_path / ".hidden_user_file.tmp").write_bytes(b"")   # not ours: no pid in its name
    removed = sorted(p.name for p in remove_stale_temporaries(tmp_path))
    assert removed == sorted([f".weights.npz.{dead}.abcd1234.tmp", f".fixed.{dead}.tmp"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".weights.npz.{live}.abcd1234.tmp", ".hidden_user_file.tmp"])


def test_commit_point_marks_until_done(tmp_path):
    with pytest.raises(RuntimeError):
        with commit_point(tmp_path, "spikeport run"):
            raise RuntimeError("killed")
    with pytest.raises(DataError, match="`spikeport run` was interrupted"):
        check_complete(tmp_path)
    check_complete(tmp_path, allow="spikeport run")          # its rerun may proceed
    with commit_point(tmp_path, "spikeport run"):
        pass
    check_complete(tmp_path)
    assert not list(tmp_path.iterdir())


def test_yaml_anchors_within_bounds_are_fine():
    # a modest alias use (the same encoder twice) expands to a few nodes: accepted
    data = parse_yaml("e: &e {kind: poisson}\na: *e\nb: *e\n", "t")
    assert data["a"] == data["b"] == {"kind": "poisson"}
