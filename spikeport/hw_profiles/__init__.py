"""Chip profiles as data files with sources, the resource mapper and the energy model."""
