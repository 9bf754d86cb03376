"""Brian2 reference simulator: the float reference every other backend is compared with.

It computes the *discrete* Loihi-order update of the spec (DESIGN.md §3), not an ODE, so that
the fixed-point backends differ from it only by their arithmetic:

* ``on_pre`` adds the weight to an input buffer ``a_in``; the neuron update (``run_regularly``
  in the ``groups`` slot) consumes and zeroes it: ``u ← u·exp(−dt/τ_u) + a_in``,
  ``v ← v·exp(−dt/τ_v) + u + bias``. Adding to ``u`` in ``on_pre`` would decay the input before
  its first use, ``(u+w)(1−δ)`` instead of Lava's ``u(1−δ)+w``.
* Brian2's schedule runs groups → thresholds → synapses → resets, so a spike emitted at step t
  is delivered into ``a_in`` at step t and enters ``u`` at step t+1: the one-step delay of
  Lava's Dense.
* Threshold ``v > vth`` (strict), reset ``v = reset``; ``u`` is not reset. A refractory period
  holds v at ``reset`` for whole steps.
* Many samples run in one ``run()``: the pre-generated input spikes of all samples go through
  one ``SpikeGeneratorGroup`` each, and a ``run_regularly`` in the ``start`` slot clears u, v,
  ``a_in``, refractory counters and learning state (traces, flags, accumulators, STP) at each
  sample boundary (or a rest gap separates samples).
* Learning (``learn=True``): supervised STDP (optionally gated to the taught neurons), STDP,
  SBP, NACA, threshold homeostasis; and STP (always). All as Brian2 string code — custom
  events and synaptic pathways scheduled in the ``end`` slot — so it can run in
  ``cpp_standalone`` too. The within-step schedule and the
  exact updates are in :mod:`spikeport.backends.brian2.rules`; the numpy oracle
  ``tests/oracles/float_reference.py`` computes the same thing step by step.

Brian2 step i is Lava step i+1 (Lava counts from 1; a RingBuffer emits column i at step i+1).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from spikeport.backends.brian2 import copies as bc
from spikeport.backends.brian2.progress import CompileNotice, ProgressBar
from spikeport.backends.brian2.rules import (
    ORDER_SAMPLE_END,
    ORDER_SAMPLE_START,
    learning_projections,
    plan_network,
    reset_code,
    sample_tables,
    spike_code,
)
from spikeport.backends.brian2.standalone import Device, device_dir
from spikeport.errors import BackendError, SpecError
from spikeport.models.rules import SupervisedSTDP
from spikeport.models.spec import Network
from spikeport.models.weights import connectivity_mask

RUNTIME_TARGETS = ("numpy", "cython")
SAMPLE_START = "t_in_timesteps % steps_period == 0"   # first step of a sample (or its period)
TARGETS = RUNTIME_TARGETS + ("cpp_standalone",)


def import_brian2():
    """Import brian2 quietly (pyparsing ≥ 3.3 warns on import; nothing to act on)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from pyparsing.warnings import PyparsingDeprecationWarning  # noqa: F401
            warnings.simplefilter("ignore", PyparsingDeprecationWarning)
        except ImportError:
            pass
        import brian2
    brian2.prefs.logging.console_log_level = "WARNING"
    brian2.BrianLogger.suppress_hierarchy("brian2.codegen.generators.base")
    return brian2


@dataclass
class SimResult:
    """What a reference run produced. Spike and state arrays are (n_samples, steps, n)."""

    spikes: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    states: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)
    wall_time: float = 0.0
    target: str = "numpy"
    build_time: float = 0.0   # cpp_standalone: code generation + compilation (else 0)

    def counts(self, population: str) -> np.ndarray:
        """Spikes per sample and neuron, (n_samples, n)."""
        return self.spikes[population].sum(axis=1)


def _check_supported(net: Network) -> None:
    for proj in net.projections:
        if proj.delay:
            raise BackendError(f"projection '{proj.name}': delay = {proj.delay} steps is not "
                               "supported by the Brian2 reference yet; allowed: 0")


def _check_learning_inputs(net: Network, weights: dict[str, np.ndarray],
                           teacher: np.ndarray | None, learn: bool, n_samples: int) -> None:
    for proj in net.projections:
        if proj.name not in weights:
            raise SpecError(f"network '{net.name}': no weights given for projection "
                            f"'{proj.name}'")
    if teacher is not None and net.teacher is not None:
        n = net.size(net.teacher.population)
        if teacher.shape != (n_samples, net.sample_steps, n):
            raise SpecError(f"teacher spike array shape {teacher.shape} does not match "
                            f"(n_samples={n_samples}, sample_steps={net.sample_steps}, n={n})")
    if not learn:
        return
    for proj in learning_projections(net):
        if isinstance(proj.learning, SupervisedSTDP) and teacher is None:
            raise SpecError(f"projection '{proj.name}': supervised_stdp learns from teaching "
                            "spikes; pass teacher= (bool (n_samples, sample_steps, n)) or "
                            "learn=False")
        w = np.asarray(weights[proj.name], dtype=np.float64)
        mask = connectivity_mask(net, proj)
        if mask.any() and (w[mask].min() < proj.w_min or w[mask].max() > proj.w_max):
            raise SpecError(f"projection '{proj.name}': initial weights span "
                            f"[{w[mask].min():.4g}, {w[mask].max():.4g}], outside the learning "
                            f"bounds [w_min, w_max] = [{proj.w_min}, {proj.w_max}]; clip them "
                            "first (initial_weights does)")


def _spike_times(spikes: np.ndarray, steps_per_sample: int, dt: float):
    """bool (n_samples, T, n) -> (indices, times in s) for a SpikeGeneratorGroup."""
    sample, step, neuron = np.nonzero(spikes)
    abs_step = sample.astype(np.int64) * steps_per_sample + step
    order = np.lexsort((neuron, abs_step))
    return neuron[order], abs_step[order] * dt


def _to_dense(indices: np.ndarray, times: np.ndarray, dt: float, n_samples: int,
              steps_per_sample: int, sample_steps: int, n: int) -> np.ndarray:
    out = np.zeros((n_samples, sample_steps, n), dtype=bool)
    abs_step = np.rint(np.asarray(times) / dt).astype(np.int64)
    sample, step = np.divmod(abs_step, steps_per_sample)
    keep = step < sample_steps
    out[sample[keep], step[keep], np.asarray(indices)[keep]] = True
    return out


def simulate(net: Network, inputs: dict[str, np.ndarray], weights: dict[str, np.ndarray],
             teacher: np.ndarray | None = None, record: tuple[str, ...] = (),
             target: str = "numpy", progress: bool = False, learn: bool = False,
             thresholds: dict[str, np.ndarray] | None = None,
             labels: np.ndarray | None = None, relay: str = "fast", copies: int = 1,
             monitor: tuple[str, ...] | None = None) -> SimResult:
    """Run ``net`` on pre-generated input spikes, all samples in one Brian2 ``run()``.

    ``inputs`` maps each input population to bool (n_samples, sample_steps, n);
    ``weights`` maps each projection to (n_pre, n_post) floats; ``teacher`` (optional) is the
    teaching spike array bool (n_samples, sample_steps, n_readout) for the teacher population:
    injected with ``teacher.drive`` when that is nonzero, and the learning signal of
    supervised STDP; ``record`` names LIF populations whose u and v are recorded after each
    step's reset. ``progress`` shows a progress bar over simulated samples (on stderr).

    ``learn=False`` (the default) is pure inference: weights and thresholds stay as given
    (short-term plasticity, being part of the dynamics, always runs). ``learn=True`` applies
    every projection's learning rule and every population's homeostasis on the schedule of
    DESIGN.md §3 (see :mod:`spikeport.backends.brian2.rules`); supervised rules then need
    ``teacher``. ``thresholds`` (optional) maps LIF populations to initial thresholds (scalar
    or (n,)), e.g. the ones a training run returned; otherwise the spec's threshold. The
    result holds the final weights and thresholds. ``labels`` (int (n_samples,), optional) are
    the samples' classes for NACA's dopamine signal; without them NACA reads each sample's
    class from its teaching spikes.

    Speed options (same model): ``relay`` (``"fast"`` or ``"exact"``) picks how SBP reaches
    the input synapses at a sample's end (:data:`spikeport.backends.brian2.rules.RELAYS`; both
    give the same weights). ``copies`` > 1 (inference only) runs that many independent copies
    of the network side by side, each on its own samples (:mod:`spikeport.backends.brian2.copies`);
    ``"auto"`` picks it from the synapse count. ``monitor`` names the populations whose spikes
    are recorded (default: all); the others are absent from ``result.spikes``.
    ``target="cpp_standalone"`` runs the network as one compiled C++ program
    (:mod:`spikeport.backends.brian2.standalone`; ``result.build_time`` is its build).
    """
    if target not in TARGETS:
        raise BackendError(f"brian2 target {target!r} is not supported; allowed: "
                           f"{', '.join(TARGETS)}")
    _check_supported(net)
    n_samples = _check_inputs(net, inputs)
    _check_learning_inputs(net, weights, teacher, learn, n_samples)
    rest = net.between_samples.mode != "reset"
    if copies == "auto":
        copies = 1 if learn or rest else bc.auto_copies(
            sum(int(connectivity_mask(net, p).sum()) for p in net.projections), n_samples)
    C = bc.check_copies(copies, learn, rest)
    monitor = tuple(p.name for p in net.populations) if monitor is None else tuple(monitor)
    for name in monitor:
        net.population(name)
    tables = sample_tables(net, learn, n_samples, labels, teacher)
    group_code, proj_code = plan_network(net, learn, relay)
    b2 = import_brian2()
    if target in RUNTIME_TARGETS:
        b2.prefs.codegen.target = target
    dt = net.dt
    T = net.sample_steps
    S = net.steps_per_sample
    bdt = dt * b2.second
    reset_mode = net.between_samples.mode == "reset"
    with Device(b2, target, device_dir(net.name, learn, relay, C)) as device:
        # one clock for every per-step object and one for the per-sample ones: objects given
        # their own dt each get a clock of their own, and Brian2's loop then searches the
        # clocks for the next one to tick at every step (objects run in the same order either
        # way: Brian2 sorts by slot, order and name). Fixed names: a clock's name is part of
        # the generated code, and new code means a new Cython compile.
        clk = b2.Clock(dt=bdt, name="step_clock")
        sclk = b2.Clock(dt=S * bdt, name="sample_clock")
        n_periods = bc.periods(n_samples, C)   # one period runs C samples side by side
        notice = CompileNotice(b2, target, enabled=True)
        notice.__enter__()
        try:
            objects = []
            groups = {}        # population -> the group spikes come from (generator or LIF group)
            state_groups = {}  # population -> the group holding its learning/STP state
            for inp in net.inputs:
                idx, times = _spike_times(bc.tile_samples(inputs[inp.name], C), S, dt)
                g = b2.SpikeGeneratorGroup(C * inp.n, idx, times * b2.second, name=f"in_{inp.name}",
                                           clock=clk)
                groups[inp.name] = g
                objects.append(g)
                gc = group_code[inp.name]
                if gc.needs_state and any(pc.pre_needs_state for name, pc in proj_code.items()
                                          if net.projection(name).pre == inp.name):
                    mirror = _mirror_group(b2, gc, g, clk, sclk, reset_mode, C * inp.n,
                                           device.standalone)
                    state_groups[inp.name] = mirror.group
                    objects += mirror.contained

            model = """
            u : 1
            v : 1
            a_in : 1
            vth : 1
            ref_left : integer
            """
            for pop in net.populations:
                gc = group_code[pop.name]
                namespace = {"v_reset": pop.reset, "ref_steps": int(round(pop.refractory / dt)),
                             "decay_u": float(np.exp(-dt / pop.tau_u)),
                             "decay_v": float(np.exp(-dt / pop.tau_v)), "bias": pop.bias}
                namespace.update(gc.namespace)
                for table in gc.tables:   # one row per sample, read at the sample's first step
                    namespace[table] = _sample_table(b2, table, tables[table], S * bdt)
                extra = "".join(f"{name} : 1\n" for name in gc.variables)
                events = {name: cond for name, (cond, _) in gc.events.items()}
                start = (["u = 0", "v = 0", "a_in = 0", "ref_left = 0"] + reset_code(gc)
                         if reset_mode else []) + gc.on_sample_start
                if start and device.standalone:
                    events["sample_start"] = SAMPLE_START
                g = b2.NeuronGroup(C * pop.n, model + extra, threshold="v > vth",
                                   reset="\n".join(["v = v_reset", "ref_left = ref_steps",
                                                    spike_code(gc, "")]),
                                   events=events, name=f"pop_{pop.name}", clock=clk,
                                   namespace=namespace)
                for name, (_, order) in gc.events.items():
                    g.set_event_schedule(name, when="end", order=order)
                g.vth = pop.threshold
                if thresholds is not None and pop.name in thresholds:
                    g.vth = bc.tile_values(np.broadcast_to(np.asarray(thresholds[pop.name], float),
                                                           (pop.n,)), C)
                g.v = 0.0
                for name, value in gc.variables.items():
                    setattr(g, name, value)
                # Loihi order: current first (consuming this step's input), then voltage from the
                # new current; v is held at reset while refractory. Then flags and trace decays.
                g.run_regularly(
                    "\n".join(["u = u * decay_u + a_in",
                               "a_in = 0",
                               "is_ref = int(ref_left > 0)",
                               "v = is_ref * v + (1 - is_ref) * (v * decay_v + u + bias)",
                               "ref_left = ref_left - is_ref"] + gc.step),
                    when="groups", name=f"update_{pop.name}")
                if gc.after_resets:
                    g.run_regularly("\n".join(gc.after_resets), when="after_resets", order=0,
                                    name=f"stp_{pop.name}")
                if gc.on_sample_end:
                    g.run_on_event("sample_end", "\n".join(gc.on_sample_end), when="end",
                                   order=ORDER_SAMPLE_END)
                if start and device.standalone:
                    _on_sample_start_event(g, start)
                elif start:
                    if reset_mode:
                        g.run_regularly("\n".join(["u = 0", "v = 0", "a_in = 0", "ref_left = 0"]
                                                  + reset_code(gc)),
                                        clock=sclk, when="start", order=0,
                                        name=f"sample_reset_{pop.name}")
                    if gc.on_sample_start:
                        g.run_regularly("\n".join(gc.on_sample_start), clock=sclk,
                                        when="start", order=ORDER_SAMPLE_START,
                                        name=f"sample_start_{pop.name}")
                groups[pop.name] = g
                state_groups[pop.name] = g
                objects.append(g)

            synapses = {}
            for proj in net.projections:
                pc = proj_code[proj.name]
                w = np.asarray(weights[proj.name], dtype=np.float64)
                mask = connectivity_mask(net, proj)
                i, j = np.nonzero(mask)
                ci, cj = bc.tile_pairs(i, j, net.size(proj.pre), net.size(proj.post), C)
                source = state_groups[proj.pre] if pc.pre_needs_state else groups[proj.pre]
                on_pre = {"pre": pc.deliver}
                on_post = {}
                on_event = {"pre": "spike"}
                for pw in pc.pathways:
                    (on_pre if pw.prepost == "pre" else on_post)[pw.name] = pw.code
                    on_event[pw.name] = pw.event
                syn = b2.Synapses(source, groups[proj.post], "\n".join(pc.model), on_pre=on_pre,
                                  on_post=on_post or None, on_event=on_event,
                                  name=f"syn_{_safe(proj.name)}", clock=clk,
                                  namespace=dict(pc.namespace))
                if pc.deliver_slot is not None:
                    syn.pre.when, syn.pre.order = pc.deliver_slot
                for pw in pc.pathways:
                    path = getattr(syn, pw.name)
                    path.when, path.order = pw.when, pw.order
                syn.connect(i=ci, j=cj)
                syn.w = bc.tile_values(w[i, j], C)
                for var, values in pc.synaptic_init.items():
                    setattr(syn, var, bc.tile_values(values[i, j], C))
                synapses[proj.name] = (syn, i, j, w.shape)
                objects.append(syn)

            tpop = net.population(net.teacher.population) if net.teacher is not None else None
            drive = net.teacher.drive if net.teacher is not None else 0.0
            teach_flag = tpop is not None and "teach" in group_code[tpop.name].variables
            if teacher is not None and tpop is not None and (drive != 0.0 or teach_flag):
                idx, times = _spike_times(bc.tile_samples(teacher, C), S, dt)
                tg = b2.SpikeGeneratorGroup(C * tpop.n, idx, times * b2.second, name="teacher",
                                            clock=clk)
                code = (["a_in_post += drive"] if drive != 0.0 else []) + (
                    ["teach_post = 1"] if teach_flag else [])
                ts = b2.Synapses(tg, groups[tpop.name], on_pre="\n".join(code),
                                 namespace={"drive": drive}, name="teacher_drive", clock=clk)
                ts.connect(i=np.arange(C * tpop.n), j=np.arange(C * tpop.n))
                objects += [tg, ts]

            monitors = {}
            for name in monitor:
                m = b2.SpikeMonitor(groups[name], name=f"spk_{name}")
                monitors[name] = m
                objects.append(m)
            state_monitors = {}
            for name in record:
                net.population(name)
                sm = b2.StateMonitor(groups[name], ["u", "v"], record=True, when="end",
                                     name=f"state_{name}")
                state_monitors[name] = sm
                objects.append(sm)

            network = b2.Network(objects)
            t0 = time.perf_counter()
            with ProgressBar(progress, n_samples, notice) as report:
                network.run(n_periods * S * bdt, namespace={},
                            report=None if device.standalone else report,
                            report_period=0.5 * b2.second)
            device.build()
        finally:
            notice.finish()
        wall = time.perf_counter() - t0 if device.run_time is None else device.run_time

        spikes = {name: bc.untile_samples(
            _to_dense(m.i[:], m.t[:] / b2.second, dt, n_periods, S, T, C * net.size(name)),
            C, n_samples) for name, m in monitors.items()}
        states = {}
        for name, sm in state_monitors.items():
            states[name] = {}
            for var in ("u", "v"):
                arr = np.asarray(getattr(sm, var)).T  # (total_steps, C·n)
                states[name][var] = bc.untile_samples(arr.reshape(n_periods, S, -1), C,
                                                      n_samples)[:, :T]
        final_w = {}
        for name, (syn, i, j, shape) in synapses.items():
            w = np.zeros(shape)
            w[i, j] = np.asarray(syn.w[:len(i)])   # copy 0 (copies only run without learning)
            final_w[name] = w
        final_th = {pop.name: np.asarray(groups[pop.name].vth[:pop.n]).copy()
                    for pop in net.populations}
        return SimResult(spikes=spikes, inputs=dict(inputs), weights=final_w, states=states,
                         thresholds=final_th, wall_time=wall, target=target,
                         build_time=device.build_time)


def _sample_table(b2, name: str, values: np.ndarray, period):
    """A TimedArray with one row per sample (``period`` = one sample's steps).

    Brian2 bakes a TimedArray's name and row count into its generated code, so a fresh name or
    a new sample count would recompile the Cython extension (~10 s) on every call: the name is
    fixed, and the rows are padded (repeating the last) to a power of two ≥ 16, which is never
    read beyond the real samples."""
    rows = max(16, 1 << int(np.ceil(np.log2(max(len(values), 1)))))
    padded = np.concatenate([values, np.repeat(values[-1:], rows - len(values), axis=0)])
    return b2.TimedArray(padded, dt=period, name=f"sample_table_{name}")


class _Mirror:
    def __init__(self, group, contained):
        self.group = group
        self.contained = contained


def _on_sample_start_event(g, code: list[str]) -> None:
    """cpp_standalone: the sample-start code at a per-step event instead of on the sample
    clock. Brian2's C++ loop matches two clocks' times within an absolute 1e-14 s, which the
    rounding of k·S·dt against i·dt exceeds after ~50 s of simulated time: the sample clock
    then ticks apart from the step clock and the reset no longer precedes the step's update
    (the runtime loop compares relative to dt and stays in step)."""
    g.set_event_schedule("sample_start", when="start", order=-1)
    g.run_on_event("sample_start", "\n".join(code), when="start", order=0)


def _mirror_group(b2, gc, generator, clk, sclk, reset_mode: bool, n: int,
                  standalone: bool = False):
    """A NeuronGroup of ``n`` neurons copying an input's spikes, holding its flag, traces and
    STP state (and its events, e.g. the fast SBP relay's).

    Fed one-to-one in the ``synapses`` slot; spikes (``s > 0``) in ``after_synapses``, so its
    outgoing pathways run from ``before_resets`` on (brian2_rules module docstring)."""
    gc.flag()
    events = {name: cond for name, (cond, _) in gc.events.items()}
    if reset_mode and standalone:
        events["sample_start"] = SAMPLE_START
    g = b2.NeuronGroup(n, "".join(f"{name} : 1\n" for name in gc.variables),
                       threshold="s > 0", reset="", name=f"mirror_{gc.name}", clock=clk,
                       events=events or None, namespace=dict(gc.namespace))
    g.set_event_schedule("spike", when="after_synapses")
    for name, (_, order) in gc.events.items():
        g.set_event_schedule(name, when="end", order=order)
    for name, value in gc.variables.items():
        setattr(g, name, value)
    g.run_regularly("\n".join(gc.step), when="groups", name=f"mirror_step_{gc.name}")
    if gc.after_resets:
        g.run_regularly("\n".join(gc.after_resets), when="after_resets", order=0,
                        name=f"stp_{gc.name}")
    if reset_mode and standalone:
        _on_sample_start_event(g, reset_code(gc))
    elif reset_mode:
        g.run_regularly("\n".join(reset_code(gc)), clock=sclk, when="start",
                        name=f"sample_reset_{gc.name}")
    feed = b2.Synapses(generator, g, on_pre=spike_code(gc, "_post"), name=f"feed_{gc.name}",
                       clock=clk, namespace={})
    feed.connect(i=np.arange(n), j=np.arange(n))
    return _Mirror(g, [g, feed])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def _check_inputs(net: Network, inputs: dict[str, np.ndarray]) -> int:
    n_samples = None
    for inp in net.inputs:
        if inp.name not in inputs:
            raise SpecError(f"network '{net.name}': no input spikes given for input "
                            f"'{inp.name}'")
        arr = inputs[inp.name]
        if arr.ndim != 3 or arr.shape[1:] != (net.sample_steps, inp.n):
            raise SpecError(f"input '{inp.name}': spike array shape {arr.shape} does not match "
                            f"(n_samples, sample_steps={net.sample_steps}, n={inp.n})")
        if n_samples is None:
            n_samples = arr.shape[0]
        elif arr.shape[0] != n_samples:
            raise SpecError(f"input '{inp.name}': {arr.shape[0]} samples, but other inputs have "
                            f"{n_samples}")
    if not n_samples:
        raise SpecError(f"network '{net.name}': no samples to simulate")
    return n_samples
