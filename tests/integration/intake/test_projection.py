"""Report status follows triage's decisions and escalations, published on the real Kafka, and never regresses."""

from __future__ import annotations

from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.events import triage as tev
from pulse_libs.events.common import Urgency
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import TRIAGE_DECISIONS, TRIAGE_ESCALATIONS
from pulse_libs.kafka.producer import EventProducer

from .helpers import YEN_BAI, eventually, report_body


async def _submit(intake: Any) -> str:
    response = await intake.client.post("/v1/reports", json=report_body(), headers=intake.headers("department"))
    assert response.status_code == 201
    return str(response.json()["id"])


def _triaged(report_id: str, *, merged: bool = False, urgency: Urgency = Urgency.URGENT) -> Any:
    now = utcnow()
    data = tev.ReportTriaged(
        report_id=report_id,
        unit_code=YEN_BAI,
        urgency=urgency,
        topic_codes=["gia-ca"],
        sensitive=False,
        score=0.72,
        reasons=["cụm từ báo động: tụ tập đông người", "12 người liên quan"],
        hotspot_id="hs-1",
        merged=merged,
        channel="zalo",
        observed_at=now,
        received_at=now,
        decided_at=now,
    )
    return new_event(tev.REPORT_TRIAGED, source=tev.SOURCE, data=data, key=YEN_BAI)


def _escalation(event_type: str, report_ids: list[str], state: str) -> Any:
    now = utcnow()
    data = tev.EscalationChanged(
        escalation_id="esc-1", hotspot_id="hs-1", unit_code=YEN_BAI, topic_code="gia-ca", urgency=Urgency.URGENT,
        level=1, target="duty_officer", state=state, raised_at=now, ack_deadline=None, report_ids=report_ids,
        report_count=len(report_ids), source_count=1, channels=["zalo"], first_seen=now, last_seen=now, changed_at=now,
    )  # fmt: skip
    return new_event(event_type, source=tev.SOURCE, data=data, key="hs-1")


async def _status(intake: Any, report_id: str) -> dict[str, Any]:
    response = await intake.client.get(f"/v1/reports/{report_id}", headers=intake.headers("department"))
    body: dict[str, Any] = response.json()
    return body


async def test_status_follows_triage_and_escalation(intake: Any) -> None:
    first, second = await _submit(intake), await _submit(intake)
    producer = EventProducer(intake.settings, client_id="test-triage")
    try:
        await producer.publish(TRIAGE_DECISIONS, _triaged(first))
        await producer.publish(TRIAGE_DECISIONS, _triaged(second, merged=True))

        async def triaged() -> bool:
            return (await _status(intake, first))["status"] == "triaged" and (await _status(intake, second))[
                "status"
            ] == "merged"

        await eventually(triaged)
        report = await _status(intake, first)
        assert report["triage"]["urgency"] == "urgent"
        assert report["triage"]["hotspot_id"] == "hs-1"
        assert report["triage"]["reasons"][0].startswith("cụm từ báo động")

        await producer.publish(TRIAGE_ESCALATIONS, _escalation(tev.ESCALATION_RAISED, [first, second], "pending"))

        async def escalated() -> bool:
            return {(await _status(intake, r))["status"] for r in (first, second)} == {"escalated"}

        await eventually(escalated)
        await producer.publish(TRIAGE_ESCALATIONS, _escalation(tev.ESCALATION_ACKNOWLEDGED, [first], "acknowledged"))

        async def acknowledged() -> bool:
            return (await _status(intake, first))["status"] == "acknowledged"

        await eventually(acknowledged)
    finally:
        await producer.stop()


async def test_late_or_replayed_events_never_regress_status(intake: Any) -> None:
    report_id = await _submit(intake)
    producer = EventProducer(intake.settings, client_id="test-triage-2")
    try:
        await producer.publish(TRIAGE_ESCALATIONS, _escalation(tev.ESCALATION_RESOLVED, [report_id], "resolved"))

        async def resolved() -> bool:
            return (await _status(intake, report_id))["status"] == "resolved"

        await eventually(resolved)
        # The older decision and the raise arrive afterwards: the triage details fill in, the status stays.
        await producer.publish(TRIAGE_DECISIONS, _triaged(report_id, urgency=Urgency.FLASH))
        await producer.publish(TRIAGE_ESCALATIONS, _escalation(tev.ESCALATION_RAISED, [report_id], "pending"))

        async def triage_recorded() -> bool:
            return (await _status(intake, report_id))["triage"] is not None

        await eventually(triage_recorded)
        marker = await _submit(intake)
        await producer.publish(TRIAGE_ESCALATIONS, _escalation(tev.ESCALATION_RAISED, [marker], "pending"))

        async def marker_seen() -> bool:
            return (await _status(intake, marker))["status"] == "escalated"

        await eventually(marker_seen)  # same key, same partition: the late raise was handled before the marker
        report = await _status(intake, report_id)
        assert report["status"] == "resolved"
        assert report["triage"]["urgency"] == "flash"
    finally:
        await producer.stop()
