"""Temporal workflows: deterministic code only (no I/O, no clocks, no randomness)."""
