"""A second opinion on inference energy from SANA-FE (``spikeport energy RUN --second-opinion
sanafe``).

SANA-FE (Boyle et al., IEEE TCAD 2025; ``pip install sanafe``, GPL-3.0, an optional extra that
spikeport never needs otherwise) simulates a spiking network mapped onto a described chip,
time step by time step, and charges each event with the architecture file's energy and
latency. ``sanafe.load_loihi()`` describes Loihi 1 (32 tiles × 4 cores; synapse 35.5 pJ dense /
33.6 pJ sparse, soma access 51.2 + update 21.6 + spike out 69.3 pJ, hops 3.0 / 4.2 pJ;
silicon-calibrated values).

What this module does with a run folder's inference (``{lava,emulator}_infer.npz``):

* maps the fixed-point network onto that Loihi: each input neuron on its own ``loihi_inputs[i]``
  soma, each LIF population on ``loihi_lif`` somas, cores filled in order up to 1024 neurons;
* sets SANA-FE's Loihi LIF from the fixed point: potential unit = one weight LSB (64 of Lava's
  state units, the resolution SANA-FE quantizes v to), ``threshold = vth``,
  ``input_decay = (4096 − (du + 1)) / 4096``, ``leak_decay = (4096 − dv) / 4096``,
  ``bias = (bias_mant << bias_exp) / 64``, hard reset to 0; a weight is its mantissa after
  Lava's first-step truncation × 2**weight_exp;
* connects with SANA-FE's *sparse* synapses holding only the nonzero weights (the same
  convention as spikeport's ``syn_ops`` and NeuroBench's ``Effective_ACs``) or, with
  ``connections="dense"``, every entry of each matrix (SANA-FE then charges zero weights too);
* replays the run's own input spikes sample by sample (``chip.reset()`` between samples, as
  spikeport resets), and compares SANA-FE's spike raster with the run's, step by step.

SANA-FE keeps u in floating point (it truncates v to 1/64 but not u), so its rasters can drift
from Lava's integer u when the current decay truncates; the report says how many spikes
differ. Its energies are for inference only (SANA-FE has no plasticity model).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from spikeport.errors import BackendError, DataError
from spikeport.flow.fixed import FixedNetwork
from spikeport.io import atomic_write_json, atomic_write_text, load_npz
from spikeport.kernels.dense import quantize_dense_weights

CORE_NEURONS = 1024
# per synaptic event in sanafe's bundled loihi.yaml (2.2.9): what its synapse energy divides by
SYNAPSE_J = {"sparse": 33.6e-12, "dense": 35.5e-12}
SHADOWED = ("scripts", "src", "tests", "docs", "plugins")  # top-level folders sanafe's wheel adds


def import_sanafe():
    """Import the optional ``sanafe`` package, or a one-line :class:`BackendError`.

    sanafe's wheel also installs top-level ``scripts/``, ``src/``, ``tests/``, ``docs/`` and
    ``plugins/`` folders into site-packages. Only ``sanafe`` (and its compiled ``sanafecpp``) is
    imported here, and nothing in spikeport imports a top-level module of those names, so they
    cannot shadow anything of ours; a test checks both."""
    try:
        import sanafe
    except ImportError:
        raise BackendError("--second-opinion sanafe needs the optional package sanafe "
                           "(GPL-3.0): pip install sanafe (or spikeport[sanafe])") from None
    return sanafe


def _realised(proj) -> np.ndarray:
    """(n_pre, n_post) weights in LSB units as SANA-FE floats (mantissa × 2**weight_exp)."""
    m = quantize_dense_weights(np.asarray(proj.weights, dtype=np.int64).T, proj.sign_mode,
                               proj.num_weight_bits).T
    return m.astype(np.float64) * 2.0 ** int(proj.weight_exp)


@contextlib.contextmanager
def _quiet_stdout():
    """SANA-FE prints progress ("Executed steps"); keep it out of spikeport's output (which may
    be JSON), whether it goes through Python's sys.stdout or C's stdio on file descriptor 1
    (flushed while fd 1 still points to /dev/null)."""
    import ctypes

    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        with contextlib.redirect_stdout(io.StringIO()):  # and what it prints through Python
            yield
    finally:
        libc.fflush(None)
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _load_run(run: Path, backend: str | None):

    names = [backend] if backend else ["lava", "emulator"]
    for name in names:
        if (run / f"{name}_infer.json").exists() and (run / f"{name}_infer.npz").exists():
            summary = json.loads((run / f"{name}_infer.json").read_text())
            data = load_npz(run / f"{name}_infer.npz")
            fixed = FixedNetwork.load(run / Path(summary.get("fixed_network", "fixed")).name)
            return name, summary, data, fixed
    raise DataError(f"{run}: no {' or '.join(n + '_infer.npz' for n in names)} (run "
                    "`spikeport run RUN --infer` first: SANA-FE replays an inference run's "
                    "input spikes)")


def build_network(sanafe, arch, fixed, connections: str = "sparse"):
    """The fixed network as a SANA-FE network mapped onto ``arch``; returns (net, notes)."""
    notes = []
    net = sanafe.Network()
    cores = [c for tile in arch.tiles for c in tile.cores]
    core_i, used = 0, 0

    def place(neuron):
        nonlocal core_i, used
        if used >= CORE_NEURONS:
            core_i, used = core_i + 1, 0
            if core_i >= len(cores):
                raise BackendError(f"network '{fixed.name}': more than "
                                   f"{len(cores) * CORE_NEURONS} neurons for SANA-FE's "
                                   f"{len(cores)} Loihi cores")
        neuron.map_to_core(cores[core_i])
        used += 1
        return used - 1  # index of this neuron on its core

    groups = {}
    for name, n in fixed.inputs:
        g = net.create_neuron_group(name, int(n))
        for nrn in g:
            slot = place(nrn)
            nrn.set_attributes(soma_hw_name=f"loihi_inputs[{slot}]", log_spikes=True)
        groups[name] = g
    if used:
        core_i, used = core_i + 1, 0  # LIF neurons start on a core of their own
    for pop in fixed.populations:
        vth = np.broadcast_to(np.asarray(pop.vth, dtype=np.float64), (pop.n,))
        bias = (np.broadcast_to(np.asarray(pop.bias_mant, dtype=np.int64), (pop.n,))
                << np.broadcast_to(np.asarray(pop.bias_exp, dtype=np.int64), (pop.n,))) / 64.0
        g = net.create_neuron_group(pop.name, pop.n)
        synapse = "loihi_sparse_synapse" if connections == "sparse" else "loihi_dense_synapse"
        for i, nrn in enumerate(g):
            nrn.set_attributes(
                soma_hw_name="loihi_lif", default_synapse_hw_name=synapse, log_spikes=True,
                model_attributes={"threshold": float(vth[i]), "reset": 0.0,
                                  "reset_mode": "hard",
                                  "input_decay": (4096 - (pop.du + 1)) / 4096.0,
                                  "leak_decay": (4096 - pop.dv) / 4096.0,
                                  "bias": float(bias[i])})
            place(nrn)
        groups[pop.name] = g
    for proj in fixed.projections:
        w = _realised(proj)
        if proj.weight_exp < 0 and np.any(np.mod(w, 1.0)):
            notes.append(f"projection '{proj.name}': weight_exp {proj.weight_exp} floors the "
                         "summed input on Lava; SANA-FE adds the fractional weights")
        src, dst = groups[proj.pre], groups[proj.post]
        if connections == "dense":
            src.connect_neurons_dense(dst, {"weight": [float(v) for v in w.ravel()]})
        else:
            pre, post = np.nonzero(w)
            if pre.size:
                src.connect_neurons_sparse(dst, {"weight": [float(v) for v in w[pre, post]]},
                                           [(int(a), int(b)) for a, b in zip(pre, post)])
    if fixed.teacher is not None:
        notes.append("teacher left out (inference)")
    return net, notes, core_i + 1


def _neuron_index(entry) -> tuple[str, int]:
    text = str(entry)
    group, _, idx = text.rpartition(".")
    return group, int(idx)


def second_opinion(run: str | Path, backend: str | None = None, connections: str = "sparse",
                   samples: int | None = None, progress: bool = True) -> dict:
    """Replay a run's inference on SANA-FE's Loihi; rasters compared, energies per sample."""
    if connections not in ("sparse", "dense"):
        raise DataError(f"connections = {connections!r} is invalid; allowed: sparse, dense")
    sanafe = import_sanafe()
    run = Path(run)
    backend, summary, data, fixed = _load_run(run, backend)
    if fixed.rest_steps:
        raise BackendError(f"network '{fixed.name}': rest_steps = {fixed.rest_steps}; allowed "
                           "for the SANA-FE replay: 0 (samples reset between them)")
    inputs = {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith("input/")}
    recorded = {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith("spikes/")}
    n_total = next(iter(inputs.values())).shape[0]
    n = n_total if samples is None else min(samples, n_total)
    steps = fixed.steps_per_sample
    arch = sanafe.load_loihi()
    net, notes, cores_used = build_network(sanafe, arch, fixed, connections)
    chip = sanafe.SpikingChip(arch)
    with _quiet_stdout():
        chip.load(net)
    mapped = {name: chip.mapped_neuron_groups[name] for name, _ in fixed.inputs}
    got = {p.name: np.zeros((n, steps, p.n), dtype=bool) for p in fixed.populations}
    energy: dict[str, float] = {}
    sim_time = 0.0
    t0 = time.perf_counter()
    for s in range(n):
        for name, group in mapped.items():
            x = np.asarray(inputs[name][s]) != 0
            for i, m in enumerate(group):
                m.set_attributes(model_attributes={"spikes": [bool(v) for v in x[:, i]]})
        with _quiet_stdout():
            res = chip.sim(steps, spike_trace=True)
        for t, fired in enumerate(res["spike_trace"]):
            for entry in fired:
                group, idx = _neuron_index(entry)
                if group in got:
                    got[group][s, t, idx] = True
        for k, v in res["energy"].items():
            energy[k] = energy.get(k, 0.0) + float(v)
        sim_time += float(res["sim_time"])
        if fixed.reset:
            chip.reset()  # as spikeport's samples: u, v and messages in flight cleared
        if progress and ((s + 1) % 25 == 0 or s + 1 == n):
            print(f"SANA-FE: {s + 1}/{n} samples ({time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr, flush=True)
    rasters = {}
    for pop in fixed.populations:
        ref = np.asarray(recorded[pop.name][:n]) != 0
        diff = ref != got[pop.name]
        rasters[pop.name] = {"spikes_run": int(ref.sum()),
                             "spikes_sanafe": int(got[pop.name].sum()),
                             "differing_entries": int(diff.sum()),
                             "samples_identical": int((~diff.reshape(n, -1).any(axis=1)).sum()),
                             "equal": bool(not diff.any())}
    out = {"tool": "SANA-FE", "version": _version(), "architecture": "sanafe.load_loihi() "
           "(Loihi 1, silicon-calibrated per-event energies)",
           "run_backend": backend, "network": fixed.name,
           "fixed_network": Path(summary.get("fixed_network", "fixed")).name,
           "samples": int(n), "steps_per_sample": int(steps), "cores_used": int(cores_used),
           "connections": connections,
           "convention": ("sparse: only nonzero weights are synapses (as spikeport's syn_ops and "
                          "NeuroBench's Effective_ACs)" if connections == "sparse" else
                          "dense: every weight-matrix entry is a synapse, zeros included (SANA-FE "
                          "charges each)"),
           "rasters": rasters, "rasters_equal": all(r["equal"] for r in rasters.values()),
           "energy_J_per_sample": {k: v / n for k, v in energy.items()},
           "synaptic_events_per_sample": energy.get("synapse", 0.0) / n
           / SYNAPSE_J[connections],
           "sim_time_s_per_sample": sim_time / n,
           "wall_time_s": time.perf_counter() - t0, "notes": notes}
    return out


def _version() -> str | None:
    try:
        from importlib.metadata import version

        return version("sanafe")
    except Exception:  # noqa: BLE001 - metadata is optional
        return None


def beside_spikeport(second: dict, energy_report: dict) -> list[dict]:
    """Rows: SANA-FE's joules per sample next to spikeport's inference ranges per profile."""
    rows = []
    e = second["energy_J_per_sample"]
    pairs = (("synapse", "synaptic_ops"), ("soma", "neuron_updates"),
             ("network", "spike_messages"), ("total", None))
    for comp, cat in pairs:
        row = {"component": comp, "sanafe_J": e.get(comp)}
        for prof, p in energy_report.get("profiles", {}).items():
            inf = p.get("phases", {}).get("inference")
            if not inf or "categories" not in inf:
                continue
            k = inf["samples"]
            if cat is None:
                rng = inf["dynamic_per_sample_J"]
            else:
                rng = {b: v / k for b, v in inf["categories"][cat]["energy_J"].items()}
            row[f"{prof}_J"] = [rng["low"], rng["high"]]
        rows.append(row)
    if "dendrite" in e:
        rows.insert(1, {"component": "dendrite", "sanafe_J": e["dendrite"]})
    return rows


def _j(v) -> str:
    if v is None:
        return "n/a"
    for unit, f in (("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(v) >= f:
            return f"{v / f:.3g} {unit}"
    return f"{v:.3g} J"


def format_second_opinion(second: dict, rows: list[dict]) -> str:
    lines = [f"## Second opinion: SANA-FE {second['version'] or ''} on {second['architecture']}",
             "",
             f"{second['samples']} samples of the {second['run_backend']} inference run "
             f"({second['fixed_network']}/), replayed with the same input spikes on "
             f"{second['cores_used']} cores; connections: {second['convention']}.", ""]
    for pop, r in second["rasters"].items():
        lines.append(f"- raster '{pop}': {'identical' if r['equal'] else 'DIFFERENT'} — "
                     f"{r['spikes_run']} spikes in the run, {r['spikes_sanafe']} in SANA-FE, "
                     f"{r['differing_entries']} differing neuron-steps, "
                     f"{r['samples_identical']}/{second['samples']} samples identical")
    lines.append(f"- SANA-FE's synapse energy / {SYNAPSE_J[second['connections']] * 1e12:g} pJ "
                 f"= {second['synaptic_events_per_sample']:,.1f} synaptic events per sample")
    profs = [k[:-2] for k in rows[0] if k.endswith("_J") and k != "sanafe_J"]
    lines += ["", "Dynamic energy per sample (inference):", "",
              "| component | SANA-FE | " + " | ".join(f"spikeport {p} (range)" for p in profs)
              + " |", "|---|---:|" + "---:|" * len(profs)]
    for r in rows:
        cells = []
        for p in profs:
            rng = r.get(f"{p}_J")
            cells.append("–" if rng is None else f"{_j(rng[0])} – {_j(rng[1])}")
        lines.append(f"| {r['component']} | {_j(r['sanafe_J'])} | " + " | ".join(cells) + " |")
    lines += ["", "Components: SANA-FE synapse ↔ spikeport synaptic ops; soma ↔ neuron updates "
              "(SANA-FE adds its spike-out energy here); network ↔ spike messages; total ↔ "
              "dynamic (priced). SANA-FE's simulated time per sample: "
              f"{second['sim_time_s_per_sample'] * 1e6:.3g} µs; no static power in it."]
    for note in second["notes"]:
        lines.append(f"- {note}")
    return "\n".join(lines)


def write_second_opinion(run: str | Path, energy_report: dict, backend: str | None = None,
                         connections: str = "sparse", samples: int | None = None,
                         progress: bool = True) -> dict:
    """Run the replay, write ``RUN/sanafe.json`` and ``RUN/sanafe.md``; return the report."""

    second = second_opinion(run, backend, connections, samples, progress)
    second["beside_spikeport"] = beside_spikeport(second, energy_report)
    second["markdown"] = format_second_opinion(second, second["beside_spikeport"])
    run = Path(run)
    atomic_write_json(run / "sanafe.json", {k: v for k, v in second.items() if k != "markdown"})
    atomic_write_text(run / "sanafe.md", second["markdown"] + "\n")
    return second
