"""Spike sources replaying pre-encoded samples: network inputs and the teaching signal.

``data`` is bool ``(n_samples, sample_steps, n)`` as :func:`spikeport.models.inputs.encode_batch`
makes it. At time step t (from 1) the source sends sample ``(t-1) // period``, step
``(t-1) % period``; rest steps and steps past the last sample are silent. ``s_out`` carries the
spikes (0/1); ``y_out`` carries ``payload`` at each spike (a teacher's third-factor value,
:class:`spikeport.converters.quantize.FixedTeacher`'s ``y_value``).

The data is a process parameter (the ProcessModel gets it when Lava forks its process), not a
Var: ``Var.set()`` moves one value per channel message (~20 µs each), far too slow for
whole datasets, and a ``RingBuffer`` needs all samples as one ``(n, n_samples · period)`` int32
array. Op count (Var): ``values_sent`` = spikes sent (host → chip I/O).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from spikeport.lava_processes.schedule import Recorder, Schedule


class SpikeSource(AbstractProcess):
    """Replays ``data`` (bool ``(n_samples, sample_steps, n)``) sample after sample."""

    def __init__(self, *, data, payload: int = 1, period: int | None = None, gate: int = 0,
                 record_dir: str | None = None, flush_steps: int = 0, total_steps: int = 0,
                 key: str = "source", name: str | None = None) -> None:
        d = np.asarray(data)
        if d.ndim != 3:
            raise ValueError(f"data must be (n_samples, sample_steps, n), got shape {d.shape}")
        d = d != 0
        period = d.shape[1] if period is None else int(period)
        super().__init__(data=d, payload=int(payload), gate=int(gate),
                         sample_steps=d.shape[1], period=period,
                         reset=False, record_dir=record_dir, flush_steps=flush_steps,
                         total_steps=total_steps, key=key, name=name)
        self.s_out = OutPort(shape=(d.shape[2],))
        self.y_out = OutPort(shape=(d.shape[2],))
        self.g_out = OutPort(shape=(d.shape[2],))
        self.values_sent = Var(shape=(1,), init=0)
        self.gate_values_sent = Var(shape=(1,), init=0)


@implements(proc=SpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySpikeSourceModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
    y_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
    g_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
    values_sent: np.ndarray = LavaPyType(np.ndarray, np.int64)
    gate_values_sent: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._data = proc_params["data"]
        self._payload = proc_params["payload"]
        self._gate = proc_params["gate"]
        self._schedule = Schedule.from_params(proc_params)
        self._recorder = Recorder(proc_params)

    def run_spk(self) -> None:
        t = self.time_step
        sample, phase = divmod(t - 1, self._schedule.period)
        gate = np.zeros(self._data.shape[2], dtype=np.int32)
        if sample < self._data.shape[0] and phase < self._data.shape[1]:
            s = self._data[sample, phase].astype(np.int32)
            if self._gate:  # the neurons taught in this sample, every step of it
                gate = self._data[sample].any(axis=0).astype(np.int32) * self._gate
        else:
            s = np.zeros(self._data.shape[2], dtype=np.int32)
        self.s_out.send(s)
        self.y_out.send(s * self._payload)
        self.g_out.send(gate)
        self.values_sent[0] += int(s.sum())
        self.gate_values_sent[0] += int(np.count_nonzero(gate))
        if self._recorder.due(t):
            self._recorder.flush(t, values_sent=self.values_sent,
                                 gate_values_sent=self.gate_values_sent)
