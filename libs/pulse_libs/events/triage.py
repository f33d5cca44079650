"""Events produced by triage: decisions, hot-spot changes, the escalation lifecycle and directives."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pulse_libs.events.common import Channel, EscalationTarget, EventModel, Urgency

SOURCE = "pulse/triage"

REPORT_TRIAGED = "pulse.report.triaged.v1"
HOTSPOT_OPENED = "pulse.hotspot.opened.v1"
HOTSPOT_UPDATED = "pulse.hotspot.updated.v1"
HOTSPOT_ACKNOWLEDGED = "pulse.hotspot.acknowledged.v1"
HOTSPOT_RESOLVED = "pulse.hotspot.resolved.v1"
ESCALATION_RAISED = "pulse.escalation.raised.v1"
ESCALATION_ESCALATED = "pulse.escalation.escalated.v1"
ESCALATION_REMINDED = "pulse.escalation.reminded.v1"
ESCALATION_ACKNOWLEDGED = "pulse.escalation.acknowledged.v1"
ESCALATION_RESOLVED = "pulse.escalation.resolved.v1"
DIRECTIVE_CHANGED = "pulse.directive.changed.v1"

HOTSPOT_TYPES = (HOTSPOT_OPENED, HOTSPOT_UPDATED, HOTSPOT_ACKNOWLEDGED, HOTSPOT_RESOLVED)
ESCALATION_TYPES = (
    ESCALATION_RAISED,
    ESCALATION_ESCALATED,
    ESCALATION_REMINDED,
    ESCALATION_ACKNOWLEDGED,
    ESCALATION_RESOLVED,
)


class ReportTriaged(EventModel):
    """Triage decided a report's urgency, topics and hot spot (topic triage.decisions.v1, key unit code)."""

    report_id: str
    unit_code: str
    urgency: Urgency
    topic_codes: list[str]
    sensitive: bool
    score: float
    reasons: list[str]
    hotspot_id: str | None = None
    merged: bool = False
    """True when the report is a near-duplicate from a source already counted in its hot spot."""
    reviewed: bool = False
    """True when an officer corrected the decision (POST /v1/triage/{id}/review); the latest decision wins."""
    channel: Channel
    observed_at: datetime
    received_at: datetime
    decided_at: datetime


class HotspotChanged(EventModel):
    """A hot spot's state after a change; `ce_type` says which (topic triage.decisions.v1, key unit code)."""

    hotspot_id: str
    unit_code: str
    topic_code: str
    urgency: Urgency
    status: Literal["open", "acknowledged", "resolved"]
    report_ids: list[str]
    source_count: int
    channels: list[Channel]
    first_seen: datetime
    last_seen: datetime
    changed_at: datetime
    parent_id: str | None = None
    """The parent hot spot this one is linked under (one matter in several wards of one parent unit), if any;
    the parent carries the matter's one escalation and has no hot-spot events of its own."""


class EscalationChanged(EventModel):
    """An escalation's state after a change; `ce_type` says which (topic triage.escalations.v1, key hot-spot id).

    `level` and `target` are those now paged: notify delivers one notice per
    (escalation, level, recipient, channel) for raised/escalated, and reminders per `reminder_seq`.
    """

    escalation_id: str
    hotspot_id: str
    unit_code: str
    topic_code: str
    urgency: Urgency
    level: int
    target: EscalationTarget
    state: Literal["pending", "acknowledged", "resolved"]
    raised_at: datetime
    ack_deadline: datetime | None
    report_ids: list[str]
    report_count: int
    source_count: int
    channels: list[Channel]
    first_seen: datetime
    last_seen: datetime
    reminder_seq: int = 0
    actor_id: str | None = None
    comment: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    notify_reporters: bool = False
    """On resolved: the department asked that the collaborators behind the hot spot hear the outcome."""
    outcome: str | None = None
    """On resolved: the outcome (the resolving comment) told to the collaborators."""
    reporter_ids: list[str] = []
    """On resolved with notify_reporters: internal ids of the collaborators whose reports formed the
    hot spot (never shown to anyone; notify sends each their own notice)."""
    changed_at: datetime


DirectiveState = Literal["open", "overdue", "done"]
DirectiveChange = Literal["created", "updated", "overdue", "done"]


class DirectiveChanged(EventModel):
    """A directive (chỉ đạo xử lý) after a change; `change` says which (topic triage.directives.v1, key hot-spot id).

    `overdue` is emitted exactly once per directive, when its due time passes while it is not done.
    """

    directive_id: str
    hotspot_id: str
    unit_code: str
    topic_code: str
    assignee: str
    """The agency code the directive is assigned to."""
    instruction: str
    due_at: datetime
    state: DirectiveState
    change: DirectiveChange
    note: str | None = None
    result: str | None = None
    by: str
    """User id of who made the change, or "system" for the overdue transition."""
    at: datetime
    remind_before_seconds: int
    """How long before `due_at` notify reminds the assignee (0: no reminder)."""
