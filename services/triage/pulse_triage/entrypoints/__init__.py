"""Entrypoints of the triage service: REST routers and Kafka consumers."""
