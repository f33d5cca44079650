"""HTTP response models of the reporting API (documented in /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class TimeToAck(BaseModel):
    """Median and 95th percentile, in seconds (null when nothing was acknowledged)."""

    median: float | None
    p95: float | None


class LevelTimeToAck(TimeToAck):
    """Time to acknowledge measured from when the acknowledging level was paged."""

    level: int
    acknowledged: int


class EscalationStats(BaseModel):
    """Escalations raised in the range and how fast they were acknowledged."""

    raised: int
    acknowledged: int
    resolved: int
    time_to_ack_seconds: TimeToAck
    by_level: list[LevelTimeToAck]


class HotspotStats(BaseModel):
    """Hot spots opened in the range, by current status."""

    opened: int
    by_status: dict[str, int]


class Summary(BaseModel):
    """Totals over local days `from`..`to` (both included)."""

    from_: str = Field(alias="from")
    to: str
    unit_code: str | None
    topic_code: str | None
    rollup: Literal["none", "successor", "parent"] = "successor"
    """How legacy units and the parent chain were counted; with `parent`, `by_unit` lists every level."""
    reports: int
    by_urgency: dict[str, int]
    by_channel: dict[str, int]
    by_sentiment: dict[str, int]
    by_topic: dict[str, int]
    by_unit: dict[str, int]
    hotspots: HotspotStats
    escalations: EscalationStats


class TrendPoint(BaseModel):
    """Reports in one bucket (a day, an ISO week `2026-W47` or a reporting month `2026-11`)."""

    bucket: str
    start: str
    reports: int
    by_urgency: dict[str, int]


class Trends(BaseModel):
    """A time series of report counts."""

    from_: str = Field(alias="from")
    to: str
    granularity: Literal["day", "week", "month"]
    unit_code: str | None
    topic_code: str | None
    rollup: Literal["none", "successor", "parent"] = "successor"
    items: list[TrendPoint]


class PeriodWindow(BaseModel):
    """A reporting period's half-open window [start, end) in local time with its offset."""

    period: str
    kind: Literal["month", "quarter", "half_year", "nine_months", "year"]
    start: str
    end: str
    cutoff_day: int
    previous: str


class CloseRequest(BaseModel):
    """Optional particulars of the filed document."""

    model_config = {"extra": "forbid"}

    document_number: str | None = Field(
        default=None, min_length=1, max_length=20, pattern=r"^[0-9A-Za-z./]+$", examples=["125"]
    )
    """The number in `Số 125-BC/BTG`; left out, the filed DOCX keeps the space for it."""


class FiledVersion(BaseModel):
    """A filed version of a periodic report."""

    version: int
    filed_at: str
    document_number: str | None
    sha256: dict[str, str]
    """Hex sha256 of the stored `docx` and `xlsx` bytes."""


class PeriodClosed(PeriodWindow):
    """A period whose figures were just frozen and whose whole report was filed."""

    closed_at: str
    version: int
    reports: int
    filed: FiledVersion


class ReopenRequest(BaseModel):
    """Why a closed period is reopened (kept in the audit log)."""

    model_config = {"extra": "forbid"}

    reason: str = Field(min_length=3, max_length=500)


class PeriodReopened(PeriodWindow):
    """A closed period reopened by an administrator."""

    state: Literal["reopened"]
    reopened_at: str
    reopened_by: str
    filed_version: int
    reason: str


class Briefing(BaseModel):
    """The periodic briefing; see the service README for every section."""

    model_config = {"extra": "allow"}

    period: PeriodWindow
    frozen: bool
    totals: dict[str, Any]
    previous: dict[str, Any]
    late: dict[str, Any] | None
    top_topics: list[dict[str, Any]]
    hotspots: list[dict[str, Any]]
    escalations: EscalationStats
    orientation_coverage: list[dict[str, Any]]
    collaborators: dict[str, Any]
    surveys: list[dict[str, Any]]
    deliveries: dict[str, Any] | None
    """Notification outcomes; null for unit-limited callers (deliveries have no unit)."""


class SurveyResults(BaseModel):
    """Tallies of a survey's answers.

    Per question: `answered`, `skipped`; options with `count` and `percent` (of those who answered;
    multi-choice may add up to more than 100); scale `mean`, `median` and `distribution`; text
    `answered` and, for department and admin only, `answers` (sorted, without who gave them).
    `respondents`: by kind (self / interview) and by gender, age group and occupation (`not_given`
    when not recorded). `breakdown` (with `?by=`): the same tallies per group, text answers omitted.
    """

    survey_id: str
    title: str
    opens_at: str | None = None
    closes_at: str | None = None
    responses: int
    respondents: dict[str, Any]
    questions: list[dict[str, Any]]
    breakdown: dict[str, Any] | None = None
