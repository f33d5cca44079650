"""Event envelope (CloudEvents 1.0, Kafka binary mode), topics and schemas."""

from pulse_libs.events.envelope import CloudEvent, InvalidEventError, new_event

__all__ = ["CloudEvent", "InvalidEventError", "new_event"]
