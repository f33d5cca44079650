"""Adapters of the triage service: store, broker, outside systems."""
