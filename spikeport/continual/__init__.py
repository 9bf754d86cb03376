"""Class-incremental (continual) learning: protocol, baselines and reports.

* :mod:`.protocol` — task schedules (one or more classes per task, single head), the data of
  each task, the train/evaluate loop and per-sample prediction over the classes seen so far.
* :mod:`.baselines` — learners run through the protocol: a spiking network in the Brian2
  reference (NACA, or its twins without neuromodulation), a numpy MLP trained with SGD or EWC,
  and a frozen random hidden layer with a nearest-class-mean readout.
* :mod:`.report` — metrics (final mean accuracy, accuracy matrix, backward transfer, epochs per
  task), Markdown, heatmaps, JSON.
* :mod:`.experiment` — ``spikeport continual``: every method on one task order and seed.
"""

from spikeport.continual.protocol import (
    ProtocolConfig,
    Splits,
    load_splits,
    parse_tasks,
    predict_seen,
    run_protocol,
    task_schedule,
)

__all__ = ["ProtocolConfig", "Splits", "load_splits", "parse_tasks", "predict_seen",
           "run_protocol", "task_schedule"]
