"""Entrypoints of the reporting service: REST routers and Kafka consumers."""
