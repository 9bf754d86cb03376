"""What the fuzz tests share: a tiny spec, the CLI run in-process with its outcome classified,
and the tally of outcomes printed (and written to the pytest base temp folder) at the end.

Outcomes:
  ``clean``     exit 2, stderr is one line ``spikeport: error: ...`` naming what the case says
  ``accepted``  exit 0, and the case expected a correct result (checked by the case)
  ``defect``    anything else: a traceback, another exit code, a silent accept, a bad message
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import traceback
from collections import Counter
from pathlib import Path

from spikeport.cli import main
from spikeport.errors import SpikeportError

COUNTS: Counter = Counter()        # this module's outcomes
TOTALS: Counter = Counter()        # the whole session's (printed by tests/conftest.py)
DEFECTS: list[str] = []

TINY = """\
schema: spikeport/1
name: fuzz_tiny
dt: 1 ms
sample_steps: 10
seed: 3
inputs:
  - name: pixels
    n: 64
    encoder: {kind: poisson, max_rate: 200 Hz}
populations:
  - name: hidden
    n: 12
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 3
  - name: output
    n: 10
    tau_u: 5 ms
    tau_v: 20 ms
    threshold: 2
projections:
  - pre: pixels
    post: hidden
    weights: {kind: uniform, low: -0.3, high: 0.6}
    w_min: -1.0
    w_max: 1.0
  - pre: hidden
    post: output
    weights: {kind: uniform, low: 0.0, high: 0.5}
    sign_mode: excitatory
    w_min: 0.0
    w_max: 2.0
    learning: {rule: supervised_stdp, eta: 0.005, tau_pre: 20 ms}
teacher: {population: output, rate: 200 Hz, kind: regular}
readout: {population: output, n_classes: 10}
"""


def run_cli(*argv) -> tuple[str, int | None, str]:
    """(kind, exit code, stderr) of ``spikeport ARGV`` run in this process; kind is
    ``exit0``, ``error2`` (one clean line), or ``traceback``/``other`` (a defect)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
    except SystemExit as exc:        # argparse
        return "other", exc.code if isinstance(exc.code, int) else 1, err.getvalue()
    except BaseException:            # noqa: BLE001 - a traceback is the finding
        return "traceback", None, traceback.format_exc()
    text = err.getvalue()
    if code == 0:
        return "exit0", 0, text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if code == 2 and len(lines) == 1 and lines[0].startswith("spikeport: error: "):
        return "error2", 2, lines[0]
    return "other", code, text


def record(case: str, kind: str, detail: str, expect: str, must: tuple = ()) -> str:
    """Classify one result against what the case expects (``error`` or ``ok``); count it and
    return the outcome. ``must``: words a clean error has to contain (file, field, ...)."""
    if expect == "error" and kind == "error2" and all(m.lower() in detail.lower() for m in must):
        outcome = "clean"
    elif expect == "ok" and kind == "exit0":
        outcome = "accepted"
    else:
        outcome = "defect"
        DEFECTS.append(f"{case}: expected {expect}, got {kind}: {detail.strip()[-300:]}")
    COUNTS[outcome] += 1
    TOTALS[outcome] += 1
    return outcome


def api_outcome(fn, *args) -> tuple[str, str]:
    """(kind, message) of a library call: ``ok``, ``error2`` (a SpikeportError: one line) or
    ``traceback`` (anything else)."""
    try:
        fn(*args)
    except SpikeportError as exc:
        msg = str(exc)
        return ("error2" if "\n" not in msg else "other"), msg
    except BaseException:  # noqa: BLE001
        return "traceback", traceback.format_exc()
    return "exit0", ""


def refresh_hash(fixed_dir: Path) -> None:
    """Store the weights' real SHA-256 in network.json (as a corrupter that knows the format
    would), so only the field checks can catch a corruption."""
    doc = json.loads((fixed_dir / "network.json").read_text())
    doc["weights_sha256"] = hashlib.sha256((fixed_dir / "weights.npz").read_bytes()).hexdigest()
    (fixed_dir / "network.json").write_text(json.dumps(doc))


def report(basetemp: Path, name: str) -> None:
    line = (f"fuzz {name}: " + ", ".join(f"{k} {COUNTS[k]}" for k in ("clean", "accepted",
                                                                     "defect")))
    print("\n" + line, file=sys.__stderr__)
    for d in DEFECTS:
        print("  defect: " + d, file=sys.__stderr__)
    path = Path(basetemp) / "fuzz_counts.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[name] = dict(COUNTS)
    path.write_text(json.dumps(data, indent=1))
