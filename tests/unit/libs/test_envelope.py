"""CloudEvents binary mode: what goes out comes back; what is malformed is refused as poison."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent, InvalidEventError, new_event


def sample() -> CloudEvent:
    data = intake_events.UnitUpserted(code="04747", name="Phường Yên Bái", kind="ward", parent_code="15")
    return new_event(intake_events.UNIT_UPSERTED, source=intake_events.SOURCE, data=data, key="04747", subject="04747")


def test_round_trip_keeps_attributes_and_vietnamese_data() -> None:
    event = sample()
    back = CloudEvent.from_kafka(event.to_headers(), event.body(), b"04747")
    assert back.id == event.id
    assert back.type == "pulse.unit.upserted.v1"
    assert back.source == "pulse/intake"
    assert back.subject == "04747"
    assert back.key == "04747"
    assert back.data["name"] == "Phường Yên Bái"
    assert back.time == event.time


def test_headers_are_binary_mode() -> None:
    headers = dict(sample().to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/json"
    assert {"ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"} <= set(headers)


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ([], b"{}", "missing header"),
        ([("ce_specversion", b"0.3"), ("ce_id", b"1"), ("ce_source", b"s"), ("ce_type", b"t")], b"{}", "specversion"),
        ([("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"s"), ("ce_type", b"t")], b"not json", "JSON"),
        ([("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"s"), ("ce_type", b"t")], b"[1]", "object"),
        ([("ce_specversion", b"1.0"), ("ce_id", b"\xff"), ("ce_source", b"s"), ("ce_type", b"t")], b"{}", "UTF-8"),
        (
            [("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"s"), ("ce_type", b"t"), ("ce_time", b"x")],
            b"{}",
            "ce_time",
        ),
    ],
)
def test_malformed_records_are_poison(headers: list[tuple[str, bytes]], body: bytes, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        CloudEvent.from_kafka(headers, body)


def test_outbox_document_round_trip() -> None:
    event = sample()
    topic, back = CloudEvent.from_document(event.to_document("intake.registry.v1"))
    assert topic == "intake.registry.v1"
    assert back == event


def test_times_are_utc() -> None:
    event = CloudEvent(type="t", source="s", data={}, time=datetime(2026, 11, 26, 19, 0, tzinfo=UTC))
    assert dict(event.to_headers())["ce_time"] == b"2026-11-26T19:00:00+00:00"
