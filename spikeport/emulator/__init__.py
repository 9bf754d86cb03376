"""Batched bit-exact emulator of the Lava fixed-point network over spikeport.kernels."""
