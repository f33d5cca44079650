"""Public projections of events for outbound webhooks: what another system may see of each event type.

Webhook subscribers (other provincial systems) never get a user id, a name, a phone or e-mail, the
hash of an API key, free text a person wrote that may name someone (survey answers, officers'
comments and progress notes, report bodies), nor a delivery's recipient or address. Each event type
has an allow-list of data fields; a type mapped to `None` is not forwarded at all, and a type missing
from the table is not forwarded either (fail closed: a new event type is private until listed here).
The AsyncAPI document lists each projection (`x-webhook-projection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulse_libs.events import intake, notify, triage

Projection = tuple[str, ...] | None

_HOTSPOT = (
    "hotspot_id",
    "unit_code",
    "topic_code",
    "urgency",
    "status",
    "report_ids",
    "source_count",
    "channels",
    "first_seen",
    "last_seen",
    "changed_at",
)
_ESCALATION = (
    "escalation_id",
    "hotspot_id",
    "unit_code",
    "topic_code",
    "urgency",
    "level",
    "target",
    "state",
    "raised_at",
    "ack_deadline",
    "report_ids",
    "report_count",
    "source_count",
    "channels",
    "first_seen",
    "last_seen",
    "reminder_seq",
    "acknowledged_at",
    "resolved_at",
    "notify_reporters",
    "changed_at",
)
_DELIVERY = (
    "delivery_id",
    "event_id",
    "event_type",
    "channel",
    "status",
    "attempts",
    "escalation_id",
    "level",
    "created_at",
    "finished_at",
)

PROJECTIONS: dict[str, Projection] = {
    # the reporter's id and kind, the free text body, location, source URL and external reference stay inside
    intake.REPORT_SUBMITTED: (
        "report_id",
        "unit_code",
        "channel",
        "title",
        "observed_at",
        "received_at",
        "topic_codes",
        "sentiment",
        "people_count",
        "attachment_count",
    ),
    intake.REPORT_RECEIPT: None,  # addressed to one collaborator
    intake.ORIENTATION_PUBLISHED: (
        "orientation_id",
        "period",
        "title",
        "guidance",
        "topic_codes",
        "unit_codes",
        "published_at",
    ),
    intake.SURVEY_PUBLISHED: ("survey_id", "title", "questions", "unit_codes", "opens_at", "closes_at", "published_at"),
    # answers are dropped (free text); the codes of the questions answered remain
    intake.SURVEY_RESPONSE_SUBMITTED: ("survey_id", "response_id", "unit_code", "answered", "submitted_at"),
    intake.UNIT_UPSERTED: ("code", "name", "kind", "parent_code", "replaced_by"),
    intake.TOPIC_UPSERTED: ("code", "name", "keywords", "sensitive"),
    intake.API_KEY_ISSUED: ("key_id", "name", "scopes", "unit_codes", "issued_at"),  # never the key hash
    intake.API_KEY_REVOKED: ("key_id", "revoked_at"),
    intake.USER_CHANGED: None,  # people: identity
    intake.AGENCY_CHANGED: ("code", "name", "kind", "unit_code", "active", "changed_at"),
    triage.REPORT_TRIAGED: (
        "report_id",
        "unit_code",
        "urgency",
        "topic_codes",
        "sensitive",
        "score",
        "hotspot_id",
        "merged",
        "channel",
        "observed_at",
        "received_at",
        "decided_at",
    ),
    **{t: _HOTSPOT for t in triage.HOTSPOT_TYPES},
    # who acted (actor_id), their comment and the outcome text, and reporter_ids stay inside
    **{t: _ESCALATION for t in triage.ESCALATION_TYPES},
    # `by` (a user id) and progress notes stay inside; the instruction and the result are the public record
    triage.DIRECTIVE_CHANGED: (
        "directive_id",
        "hotspot_id",
        "unit_code",
        "topic_code",
        "assignee",
        "instruction",
        "due_at",
        "state",
        "change",
        "result",
        "at",
    ),
    notify.DELIVERY_SENT: _DELIVERY,  # recipient ids embed user ids, errors embed addresses
    notify.DELIVERY_DEAD: _DELIVERY,
}

_DERIVED: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    intake.SURVEY_RESPONSE_SUBMITTED: lambda d: {"answered": sorted((d.get("answers") or {}).keys())},
}


def forwarded(event_type: str) -> bool:
    """True if webhooks may carry events of this type."""
    return PROJECTIONS.get(event_type) is not None


def project(event_type: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The public projection of an event's data, or None if the type is never forwarded."""
    fields = PROJECTIONS.get(event_type)
    if fields is None:
        return None
    source = {**data, **_DERIVED[event_type](data)} if event_type in _DERIVED else data
    return {name: source[name] for name in fields if name in source}
