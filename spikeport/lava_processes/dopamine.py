"""NACA's dopamine source (DESIGN.md §3): at each sample's last step it sends every neuron of
the modulated population its signed third factor ``q_j`` for the sample's class, looked up in
the table the converter computed (:func:`spikeport.converters.lava_rules.naca_plan`); zeros at
every other step. The third-factor LIF splits q into y2 (q > 0, potentiation) and y3
(q < 0, depression) for its plastic connection.

The label reaches the source as host input, one value per sample (as the teaching spikes do
for supervised rules). CPU-only: a chip port needs a graded per-neuron third factor (Loihi 2).
Op counts (Vars): ``values_sent`` (nonzero third-factor values sent), ``labels_received``.
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


class DopamineSource(AbstractProcess):
    """``table`` (n_classes, n) signed ints in [-127, 127]; ``labels`` (n_samples,) classes."""

    def __init__(self, *, table, labels, sample_steps: int, period: int,
                 record_dir: str | None = None, flush_steps: int = 0, total_steps: int = 0,
                 key: str = "dopamine", name: str | None = None) -> None:
        table = np.asarray(table, dtype=np.int64)
        labels = np.asarray(labels, dtype=np.int64)
        if table.ndim != 2 or labels.ndim != 1:
            raise ValueError(f"table (n_classes, n) and labels (n_samples,) expected, got "
                             f"{table.shape} and {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= table.shape[0]):
            raise ValueError(f"labels span [{labels.min()}, {labels.max()}]; allowed: "
                             f"[0, {table.shape[0] - 1}]")
        super().__init__(table=table, labels=labels, sample_steps=sample_steps, period=period,
                         reset=False, record_dir=record_dir, flush_steps=flush_steps,
                         total_steps=total_steps, key=key, name=name)
        self.a_out = OutPort(shape=(table.shape[1],))
        self.values_sent = Var(shape=(1,), init=0)
        self.labels_received = Var(shape=(1,), init=0)


@implements(proc=DopamineSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyDopamineSourceModel(PyLoihiProcessModel):
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
    values_sent: np.ndarray = LavaPyType(np.ndarray, np.int64)
    labels_received: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self._table = proc_params["table"]
        self._labels = proc_params["labels"]
        self._schedule = Schedule.from_params(proc_params)
        self._recorder = Recorder(proc_params)

    def run_spk(self) -> None:
        t = self.time_step
        sample = (t - 1) // self._schedule.period
        out = np.zeros(self._table.shape[1], dtype=np.int32)
        if self._schedule.sample_start(t) and sample < self._labels.size:
            self.labels_received[0] += 1
        if self._schedule.sample_last(t) and sample < self._labels.size:
            out = self._table[self._labels[sample]].astype(np.int32)
            self.values_sent[0] += int(np.count_nonzero(out))
        self.a_out.send(out)
        if self._recorder.due(t):
            self._recorder.flush(t, values_sent=self.values_sent,
                                 labels_received=self.labels_received)
