"""Kafka topic names: the only place they are spelled. DLQs are `<topic>.dlq`."""

from __future__ import annotations

INTAKE_REPORTS = "intake.reports.v1"
"""Reports submitted (key: unit code)."""
INTAKE_CAMPAIGNS = "intake.campaigns.v1"
"""Orientations, surveys and survey responses (key: orientation/survey id)."""
INTAKE_REGISTRY = "intake.registry.v1"
"""Registry changes other services mirror: units, topics, API keys (key: entity id)."""
INTAKE_DIRECTORY = "intake.directory.v1"
"""The people directory: users and agencies (key: user id or agency code)."""
TRIAGE_DECISIONS = "triage.decisions.v1"
"""Triage decisions and hot-spot changes (key: unit code)."""
TRIAGE_ESCALATIONS = "triage.escalations.v1"
"""Escalation lifecycle (key: hot-spot id)."""
TRIAGE_DIRECTIVES = "triage.directives.v1"
"""Directives (chỉ đạo xử lý) to the agencies that act on a hot spot (key: hot-spot id)."""
NOTIFY_DELIVERIES = "notify.deliveries.v1"
"""Delivery outcomes (key: delivery id)."""

ALL_TOPICS: tuple[str, ...] = (
    INTAKE_REPORTS,
    INTAKE_CAMPAIGNS,
    INTAKE_REGISTRY,
    INTAKE_DIRECTORY,
    TRIAGE_DECISIONS,
    TRIAGE_ESCALATIONS,
    TRIAGE_DIRECTIVES,
    NOTIFY_DELIVERIES,
)

DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    """Return the dead-letter topic of `topic`."""
    return topic + DLQ_SUFFIX


def all_topics_with_dlqs() -> tuple[str, ...]:
    """Every topic Pulse uses, with its dead-letter topic."""
    return ALL_TOPICS + tuple(dlq(t) for t in ALL_TOPICS)
