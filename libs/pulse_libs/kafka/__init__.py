"""Kafka plumbing: topic names with a namespace prefix, producer, consumer runner, admin."""
