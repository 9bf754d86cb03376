"""The whole Lava path (spec -> quantize -> build -> run): a hand-derived one-synapse weight
change, masked and absent synapses that never change, no spikes => no change, the subprocess
entry with its timeout and cleanup."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from spikeport.converters.quantize import quantize
from spikeport.errors import BackendError, SpecError
from spikeport.flow.fixed import FixedNetwork
from spikeport.models import (
    Encoder,
    InputPopulation,
    LIFPopulation,
    Network,
    Projection,
    Readout,
    SupervisedSTDP,
    Teacher,
    WeightInit,
)
from spikeport.models.weights import initial_weights

lava = pytest.importorskip("lava")

from test_lava_processes import _batch, _net  # noqa: E402

from spikeport.flow.result import RunResult  # noqa: E402
from spikeport.lava_processes.graph import build_graph  # noqa: E402
from spikeport.lava_processes.run import _group_pids, run_lava, run_lava_subprocess  # noqa: E402

pytestmark = pytest.mark.lava


def one_synapse_net(eta=0.05) -> Network:
    return Network(
        name="one", dt=0.001, sample_steps=10, seed=11,
        inputs=(InputPopulation("inp", 1, Encoder("poisson", max_rate=100.0)),),
        populations=(LIFPopulation("out", 2, threshold=100.0),),
        projections=(Projection("inp", "out", sign_mode="excitatory", w_min=0.0, w_max=1.0,
                                weights=WeightInit("constant", value=0.5),
                                learning=SupervisedSTDP(eta=eta, tau_pre=0.004)),),
        teacher=Teacher("out", rate=100.0), readout=Readout("out", 2))


def _stoch_decay(x: int, tau: float, r: float) -> int:
    """Lava's trace decay with stochastic rounding: floor(x·e^{−1/τ}) + (r < fraction)."""
    scaled = x * math.exp(-1.0 / tau)
    return int(math.floor(scaled) + (r < scaled % 1))


def test_one_synapse_teacher_after_pre_spike_hand_derived():
    net = one_synapse_net()
    fixed = quantize(net, initial_weights(net))
    proj = fixed.projection("inp->out")
    plan = proj.rule
    (_, _, m, e_teach), _ = plan.products
    imp, tau, y, seed = plan.x_impulse[0], plan.x_tau[0], plan.teacher_y, plan.rng_seed
    w0 = int(proj.weights[0, 0])  # the synapse inp 0 -> out 0 (out 1 gets no teacher)
    # scale: θ=100, headroom 8 -> S ≤ 163.8; anchor w_max = 1: S = 255·2^−1 = 127.5, weight_exp
    # −1, so one float unit is 255 LSB and w = 0.5 -> 127.5 -> 128 (round half up, EXCITATORY)
    assert (fixed.population("out").scale, proj.weight_exp, w0) == (127.5, -1, 128)
    pre = np.zeros((1, 10, 1), bool)
    teach = np.zeros((1, 10, 2), bool)
    pre[0, 2, 0] = True    # pre spike at Lava step t = 3
    teach[0, 4, 0] = True  # teaching spike for out 0 two steps later, t = 5
    res = run_lava(fixed, {"inp": pre}, teach, learn=True)
    assert not res.spikes["out"].any()  # θ = 100: the output neuron stays silent (no y0 term)

    # x1: t=3 -> impulse (0 decays to 0, + imp); t=4, t=5: one decay each, rounded with the
    # x-decay stream (numpy default_rng(rng_seed)), at position 2·t (two advances per step)
    r_x = np.random.default_rng(seed).random(11)
    x4 = _stoch_decay(imp, tau, r_x[8])
    x5 = _stoch_decay(x4, tau, r_x[10])
    # y2 = y_value at t=5; Loihi3FLearningRule replays it with tau 65535 and the y-decay stream
    # (default_rng(rng_seed + 2)), position 10
    y5 = _stoch_decay(y, 65535, np.random.default_rng(seed + 2).random(11)[10])
    # product u0·x1·y2·m: widths 7+7+4 = 18 -> >> 3, then << (e + 7) accumulator units (1/128 LSB)
    acc = (w0 << 7) + (((x5 * y5 * m) >> 3) << (e_teach + 7))
    # stochastic rounding back to an integer with Lava's ConnVarRandom (seed 2), epoch 5 -> 5th
    # value after the one drawn at creation
    r_syn = np.random.default_rng(2).random(6)[5]
    w_expected = (acc >> 7) + (r_syn < (acc & 127) / 128)
    assert res.weights["inp->out"][0, 0] == w_expected
    assert res.weights["inp->out"][0, 1] == proj.weights[0, 1]  # no teacher, no spike: no change
    assert w_expected > w0
    # = realised rate × trace: η_realised·L LSB per unit float trace, trace = x1/impulse
    eta_real = plan.rates[0].realised
    assert abs((w_expected - w0) - eta_real * proj.lsb_per_unit * x5 / imp * y5 / y) < 1


def test_masked_and_absent_synapses_never_change():
    net = _net()
    fixed = quantize(net, initial_weights(net))
    batch = _batch(net, 3, seed=1)
    res = run_lava(fixed, batch.inputs, batch.teacher, learn=True)
    hid = fixed.projection("inp->hid")
    out = fixed.projection("hid->out")
    w_h, w_o = res.weights["inp->hid"], res.weights["hid->out"]
    assert np.array_equal(w_h[~hid.learn_mask], hid.weights[~hid.learn_mask])  # SBP mask
    assert (w_h[hid.learn_mask] != hid.weights[hid.learn_mask]).any()
    assert not w_o[~out.connectivity].any()  # absent synapses stay exactly zero
    assert (w_o[out.connectivity] != out.weights[out.connectivity]).any()
    assert np.array_equal(res.weights["lateral"], fixed.projection("lateral").weights)
    assert res.ops["projection:inp->hid"]["epochs"] == 3  # one SBP epoch per sample
    assert res.ops["projection:inp->hid"]["syn_updates"] == 3 * int(hid.learn_mask.sum())


def test_inference_with_learned_weights_and_thresholds(tmp_path):
    net = _net()
    fixed = quantize(net, initial_weights(net))
    batch = _batch(net, 2, seed=2)
    trained = run_lava(fixed, batch.inputs, batch.teacher, learn=True)
    learned = fixed.with_learned(trained.weights, trained.thresholds)
    assert isinstance(learned.population("hid").vth, list)  # homeostasis: per-neuron vth
    learned.save(tmp_path / "learned")
    again = FixedNetwork.load(tmp_path / "learned")
    assert again.populations == learned.populations
    assert np.array_equal(again.projection("inp->hid").weights, trained.weights["inp->hid"])
    res = run_lava(learned, batch.inputs)  # inference: static Dense, no teacher
    w = trained.weights["inp->hid"]
    assert (w % 2).any(), "learning writes 1-LSB steps"
    # reloading MIXED weights truncates them again: odd mantissas lose their lowest bit
    assert np.array_equal(res.weights["inp->hid"], (w >> 1) << 1)
    assert np.array_equal(res.weights["hid->out"], trained.weights["hid->out"])  # EXCITATORY
    for pop in res.thresholds:
        assert np.array_equal(res.thresholds[pop], trained.thresholds[pop])  # no homeostasis
    assert "relay:inp->hid" not in res.ops and not res.learn


def test_no_spikes_no_weight_change():
    net = _net()
    fixed = quantize(net, initial_weights(net))
    silent = {"inp": np.zeros((2, net.sample_steps, 6), bool)}
    res = run_lava(fixed, silent, np.zeros((2, net.sample_steps, 2), bool), learn=True)
    assert not any(s.any() for s in res.spikes.values())
    for proj in fixed.projections:
        assert np.array_equal(res.weights[proj.name], proj.weights), proj.name
    assert res.ops["projection:hid->out"]["syn_ops"] == 0


def test_learning_needs_teaching_spikes():
    net = _net()
    fixed = quantize(net, initial_weights(net))
    batch = _batch(net, 1)
    with pytest.raises(SpecError, match="teacher"):
        build_graph(fixed, batch.inputs, None, learn=True)
    with pytest.raises(SpecError, match="shape"):
        build_graph(fixed, {"inp": batch.inputs["inp"][:, :5]}, None)


def _write_inputs(path, batch):
    from spikeport.io import atomic_savez

    atomic_savez(path, **{f"input/{k}": v for k, v in batch.inputs.items()},
                 teacher=batch.teacher)


def test_subprocess_entry_equals_in_process(tmp_path):
    net = _net()
    fixed = quantize(net, initial_weights(net))
    fixed.save(tmp_path / "fixed")
    batch = _batch(net, 2, seed=4)
    _write_inputs(tmp_path / "inputs.npz", batch)
    sub = run_lava_subprocess(tmp_path / "fixed", tmp_path / "inputs.npz", tmp_path / "out.npz",
                              learn=True, timeout=120)
    here = run_lava(fixed, batch.inputs, batch.teacher, learn=True)
    for pop in here.spikes:
        assert np.array_equal(sub.spikes[pop], here.spikes[pop])
        assert np.array_equal(sub.thresholds[pop], here.thresholds[pop])
    for proj in here.weights:
        assert np.array_equal(sub.weights[proj], here.weights[proj])
    assert sub.ops == here.ops and sub.learn
    again = RunResult.load(tmp_path / "out.npz")
    assert again.ops == sub.ops


def test_subprocess_timeout_kills_the_group_and_its_shared_memory(tmp_path):
    net = _net()
    fixed = quantize(net, initial_weights(net))
    fixed.save(tmp_path / "fixed")
    # ~60k steps: minutes at Lava's ~1k steps/s; 20 s leave room for Lava's import and
    # compile on a loaded machine (at 4 s the run had not always mapped its memory yet)
    _write_inputs(tmp_path / "inputs.npz", _batch(net, 2000))
    with pytest.raises(BackendError, match="exceeded") as exc:
        run_lava_subprocess(tmp_path / "fixed", tmp_path / "inputs.npz", tmp_path / "out.npz",
                            learn=True, timeout=20, grace=5)
    assert "\n" not in str(exc.value)
    pgid = int(str(exc.value).split("process group ")[1].split(";")[0])
    assert _group_pids(pgid) == []  # every process of the run is gone
    assert exc.value.segments, "the run was under way: its processes had shared memory mapped"
    assert not any(os.path.exists(p) for p in exc.value.segments)  # and none of it is left
    assert not (tmp_path / "out.npz").exists()


def _live_children() -> list[str]:
    """Command lines of this process's live children (multiprocessing's resource tracker, a
    per-interpreter helper, excepted)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            cmd = open(f"/proc/{entry}/cmdline").read().replace("\0", " ")
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and "resource_tracker" not in cmd:
            out.append(cmd)
    return out


def test_interrupt_mid_run_stops_the_runtime():
    """A KeyboardInterrupt during run() (here from an alarm) still stops every Lava process."""
    import signal
    import time

    net = _net()
    fixed = quantize(net, initial_weights(net))
    batch = _batch(net, 300)

    def interrupt(signum, frame):
        raise KeyboardInterrupt("test alarm")

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(2)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_lava(fixed, batch.inputs, batch.teacher, learn=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    deadline = time.monotonic() + 5
    while _live_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_children() == []


def test_lava_imports_after_a_progress_bar_fixed_the_multiprocessing_context():
    """Lava 0.10 calls set_start_method('fork') on import, which raises once anything fixed
    the context (a tqdm bar's lock does); run_lava/build_graph release a fork context first.
    Checked in a fresh interpreter, where Lava is not imported yet."""
    import subprocess
    import sys

    code = ("import multiprocessing as mp, tqdm; tqdm.tqdm(total=1, disable=True).close(); "
            "assert mp.get_start_method(allow_none=True) == 'fork'; "
            "from spikeport.lava_processes import prepare_lava_import; prepare_lava_import(); "
            "import lava.magma.core.process.process; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
