"""CloudEvents 1.0 in Kafka binary content mode: attributes in `ce_*` headers, data as the body."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from pulse_libs.clock import as_utc, utcnow

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"

KafkaHeaders = Sequence[tuple[str, bytes]]


class InvalidEventError(ValueError):
    """A Kafka record that is not a well-formed CloudEvent (a poison message)."""


@dataclass(frozen=True)
class CloudEvent:
    """One event: CloudEvents attributes plus the JSON data, and the Kafka key it travels under."""

    type: str
    source: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=utcnow)
    subject: str | None = None
    key: str | None = None
    traceparent: str | None = None

    def to_headers(self) -> list[tuple[str, bytes]]:
        """Return the Kafka headers of binary content mode."""
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", as_utc(self.time).isoformat().encode()),
            ("content-type", JSON_CONTENT_TYPE.encode()),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        if self.traceparent is not None:
            headers.append(("traceparent", self.traceparent.encode()))
        return headers

    def body(self) -> bytes:
        """Return the record value: the data as compact UTF-8 JSON."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"), default=str).encode()

    @classmethod
    def from_kafka(cls, headers: KafkaHeaders | None, value: bytes | None, key: bytes | None = None) -> CloudEvent:
        """Parse a Kafka record; raise InvalidEventError if it is not a CloudEvent with a JSON object body."""
        attrs = _decode_headers(headers or ())
        for required in ("ce_specversion", "ce_id", "ce_source", "ce_type"):
            if not attrs.get(required):
                raise InvalidEventError(f"missing header {required}")
        if attrs["ce_specversion"] != SPEC_VERSION:
            raise InvalidEventError(f"unsupported ce_specversion {attrs['ce_specversion']!r}")
        try:
            data = json.loads(value or b"")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEventError(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidEventError("body is not a JSON object")
        try:
            time = datetime.fromisoformat(attrs["ce_time"]) if attrs.get("ce_time") else utcnow()
        except ValueError:
            raise InvalidEventError(f"bad ce_time {attrs.get('ce_time')!r}") from None
        return cls(
            type=attrs["ce_type"],
            source=attrs["ce_source"],
            data=data,
            id=attrs["ce_id"],
            time=as_utc(time),
            subject=attrs.get("ce_subject"),
            key=key.decode("utf-8", "replace") if key is not None else None,
            traceparent=attrs.get("traceparent"),
        )

    def to_document(self, topic: str) -> dict[str, Any]:
        """Serialise for an outbox entry stored beside a state change."""
        return {
            "id": self.id,
            "topic": topic,
            "type": self.type,
            "source": self.source,
            "subject": self.subject,
            "key": self.key,
            "time": as_utc(self.time),
            "traceparent": self.traceparent,
            "data": json.loads(self.body()),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> tuple[str, CloudEvent]:
        """Rebuild (topic, event) from an outbox entry."""
        event = cls(
            type=doc["type"],
            source=doc["source"],
            data=dict(doc["data"]),
            id=doc["id"],
            time=as_utc(doc["time"]),
            subject=doc.get("subject"),
            key=doc.get("key"),
            traceparent=doc.get("traceparent"),
        )
        return doc["topic"], event


def _decode_headers(headers: KafkaHeaders) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, raw in headers:
        try:
            out[name] = raw.decode("utf-8") if raw is not None else ""
        except UnicodeDecodeError:
            raise InvalidEventError(f"header {name} is not UTF-8") from None
    return out


def new_event(
    event_type: str,
    *,
    source: str,
    data: BaseModel,
    key: str | None,
    subject: str | None = None,
    event_id: str | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """Build a CloudEvent from a schema model; a deterministic `event_id` makes re-emission idempotent."""
    return CloudEvent(
        type=event_type,
        source=source,
        data=data.model_dump(mode="json"),
        id=event_id or str(uuid.uuid4()),
        subject=subject,
        key=key,
        traceparent=traceparent,
    )
