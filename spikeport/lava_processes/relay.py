"""The SBP relay (DESIGN.md §3): receives hidden, output and teaching spikes, accumulates each
hidden neuron's output-synapse modification M_j over the sample in integers
(:mod:`spikeport.kernels.relay`) and, at the sample's last step, sends it as one signed 7-bit
value per hidden neuron (``+y2`` LTP, ``-y3`` LTD) to the hidden neurons' third-factor input.

Per step t: at the first step of a sample the accumulators are zeroed (and, with ``reset``,
the traces); the relay receives this step's hidden spikes (``s_hidden``), output spikes
(``s_output``) and teaching spikes (``s_teach``), updates traces and accumulators (learning on,
sample steps only), and sends on ``a_out`` the signal at the sample's last step, zeros
otherwise. It answers within the step: the third-factor LIF reads its input after sending its
spikes (see :mod:`spikeport.lava_processes.lif`), so there is no cycle.

CPU-only: a chip port needs Loihi 2 microcode (Loihi 1 has no graded per-neuron third factor).
Op counts (Vars): ``relay_updates`` (hidden neurons updated per step while learning),
``values_sent`` (nonzero third-factor values sent).
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

from spikeport.kernels.relay import RelayParams, relay_init_state, relay_signal, relay_step
from spikeport.lava_processes.schedule import Recorder, Schedule


class SBPRelay(AbstractProcess):
    """``fanout``: ``(n_hidden, n_out)`` bool; ``decay``, ``impulse``, ``gain_ltp``,
    ``gain_ltd``: see :class:`~spikeport.kernels.relay.RelayParams`."""

    def __init__(self, *, fanout, decay: int, impulse: int, gain_ltp, gain_ltd,
                 sample_steps: int, period: int | None = None, reset: bool = True,
                 learn: bool = True, record_dir: str | None = None, flush_steps: int = 0,
                 total_steps: int = 0, key: str = "relay", name: str | None = None) -> None:
        f = np.asarray(fanout).astype(np.int64)
        n_hidden, n_out = f.shape
        super().__init__(fanout=f, decay=int(decay), impulse=int(impulse),
                         gain_ltp=tuple(int(v) for v in gain_ltp),
                         gain_ltd=tuple(int(v) for v in gain_ltd), sample_steps=sample_steps,
                         period=sample_steps if period is None else period, reset=reset,
                         record_dir=record_dir, flush_steps=flush_steps,
                         total_steps=total_steps, key=key, name=name)
        self.s_hidden = InPort(shape=(n_hidden,))
        self.s_output = InPort(shape=(n_out,))
        self.s_teach = InPort(shape=(n_out,))
        self.a_out = OutPort(shape=(n_hidden,))
        self.trace = Var(shape=(n_hidden,), init=0)
        self.acc = Var(shape=(n_hidden,), init=0)
        self.learn = Var(shape=(1,), init=int(learn))
        self.relay_updates = Var(shape=(1,), init=0)
        self.values_sent = Var(shape=(1,), init=0)


@implements(proc=SBPRelay, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySBPRelayModel(PyLoihiProcessModel):
    s_hidden: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    s_output: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    s_teach: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
    trace: np.ndarray = LavaPyType(np.ndarray, np.int64)
    acc: np.ndarray = LavaPyType(np.ndarray, np.int64)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32)
    relay_updates: np.ndarray = LavaPyType(np.ndarray, np.int64)
    values_sent: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        p = proc_params
        self._params = RelayParams(fanout=p["fanout"], decay=p["decay"], impulse=p["impulse"],
                                   gain_ltp=p["gain_ltp"], gain_ltd=p["gain_ltd"])
        self._schedule = Schedule.from_params(p)
        self._recorder = Recorder(p)

    def run_spk(self) -> None:
        t = self.time_step
        sched = self._schedule
        n = self._params.n_hidden
        if sched.sample_start(t):
            self.acc = np.zeros(n, dtype=np.int64)
            if sched.reset:
                self.trace = np.zeros(n, dtype=np.int64)
        s_h = self.s_hidden.recv()
        s_o = self.s_output.recv()
        s_t = self.s_teach.recv()
        out = np.zeros(n, dtype=np.int32)
        if self.learn[0]:
            if not sched.in_sample(t):  # rest gap: traces run on, nothing accumulates
                s_o = s_t = np.zeros_like(s_o)
            state = relay_step(relay_init_state(1, n)._replace(trace=self.trace[None],
                                                               acc=self.acc[None]),
                               s_h[None], s_o[None], s_t[None], self._params)
            self.trace, self.acc = state.trace[0], state.acc[0]
            self.relay_updates[0] += n
            if sched.sample_last(t):
                out = relay_signal(state, self._params)[0].astype(np.int32)
                self.values_sent[0] += int(np.count_nonzero(out))
        self.a_out.send(out)
        if self._recorder.due(t):
            self._recorder.flush(t, relay_updates=self.relay_updates,
                                 values_sent=self.values_sent)
