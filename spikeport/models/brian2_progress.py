"""Progress output of Brian2 runs: a sample progress bar, and a notice while Brian2 compiles
its Cython code (minutes on a first run; each compiled module is cached on disk, keyed by the
generated code and the interpreter, so later runs of the same network code load in seconds)."""

from __future__ import annotations

import os
import sys
import threading
import time


def cython_cache_dir(b2) -> str:
    try:
        from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir
        return os.path.expanduser(get_cython_cache_dir())
    except Exception:  # brian2 moved it: the notice then only omits the folder
        return ""


def _modules(folder: str) -> int:
    try:
        return sum(1 for f in os.listdir(folder) if f.endswith((".so", ".pyd")))
    except OSError:
        return 0


class CompileNotice:
    """Wraps the build-and-first-step phase of a Cython run. If it lasts longer than ``after``
    seconds, says on stderr that Brian2 is compiling and that this happens once; at the end,
    if new modules were compiled, says how many and how long it took."""

    def __init__(self, b2, target: str, enabled: bool = True, after: float = 3.0,
                 stream=None):
        self.enabled = enabled and target == "cython"
        self.folder = cython_cache_dir(b2) if self.enabled else ""
        self.after = after
        self.stream = stream or sys.stderr
        self.timer = None
        self.said = False
        self.done = False

    def __enter__(self):
        if not self.enabled:
            return self
        self.before = _modules(self.folder)
        self.t0 = time.perf_counter()
        self.timer = threading.Timer(self.after, self._say)
        self.timer.daemon = True
        self.timer.start()
        return self

    def _say(self):
        if self.done:
            return
        self.said = True
        where = f" in {self.folder}" if self.folder else ""
        print(f"brian2: compiling Cython code for this network (once: modules are cached"
              f"{where}; later runs of the same code start in seconds) ...",
              file=self.stream, flush=True)

    def finish(self):
        """Call when the simulation's first step starts (or the run ends)."""
        if not self.enabled or self.done:
            return
        self.done = True
        self.timer.cancel()
        new = _modules(self.folder) - self.before
        if new > 0 or self.said:
            print(f"brian2: {max(new, 0)} Cython module(s) compiled, build took "
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
