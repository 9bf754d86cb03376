"""Running the Brian2 reference in ``cpp_standalone`` mode (target ``"cpp_standalone"``).

The runtime targets (numpy, cython) call one code object per object and step from Python;
standalone mode generates a C++ program for the whole run instead, which has no per-step
Python cost but must be compiled. The project directory is kept per process and per network
variant, and Brian2 rewrites only files whose contents changed, so a second run of the same
network recompiles only what the new data changed (array sizes, run length): the first build
takes minutes, later ones tens of seconds. One directory per process (DESIGN.md §7).
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time

from spikeport.errors import BackendError

# C++ compile jobs at once: the machine's cores are shared (DESIGN.md: 2-core hosts)
MAKE_JOBS = 2
# Compiler flags of the standalone program: Brian2's defaults add -ffast-math, and GCC fuses
# a*b+c into one FMA wherever it can; either may change the last bits of the LIF and learning
# updates relative to the runtime reference. Build with IEEE arithmetic as written instead.
# (The class disagreements first measured with standalone runs came from the clock mismatch
# handled in brian2_sim._on_sample_start_event, not from these flags.)
STRICT_FLAGS = ["-w", "-O3", "-march=native", "-std=c++11", "-ffp-contract=off"]


def device_dir(name: str, learn: bool, relay: str, copies: int) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in name)
    return os.path.join(tempfile.gettempdir(), f"spikeport_b2_{os.getpid()}",
                        f"{safe}_{'learn_' + relay if learn else 'infer'}_c{copies}")


class Device:
    """Context of one simulate() call: for ``cpp_standalone``, switches Brian2 to the
    standalone device, builds and runs the program at :meth:`build`, and switches back to the
    runtime device on exit (also on error). For the runtime targets it does nothing."""

    def __init__(self, b2, target: str, directory: str):
        self.b2 = b2
        self.standalone = target == "cpp_standalone"
        self.directory = directory
        self.build_time = 0.0
        self.run_time = None

    def __enter__(self):
        if self.standalone:
            # Brian2 numbers a code object's name after live namesakes (x_codeobject_1, _2,
            # ...), and a new name is a new source file to compile: drop dead objects first
            gc.collect()
            b2 = self.b2
            b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{MAKE_JOBS}"]
            # only while building the standalone program: the flags are part of the runtime
            # targets' Cython cache key too
            self.saved_flags = list(b2.prefs.codegen.cpp.extra_compile_args_gcc)
            b2.prefs.codegen.cpp.extra_compile_args_gcc = list(STRICT_FLAGS)
            b2.set_device("cpp_standalone", directory=self.directory, build_on_run=False)
            b2.device.reinit()
            b2.device.activate(directory=self.directory, build_on_run=False)
        return self

    def build(self):
        if not self.standalone:
            return
        os.makedirs(self.directory, exist_ok=True)
        print(f"brian2: building the C++ standalone program in {self.directory} (the first "
              "build of a network compiles for minutes; later builds only what changed) ...",
              file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            self.b2.device.build(directory=self.directory, compile=True, run=True,
                                 with_output=False)
        except Exception as exc:  # compiler or run failure: one line, the folder to look in
            raise BackendError(f"brian2 cpp_standalone build failed in {self.directory}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                               ) from exc
        total = time.perf_counter() - t0
        self.run_time = float(getattr(self.b2.device, "_last_run_time", None) or total)
        self.build_time = max(total - self.run_time, 0.0)

    def __exit__(self, *exc):
        if self.standalone:
            self.b2.device.reinit()
            self.b2.set_device("runtime")
            self.b2.prefs.codegen.cpp.extra_compile_args_gcc = self.saved_flags
            gc.collect()
        return False
