"""Adapters of the intake service: store, broker, outside systems."""
