"""Build triage's outgoing events from stored documents, with deterministic ids."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pulse_libs.events.triage as ev
from pulse_libs.events.common import EscalationTarget
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.events.topics import TRIAGE_DECISIONS, TRIAGE_ESCALATIONS
from pulse_libs.store import Document

Outgoing = tuple[str, CloudEvent]
_UNSAFE = re.compile(r"[.$]")


def event_id(*parts: object) -> str:
    """A deterministic event id (no '.' or '$', so it can be an outbox key)."""
    return _UNSAFE.sub("_", "-".join(str(p) for p in parts))


def report_triaged(result: Document, *id_parts: object) -> Outgoing:
    """REPORT_TRIAGED for a stored triage result (key: unit code); a review adds its sequence to the id."""
    data = ev.ReportTriaged(
        report_id=result["_id"],
        unit_code=result["unit_code"],
        urgency=result["urgency"],
        topic_codes=result["topic_codes"],
        sensitive=result["sensitive"],
        score=result["score"],
        reasons=result["reasons"],
        hotspot_id=result.get("hotspot_id"),
        merged=result.get("merged", False),
        reviewed=result.get("reviewed", False),
        channel=result["channel"],
        observed_at=result["observed_at"],
        received_at=result["received_at"],
        decided_at=result["decided_at"],
    )
    event = new_event(
        ev.REPORT_TRIAGED,
        source=ev.SOURCE,
        data=data,
        key=result["unit_code"],
        subject=result["_id"],
        event_id=event_id("triaged", result["_id"], *id_parts),
    )
    return TRIAGE_DECISIONS, event


def hotspot_changed(event_type: str, hotspot: Document, now: datetime, *id_parts: object) -> Outgoing:
    """A HOTSPOT_* event with the hot spot's state after the change (key: unit code)."""
    data = ev.HotspotChanged(
        hotspot_id=hotspot["_id"],
        unit_code=hotspot["unit_code"],
        topic_code=hotspot["topic_code"],
        urgency=hotspot["urgency"],
        status=hotspot["status"],
        report_ids=hotspot["report_ids"],
        source_count=hotspot["source_count"],
        channels=hotspot["channels"],
        first_seen=hotspot["first_seen"],
        last_seen=hotspot["last_seen"],
        changed_at=now,
        parent_id=hotspot.get("parent_id"),
    )
    event = new_event(
        event_type,
        source=ev.SOURCE,
        data=data,
        key=hotspot["unit_code"],
        subject=hotspot["_id"],
        event_id=event_id(hotspot["_id"], *id_parts),
    )
    return TRIAGE_DECISIONS, event


def escalation_changed(
    event_type: str, esc: Document, hotspot: Document, now: datetime, *id_parts: object, **extra: Any
) -> Outgoing:
    """An ESCALATION_* event; `esc` is the state after the change (key: hot-spot id)."""
    data = ev.EscalationChanged(
        escalation_id=esc["_id"],
        hotspot_id=hotspot["_id"],
        unit_code=esc["unit_code"],
        topic_code=esc["topic_code"],
        urgency=esc["urgency"],
        level=esc["level"],
        # Level 0 (held by a silence, never paged) has no target yet; the first level's target stands in.
        target=esc.get("target") or EscalationTarget.DUTY_OFFICER,
        state=esc["state"],
        raised_at=esc["raised_at"],
        ack_deadline=esc.get("ack_deadline"),
        report_ids=hotspot["report_ids"],
        report_count=len(hotspot["report_ids"]),
        source_count=hotspot["source_count"],
        channels=hotspot["channels"],
        first_seen=hotspot["first_seen"],
        last_seen=hotspot["last_seen"],
        reminder_seq=esc.get("reminder_seq", 0),
        acknowledged_at=esc.get("acknowledged_at"),
        resolved_at=esc.get("resolved_at"),
        changed_at=now,
        **extra,
    )
    event = new_event(
        event_type,
        source=ev.SOURCE,
        data=data,
        key=hotspot["_id"],
        subject=esc["_id"],
        event_id=event_id(esc["_id"], *id_parts),
    )
    return TRIAGE_ESCALATIONS, event
