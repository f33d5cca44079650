"""Adapters of the reporting service: store, broker, outside systems."""
