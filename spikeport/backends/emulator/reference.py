"""The network semantics through the array kernels alone: the specification the compiled
emulator (:mod:`spikeport.backends.emulator.network`) and spikeport's Lava graph are both checked
against, step by step. Slow (tens of numpy calls per step), exact, and short enough to read.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import spikeport.kernels as k
from spikeport.kernels.homeostasis import homeostasis_update, threshold_from_acc, threshold_to_acc
from spikeport.kernels.relay import relay_init_state, relay_signal, relay_step, split_third_factor


def replay(fixed, inputs: dict, teacher=None, learn: bool = False, labels=None) -> dict:
    """The graph ``build_graph(fixed, inputs, teacher, learn)`` makes, through the kernels only.

    One Lava step t, in the order the channels impose:
    1. sample start: neurons zero their spike count and (``reset``) u, v; connections zero their
       in-flight buffer; plastic ones their traces and spike times; relays their accumulators
       (and, with ``reset``, traces);
    2. every neuron adds the buffers its connections computed at t−1 and runs ``lif_step``;
    3. third factor: the teacher's ``y_value`` at its spikes; the relay updates with this step's
       hidden, output and teaching spikes and sends its signal at the sample's last step; a
       dopamine source (NACA) sends its table's row for the sample's label at that step;
    4. every connection sums this step's presynaptic spikes with its weights *before* learning;
       plastic ones run the spike phase (bAP = post spikes, y2/y3 split from the third factor)
       and, at an epoch's end, the learning phase;
    5. sample's last step, learning: homeostasis.
    """
    n_samples = next(iter(inputs.values())).shape[0]
    S, T = fixed.steps_per_sample, fixed.sample_steps
    pops = {p.name: p for p in fixed.populations}
    lif = {n: k.lif_init_state((1, p.n)) for n, p in pops.items()}
    vth = {n: np.full(p.n, p.vth, dtype=np.int64) for n, p in pops.items()}
    acc = {n: threshold_to_acc(vth[n]) for n in pops}
    count = {n: np.zeros(p.n, dtype=np.int64) for n, p in pops.items()}
    static, engines, states, relays = {}, {}, {}, {}
    # connections: name -> (pre, post, weight_exp); the teacher drive is one of them
    links = {p.name: (p.pre, p.post, p.weight_exp) for p in fixed.projections}
    for proj in fixed.projections:
        w = np.asarray(proj.weights).T
        if learn and proj.rule is not None:
            eng = replace(proj.rule.engine(proj.sign_mode),
                          num_weight_bits=proj.num_weight_bits)
            mask = proj.learn_mask
            engines[proj.name] = eng
            states[proj.name] = eng.init_state(
                w, learn_mask=None if mask is None or mask.all() else mask.T)
            if proj.relay is not None:
                relays[proj.name] = [proj.relay.params(proj.relay_fanout),
                                     relay_init_state(1, pops[proj.post].n)]
        else:
            static[proj.name] = k.quantize_dense_weights(w, proj.sign_mode,
                                                          proj.num_weight_bits)
    tc = fixed.teacher
    if teacher is not None and tc is not None and tc.drive is not None:
        mant, exp, mode = tc.drive
        static["__drive"] = k.quantize_dense_weights(np.eye(tc.n, dtype=np.int64) * mant, mode)
        links["__drive"] = ("__teacher", tc.population, exp)
    buffers = {name: np.zeros((1, pops[post].n), dtype=np.int64)
               for name, (_, post, _) in links.items()}
    out = {"u": {n: [] for n in pops}, "v": {n: [] for n in pops},
           "spikes": {n: [] for n in pops}, "weights": {n: [] for n in engines}}
    for t in range(1, n_samples * S + 1):
        sample, phase = divmod(t - 1, S)
        start, last, in_sample = phase == 0, phase == T - 1, phase < T
        src = {name: inputs[name][sample, phase] if in_sample
               else np.zeros(inputs[name].shape[2], bool) for name, _ in fixed.inputs}
        teach = None
        if teacher is not None:
            teach = teacher[sample, phase] if in_sample else np.zeros(teacher.shape[2], bool)
            src["__teacher"] = teach
        if start:
            for n in pops:
                count[n][:] = 0
            if fixed.reset:
                lif = {n: k.lif_init_state((1, p.n)) for n, p in pops.items()}
                for b in buffers.values():
                    b[:] = 0
                states = {n: s.reset_sample() for n, s in states.items()}
            for name, (params, rs) in relays.items():
                zero = relay_init_state(1, params.n_hidden)
                relays[name][1] = zero if fixed.reset else rs._replace(acc=zero.acc)
        spikes = {}
        for n, p in pops.items():
            a_in = sum((buffers[name] for name, (_, post, _) in links.items() if post == n),
                       np.zeros((1, p.n), dtype=np.int64))
            params = k.LifParams(du=p.du, dv=p.dv, vth=vth[n], bias_mant=p.bias_mant,
                                 bias_exp=p.bias_exp)
            s, lif[n] = k.lif_step(a_in, lif[n], params)
            spikes[n] = s[0]
            out["u"][n].append(lif[n].u[0].copy())
            out["v"][n].append(lif[n].v[0].copy())
            out["spikes"][n].append(s[0].copy())
            if in_sample:
                count[n] += s[0]
        third = {n: np.zeros(p.n, dtype=np.int64) for n, p in pops.items()}
        gate = {n: np.zeros(p.n, dtype=np.int64) for n, p in pops.items()}
        if learn and teach is not None and pops[tc.population].third_factor == "teacher":
            third[tc.population] = teach.astype(np.int64) * tc.y_value
            if tc.gate_value and in_sample:  # the taught neurons, every step of the sample
                gate[tc.population] = teacher[sample].any(axis=0) * tc.gate_value
        if learn and last:
            for proj in fixed.projections:
                if proj.rule is not None and proj.dopamine_table is not None:
                    third[proj.post] = np.asarray(proj.dopamine_table)[labels[sample]]
        for name, (params, rs) in relays.items():
            proj = fixed.projection(name)
            s_out = spikes[fixed.projection(proj.relay.source).post]
            s_teach = teach
            if not in_sample:
                s_out, s_teach = np.zeros_like(s_out), np.zeros_like(s_teach)
            rs = relay_step(rs, spikes[proj.post][None], s_out[None], s_teach[None], params)
            relays[name][1] = rs
            if last:
                third[proj.post] = relay_signal(rs, params)[0]
        for name, (pre, post, exp) in links.items():
            s_pre = src[pre] if pre in src else spikes[pre]
            if name in states:
                st = states[name]
                buffers[name] = k.dense_accumulate(st.weights[0], s_pre[None], exp)
                y2, y3 = split_third_factor(third[post], gate[post])
                y_in = np.stack([np.zeros_like(y2), y2, y3])[None]
                st = engines[name].spike_phase(st, s_pre[None], spikes[post][None], y_in)
                if st.time_step % engines[name].t_epoch == 0:
                    st = engines[name].epoch_end(st)
                states[name] = st
                out["weights"][name].append(st.weights[0].copy())
            else:
                buffers[name] = k.dense_accumulate(static[name], s_pre[None], exp)
        if learn and last:
            for n, p in pops.items():
                hp = p.homeostasis_params()
                if hp is not None:
                    acc[n] = homeostasis_update(acc[n], count[n], hp)
                    vth[n] = threshold_from_acc(acc[n])
    res = {key: {n: np.array(v) for n, v in d.items()} for key, d in out.items()}
    res["thresholds"] = vth
    return res
