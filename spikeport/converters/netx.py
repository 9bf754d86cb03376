"""Export a converted network as a lava-dl ``netx`` HDF5 file (``spikeport export-netx``).

netx (``lava.lib.dl.netx.hdf5.Network``) builds a chain of Lava blocks from an HDF5 file whose
group ``layer`` holds ``0``, ``1``, ... Each layer is a group of *datasets* (netx reads none of
their attributes):

* ``type``: ``b"input"`` or ``b"dense"``; ``shape``: the layer's size.
* ``weight`` (dense): ``(n_out, n_in)``, read with ``.astype(int)``. netx picks its own weight
  exponent and bit width from the integers it finds, so a weight is stored as the *effective*
  one, in the units of ``vThMant``: spikeport's mantissa after Lava's first-step clip and
  truncation, shifted by the projection's ``weight_exp``.
* ``bias`` (dense, optional): netx hands it to Lava's LIF as ``bias_mant`` with ``bias_exp = 6``,
  so it is ``(bias_mant << bias_exp) / 64``.
* ``neuron``: ``type = b"CUBA"``, ``vThMant`` (= spikeport's ``vth``), ``iDecay`` (netx passes
  ``iDecay - 1`` to Lava as ``du``, so it is spikeport's ``du + 1``), ``vDecay`` (= ``dv``) and
  ``refDelay = 1`` (no refractory period; netx ignores it for CUBA).

What the file reproduces exactly (``scripts/interop/run.sh`` checks it on Lava): the
inference of a feed-forward chain input → LIF → LIF ..., each Dense adding one step of delay
as in spikeport. netx re-derives each layer's sign mode, bit width and exponent from the
integers; that is exact when the effective weights of a layer fit its sign mode's 8-bit range
(excitatory ``[0, 255]``, inhibitory ``[-255, 0]``, mixed ``[-256, 254]``), which
:func:`netx_layers` checks.

Left out, with a note each: learning rules (the weights exported are the current ones), SBP
relays, NACA's dopamine source, the teacher and its drive, homeostasis (inference does not
adapt thresholds). Refused with one line naming the layer (:class:`BackendError`, exit 2):
anything but one input and a chain of populations each fed by the previous one (skips,
several inputs, recurrence), per-neuron thresholds, weights beyond 8 bits after scaling, a
negative ``weight_exp`` whose floor of the summed input one integer per synapse cannot
express, a bias that is not a multiple of 64 state units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeport.errors import BackendError, DataError
from spikeport.flow.fixed import FixedNetwork
from spikeport.kernels.dense import quantize_dense_weights

NETX_WEIGHT_RANGE = {"excitatory": (0, 255), "inhibitory": (-255, 0), "mixed": (-256, 254)}
NETX_BIAS_MAX = 4095  # Lava LIF bias_mant: 13-bit signed
BIAS_SHIFT = 6  # netx's bias_exp


@dataclass
class NetxLayer:
    """One dense layer as netx will see it: effective weights ``(n_out, n_in)``."""

    name: str  # the population
    projection: str
    weight: np.ndarray
    v_th_mant: int
    i_decay: int
    v_decay: int
    bias: np.ndarray | None


def _sign_family(w: np.ndarray) -> str:
    if w.min() >= 0:
        return "excitatory"
    if w.max() <= 0:
        return "inhibitory"
    return "mixed"


def effective_weights(proj) -> np.ndarray:
    """``(n_out, n_in)`` integer weights in state units of 64 (what one input spike adds to
    ``a_in``), or a :class:`BackendError` when the projection's exponent floors sums."""
    t = quantize_dense_weights(np.asarray(proj.weights, dtype=np.int64).T, proj.sign_mode,
                               proj.num_weight_bits)
    exp = int(proj.weight_exp)
    if exp >= 0:
        return t << exp
    bad = int(np.count_nonzero(t % (1 << -exp)))
    if bad:
        raise BackendError(
            f"projection '{proj.name}': weight_exp = {exp} floors the summed input "
            f"(sum >> {-exp}); netx holds one integer per synapse, and {bad} of {t.size} "
            f"mantissas are not multiples of {1 << -exp}; allowed: weight_exp >= 0, or mantissas "
            "divisible by 2**-weight_exp (convert with --weight-exp 0 to quantize for netx)")
    return t >> -exp


def netx_layers(fixed) -> tuple[str, int, list[NetxLayer], list[str]]:
    """Check that ``fixed`` is a chain netx can express; return (input name, input size,
    layers, notes on what is left out)."""
    notes = []
    if len(fixed.inputs) != 1:
        names = ", ".join(n for n, _ in fixed.inputs)
        raise BackendError(f"network '{fixed.name}': inputs {names}: netx takes one input "
                           f"layer; allowed: exactly 1 input population")
    inp, n_in = fixed.inputs[0]
    into: dict[str, list] = {p.name: [] for p in fixed.populations}
    for proj in fixed.projections:
        if proj.post not in into:
            raise BackendError(f"projection '{proj.name}': target '{proj.post}' is not a LIF "
                               "population; allowed: CUBA LIF populations")
        into[proj.post].append(proj)
    order, prev, left = [], inp, {p.name for p in fixed.populations}
    while left:
        nxt = [pr for pr in fixed.projections if pr.pre == prev and pr.post in left]
        if len(nxt) != 1:
            if not nxt:
                raise BackendError(
                    f"population '{sorted(left)[0]}': not reached by a chain from "
                    f"'{prev}'; allowed: a feed-forward chain input -> pop -> pop ...")
            raise BackendError(f"population '{prev}': feeds {len(nxt)} populations "
                               f"({', '.join(p.post for p in nxt)}); allowed: a chain, each "
                               "population feeding exactly one next")
        proj = nxt[0]
        if len(into[proj.post]) != 1:
            others = [p.name for p in into[proj.post] if p is not proj]
            kind = ("recurrence" if any(p.pre == proj.post for p in into[proj.post])
                    else "a second input")
            raise BackendError(f"population '{proj.post}': {kind} through projection "
                               f"'{others[0]}'; allowed: one incoming projection from the "
                               "previous layer")
        order.append(proj)
        left.discard(proj.post)
        prev = proj.post
    layers = []
    for proj in order:
        pop = fixed.population(proj.post)
        where = f"layer '{pop.name}' (projection '{proj.name}')"
        vth = np.asarray(pop.vth)
        if vth.ndim and not np.all(vth == vth.flat[0]):
            raise BackendError(f"{where}: per-neuron thresholds (vth {int(vth.min())}.."
                               f"{int(vth.max())}, e.g. adapted by homeostasis); allowed: one "
                               "vThMant per layer")
        w = effective_weights(proj)
        if not w.any():
            raise BackendError(f"{where}: all weights are 0; allowed: at least one nonzero "
                               "weight (netx derives the weight scale from the largest)")
        fam = _sign_family(w)
        lo, hi = NETX_WEIGHT_RANGE[fam]
        if w.min() < lo or w.max() > hi:
            raise BackendError(
                f"{where}: effective weights {int(w.min())}..{int(w.max())} (mantissa << "
                f"weight_exp {proj.weight_exp}) exceed 8 bits; allowed for {fam} weights: "
                f"[{lo}, {hi}] (convert with --weight-exp 0 to quantize for netx)")
        bias_units = (np.broadcast_to(np.asarray(pop.bias_mant, dtype=np.int64), (pop.n,))
                      << np.broadcast_to(np.asarray(pop.bias_exp, dtype=np.int64), (pop.n,)))
        bias = None
        if bias_units.any():
            if np.any(bias_units % (1 << BIAS_SHIFT)):
                raise BackendError(f"{where}: bias {int(bias_units.flat[0])} state units is not "
                                   f"a multiple of 64 (netx sets bias_exp = 6); allowed: "
                                   "bias_mant << bias_exp divisible by 64")
            bias = bias_units >> BIAS_SHIFT
            if np.abs(bias).max() > NETX_BIAS_MAX:
                raise BackendError(f"{where}: bias {int(np.abs(bias).max())} x 64 is beyond "
                                   f"Lava's 13-bit bias_mant; allowed: |bias| <= "
                                   f"{NETX_BIAS_MAX} x 64")
        layers.append(NetxLayer(pop.name, proj.name, w, int(vth.flat[0]), int(pop.du) + 1,
                                int(pop.dv), bias))
        if proj.rule is not None:
            notes.append(f"projection '{proj.name}': learning rule ({proj.rule.kind}) left out; "
                         "its current weights are exported")
        if proj.relay is not None:
            notes.append(f"projection '{proj.name}': SBP relay left out")
        if proj.dopamine is not None:
            notes.append(f"projection '{proj.name}': NACA dopamine source left out")
        if pop.homeostasis is not None:
            notes.append(f"population '{pop.name}': homeostasis left out (inference keeps "
                         "thresholds fixed)")
    if fixed.teacher is not None:
        notes.append(f"teacher of '{fixed.teacher.population}' left out (inference runs "
                     "without it)")
    if fixed.rest_steps:
        notes.append(f"rest gap of {fixed.rest_steps} steps between samples is the runner's "
                     "to add (netx has no sample structure)")
    return inp, n_in, layers, notes


def export_netx(fixed, path: str | Path) -> dict:
    """Write ``fixed`` as a netx HDF5 file at ``path``; return a summary (layers, notes)."""
    import h5py

    inp, n_in, layers, notes = netx_layers(fixed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["generator"] = "spikeport export-netx"
        f.attrs["network"] = fixed.name
        f.attrs["dt"] = float(fixed.dt)
        f.attrs["sample_steps"] = int(fixed.sample_steps)
        sim = f.create_group("simulation")
        sim.create_dataset("Ts", data=1.0)
        sim.create_dataset("tSample", data=int(fixed.steps_per_sample))
        lay = f.create_group("layer")
        g = lay.create_group("0")
        g.create_dataset("type", data=np.bytes_("input"))
        g.create_dataset("shape", data=np.array([n_in], dtype=np.int64))
        g.attrs["name"] = inp
        for i, layer in enumerate(layers, start=1):
            g = lay.create_group(str(i))
            g.attrs["name"] = layer.name
            g.attrs["projection"] = layer.projection
            g.create_dataset("type", data=np.bytes_("dense"))
            g.create_dataset("shape", data=np.array([layer.weight.shape[0]], dtype=np.int64))
            g.create_dataset("weight", data=layer.weight.astype(np.int16))
            if layer.bias is not None:
                g.create_dataset("bias", data=layer.bias.astype(np.int32))
            nrn = g.create_group("neuron")
            nrn.create_dataset("type", data=np.bytes_("CUBA"))
            nrn.create_dataset("vThMant", data=np.int64(layer.v_th_mant))
            nrn.create_dataset("iDecay", data=np.int64(layer.i_decay))
            nrn.create_dataset("vDecay", data=np.int64(layer.v_decay))
            nrn.create_dataset("refDelay", data=np.int64(1))
    tmp.replace(path)
    return {"file": path.name, "network": fixed.name, "input": [inp, int(n_in)],
            "layers": [{"population": la.name, "projection": la.projection,
                        "shape": list(la.weight.shape), "vThMant": la.v_th_mant,
                        "iDecay": la.i_decay, "vDecay": la.v_decay,
                        "weight_range": [int(la.weight.min()), int(la.weight.max())],
                        "sign": _sign_family(la.weight),
                        "nonzero_weights": int(np.count_nonzero(la.weight)),
                        "bias": la.bias is not None} for la in layers],
            "sample_steps": int(fixed.steps_per_sample), "notes": notes,
            "delay_note": "each dense layer adds one step of delay (as in spikeport): an input "
                          "spike at step t reaches layer k's neurons at step t + k"}


def export_netx_run(run: str | Path, out: str | Path, learned: bool = False) -> dict:
    """``spikeport export-netx RUN -o OUT.h5``: the run's fixed network (``--learned``: the
    one after on-chip learning)."""

    run = Path(run)
    sub = "fixed_learned" if learned else "fixed"
    if not (run / sub).is_dir():
        hint = ("run `spikeport run RUN --learn` first" if learned
                else "run `spikeport convert SOURCE -o RUN` first")
        raise DataError(f"{run}: no fixed-point network in {sub}/ ({hint})")
    summary = export_netx(FixedNetwork.load(run / sub), out)
    summary["source"] = sub
    return summary


def format_netx(summary: dict) -> str:
    lines = [f"{summary['network']} ({summary['source']}/) -> {summary['file']} (netx HDF5)",
             f"  layer 0: input '{summary['input'][0]}' ({summary['input'][1]})"]
    for i, la in enumerate(summary["layers"], start=1):
        lines.append(f"  layer {i}: dense -> CUBA '{la['population']}' {la['shape'][0]} x "
                     f"{la['shape'][1]}, {la['sign']} weights {la['weight_range'][0]}.."
                     f"{la['weight_range'][1]}, vThMant {la['vThMant']}, iDecay {la['iDecay']},"
                     f" vDecay {la['vDecay']}")
    lines.append(f"  {summary['delay_note']}")
    for note in summary["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
