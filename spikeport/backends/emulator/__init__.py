"""Fast bit-exact emulator of spikeport's Lava fixed-point networks.

:func:`run_emulator` takes the converter's :class:`~spikeport.converters.quantize.FixedNetwork`
and the same encoded inputs as :func:`spikeport.lava_processes.run.run_lava` and returns the
same :class:`~spikeport.flow.result.RunResult`: identical spikes, learned weights,
thresholds and op counters (``tests/test_emulator.py`` checks this against the kernel replay,
spikeport's Lava graph and stock Lava processes). Lava's stochastic-rounding streams are
reproduced by position (:mod:`spikeport.kernels.random_streams`), so learning gives the same
bits, not the same statistics.

How it is fast (``benchmarks/emulator_speed.py`` has the side-by-side numbers):

* one compiled call runs a whole block of samples, every Lava step of every process
  (:mod:`.engine`), over flat integer tables packed once per run (:mod:`.packed`): no Python
  between steps (a step of the 784-500-20 MNIST network costs ~4 µs of CPU in inference and
  ~20 µs learning, where the former per-step loop paid ~1 µs of numba argument dispatch per
  compiled call, a dozen calls per step);
* event-driven synapses: only the inputs that spiked add their weight row; weights are int16
  (Loihi weights have 9 bits) summed in int32 (exact below 2**31 / 256 inputs), so a
  784×500 layer's weights (784 KB) stay in cache;
* the learning engine visits only synapses whose products can be nonzero (a factor's
  decoding hoisted out of its loop; a rule with u dependencies only replays its traces in
  registers);
* independent samples (inference with resets) run in blocks on all cores (threads; the
  compiled code releases the GIL).

numba compiles the kernels once per install and source change (a minute or two; a line on
stderr says so) and every later process loads them from its disk cache (see :mod:`.jit`).
"""

from spikeport.backends.emulator import engine as _engine
from spikeport.backends.emulator.jit import ensure_fresh_cache as _ensure_fresh_cache
from spikeport.backends.emulator.network import run_emulator

# before any compiled function runs (and loads its cache): drop machine code compiled from
# other versions of the sources (see spikeport.backends.emulator.jit)
_ensure_fresh_cache(_engine.run_sequential)

__all__ = ["run_emulator"]
