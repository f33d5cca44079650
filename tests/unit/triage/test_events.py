"""Outgoing events are built from stored documents with deterministic ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pulse_libs.events.triage as ev
from pulse_triage.handlers.events import escalation_changed, event_id, hotspot_changed

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
HOTSPOT = {
    "_id": "hs-r1",
    "unit_code": "04747",
    "topic_code": "dat-dai",
    "urgency": "flash",
    "status": "open",
    "report_ids": ["r1", "r2"],
    "source_count": 2,
    "channels": ["zalo", "phone"],
    "first_seen": NOW,
    "last_seen": NOW,
}
HELD = {
    "_id": "esc-r1",
    "unit_code": "04747",
    "topic_code": "dat-dai",
    "urgency": "flash",
    "level": 0,
    "target": None,
    "state": "acknowledged",
    "raised_at": NOW,
    "ack_deadline": None,
}


def test_ids_are_deterministic_and_storable() -> None:
    assert event_id("hs-r.1", "joined", "r$2") == "hs-r_1-joined-r_2"
    topic, first = hotspot_changed(ev.HOTSPOT_OPENED, HOTSPOT, NOW, "opened")
    _, again = hotspot_changed(ev.HOTSPOT_OPENED, HOTSPOT, NOW, "opened")
    assert first.id == again.id == "hs-r1-opened"
    assert topic == "triage.decisions.v1"
    assert first.key == "04747"


def test_an_escalation_held_by_a_silence_can_still_be_acknowledged() -> None:
    topic, event = escalation_changed(
        ev.ESCALATION_ACKNOWLEDGED, HELD, HOTSPOT, NOW, "acknowledged", comment="Đã xử lý"
    )
    assert topic == "triage.escalations.v1"
    assert event.key == "hs-r1"
    assert event.data["target"] == "duty_officer"
    assert event.data["report_ids"] == ["r1", "r2"]
    assert event.data["comment"] == "Đã xử lý"
