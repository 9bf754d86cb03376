"""spikeport: define a plastic spiking network once, train it in Brian2, run it in Lava fixed
point, and report drift and learning-phase cost on neuromorphic hardware."""

__version__ = "0.1.0"
