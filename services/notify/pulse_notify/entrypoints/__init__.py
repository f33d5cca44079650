"""Entrypoints of the notify service: REST routers and Kafka consumers."""
