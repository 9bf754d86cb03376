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
  ``a_in`` and refractory counters at each sample boundary (or a rest gap separates samples).

Brian2 step i is Lava step i+1 (Lava counts from 1; a RingBuffer emits column i at step i+1).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from spikeport.errors import BackendError, SpecError
from spikeport.models.spec import Network
from spikeport.models.weights import connectivity_mask

TARGETS = ("numpy", "cython")


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

    def counts(self, population: str) -> np.ndarray:
        """Spikes per sample and neuron, (n_samples, n)."""
        return self.spikes[population].sum(axis=1)


def readout_labels(net: Network, counts: np.ndarray) -> np.ndarray:
    """Predicted class per sample: the block of readout neurons with the most spikes; ties go
    to the lowest class index (``np.argmax`` keeps the first maximum)."""
    if net.readout is None:
        raise SpecError(f"network '{net.name}': no readout population to classify with")
    n_classes = net.readout.n_classes
    per_class = counts.reshape(counts.shape[0], n_classes, -1).sum(axis=2)
    return np.argmax(per_class, axis=1)


def _check_supported(net: Network) -> None:
    for proj in net.projections:
        if proj.delay:
            raise BackendError(f"projection '{proj.name}': delay = {proj.delay} steps is not "
                               "supported by the Brian2 reference yet; allowed: 0")


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
             target: str = "numpy", progress: bool = False) -> SimResult:
    """Run ``net`` on pre-generated input spikes, all samples in one Brian2 ``run()``.

    ``inputs`` maps each input population to bool (n_samples, sample_steps, n);
    ``weights`` maps each projection to (n_pre, n_post) floats; ``teacher`` (optional) is the
    teaching spike array for the readout population, injected with ``teacher.drive``;
    ``record`` names LIF populations whose u and v are recorded after each step's reset.
    ``progress`` shows a progress bar over simulated samples (on stderr).
    """
    if target not in TARGETS:
        raise BackendError(f"brian2 target {target!r} is not supported; allowed: "
                           f"{', '.join(TARGETS)}")
    _check_supported(net)
    b2 = import_brian2()
    b2.prefs.codegen.target = target
    dt = net.dt
    T = net.sample_steps
    S = net.steps_per_sample
    n_samples = _check_inputs(net, inputs)

    objects = []
    groups = {}
    for inp in net.inputs:
        idx, times = _spike_times(inputs[inp.name], S, dt)
        g = b2.SpikeGeneratorGroup(inp.n, idx, times * b2.second, name=f"in_{inp.name}",
                                   dt=dt * b2.second)
        groups[inp.name] = g
        objects.append(g)

    model = """
    u : 1
    v : 1
    a_in : 1
    vth : 1
    ref_left : integer
    """
    for pop in net.populations:
        g = b2.NeuronGroup(pop.n, model, threshold="v > vth", reset="v = v_reset\n"
                           "ref_left = ref_steps", name=f"pop_{pop.name}", dt=dt * b2.second,
                           namespace={"v_reset": pop.reset,
                                      "ref_steps": int(round(pop.refractory / dt)),
                                      "decay_u": float(np.exp(-dt / pop.tau_u)),
                                      "decay_v": float(np.exp(-dt / pop.tau_v)),
                                      "bias": pop.bias})
        g.vth = pop.threshold
        g.v = 0.0
        # Loihi order: current first (consuming this step's input), then voltage from the
        # new current; v is held at reset while refractory.
        g.run_regularly(
            """
            u = u * decay_u + a_in
            a_in = 0
            is_ref = int(ref_left > 0)
            v = is_ref * v + (1 - is_ref) * (v * decay_v + u + bias)
            ref_left = ref_left - is_ref
            """,
            when="groups", name=f"update_{pop.name}")
        if net.between_samples.mode == "reset":
            g.run_regularly("u = 0\nv = 0\na_in = 0\nref_left = 0", dt=S * dt * b2.second,
                            when="start", name=f"sample_reset_{pop.name}")
        groups[pop.name] = g
        objects.append(g)

    synapses = {}
    for proj in net.projections:
        w = np.asarray(weights[proj.name], dtype=np.float64)
        mask = connectivity_mask(net, proj)
        i, j = np.nonzero(mask)
        syn = b2.Synapses(groups[proj.pre], groups[proj.post], "w : 1",
                          on_pre="a_in_post += w", name=f"syn_{_safe(proj.name)}",
                          dt=dt * b2.second, namespace={})
        syn.connect(i=i, j=j)
        syn.w = w[i, j]
        synapses[proj.name] = (syn, i, j, w.shape)
        objects.append(syn)

    if teacher is not None and net.teacher is not None and net.teacher.drive != 0.0:
        tpop = net.population(net.teacher.population)
        idx, times = _spike_times(teacher, S, dt)
        tg = b2.SpikeGeneratorGroup(tpop.n, idx, times * b2.second, name="teacher",
                                    dt=dt * b2.second)
        ts = b2.Synapses(tg, groups[tpop.name], on_pre="a_in_post += drive",
                         namespace={"drive": net.teacher.drive}, name="teacher_drive",
                         dt=dt * b2.second)
        ts.connect(j="i")
        objects += [tg, ts]

    monitors = {}
    for pop in net.populations:
        m = b2.SpikeMonitor(groups[pop.name], name=f"spk_{pop.name}")
        monitors[pop.name] = m
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
    with _progress_bar(progress, n_samples) as report:
        network.run(n_samples * S * dt * b2.second, namespace={}, report=report,
                    report_period=0.5 * b2.second)
    wall = time.perf_counter() - t0

    spikes = {name: _to_dense(m.i[:], m.t[:] / b2.second, dt, n_samples, S, T,
                              net.size(name)) for name, m in monitors.items()}
    states = {}
    for name, sm in state_monitors.items():
        states[name] = {}
        for var in ("u", "v"):
            arr = np.asarray(getattr(sm, var)).T  # (total_steps, n)
            states[name][var] = arr.reshape(n_samples, S, -1)[:, :T]
    final_w = {}
    for name, (syn, i, j, shape) in synapses.items():
        w = np.zeros(shape)
        w[i, j] = np.asarray(syn.w[:])
        final_w[name] = w
    thresholds = {pop.name: np.asarray(groups[pop.name].vth[:]).copy() for pop in net.populations}
    return SimResult(spikes=spikes, inputs=dict(inputs), weights=final_w, states=states,
                     thresholds=thresholds, wall_time=wall, target=target)


class _progress_bar:
    """A tqdm bar fed by Brian2's ``report`` callback (fraction completed -> samples)."""

    def __init__(self, enabled: bool, n_samples: int):
        self.enabled = enabled
        self.n = n_samples
        self.bar = None

    def __enter__(self):
        if not self.enabled:
            return None
        from tqdm import tqdm
        self.bar = tqdm(total=self.n, unit="sample", desc="brian2", leave=False)

        def report(elapsed, completed, start, duration):
            self.bar.update(int(round(completed * self.n)) - self.bar.n)
        return report

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.n - self.bar.n)
            self.bar.close()
        return False


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
