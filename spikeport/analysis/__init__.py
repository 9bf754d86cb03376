"""Spike-train comparison metrics, reports (JSON, Markdown) and plots."""
