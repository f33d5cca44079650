"""Entrypoints of the intake service: REST routers and Kafka consumers."""
