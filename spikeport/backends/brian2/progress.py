"""Progress output of Brian2 runs: a sample progress bar, and a notice while Brian2 compiles
its Cython code (minutes on a first run; each compiled module is cached on disk, keyed by the
generated code and the interpreter, so later runs of the same network code load in seconds)."""

from __future__ import annotations

import logging
import os
import re
import sys
import sysconfig
import time

_MODULE = re.compile(r'using Cython module "([^"]+)"')
_SO_EXT = sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def cython_cache_dir(b2) -> str:
    try:
        from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir
        return os.path.expanduser(get_cython_cache_dir())
    except Exception:  # brian2 moved it: the notice then only omits the folder
        return ""


class CompileNotice(logging.Handler):
    """Says on stderr, before Brian2 compiles its first Cython module of a run, that it is
    compiling and that this happens once (modules are cached on disk); at the end, how many
    modules were compiled and how long the build took.

    Brian2 logs (at its DIAGNOSTIC level) the module name each code object is about to load;
    a module missing from the cache folder is about to be compiled."""

    LOGGER = "brian2.codegen.runtime.cython_rt.extension_manager"

    def __init__(self, b2, target: str, enabled: bool = True, stream=None):
        super().__init__(level=5)
        self.enabled = enabled and target == "cython"
        self.folder = cython_cache_dir(b2) if self.enabled else ""
        self.stream = stream or sys.stderr
        self.compiled = 0
        self.done = False

    def __enter__(self):
        if self.enabled:
            self.t0 = time.perf_counter()
            logging.getLogger(self.LOGGER).addHandler(self)
        return self

    def emit(self, record):
        m = _MODULE.search(record.getMessage())
        if m is None or self.done or not self.folder:
            return
        if os.path.isfile(os.path.join(self.folder, m.group(1) + _SO_EXT)):
            return
        if self.compiled == 0:
            print(f"brian2: compiling Cython code for this network — once: modules are cached "
                  f"in {self.folder}, later runs of the same code load in seconds ...",
                  file=self.stream, flush=True)
        self.compiled += 1

    def finish(self):
        """Call when the simulation's first step starts (or the run ends)."""
        if not self.enabled or self.done:
            return
        self.done = True
        logging.getLogger(self.LOGGER).removeHandler(self)
        if self.compiled:
            print(f"brian2: compiled {self.compiled} Cython module(s); build took "
                  f"{time.perf_counter() - self.t0:.0f} s (cached for later runs)",
                  file=self.stream, flush=True)

    def __exit__(self, *exc):
        self.finish()
        return False


class ProgressBar:
    """A tqdm bar fed by Brian2's ``report`` callback (fraction completed -> samples). The
    callback also ends the compile notice at the first report (the run's first step)."""

    def __init__(self, enabled: bool, n_samples: int, notice: CompileNotice | None = None):
        self.enabled = enabled
        self.n = n_samples
        self.bar = None
        self.notice = notice

    def __enter__(self):
        if self.enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=self.n, unit="sample", desc="brian2", leave=False)

        def report(elapsed, completed, start, duration):
            if self.notice is not None:
                self.notice.finish()
            if self.bar is not None:
                self.bar.update(int(round(completed * self.n)) - self.bar.n)
        return report

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.n - self.bar.n)
            self.bar.close()
        return False
