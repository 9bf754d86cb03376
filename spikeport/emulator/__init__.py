"""Fast bit-exact emulator of spikeport's Lava fixed-point networks (see :mod:`.network`)."""

from spikeport.emulator.network import Emulator, run_emulator

__all__ = ["Emulator", "run_emulator"]
