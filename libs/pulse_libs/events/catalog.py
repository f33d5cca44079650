"""The event catalogue: every event type with its topic and payload schema."""

from __future__ import annotations

from dataclasses import dataclass

from pulse_libs.events import intake, notify, topics, triage
from pulse_libs.events.common import EventModel


@dataclass(frozen=True)
class EventSpec:
    """What an event type is: where it travels, what it carries, who produces it."""

    event_type: str
    topic: str
    schema: type[EventModel]
    producer: str
    key: str


CATALOG: tuple[EventSpec, ...] = (
    EventSpec(
        intake.REPORT_SUBMITTED,
        topics.INTAKE_REPORTS,
        intake.ReportSubmitted,
        "intake",
        "unit code",
    ),
    EventSpec(intake.REPORT_RECEIPT, topics.INTAKE_REPORTS, intake.ReportReceipt, "intake", "unit code"),
    EventSpec(
        intake.ORIENTATION_PUBLISHED,
        topics.INTAKE_CAMPAIGNS,
        intake.OrientationPublished,
        "intake",
        "orientation id",
    ),
    EventSpec(
        intake.SURVEY_PUBLISHED,
        topics.INTAKE_CAMPAIGNS,
        intake.SurveyPublished,
        "intake",
        "survey id",
    ),
    EventSpec(
        intake.SURVEY_RESPONSE_SUBMITTED,
        topics.INTAKE_CAMPAIGNS,
        intake.SurveyResponseSubmitted,
        "intake",
        "survey id",
    ),
    EventSpec(intake.UNIT_UPSERTED, topics.INTAKE_REGISTRY, intake.UnitUpserted, "intake", "unit code"),
    EventSpec(intake.TOPIC_UPSERTED, topics.INTAKE_REGISTRY, intake.TopicUpserted, "intake", "topic code"),
    EventSpec(intake.API_KEY_ISSUED, topics.INTAKE_REGISTRY, intake.ApiKeyIssued, "intake", "key id"),
    EventSpec(intake.API_KEY_REVOKED, topics.INTAKE_REGISTRY, intake.ApiKeyRevoked, "intake", "key id"),
    EventSpec(intake.USER_CHANGED, topics.INTAKE_DIRECTORY, intake.UserChanged, "intake", "user id"),
    EventSpec(intake.AGENCY_CHANGED, topics.INTAKE_DIRECTORY, intake.AgencyChanged, "intake", "agency code"),
    EventSpec(triage.REPORT_TRIAGED, topics.TRIAGE_DECISIONS, triage.ReportTriaged, "triage", "unit code"),
    *(
        EventSpec(t, topics.TRIAGE_DECISIONS, triage.HotspotChanged, "triage", "unit code")
        for t in triage.HOTSPOT_TYPES
    ),
    *(
        EventSpec(t, topics.TRIAGE_ESCALATIONS, triage.EscalationChanged, "triage", "hot-spot id")
        for t in triage.ESCALATION_TYPES
    ),
    EventSpec(
        triage.DIRECTIVE_CHANGED,
        topics.TRIAGE_DIRECTIVES,
        triage.DirectiveChanged,
        "triage",
        "hot-spot id",
    ),
    EventSpec(
        notify.DELIVERY_SENT,
        topics.NOTIFY_DELIVERIES,
        notify.DeliveryOutcome,
        "notify",
        "delivery id",
    ),
    EventSpec(
        notify.DELIVERY_DEAD,
        topics.NOTIFY_DELIVERIES,
        notify.DeliveryOutcome,
        "notify",
        "delivery id",
    ),
)

BY_TYPE: dict[str, EventSpec] = {spec.event_type: spec for spec in CATALOG}


def spec_for(event_type: str) -> EventSpec:
    """Return the spec of an event type; KeyError if unknown."""
    return BY_TYPE[event_type]
