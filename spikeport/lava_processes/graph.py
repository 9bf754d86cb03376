"""Fixed-point network -> Lava process graph (spikeport's processes, ``fixed_pt`` models).

Graph (``learn=True``; inference builds only sources, static connections and neurons)::

    SpikeSource(input) ──s_out──► PlasticDense/ResetDense ──a_out──► ThirdFactorLIF(post)
    ThirdFactorLIF ──s_out──► next connections;  ──s_out_bap, s_out_y1..3──► its PlasticDense
    SpikeSource(teacher) ──y_out──► ThirdFactorLIF(teacher population).a_third_factor_in
                         ──s_out──► SBPRelay.s_teach  (and a diagonal ResetDense drive, if any)
    SBPRelay ◄── hidden s_out, output s_out;  SBPRelay.a_out ──► hidden a_third_factor_in

Weights are transposed here, once: spikeport holds ``(n_pre, n_post)``, Lava ``(n_post, n_pre)``.
Lava is imported lazily (only when a graph is built). Import-safe for Lava's model discovery:
no dataclasses, nothing runs at import.
"""

from __future__ import annotations

import numpy as np

from spikeport.errors import SpecError
from spikeport.flow.fixed import FixedNetwork, check_batch, check_learnable


class LavaGraph:
    """The processes of one built network and the record keys their results are filed under.
    (A plain class: Lava imports every module of this folder under a bare name, and a
    dataclass cannot be defined in such a module.)"""

    def __init__(self, fixed: FixedNetwork, learn: bool, n_samples: int, total_steps: int):
        self.fixed = fixed
        self.learn = learn
        self.n_samples = n_samples
        self.total_steps = total_steps
        self.sources: dict = {}        # input name -> SpikeSource
        self.neurons: dict = {}        # population -> ThirdFactorLIF
        self.connections: dict = {}    # projection -> ResetDense | PlasticDense
        self.teacher = None            # SpikeSource
        self.drive = None              # ResetDense (teacher drive)
        self.relays: dict = {}         # SBP projection -> SBPRelay
        self.dopamine: dict = {}       # NACA projection -> DopamineSource
        self.keys: dict = {}           # (kind, name) -> record key

    def processes(self) -> list:
        procs = list(self.sources.values()) + list(self.neurons.values())
        procs += list(self.connections.values()) + list(self.relays.values())
        procs += list(self.dopamine.values())
        procs += [p for p in (self.teacher, self.drive) if p is not None]
        return procs

    @property
    def any_process(self):
        return next(iter(self.neurons.values()))



def build_graph(fixed: FixedNetwork, inputs: dict[str, np.ndarray],
                teacher: np.ndarray | None = None, learn: bool = False,
                record_dir: str | None = None, flush_steps: int = 0,
                labels: np.ndarray | None = None) -> LavaGraph:
    """Create and connect the processes for ``inputs`` (input name -> bool (n_samples,
    sample_steps, n)) and ``teacher`` (bool (n_samples, sample_steps, n_teacher) or None).

    ``learn``: plastic connections, relays, dopamine sources and homeostasis; supervised
    rules then need ``teacher``, NACA the samples' ``labels``. ``record_dir``/``flush_steps``:
    where and how often models file their results (see :mod:`spikeport.lava_processes.schedule`).
    """
    from spikeport.lava_processes import prepare_lava_import

    prepare_lava_import()
    from spikeport.lava_processes.dense import PlasticDense, ResetDense
    from spikeport.lava_processes.dopamine import DopamineSource
    from spikeport.lava_processes.lif import ThirdFactorLIF
    from spikeport.lava_processes.relay import SBPRelay
    from spikeport.lava_processes.sources import SpikeSource

    n_samples = check_batch(fixed, inputs, teacher)
    if learn:
        check_learnable(fixed, labels, n_samples)
    S, T = fixed.steps_per_sample, fixed.sample_steps
    total = n_samples * S
    g = LavaGraph(fixed, learn, n_samples, total)
    common = dict(record_dir=record_dir, flush_steps=flush_steps, total_steps=total)
    sched = dict(sample_steps=T, period=S, reset=fixed.reset)

    def key(kind: str, name: str, i: int) -> str:
        g.keys[(kind, name)] = f"{kind}{i}"
        return f"{kind}{i}"

    plastic = {p.name for p in fixed.projections if learn and p.rule is not None}
    needs_teacher = [p.name for p in fixed.projections if p.name in plastic
                     and p.rule.kind in ("supervised_stdp", "sbp")]
    if needs_teacher and teacher is None:
        raise SpecError(f"projection '{needs_teacher[0]}': learning from teaching spikes needs "
                        "teacher= (bool (n_samples, sample_steps, n)), or learn=False")

    for i, (name, _) in enumerate(fixed.inputs):
        g.sources[name] = SpikeSource(data=np.asarray(inputs[name]), period=S,
                                      key=key("in", name, i), name=f"in_{name}", **common)
    for i, pop in enumerate(fixed.populations):
        g.neurons[pop.name] = ThirdFactorLIF(
            shape=(pop.n,), du=pop.du, dv=pop.dv, vth=pop.vth, bias_mant=pop.bias_mant,
            bias_exp=pop.bias_exp, homeostasis=pop.homeostasis, learn=learn,
            key=key("pop", pop.name, i), name=f"pop_{pop.name}", **sched, **common)

    def spikes_of(name: str):
        return g.sources[name].s_out if name in g.sources else g.neurons[name].s_out

    for i, proj in enumerate(fixed.projections):
        w = np.asarray(proj.weights).T
        post = g.neurons[proj.post]
        k = key("proj", proj.name, i)
        if proj.name in plastic:
            mask = proj.learn_mask
            conn = PlasticDense(weights=w, rule=proj.rule.to_dict(), weight_exp=proj.weight_exp,
                                sign_mode=proj.sign_mode, num_weight_bits=proj.num_weight_bits,
                                learn_mask=None if mask is None or mask.all() else mask.T,
                                learn=True, key=k, name=f"proj_{i}", **sched, **common)
            post.s_out_bap.connect(conn.s_in_bap)
            if proj.rule.post == "3F":
                post.s_out_y1.connect(conn.s_in_y1)
                post.s_out_y2.connect(conn.s_in_y2)
                post.s_out_y3.connect(conn.s_in_y3)
        else:
            conn = ResetDense(weights=w, weight_exp=proj.weight_exp, sign_mode=proj.sign_mode,
                              num_weight_bits=proj.num_weight_bits, key=k, name=f"proj_{i}",
                              **sched, **common)
        spikes_of(proj.pre).connect(conn.s_in)
        conn.a_out.connect(post.a_in)
        g.connections[proj.name] = conn

    t = fixed.teacher
    relays_used = any(proj.name in plastic and proj.relay is not None
                      for proj in fixed.projections)
    # a source nothing reads is never scheduled by Lava (and so never reports): build the
    # teacher only when it drives the neurons or feeds learning in this run
    teacher_used = t is not None and (t.drive is not None or (learn and (
        fixed.population(t.population).third_factor == "teacher" or relays_used)))
    if teacher is not None and teacher_used:
        gated = learn and t.gate_value > 0
        g.teacher = SpikeSource(data=np.asarray(teacher), payload=t.y_value, period=S,
                                gate=t.gate_value if gated else 0,
                                key=key("teacher", t.population, 0), name="teacher", **common)
        target = g.neurons[t.population]
        if learn and fixed.population(t.population).third_factor == "teacher":
            g.teacher.y_out.connect(target.a_third_factor_in)
        if gated:
            g.teacher.g_out.connect(target.a_gate_in)
        if t.drive is not None:
            mant, exp, mode = t.drive
            g.drive = ResetDense(weights=np.eye(t.n, dtype=np.int64) * mant, weight_exp=exp,
                                 sign_mode=mode, key=key("drive", t.population, 0),
                                 name="teacher_drive", **sched, **common)
            g.teacher.s_out.connect(g.drive.s_in)
            g.drive.a_out.connect(target.a_in)

    for i, proj in enumerate(fixed.projections):
        if proj.name not in plastic or proj.relay is None:
            continue
        r = proj.relay
        source = fixed.projection(r.source)
        relay = SBPRelay(fanout=proj.relay_fanout, decay=r.decay, impulse=r.impulse,
                         gain_ltp=r.gain_ltp, gain_ltd=r.gain_ltd, learn=True,
                         key=key("relay", proj.name, i), name=f"relay_{i}", **sched, **common)
        g.neurons[proj.post].s_out.connect(relay.s_hidden)
        g.neurons[source.post].s_out.connect(relay.s_output)
        g.teacher.s_out.connect(relay.s_teach)
        relay.a_out.connect(g.neurons[proj.post].a_third_factor_in)
        g.relays[proj.name] = relay
    for i, proj in enumerate(fixed.projections):
        if proj.name not in plastic or proj.dopamine_table is None:
            continue
        src = DopamineSource(table=proj.dopamine_table, labels=labels, sample_steps=T, period=S,
                             key=key("dopamine", proj.name, i), name=f"dopamine_{i}", **common)
        src.a_out.connect(g.neurons[proj.post].a_third_factor_in)
        g.dopamine[proj.name] = src
    return g


def lava_rule(plan):
    """The stock Lava rule object for a :class:`~spikeport.converters.lava_rules.RulePlan`
    (``Loihi2FLearningRule`` or ``Loihi3FLearningRule``), for use with stock
    ``LearningDense``."""
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule, Loihi3FLearningRule

    cls = Loihi2FLearningRule if plan.post == "2F" else Loihi3FLearningRule
    return cls(**plan.lava_kwargs())
