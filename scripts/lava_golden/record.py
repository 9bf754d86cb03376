"""Record golden outputs of *stock, unpatched* lava-nc 0.10.0 on Python 3.10.

Why: lava-nc 0.10.0 (its last release) declares Python < 3.11 and numpy < 2. spikeport runs
it on 3.11+ with numpy 2, installed without dependency resolution and with one patch
(``lava/magma/compiler/var_model.py``: ``@dataclass(unsafe_hash=True)`` on ``ByteEncoder``).
The fixtures written here are what the unmodified package computes on the Python it
supports; ``tests/test_lava_golden.py`` rebuilds the same networks on the patched Lava of the
current Python (and as spikeport ``FixedNetwork``s on the numba emulator) and requires the
same bits, so 3.10 is needed only to *record*, never to test.

Scenarios (seeded, small; every input array is stored in the fixture, so the tests never
depend on numpy's random streams):

``lif_dense``
    ``RingBuffer`` spikes -> ``Dense`` (``PyDenseModelBitAcc``, weights of both signs, i.e.
    MIXED) -> ``LIF`` (``PyLifModelBitAcc``, per-neuron ``bias_mant``/``bias_exp``).
    Recorded per step: ``u``, ``v``, ``s_out``.
``stdp``
    ``RingBuffer`` -> ``LearningDense`` (``PyLearningDenseModelBitApproximate``, ``STDPLoihi``,
    ``rng_seed`` set: stochastic rounding of traces and weights) -> ``LIF``, with
    ``LIF.s_out -> LearningDense.s_in_bap`` closing the bAP loop.
    Recorded per step: ``weights``, ``s_out``, the traces ``x1`` (pre) and ``y1`` (post).
``three_factor``
    The same loop with a ``Loihi3FLearningRule``::

        dw = 1*2^-2*u0*x1*y2 - 1*2^-3*y0*x2*y3 + 3*2^-4*x0*y2

    The third factor comes from graded ``RingBuffer`` sources straight into
    ``LearningDense.s_in_y2`` / ``s_in_y3`` (``s_in_y1`` is left unconnected and reads 0):
    ``y2 = y_value`` at a neuron's "teacher" steps, ``y3 = gate_value`` at every step for
    the neurons that have a teacher step at all (one neuron has none). That is what
    spikeport's ``ThirdFactorLIF`` sends for a gated supervised rule. Stock ``LearningLIF``
    is *not* used: its fixed-point model never reads ``a_third_factor_in`` and never sends
    bAP or y values (LOIHI.md A3), so in stock Lava a third factor has to reach the
    connection's y ports from another process.
    Recorded per step: ``weights``, ``s_out``, ``x1``, ``x2``, ``y2``, ``y3``.

Models are selected explicitly: ``Loihi2SimCfg(select_tag="fixed_pt",
exception_proc_model_map={LIF: PyLifModelBitAcc, Dense: PyDenseModelBitAcc, LearningDense:
PyLearningDenseModelBitApproximate, RingBuffer: PySendModelFixed})``.

Each ``<scenario>.npz`` (compressed, small integer dtypes) holds the inputs (``in_*``), the
recorded outputs (``out_*``) and ``meta``: a JSON string with the versions (python, numpy,
lava-nc, platform), the scenario parameters and the models used.

How to record
-------------
A Python 3.10 is needed. On the spikeport build machine::

    $(pyenv root)/versions/3.10.13/bin/python3.10 -m venv /work/venvs/lava310
    /work/venvs/lava310/bin/pip install lava-nc==0.10.0        # stock, its own pinned deps
    /work/venvs/lava310/bin/python scripts/lava_golden/record.py   # -> tests/fixtures/lava_golden

Elsewhere get a 3.10 with ``pyenv install 3.10`` (then ``$(pyenv root)/versions/3.10.*``),
a distro package (``apt-get install python3.10 python3.10-venv``, deadsnakes on Ubuntu) or
``uv python install 3.10``, and make the venv the same way. Do not install spikeport into that
venv and do not patch Lava there: the script refuses to run unless the interpreter is 3.10,
``lava-nc`` is 0.10.0 and every installed Lava file matches the hash in the wheel's RECORD
(which also rejects the ``ByteEncoder`` patch, checked separately as well).

Options: ``--out DIR`` (default ``tests/fixtures/lava_golden`` of this checkout), ``--only
NAME`` (repeatable). Re-recording must give identical files' arrays: the runs are
deterministic (fixed seeds, Lava's fixed-point models).

This module is also imported by the tests (``build_and_run`` and ``SCENARIOS``): the network
construction is written once and run on both Lavas. Importing it checks nothing; only
``main()`` refuses the wrong environment.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import platform
import signal
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "lava_golden"
DEADLINE_S = 120


# ------------------------------------------------------------------------------ scenarios
# Each scenario: params (JSON-able, stored in the fixture) and inputs (arrays, stored too).

def _lif_dense_inputs() -> tuple[dict, dict]:
    p = dict(seed=20261207, steps=200, n_in=16, n_out=10, rate=0.3, du=700, dv=250, vth=900,
             w_low=-150, w_high=200, bias_mant_range=[-300, 300], bias_exp_range=[0, 4])
    rng = np.random.default_rng(p["seed"])
    arrays = {
        "in_spikes": rng.random((p["n_in"], p["steps"])) < p["rate"],        # (n_in, T)
        "in_weights": rng.integers(p["w_low"], p["w_high"], (p["n_out"], p["n_in"]))
        .astype(np.int16),                                                  # (n_out, n_in)
        "in_bias_mant": rng.integers(*p["bias_mant_range"], p["n_out"]).astype(np.int16),
        "in_bias_exp": rng.integers(*p["bias_exp_range"], p["n_out"]).astype(np.int8),
    }
    return p, arrays


def _stdp_inputs() -> tuple[dict, dict]:
    p = dict(seed=20261208, steps=250, n_pre=12, n_post=6, rate=0.2, du=800, dv=300,
             vth=600, w_low=-60, w_high=120, learning_rate=0.0625, A_plus=2, A_minus=-2,
             tau_plus=10, tau_minus=12, t_epoch=1, rng_seed=9)
    rng = np.random.default_rng(p["seed"])
    arrays = {
        "in_spikes": rng.random((p["n_pre"], p["steps"])) < p["rate"],
        "in_weights": rng.integers(p["w_low"], p["w_high"], (p["n_post"], p["n_pre"]))
        .astype(np.int16),
    }
    return p, arrays


THREE_FACTOR_DW = "1*2^-2*u0*x1*y2 - 1*2^-3*y0*x2*y3 + 3*2^-4*x0*y2"


def _three_factor_inputs() -> tuple[dict, dict]:
    p = dict(seed=20261209, steps=200, n_pre=10, n_post=5, rate=0.25, teacher_rate=0.08,
             du=800, dv=300, vth=450, w_low=-40, w_high=140, dw=THREE_FACTOR_DW,
             x1_impulse=20, x1_tau=8, x2_impulse=24, x2_tau=16, t_epoch=1, rng_seed=5,
             y_value=8, gate_value=12, untaught_neuron=3)
    rng = np.random.default_rng(p["seed"])
    teacher = rng.random((p["n_post"], p["steps"])) < p["teacher_rate"]
    teacher[p["untaught_neuron"]] = False          # this neuron gets neither y2 nor the gate
    taught = teacher.any(axis=1)
    arrays = {
        "in_spikes": rng.random((p["n_pre"], p["steps"])) < p["rate"],
        "in_weights": rng.integers(p["w_low"], p["w_high"], (p["n_post"], p["n_pre"]))
        .astype(np.int16),
        "in_teacher": teacher,                                              # (n_post, T)
        "in_y2": (teacher * p["y_value"]).astype(np.int8),                  # (n_post, T)
        "in_y3": np.repeat((taught * p["gate_value"])[:, None], p["steps"], axis=1)
        .astype(np.int8),
    }
    return p, arrays


SCENARIOS = {"lif_dense": _lif_dense_inputs, "stdp": _stdp_inputs,
             "three_factor": _three_factor_inputs}


# ------------------------------------------------------------------------------ Lava runs

def _run_cfg():
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.models import PyDenseModelBitAcc, PyLearningDenseModelBitApproximate
    from lava.proc.dense.process import Dense, LearningDense
    from lava.proc.io.source import PySendModelFixed, RingBuffer
    from lava.proc.lif.models import PyLifModelBitAcc
    from lava.proc.lif.process import LIF

    models = {LIF: PyLifModelBitAcc, Dense: PyDenseModelBitAcc,
              LearningDense: PyLearningDenseModelBitApproximate, RingBuffer: PySendModelFixed}
    cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map=models)
    return cfg, {p.__name__: m.__name__ for p, m in models.items()}


def _alarm(seconds: int):
    def _raise(signum, frame):
        raise TimeoutError(f"Lava run exceeded {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    return old


def _run(procs_probes: dict, anchor, steps: int) -> dict:
    """Run the graph of ``anchor`` for ``steps``; monitors ``{key: (target, var)}``; return
    ``{key: array (steps, ...)}``; the runtime is always stopped."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.monitor.process import Monitor

    monitors = {}
    for key, (target, var) in procs_probes.items():
        mon = Monitor()
        mon.probe(getattr(target, var), steps)
        monitors[key] = (mon, target, var)
    cfg, _ = _run_cfg()
    old = _alarm(DEADLINE_S)
    try:
        anchor.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
        return {key: np.asarray(mon.get_data()[target.name][var])
                for key, (mon, target, var) in monitors.items()}
    finally:
        try:
            anchor.stop()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


def _as(arr: np.ndarray, dtype, steps: int, shape: tuple) -> np.ndarray:
    """Monitor data -> (steps, *shape) of an exact integer dtype (refuses lossy casts)."""
    a = np.asarray(arr).reshape((steps,) + shape)
    out = a.astype(dtype)
    if not np.array_equal(out.astype(np.float64), a.astype(np.float64)):
        raise ValueError(f"values do not fit {np.dtype(dtype).name}")
    return out


def build_and_run(name: str, p: dict, a: dict) -> dict:
    """Build scenario ``name`` from its params and input arrays with stock Lava processes, run
    it on Lava's CPU simulator, return the recorded outputs ``{out_*: array (steps, ...)}``."""
    from lava.proc.dense.process import Dense, LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    T = int(p["steps"])
    src = RingBuffer(data=np.asarray(a["in_spikes"]).astype(np.int32))
    if name == "lif_dense":
        n = int(p["n_out"])
        dense = Dense(weights=np.asarray(a["in_weights"]).astype(np.int32))
        lif = LIF(shape=(n,), du=p["du"], dv=p["dv"], vth=p["vth"],
                  bias_mant=np.asarray(a["in_bias_mant"]).astype(np.int32),
                  bias_exp=np.asarray(a["in_bias_exp"]).astype(np.int32))
        src.s_out.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        got = _run({"u": (lif, "u"), "v": (lif, "v"), "s": (lif, "s_out")}, src, T)
        return {"out_u": _as(got["u"], np.int32, T, (n,)),
                "out_v": _as(got["v"], np.int32, T, (n,)),
                "out_spikes": _as(got["s"], bool, T, (n,))}

    n_pre, n_post = int(p["n_pre"]), int(p["n_post"])
    w0 = np.asarray(a["in_weights"]).astype(np.int32)
    if name == "stdp":
        from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

        rule = STDPLoihi(learning_rate=p["learning_rate"], A_plus=p["A_plus"],
                         A_minus=p["A_minus"], tau_plus=p["tau_plus"],
                         tau_minus=p["tau_minus"], t_epoch=p["t_epoch"],
                         rng_seed=p["rng_seed"])
        traces = {"x1": (n_pre,), "y1": (n_post,)}
    elif name == "three_factor":
        from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

        rule = Loihi3FLearningRule(dw=p["dw"], x1_impulse=p["x1_impulse"], x1_tau=p["x1_tau"],
                                   x2_impulse=p["x2_impulse"], x2_tau=p["x2_tau"],
                                   t_epoch=p["t_epoch"], rng_seed=p["rng_seed"])
        traces = {"x1": (n_pre,), "x2": (n_pre,), "y2": (n_post,), "y3": (n_post,)}
    else:
        raise KeyError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
    dense = LearningDense(weights=w0, learning_rule=rule)
    lif = LIF(shape=(n_post,), du=p["du"], dv=p["dv"], vth=p["vth"])
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(dense.s_in_bap)
    if name == "three_factor":
        y2 = RingBuffer(data=np.asarray(a["in_y2"]).astype(np.int32))
        y3 = RingBuffer(data=np.asarray(a["in_y3"]).astype(np.int32))
        y2.s_out.connect(dense.s_in_y2)
        y3.s_out.connect(dense.s_in_y3)
    probes = {"w": (dense, "weights"), "s": (lif, "s_out")}
    probes.update({k: (dense, k) for k in traces})
    got = _run(probes, src, T)
    out = {"out_weights": _as(got["w"], np.int16, T, (n_post, n_pre)),
           "out_spikes": _as(got["s"], bool, T, (n_post,))}
    out.update({f"out_{k}": _as(got[k], np.uint8, T, shape) for k, shape in traces.items()})
    return out


def load(path) -> tuple[str, dict, dict, dict]:
    """A fixture -> (scenario name, meta, input arrays, output arrays)."""
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        ins = {k: f[k] for k in f.files if k.startswith("in_")}
        outs = {k: f[k] for k in f.files if k.startswith("out_")}
    return meta["scenario"], meta, ins, outs


# ------------------------------------------------------------------------------ environment

def _lava_record_mismatches() -> tuple[str, list[str]]:
    """(lava-nc version, installed lava files whose sha256 differs from the wheel's RECORD)."""
    from importlib import metadata

    dist = metadata.distribution("lava-nc")
    bad = []
    for f in dist.files or ():
        if not str(f).startswith("lava/") or f.hash is None or f.hash.mode != "sha256":
            continue
        data = Path(f.locate()).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if digest != f.hash.value:
            bad.append(str(f))
    return dist.version, bad


def check_stock_environment() -> dict:
    """Refuse anything but Python 3.10 with stock, unpatched lava-nc 0.10.0; return versions."""
    problems = []
    if sys.version_info[:2] != (3, 10):
        problems.append(f"Python {platform.python_version()} (need 3.10)")
    try:
        lava_version, modified = _lava_record_mismatches()
    except Exception as exc:  # noqa: BLE001 - any failure means we cannot vouch for Lava
        raise SystemExit(f"record.py: lava-nc is not installed properly here ({exc}); see "
                         "--help") from exc
    if lava_version != "0.10.0":
        problems.append(f"lava-nc {lava_version} (need 0.10.0)")
    if modified:
        problems.append(f"{len(modified)} Lava file(s) differ from the wheel's RECORD, e.g. "
                        f"{modified[0]} (need stock, unpatched Lava)")
    from lava.magma.compiler import var_model

    src = Path(var_model.__file__).read_text()
    if "@dataclass\nclass ByteEncoder:" not in src or var_model.ByteEncoder.__hash__ is not None:
        problems.append("lava/magma/compiler/var_model.py carries the ByteEncoder hash patch")
    try:
        import spikeport  # noqa: F401
        problems.append("spikeport is importable here (record in a venv with only lava-nc)")
    except ImportError:
        pass
    if problems:
        raise SystemExit("record.py refuses to record: " + "; ".join(problems)
                         + ". See --help for how to build a Python 3.10 venv with stock "
                           "lava-nc 0.10.0.")
    return {"python": platform.python_version(), "numpy": np.__version__,
            "lava-nc": lava_version, "platform": platform.platform(),
            "lava_files_checked_against_RECORD": True}


def record(name: str, out_dir: Path, versions: dict) -> Path:
    params, arrays = SCENARIOS[name]()
    outputs = build_and_run(name, params, arrays)
    _, models = _run_cfg()
    meta = {"scenario": name, "versions": versions, "params": params,
            "run_cfg": {"class": "Loihi2SimCfg", "select_tag": "fixed_pt",
                        "exception_proc_model_map": models},
            "layout": {"in_spikes": "(n_in, steps) bool, RingBuffer data",
                       "in_weights": "(n_post, n_pre) Lava orientation",
                       "out_*": "(steps, ...) monitor data at steps 1..steps",
                       "out_weights": "(steps, n_post, n_pre)"}}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.npz"
    np.savez_compressed(path, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays,
                        **outputs)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", action="append", choices=sorted(SCENARIOS))
    args = ap.parse_args(argv)
    versions = check_stock_environment()
    for name in args.only or list(SCENARIOS):
        path = record(name, args.out, versions)
        _, _, _, outs = load(path)
        summary = ", ".join(f"{k} {v.shape} {v.dtype}" for k, v in outs.items())
        print(f"{path} ({path.stat().st_size} bytes): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
