"""Pulse benchmarks: `make bench` runs them all and writes docs/BENCHMARKS.md."""
