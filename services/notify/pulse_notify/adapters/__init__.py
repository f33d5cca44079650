"""Adapters of the notify service: store, broker, outside systems."""
