"""Golden-format suite: shared fixtures (the helpers live in golden_support.py)."""

from __future__ import annotations

import importlib.metadata

import pytest


def _entry_point():
    """The installed console script ``spikeport`` (what users run), whichever module it
    points at after a restructure; the in-tree ``spikeport.cli.main`` if not installed."""
    for ep in importlib.metadata.entry_points(group="console_scripts"):
        if ep.name == "spikeport":
            return ep.load()
    from spikeport.cli import main

    return main


@pytest.fixture(scope="session")
def spikeport_main():
    return _entry_point()
