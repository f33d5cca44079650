"""HTTP schemas of the triage API (XRead / XCreate / XUpdate)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pulse_libs.events.common import Channel, EscalationTarget, Urgency
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No or bad credentials"},
    403: {"model": Problem, "description": "The caller lacks the scope"},
    404: {"model": Problem, "description": "Absent or outside the caller's units"},
    422: {"model": Problem, "description": "Invalid input"},
    503: {"model": Problem, "description": "The store is unavailable"},
}


class TriageRead(BaseModel):
    """A report's triage decision."""

    report_id: str
    unit_code: str
    urgency: Urgency
    topic_codes: list[str]
    sensitive: bool
    score: float
    reasons: list[str]
    hotspot_id: str | None = None
    merged: bool = False
    reviewed: bool = Field(default=False, description="True once an officer has corrected this decision")
    decided_at: datetime


class HistoryEntry(BaseModel):
    """One transition of an escalation."""

    at: datetime
    action: str
    level: int
    target: EscalationTarget | None = None
    urgency: Urgency
    actor_id: str | None = None
    actor_name: str | None = None
    comment: str | None = None
    silence_id: str | None = None
    by: str | None = None
    via: Literal["link"] | None = Field(default=None, description="`link`: acknowledged through a one-tap link")
    channel: str | None = Field(default=None, description="The channel whose notice carried the link")
    notify_reporters: bool | None = Field(default=None, description="On resolved: the outcome went to the reporters")


class EscalationRead(BaseModel):
    """An escalation and its history."""

    id: str
    hotspot_id: str
    unit_code: str
    topic_code: str
    urgency: Urgency
    level: int
    target: EscalationTarget | None
    state: Literal["pending", "acknowledged", "resolved"]
    raised_at: datetime
    ack_deadline: datetime | None
    next_action_at: datetime | None
    reminder_seq: int
    silenced_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    history: list[HistoryEntry]


class HotspotRead(BaseModel):
    """A hot spot: similar reports of one unit and topic."""

    id: str
    unit_code: str
    topic_code: str
    urgency: Urgency
    status: Literal["open", "acknowledged", "resolved"]
    report_ids: list[str]
    merged_report_ids: list[str]
    source_count: int
    channels: list[Channel]
    first_seen: datetime
    last_seen: datetime
    escalation: EscalationRead | None = None
    parent_id: str | None = Field(
        default=None, description="The parent hot spot this ward's hot spot is linked under (one matter, several wards)"
    )
    child_ids: list[str] = Field(
        default_factory=list, description="On a parent hot spot: its wards' hot spots (it carries their escalation)"
    )


class HotspotBrief(BaseModel):
    """A hot spot as an agency sees it (one its directives concern): no report ids, sources or escalation."""

    id: str
    unit_code: str
    topic_code: str
    urgency: Urgency
    status: Literal["open", "acknowledged", "resolved"]
    report_count: int
    channels: list[Channel]
    first_seen: datetime
    last_seen: datetime


class AckBody(_In):
    """Acknowledge an escalation."""

    comment: str | None = Field(default=None, max_length=2000)


class ResolveBody(_In):
    """Resolve an escalation: the comment says how (the outcome)."""

    comment: str = Field(min_length=1, max_length=2000)
    notify_reporters: bool = Field(
        default=False,
        description="Send the outcome to the collaborators whose reports formed the hot spot (each only their own)",
    )

    @field_validator("comment")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the comment must not be blank")
        return value


class PolicyLevelIn(_In):
    """One level of a policy."""

    level: int = Field(ge=1, le=10)
    target: EscalationTarget
    ack_timeout_seconds: int = Field(ge=1, le=7 * 24 * 3600)


class PolicyWrite(_In):
    """A policy: levels in order 1, 2, 3...; optional reminders while a level waits."""

    levels: list[PolicyLevelIn] = Field(max_length=10)
    repeat_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)

    @field_validator("levels")
    @classmethod
    def _in_order(cls, levels: list[PolicyLevelIn]) -> list[PolicyLevelIn]:
        if [lv.level for lv in levels] != list(range(1, len(levels) + 1)):
            raise ValueError("levels must be numbered 1, 2, 3... in order")
        return levels


class PolicyRead(BaseModel):
    """The policy of one urgency."""

    urgency: Urgency
    levels: list[PolicyLevelIn]
    repeat_seconds: int | None = None


class SilenceCreate(_In):
    """Silence paging for a unit, a topic or both until a time."""

    unit_code: str | None = Field(default=None, min_length=1, max_length=64)
    topic_code: str | None = Field(default=None, min_length=1, max_length=64)
    until: datetime
    reason: str = Field(min_length=1, max_length=500)


class SilenceRead(BaseModel):
    """A silence."""

    id: str
    unit_code: str | None
    topic_code: str | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime
    active: bool
