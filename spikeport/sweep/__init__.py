"""Parameter sweeps: a sweep file (base spec × grid over spec fields × seeds) planned into pure
jobs ``config → result JSON``, run on a local process pool or on Dask, resumable, and reported
as a table and a heatmap.

* :mod:`.config` — sweep files, dotted spec paths, the job plan (ids hash each job's config).
* :mod:`.jobs` — one job on a backend (brian2, lava, emulator): accuracy and learning energy.
* :mod:`.execute` — the driver and its executors (process pool, Dask), results folder, run log.
* :mod:`.report` — pooled seeds → Markdown/JSON table and heatmap PNG.
"""

from spikeport.sweep.config import Job, Sweep, load_sweep
from spikeport.sweep.execute import format_run, run_sweep
from spikeport.sweep.report import format_report, sweep_report

__all__ = ["Job", "Sweep", "load_sweep", "run_sweep", "format_run", "sweep_report",
           "format_report"]
