"""Golden outputs of *stock, unpatched* lava-nc 0.10.0 on Python 3.10 (recorded by
``scripts/lava_golden/record.py``, fixtures in ``tests/fixtures/lava_golden``) against

(a) the patched Lava of the Python running the tests (3.11+, numpy 2, ``ByteEncoder`` hash
    patch): the same network, rebuilt by the recorder's own ``build_and_run`` from the
    fixture's parameters and input arrays, must give every recorded array bit for bit
    (``@pytest.mark.lava``);
(b) spikeport's numba emulator (``run_emulator``) on the equivalent ``FixedNetwork``: u, v and
    spikes (``lif_dense``), per-step weights and spikes (``stdp``, ``three_factor``);
(c) the learning traces, which ``run_emulator`` does not expose per step: spikeport's kernel
    ``LearningEngine`` (what the emulator's compiled learning step is checked against in
    ``test_emulator.py``) fed the fixture's pre spikes, the *recorded* post spikes and the
    third factor, must give the recorded ``x1``/``y1`` (``stdp``) and ``x1``/``x2``/``y2``/
    ``y3`` (``three_factor``) and the weights at every step.

The third factor of ``three_factor`` reaches stock Lava's ``LearningDense`` through graded
``RingBuffer``s on ``s_in_y2``/``s_in_y3`` (stock ``LearningLIF`` ignores
``a_third_factor_in``); in the emulator it is the teacher of a gated supervised rule:
``y2 = y_value`` at teaching spikes, ``y3 = gate_value`` at every step for taught neurons
(the fixture's y inputs are checked to be exactly that). Everything recorded is expressed in
(b) or (c); nothing is left to patched Lava alone.

Seeds fixed, fixed-point models: a single differing bit fails (``test_comparison_bites``
proves the comparison catches a 1-LSB change in any recorded array).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from spikeport.backends.emulator import run_emulator
from spikeport.flow.fixed import FixedNetwork, FixedPopulation, FixedProjection, FixedTeacher
from spikeport.flow.plans import RulePlan
from spikeport.kernels.relay import split_third_factor

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lava_golden"
NAMES = ("lif_dense", "stdp", "three_factor")


def _recorder():
    spec = importlib.util.spec_from_file_location(
        "lava_golden_record", ROOT / "scripts" / "lava_golden" / "record.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


record = _recorder()


def _fixture(name: str):
    scenario, meta, ins, outs = record.load(FIXTURES / f"{name}.npz")
    assert scenario == name
    return meta, meta["params"], ins, outs


def assert_bits_equal(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Same shape, same dtype, every element equal; the message names the first difference."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != recorded {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != recorded {want.dtype}"
    diff = np.argwhere(got != want)
    if diff.size:
        first = tuple(int(i) for i in diff[0])
        raise AssertionError(f"{what}: {len(diff)} element(s) differ from stock Lava 3.10; "
                             f"first at (step, ...) = {first}: got {got[first]}, recorded "
                             f"{want[first]}")


# ------------------------------------------------------------------------------ fixtures

@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_a_stock_recording_of_the_current_scenario(name):
    """The fixture says where it came from, its inputs are what the recorder's scenario
    generates now (nobody changed a scenario without re-recording) and it has activity."""
    meta, params, ins, outs = _fixture(name)
    v = meta["versions"]
    assert v["python"].startswith("3.10.") and v["lava-nc"] == "0.10.0"
    assert int(v["numpy"].split(".")[0]) < 2 and v["lava_files_checked_against_RECORD"]
    assert meta["run_cfg"]["select_tag"] == "fixed_pt"
    assert meta["run_cfg"]["exception_proc_model_map"]["LIF"] == "PyLifModelBitAcc"
    p_now, ins_now = record.SCENARIOS[name]()
    assert json.loads(json.dumps(p_now)) == params
    assert set(ins_now) == set(ins)
    for key in ins:
        assert_bits_equal(np.asarray(ins_now[key]).astype(ins[key].dtype), ins[key], key)
    s = outs["out_spikes"]
    assert 0.05 < s.mean() < 0.7 and s.any(axis=0).sum() >= s.shape[1] - 1
    if "out_weights" in outs:
        w = outs["out_weights"]
        assert len(np.unique(w.reshape(len(w), -1), axis=0)) > 50, "weights barely learn"
        assert (w != 255).all() and (w != -256).all(), "a weight saturated: a weaker test"


def test_fixtures_are_small():
    files = sorted(FIXTURES.glob("*.npz"))
    assert [f.stem for f in files] == sorted(NAMES)
    assert sum(f.stat().st_size for f in files) < 1_000_000


def test_comparison_bites():
    """Any recorded array with one element moved by one LSB (or one spike flipped) fails."""
    for name in NAMES:
        _, _, _, outs = _fixture(name)
        for key, want in outs.items():
            bad = want.copy()
            idx = tuple(np.array(want.shape) // 2)
            bad[idx] = ~bad[idx] if bad.dtype == bool else bad[idx] + 1
            with pytest.raises(AssertionError, match="differ from stock Lava"):
                assert_bits_equal(bad, want, f"{name} {key}")


# ------------------------------------------------------------------------------ (a) patched Lava

@pytest.mark.lava
@pytest.mark.parametrize("name", NAMES)
def test_patched_lava_equals_stock_lava(name):
    from spikeport.lava_processes import prepare_lava_import

    prepare_lava_import()
    _, params, ins, outs = _fixture(name)
    got = record.build_and_run(name, params, ins)
    assert sorted(got) == sorted(outs)
    for key in outs:
        assert_bits_equal(got[key], outs[key], f"{name} {key}")


# ------------------------------------------------------------------------------ (b) emulator

def _network(name, p, ins, pop: FixedPopulation, proj: FixedProjection, teacher=None):
    return FixedNetwork(f"golden_{name}", 0.001, int(p["steps"]), 0, False, 0,
                        (("in", ins["in_spikes"].shape[0]),), (pop,), (proj,), teacher=teacher)


def _scale(value: float) -> tuple[int, int]:
    """An exact ``m·2^e`` (|m| <= 7) for a Lava rule constant such as STDPLoihi's lr·A."""
    for e in range(-7, 9):
        m = value / 2.0 ** e
        if m == int(m) and abs(m) <= 7:
            return int(m), e
    raise ValueError(f"{value} is not m·2^e with |m| <= 7")


def _plan(name: str, p: dict) -> RulePlan:
    if name == "stdp":
        # STDPLoihi: dw = lr·A−·x0·y1 + lr·A+·y0·x1; x1/y1 impulses 16 (its defaults),
        # x1_tau = tau_plus, y1_tau = tau_minus (lava/proc/learning_rules/stdp_learning_rule.py)
        m_minus, e_minus = _scale(p["learning_rate"] * p["A_minus"])
        m_plus, e_plus = _scale(p["learning_rate"] * p["A_plus"])
        return RulePlan(kind="stdp", t_epoch=p["t_epoch"], post="2F",
                        products=(("x0", ("y1",), m_minus, e_minus),
                                  ("y0", ("x1",), m_plus, e_plus)),
                        x_impulse=(16, 0), x_tau=(p["tau_plus"], 0),
                        y_impulse=(16, 0, 0), y_tau=(p["tau_minus"], 0, 0),
                        rng_seed=p["rng_seed"])
    plan = RulePlan(kind="supervised_stdp", t_epoch=p["t_epoch"], post="3F",
                    products=(("u0", ("x1", "y2"), 1, -2), ("y0", ("x2", "y3"), -1, -3),
                              ("x0", ("y2",), 3, -4)),
                    x_impulse=(p["x1_impulse"], p["x2_impulse"]),
                    x_tau=(p["x1_tau"], p["x2_tau"]), rng_seed=p["rng_seed"])
    # the emulator runs exactly the rule string stock Lava was given
    assert plan.to_lava_string() == p["dw"]
    return plan


def test_emulator_equals_stock_lava_lif_dense():
    _, p, ins, outs = _fixture("lif_dense")
    w = ins["in_weights"].astype(np.int64).T  # (n_pre, n_post)
    pop = FixedPopulation("p", int(p["n_out"]), scale=1.0, du=p["du"], dv=p["dv"],
                          vth=p["vth"], bias_mant=ins["in_bias_mant"].astype(np.int64),
                          bias_exp=ins["in_bias_exp"].astype(np.int64))
    proj = FixedProjection("in->p", "in", "p", "mixed", 0, 1.0, w, w != 0)
    got = run_emulator(_network("lif_dense", p, ins, pop, proj),
                       {"in": ins["in_spikes"].T[None]}, record_states=True)
    assert_bits_equal(got.states["u"]["p"].astype(np.int32), outs["out_u"], "emulator u")
    assert_bits_equal(got.states["v"]["p"].astype(np.int32), outs["out_v"], "emulator v")
    assert_bits_equal(got.spikes["p"][0], outs["out_spikes"], "emulator spikes")
    # the int32 casts above are exact (24-bit states)
    assert np.abs(got.states["u"]["p"]).max() < 2 ** 23


@pytest.mark.parametrize("name", ["stdp", "three_factor"])
def test_emulator_equals_stock_lava_learning(name):
    _, p, ins, outs = _fixture(name)
    n_pre, n_post = int(p["n_pre"]), int(p["n_post"])
    teacher = fixed_teacher = None
    if name == "three_factor":
        teacher = ins["in_teacher"].T[None]  # (1, steps, n_post)
        fixed_teacher = FixedTeacher("p", n_post, y_value=p["y_value"], drive=None,
                                     gate_value=p["gate_value"])
        # what Lava's y ports received is what the teacher and its gate make
        taught = ins["in_teacher"].any(axis=1, keepdims=True)
        y2, y3 = split_third_factor(ins["in_teacher"] * p["y_value"],
                                    np.broadcast_to(taught * p["gate_value"], ins["in_y3"].shape))
        assert_bits_equal(y2.astype(np.int8), ins["in_y2"], "y2 input")
        assert_bits_equal(y3.astype(np.int8), ins["in_y3"], "y3 input")
    pop = FixedPopulation("p", n_post, scale=1.0, du=p["du"], dv=p["dv"], vth=p["vth"],
                          third_factor="teacher" if teacher is not None else None)
    proj = FixedProjection("in->p", "in", "p", "mixed", 0, 1.0,
                           ins["in_weights"].astype(np.int64).T,
                           np.ones((n_pre, n_post), bool), rule=_plan(name, p))
    fixed = _network(name, p, ins, pop, proj, fixed_teacher)
    got = run_emulator(fixed, {"in": ins["in_spikes"].T[None]}, teacher, learn=True,
                       record_states=True)
    w = got.states["weights"]["in->p"].transpose(0, 2, 1)  # -> (steps, n_post, n_pre)
    assert np.abs(w).max() <= 256
    assert_bits_equal(w.astype(np.int16), outs["out_weights"], "emulator weights")
    assert_bits_equal(got.spikes["p"][0], outs["out_spikes"], "emulator spikes")


# ------------------------------------------------------------------------------ (c) traces

@pytest.mark.parametrize("name", ["stdp", "three_factor"])
def test_learning_engine_traces_equal_stock_lava(name):
    """Per step, spikeport's LearningEngine (the emulator's learning specification) with the
    recorded post spikes gives Lava's x/y trace Vars and weights."""
    _, p, ins, outs = _fixture(name)
    engine = _plan(name, p).engine("mixed")
    state = engine.init_state(ins["in_weights"].astype(np.int64))
    T, n_post = int(p["steps"]), int(p["n_post"])
    keys = [k for k in ("x1", "x2", "y1", "y2", "y3") if f"out_{k}" in outs]
    rec = {k: [] for k in keys + ["weights"]}
    for t in range(T):
        y_in = None
        if name == "three_factor":
            y_in = np.stack([np.zeros(n_post, np.int64), ins["in_y2"][:, t],
                             ins["in_y3"][:, t]]).astype(np.int64)[None]
        state = engine.step(state, ins["in_spikes"][:, t][None],
                            outs["out_spikes"][t][None], y_in)
        for k in keys:
            side, i = (state.x, int(k[1]) - 1) if k[0] == "x" else (state.y, int(k[1]) - 1)
            rec[k].append(side[0, i].copy())
        rec["weights"].append(state.weights[0].copy())
    for k in keys:
        assert_bits_equal(np.array(rec[k]).astype(np.uint8), outs[f"out_{k}"], f"engine {k}")
    assert_bits_equal(np.array(rec["weights"]).astype(np.int16), outs["out_weights"],
                      "engine weights")
