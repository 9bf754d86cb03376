"""Fast bit-exact emulator of spikeport's Lava fixed-point networks.

:func:`run_emulator` takes the converter's :class:`~spikeport.converters.quantize.FixedNetwork`
and the same encoded inputs as :func:`spikeport.lava_processes.run.run_lava` and returns the
same :class:`~spikeport.flow.result.RunResult`: identical spikes, learned weights,
thresholds and op counters (``tests/test_emulator.py`` checks this against the kernel replay,
spikeport's Lava graph and stock Lava processes). Lava's stochastic-rounding streams are
reproduced by position (:mod:`spikeport.kernels.random_streams`), so learning gives the same
bits, not the same statistics.

Why numba, measured (784-500-20 MNIST SBP network, learning at batch 1, on this 2-core
machine while other jobs ran; ``benchmarks/emulator_speed.py`` has the side-by-side numbers):

* the numpy array kernels stepped one Lava step at a time (:mod:`.reference`, the
  specification) run at ~400 steps/s: a step is ~100 numpy calls on small arrays, each
  ~1–3 µs of call and allocation overhead, so numpy is no faster than Lava itself here;
* the same arithmetic compiled with numba (:mod:`.compiled`: neuron by neuron, synapse by
  synapse) runs at ~7,000–17,000 steps/s: per step a handful of compiled calls whose work is
  proportional to the spikes (a spiking input adds its weight row; the learning phase visits
  only synapses whose products can be nonzero, e.g. SBP's once-per-sample update touches the
  eligible inputs × the hidden neurons with a signal).
* inference needs no step-by-step loop: in a feed-forward graph a population's whole input
  is known once the populations before it have run, so :mod:`.network` runs each population
  over all steps of a batch of samples at once (~150,000–290,000 sample-steps/s against
  ~660 for Lava). Binary spikes × 8-bit weights are exact in integers; the sums stay int64 as
  in the kernels (a float32 BLAS product would be exact too, below 2**24, but touching every
  input costs more than skipping the silent ones at these spike rates).

Numba compiles on first use and caches the machine code next to the sources
(``cache=True``): the first call of a fresh install takes ~5–10 s.
"""

from spikeport.backends.emulator import engine as _engine
from spikeport.backends.emulator.jit import ensure_fresh_cache as _ensure_fresh_cache
from spikeport.backends.emulator.network import run_emulator

# before any compiled function runs (and loads its cache): drop machine code compiled from
# other versions of the sources (see spikeport.backends.emulator.jit)
_ensure_fresh_cache(_engine.run_sequential)

__all__ = ["run_emulator"]
