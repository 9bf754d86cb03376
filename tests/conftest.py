"""Shared fixtures. Lava tests carry the ``lava`` marker (registered in pyproject.toml)."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return ROOT / "examples"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.fail(f"{path} is missing: CI runs with ../shared beside the clone")
    return path


def _lava_importable() -> bool:
    from spikeport.lava_processes.install import lava_spec

    return lava_spec() is not None


def pytest_collection_modifyitems(config, items):
    """Tests that need Lava are marked ``lava`` or import it at module level (``importorskip``).
    ``make test`` sets SPIKEPORT_REQUIRE_LAVA=1: there, a missing Lava is an error, never a
    quiet skip (the Makefile installs it)."""
    if os.environ.get("SPIKEPORT_REQUIRE_LAVA") == "1" and not _lava_importable():
        raise pytest.UsageError("SPIKEPORT_REQUIRE_LAVA=1 but Lava is not installed: run "
                                "`python -m spikeport.lava_processes.install` (make does)")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say how many Lava tests ran (the closing count of `make test`)."""
    stats = terminalreporter.stats
    ran = [r for key in ("passed", "failed", "error") for r in stats.get(key, [])
           if getattr(r, "when", "call") == "call" and "lava" in r.keywords]
    skipped = [r for r in stats.get("skipped", []) if "lava" in getattr(r, "keywords", {})]
    terminalreporter.write_line(f"Lava tests: {len(ran)} run, {len(skipped)} skipped")
    fuzz = sys.modules.get("fuzz_support")
    if fuzz is not None and fuzz.TOTALS:
        t = fuzz.TOTALS
        terminalreporter.write_line(f"Fuzz cases: {t['clean']} clean one-line errors, "
                                    f"{t['accepted']} correct accepts, {t['defect']} defects")
