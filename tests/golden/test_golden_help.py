"""Golden help texts: ``spikeport --help`` and ``spikeport CMD --help`` for every command.

One golden text per command in data/help/ (as argparse printed it at COLUMNS=100 when it was
updated); compared after golden_support.normalise_help, which takes out the known
differences between Python 3.11's and 3.13's argparse."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from golden_support import COLUMNS, DATA, UPDATE, check, normalise_help, spikeport_main

HELP = DATA / "help"


def help_text(main, monkeypatch, *argv) -> str:
    monkeypatch.setenv("COLUMNS", COLUMNS)
    monkeypatch.setenv("LINES", "50")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return buf.getvalue()


def commands_in(top_help: str) -> list[str]:
    """The subcommands listed under COMMAND in ``spikeport --help``."""
    names, inside = [], False
    for line in top_help.splitlines():
        if line.strip() == "COMMAND":
            inside = True
        elif inside and re.match(r"^    \S", line):
            names.append(line.split()[0])
        elif inside and line and not line.startswith("     "):
            break
    return names


GOLDEN_COMMANDS = sorted(p.stem for p in HELP.glob("*.txt") if p.stem != "spikeport")


def test_top_level_help(monkeypatch):
    check("help/spikeport.txt", help_text(spikeport_main(), monkeypatch), normalise_help)


def test_every_command_has_a_golden_help(monkeypatch):
    """The command list is locked too: a command added, renamed or dropped fails here."""
    commands = commands_in(help_text(spikeport_main(), monkeypatch))
    assert len(commands) >= 16
    if UPDATE:
        for name in commands:
            check(f"help/{name}.txt", help_text(spikeport_main(), monkeypatch, name),
                  normalise_help)
        for stale in set(GOLDEN_COMMANDS) - set(commands):
            (HELP / f"{stale}.txt").unlink()
        return
    assert sorted(commands) == GOLDEN_COMMANDS


@pytest.mark.parametrize("command", GOLDEN_COMMANDS)
def test_command_help(monkeypatch, command):
    check(f"help/{command}.txt", help_text(spikeport_main(), monkeypatch, command), normalise_help)
