"""spikeport's Dense connections: static (:class:`ResetDense`) and plastic
(:class:`PlasticDense`), both able to reset at sample boundaries, which stock ``Dense`` and
``LearningDense`` cannot.

Arithmetic comes from :mod:`spikeport.kernels` (bit-exact to stock Lava, tested there):
``quantize_dense_weights``/``dense_accumulate`` for the synaptic input (one-step delay: the
input computed at step t is sent at t+1), :class:`~spikeport.kernels.engine.LearningEngine` for
learning (what ``LearningDense``'s ``PyLearningDenseModelBitApproximate`` computes).

Per step t: at the first step of a sample (``reset``), the in-flight buffer is zeroed (and, for
``PlasticDense``, traces and spike times: :meth:`PlasticState.reset_sample`); then the buffer is
sent, this step's spikes are received and summed with the weights *before* this step's
learning; ``PlasticDense`` then receives bAP and y1..y3, runs the engine's spike phase and, at
an epoch's end, its learning phase. Without resets, ``ResetDense`` is stock ``Dense`` and
``PlasticDense`` is stock ``LearningDense`` (tested bit for bit).

``PlasticDense``'s ``learn_mask`` restricts learning to some synapses (the others keep their
weights exactly): a sparse plastic connection (``LearningSparse`` updates only its stored
entries) beside a static one. spikeport uses it for absent synapses and for SBP's mask.
``learn`` switches learning on and off (a Var; switch it between samples): off, the engine is
not stepped at all.

Op counts (Vars): ``syn_ops`` = Σ_steps Σ_spiking pre neurons (nonzero weights in their
column), NeuroBench's effective ACs; ``syn_updates`` = per learning epoch, synapses (within the
learn mask) whose rule had an active dependency (a pre spike for an x0 product, a post spike
for y0, every synapse for an active u_k); ``trace_updates`` = per epoch, neurons × traces the
connection itself updates (x1/x2 with an impulse; y1..y3 for two-factor rules);
``epochs`` = learning epochs run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from spikeport.flow.plans import RulePlan
from spikeport.kernels.dense import dense_accumulate, quantize_dense_weights, truncate_weights
from spikeport.kernels.learning import u_active
from spikeport.lava_processes.schedule import Recorder, Schedule


def _nnz_per_pre(weights: np.ndarray) -> np.ndarray:
    return np.count_nonzero(weights, axis=0).astype(np.int64)


class ResetDense(AbstractProcess):
    """Static dense synapses ``(n_post, n_pre)`` with sample resets of the in-flight input."""

    def __init__(self, *, weights, weight_exp: int = 0, sign_mode: str = "mixed",
                 num_weight_bits: int = 8, sample_steps: int = 1, period: int = 1,
                 reset: bool = False, record_dir: str | None = None, flush_steps: int = 0,
                 total_steps: int = 0, key: str = "dense", name: str | None = None) -> None:
        w = np.asarray(weights)
        super().__init__(weight_exp=int(weight_exp), sign_mode=sign_mode,
                         num_weight_bits=int(num_weight_bits), sample_steps=sample_steps,
                         period=period, reset=reset, record_dir=record_dir,
                         flush_steps=flush_steps, total_steps=total_steps, key=key, name=name)
        self.s_in = InPort(shape=(w.shape[1],))
        self.a_out = OutPort(shape=(w.shape[0],))
        self.weights = Var(shape=w.shape, init=w)
        self.a_buff = Var(shape=(w.shape[0],), init=0)
        self.syn_ops = Var(shape=(1,), init=0)


@implements(proc=ResetDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyResetDenseModel(PyLoihiProcessModel):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    syn_ops: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._schedule = Schedule.from_params(proc_params)
        self._w = None
        self._recorder = None

    def _prepare(self) -> None:
        # What PyDenseModelBitAcc does on its first step: clip, then truncate by sign mode.
        p = self.proc_params
        self._w = quantize_dense_weights(self.weights.astype(np.int64), p["sign_mode"],
                                         p["num_weight_bits"])
        self.weights = self._w.astype(np.int32)
        self._nnz = _nnz_per_pre(self._w)

    def run_spk(self) -> None:
        t = self.time_step
        if self._w is None:
            self._prepare()
            self._recorder = Recorder(self.proc_params)
        if self._schedule.reset and self._schedule.sample_start(t):
            self.a_buff[:] = 0
        self.a_out.send(self.a_buff)
        s = self.s_in.recv() != 0
        self.a_buff = dense_accumulate(self._w, s, self.proc_params["weight_exp"]).astype(
            np.int32)
        self.syn_ops[0] += int(self._nnz[s].sum())
        if self._recorder.due(t):
            self._recorder.flush(t, syn_ops=self.syn_ops)

    def on_var_update(self) -> None:
        self._w = None


class PlasticDense(AbstractProcess):
    """Plastic dense synapses ``(n_post, n_pre)`` running a :class:`RulePlan` (``rule``, as
    ``RulePlan.to_dict()``), with sample resets, a learn mask and an on/off switch."""

    def __init__(self, *, weights, rule: dict, weight_exp: int = 0, sign_mode: str = "mixed",
                 num_weight_bits: int = 8, learn_mask=None, learn: bool = True,
                 sample_steps: int = 1, period: int = 1,
                 reset: bool = False, record_dir: str | None = None, flush_steps: int = 0,
                 total_steps: int = 0, key: str = "plastic", name: str | None = None) -> None:
        w = np.asarray(weights)
        n_post, n_pre = w.shape
        mask = None if learn_mask is None else np.asarray(learn_mask, dtype=bool)
        super().__init__(rule=rule, weight_exp=int(weight_exp), sign_mode=sign_mode,
                         num_weight_bits=int(num_weight_bits), learn_mask=mask,
                         sample_steps=sample_steps, period=period, reset=reset,
                         record_dir=record_dir, flush_steps=flush_steps, total_steps=total_steps,
                         key=key, name=name)
        self.s_in = InPort(shape=(n_pre,))
        self.a_out = OutPort(shape=(n_post,))
        self.s_in_bap = InPort(shape=(n_post,))
        self.s_in_y1 = InPort(shape=(n_post,))
        self.s_in_y2 = InPort(shape=(n_post,))
        self.s_in_y3 = InPort(shape=(n_post,))
        self.weights = Var(shape=w.shape, init=w)
        self.a_buff = Var(shape=(n_post,), init=0)
        for name_ in ("x1", "x2", "tx"):
            setattr(self, name_, Var(shape=(n_pre,), init=0))
        for name_ in ("y1", "y2", "y3", "ty"):
            setattr(self, name_, Var(shape=(n_post,), init=0))
        self.learn = Var(shape=(1,), init=int(learn))
        self.syn_ops = Var(shape=(1,), init=0)
        self.syn_updates = Var(shape=(1,), init=0)
        self.trace_updates = Var(shape=(1,), init=0)
        self.epochs = Var(shape=(1,), init=0)


@implements(proc=PlasticDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyPlasticDenseModel(PyLoihiProcessModel):
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    s_in_bap: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_in_y1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=7)
    s_in_y2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=7)
    s_in_y3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=7)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    x1: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    x2: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    tx: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=6)
    y1: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    y2: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    y3: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=7)
    ty: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=6)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32)
    syn_ops: np.ndarray = LavaPyType(np.ndarray, np.int64)
    syn_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)
    trace_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)
    epochs: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._schedule = Schedule.from_params(proc_params)
        self._plan = RulePlan.from_dict(proc_params["rule"])
        # LearningDense truncates the initial weights to num_weight_bits (learning then
        # writes 1-LSB steps, as Lava 0.10 does)
        self._engine = replace(self._plan.engine(proc_params["sign_mode"]),
                               num_weight_bits=proc_params.get("num_weight_bits", 8))
        self._deps = self._plan.dependencies()
        self._k = self._plan.learning_rule().decimate_exponent
        self._state = None
        self._recorder = None

    def _prepare(self) -> None:
        mask = self.proc_params["learn_mask"]
        self._state = self._engine.init_state(self.weights.astype(np.int64), learn_mask=mask)
        self._mask = (np.ones(self.weights.shape, dtype=bool) if mask is None
                      else np.asarray(mask, dtype=bool))
        self._n_plastic = int(self._mask.sum())
        n_x = sum(1 for i in self._plan.x_impulse if i)
        n_y = sum(1 for i in self._plan.y_impulse if i) if self._plan.post == "2F" else 0
        self._traces_per_epoch = n_x * self.weights.shape[1] + n_y * self.weights.shape[0]
        self._publish_weights()

    def _publish_weights(self) -> None:
        w = self._state.weights[0]
        self.weights = w.astype(np.int32)
        self._nnz = _nnz_per_pre(w)

    def _active_synapses(self) -> int:
        """Synapses of the learn mask with an active dependency at this epoch's end."""
        st = self._state
        if "u" in self._deps and u_active(st.time_step // self._plan.t_epoch, self._k):
            return self._n_plastic
        cols = (st.tx[0] > 0) if "x0" in self._deps else np.zeros(self._mask.shape[1], bool)
        rows = (st.ty[0] > 0) if "y0" in self._deps else np.zeros(self._mask.shape[0], bool)
        return int(self._mask[:, cols].sum() + self._mask[rows][:, ~cols].sum())

    def run_spk(self) -> None:
        t = self.time_step
        if self._state is None:
            self._prepare()
            self._recorder = Recorder(self.proc_params)
        sched = self._schedule
        if sched.reset and sched.sample_start(t):
            self.a_buff[:] = 0
            self._state = self._state.reset_sample()
        self.a_out.send(self.a_buff)
        s = self.s_in.recv() != 0
        bap = self.s_in_bap.recv() != 0
        y_in = np.stack([self.s_in_y1.recv(), self.s_in_y2.recv(), self.s_in_y3.recv()])
        st = self._state
        self.a_buff = dense_accumulate(st.weights[0], s, self.proc_params["weight_exp"]).astype(
            np.int32)
        self.syn_ops[0] += int(self._nnz[s].sum())
        if self.learn[0]:
            st = self._engine.spike_phase(st, s[None], bap[None], y_in[None])
            self._state = st
            if st.time_step % self._plan.t_epoch == 0:
                self.syn_updates[0] += self._active_synapses()
                self.trace_updates[0] += self._traces_per_epoch
                self.epochs[0] += 1
                self._state = self._engine.epoch_end(st)
                self._publish_weights()
            st = self._state
            self.x1, self.x2 = (st.x[0, i].astype(np.int32) for i in range(2))
            self.y1, self.y2, self.y3 = (st.y[0, i].astype(np.int32) for i in range(3))
            self.tx = st.tx[0].astype(np.int32)
            self.ty = st.ty[0].astype(np.int32)
        if self._recorder.due(t):
            self._recorder.flush(t, weights=self.weights, syn_ops=self.syn_ops,
                                 syn_updates=self.syn_updates, trace_updates=self.trace_updates,
                                 epochs=self.epochs)

    def on_var_update(self) -> None:
        # a weights.set() between runs replaces the engine's weights (truncated as at start)
        if self._state is not None and not np.array_equal(self.weights, self._state.weights[0]):
            w = truncate_weights(self.weights.astype(np.int64), self._engine.sign_mode,
                                 self._engine.num_weight_bits)
            self._state = replace(self._state, weights=w[None])
            self._publish_weights()
