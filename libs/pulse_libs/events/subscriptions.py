"""What each service consumes, topic by topic: the receive side of the AsyncAPI document and of the Kafka ACLs.

Kept as data beside the catalogue; a test starts each service's wiring and checks its consumers match it.
Every service also follows `intake.directory.v1` for token revocation (libs' directory view).
"""

from __future__ import annotations

from pulse_libs.events import intake, notify, topics, triage

_DIRECTORY = (intake.USER_CHANGED, intake.AGENCY_CHANGED)
_ESCALATIONS = tuple(triage.ESCALATION_TYPES)
_DECISIONS = (triage.REPORT_TRIAGED, *triage.HOTSPOT_TYPES)
_CAMPAIGNS = (intake.ORIENTATION_PUBLISHED, intake.SURVEY_PUBLISHED, intake.SURVEY_RESPONSE_SUBMITTED)
_REGISTRY = (intake.UNIT_UPSERTED, intake.TOPIC_UPSERTED, intake.API_KEY_ISSUED, intake.API_KEY_REVOKED)
_DELIVERIES = (notify.DELIVERY_SENT, notify.DELIVERY_DEAD)

CONSUMES: dict[str, dict[str, tuple[str, ...]]] = {
    "intake": {
        topics.INTAKE_DIRECTORY: _DIRECTORY,
        topics.TRIAGE_DECISIONS: (triage.REPORT_TRIAGED, triage.HOTSPOT_RESOLVED),
        topics.TRIAGE_ESCALATIONS: _ESCALATIONS,
    },
    "triage": {
        topics.INTAKE_DIRECTORY: _DIRECTORY,
        topics.INTAKE_REPORTS: (intake.REPORT_SUBMITTED,),
        topics.INTAKE_REGISTRY: _REGISTRY,
    },
    "notify": {
        topics.INTAKE_DIRECTORY: _DIRECTORY,
        topics.INTAKE_REPORTS: (intake.REPORT_SUBMITTED, intake.REPORT_RECEIPT),
        topics.INTAKE_CAMPAIGNS: _CAMPAIGNS,
        topics.INTAKE_REGISTRY: _REGISTRY,
        topics.TRIAGE_DECISIONS: _DECISIONS,
        topics.TRIAGE_ESCALATIONS: _ESCALATIONS,
        topics.TRIAGE_DIRECTIVES: (triage.DIRECTIVE_CHANGED,),
        topics.NOTIFY_DELIVERIES: _DELIVERIES,
    },
    "reporting": {
        topics.INTAKE_DIRECTORY: _DIRECTORY,
        topics.INTAKE_REPORTS: (intake.REPORT_SUBMITTED,),
        topics.INTAKE_CAMPAIGNS: _CAMPAIGNS,
        topics.INTAKE_REGISTRY: _REGISTRY,
        topics.TRIAGE_DECISIONS: _DECISIONS,
        topics.TRIAGE_ESCALATIONS: _ESCALATIONS,
        topics.TRIAGE_DIRECTIVES: (triage.DIRECTIVE_CHANGED,),
        topics.NOTIFY_DELIVERIES: _DELIVERIES,
    },
}
SERVICES: tuple[str, ...] = ("intake", "triage", "notify", "reporting")
OPERATOR = "operator"
"""The admin CLI (`pulse dlq replay`): reads dead letters and sends them back to their topic."""
