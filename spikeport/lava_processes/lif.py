"""spikeport's third-factor LIF: Loihi's fixed-point LIF (:func:`spikeport.kernels.lif_step`,
bit-exact to ``PyLifModelBitAcc``) plus what learning needs.

Per step (Lava time step t, counted from 1), in this order:

1. at the first step of a sample (``reset``): ``u = v = 0`` and the sample's spike count = 0;
2. receive ``a_in`` and run :func:`~spikeport.kernels.lif.lif_step` with the current ``vth``;
3. send the spikes on ``s_out`` and, as back-propagating action potentials, on ``s_out_bap``;
4. receive the signed third factor on ``a_third_factor_in`` and a gate on ``a_gate_in``
   (added to y3: a gated supervised rule's teacher sends it to the sample's taught neurons)
   (a teacher sends ``y_value`` at
   its teaching spikes, the SBP relay sends ``y2 − y3``) and send ``y1 = 0`` and
   ``y2``/``y3`` = its positive/negative part, 7-bit (:func:`~spikeport.kernels.relay.
   split_third_factor`). The third factor is read *after* the spikes are sent, so a relay that
   needs this step's spikes can answer in the same step without a deadlock;
5. at the sample's last step, with learning on and homeostasis configured: one threshold
   update from the sample's spike count (:mod:`spikeport.kernels.homeostasis`).

Unlike stock Lava (which scales ``vth`` once), ``vth`` is read every step, so homeostasis and
``vth.set()`` take effect. With no third factor, no homeostasis and no reset, the neuron is
stock ``LIF``'s ``PyLifModelBitAcc`` (tested bit for bit).

Op counts (Vars): ``neuron_updates`` (n per step), ``spikes`` (spike messages sent),
``threshold_updates`` (neurons whose threshold was updated).
"""

from __future__ import annotations

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

from spikeport.kernels.homeostasis import (
    HomeostasisParams,
    homeostasis_update,
    threshold_from_acc,
    threshold_to_acc,
)
from spikeport.kernels.lif import LifParams, LifState, lif_step
from spikeport.kernels.relay import split_third_factor
from spikeport.lava_processes.schedule import Recorder, Schedule


class ThirdFactorLIF(AbstractProcess):
    """LIF neurons with a third-factor input, bAP and y outputs, sample resets and homeostasis.

    ``homeostasis``: None or a dict ``eta_q, target_q, acc_min, acc_max`` (see
    :class:`~spikeport.kernels.homeostasis.HomeostasisParams`). ``sample_steps``/``period``/
    ``reset``: the sample schedule (``period = sample_steps`` and ``reset=False`` for one long
    run). ``learn``: homeostasis on (settable Var). ``record_dir`` etc.: see
    :mod:`spikeport.lava_processes.schedule`.
    """

    def __init__(self, *, shape, du: int, dv: int, vth, bias_mant=0, bias_exp=0,
                 homeostasis: dict | None = None, sample_steps: int = 1, period: int = 1,
                 reset: bool = False, learn: bool = False, record_dir: str | None = None,
                 flush_steps: int = 0, total_steps: int = 0, key: str = "lif",
                 name: str | None = None) -> None:
        shape = tuple(shape)
        super().__init__(shape=shape, homeostasis=homeostasis, sample_steps=sample_steps,
                         period=period, reset=reset, record_dir=record_dir,
                         flush_steps=flush_steps, total_steps=total_steps, key=key, name=name)
        vth_arr = np.broadcast_to(np.asarray(vth, dtype=np.int64), shape)
        self.a_in = InPort(shape=shape)
        self.a_third_factor_in = InPort(shape=shape)
        self.a_gate_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.s_out_bap = OutPort(shape=shape)
        self.s_out_y1 = OutPort(shape=shape)
        self.s_out_y2 = OutPort(shape=shape)
        self.s_out_y3 = OutPort(shape=shape)
        self.u = Var(shape=shape, init=0)
        self.v = Var(shape=shape, init=0)
        self.du = Var(shape=(1,), init=du)
        self.dv = Var(shape=(1,), init=dv)
        self.vth = Var(shape=shape, init=vth_arr.copy())
        self.bias_mant = Var(shape=shape, init=np.broadcast_to(bias_mant, shape).copy())
        self.bias_exp = Var(shape=shape, init=np.broadcast_to(bias_exp, shape).copy())
        self.th_acc = Var(shape=shape, init=threshold_to_acc(vth_arr))
        self.count = Var(shape=shape, init=0)
        self.learn = Var(shape=(1,), init=int(learn))
        self.neuron_updates = Var(shape=(1,), init=0)
        self.spikes = Var(shape=(1,), init=0)
        self.threshold_updates = Var(shape=(1,), init=0)


@implements(proc=ThirdFactorLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyThirdFactorLIFModel(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=16)
    a_third_factor_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=8)
    a_gate_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=8)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    s_out_bap: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    s_out_y1: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_y2: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_y3: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    du: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=13)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=3)
    th_acc: np.ndarray = LavaPyType(np.ndarray, np.int64)
    count: np.ndarray = LavaPyType(np.ndarray, np.int64)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32)
    neuron_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)
    spikes: np.ndarray = LavaPyType(np.ndarray, np.int64)
    threshold_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._schedule = Schedule.from_params(proc_params)
        h = proc_params["homeostasis"]
        self._homeostasis = HomeostasisParams(**h) if h else None
        self._params = None
        self._params_key = None
        self._recorder = None

    def _lif_params(self) -> LifParams:
        # Rebuilt only when a parameter Var changed (homeostasis or a set() between runs).
        key = (self.du.tobytes(), self.dv.tobytes(), self.vth.tobytes(),
               self.bias_mant.tobytes(), self.bias_exp.tobytes())
        if key != self._params_key:
            self._params = LifParams(du=int(self.du[0]), dv=int(self.dv[0]), vth=self.vth,
                                     bias_mant=self.bias_mant, bias_exp=self.bias_exp)
            self._params_key = key
        return self._params

    def run_spk(self) -> None:
        t = self.time_step
        sched = self._schedule
        if self._recorder is None:
            self._recorder = Recorder(self.proc_params, self.u.shape[0], record_rows=True)
        if sched.reset and sched.sample_start(t):
            self.u[:] = 0
            self.v[:] = 0
        if sched.sample_start(t):
            self.count[:] = 0
        a_in = self.a_in.recv()
        spikes, state = lif_step(a_in, LifState(self.u.astype(np.int64),
                                                self.v.astype(np.int64)), self._lif_params())
        self.u = state.u.astype(np.int32)
        self.v = state.v.astype(np.int32)
        s = spikes.astype(np.int32)
        self.s_out.send(s)
        self.s_out_bap.send(s)
        third = self.a_third_factor_in.recv()
        y2, y3 = split_third_factor(third, self.a_gate_in.recv())
        self.s_out_y1.send(np.zeros_like(s))
        self.s_out_y2.send(y2.astype(np.int32))
        self.s_out_y3.send(y3.astype(np.int32))
        n_spk = int(s.sum())
        self.neuron_updates[0] += s.size
        self.spikes[0] += n_spk
        if sched.in_sample(t):
            self.count += s
        if sched.sample_last(t) and self._homeostasis is not None and self.learn[0]:
            self.th_acc = homeostasis_update(self.th_acc, self.count, self._homeostasis)
            self.vth = threshold_from_acc(self.th_acc).astype(np.int32)
            self.threshold_updates[0] += s.size
        self._recorder.add(spikes)
        if self._recorder.due(t):
            self._recorder.flush(t, vth=self.vth, neuron_updates=self.neuron_updates,
                                 spikes=self.spikes, threshold_updates=self.threshold_updates)

    def on_var_update(self) -> None:
        # a vth.set() between runs restarts the homeostasis accumulator from the new value
        self._params_key = None
        moved = threshold_from_acc(self.th_acc) != self.vth
        if np.any(moved):
            self.th_acc = np.where(moved, threshold_to_acc(self.vth), self.th_acc)
