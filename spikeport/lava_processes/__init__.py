"""Lava Processes and fixed-point ProcessModels spikeport adds to stock Lava (third-factor LIF, teacher, SBP relay, dopamine source, op counters). Imports lava; nothing outside this package does."""
