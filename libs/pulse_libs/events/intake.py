"""Events produced by intake: reports, campaigns (orientations, surveys) and registry changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import field_serializer, field_validator

from pulse_libs.events.common import Channel, EventModel, Sentiment

SOURCE = "pulse/intake"

REPORT_SUBMITTED = "pulse.report.submitted.v1"
ORIENTATION_PUBLISHED = "pulse.orientation.published.v1"
SURVEY_PUBLISHED = "pulse.survey.published.v1"
SURVEY_RESPONSE_SUBMITTED = "pulse.survey.response_submitted.v1"
UNIT_UPSERTED = "pulse.unit.upserted.v1"
TOPIC_UPSERTED = "pulse.topic.upserted.v1"
API_KEY_ISSUED = "pulse.api_key.issued.v1"
API_KEY_REVOKED = "pulse.api_key.revoked.v1"
REPORT_RECEIPT = "pulse.report.receipt.v1"
USER_CHANGED = "pulse.user.changed.v1"
AGENCY_CHANGED = "pulse.agency.changed.v1"

AgencyKind = Literal["people_committee", "department", "police", "mass_organisation", "other"]


class Location(EventModel):
    """A WGS84 point."""

    lat: float
    lon: float


class ReportSubmitted(EventModel):
    """A collaborator or a provincial system submitted a report (topic intake.reports.v1, key unit code)."""

    report_id: str
    unit_code: str
    channel: Channel
    title: str
    content: str
    observed_at: datetime
    received_at: datetime
    topic_codes: list[str] = []
    sentiment: Sentiment | None = None
    people_count: int | None = None
    location: Location | None = None
    source_url: str | None = None
    attachment_count: int = 0
    reporter_id: str
    """Internal id of the reporting user or API key; outputs must pseudonymise it."""
    reporter_kind: Literal["user", "api_key"] = "user"
    external_ref: str | None = None


class ReportReceipt(EventModel):
    """Intake acknowledges a report to the collaborator who sent it through a messaging channel
    (topic intake.reports.v1, key unit code); notify delivers `message` on `channel` to `recipient_id`,
    whose address it knows from the directory (no address travels here)."""

    report_id: str
    unit_code: str
    recipient_id: str
    """Internal user id of the collaborator (never shown to anyone else)."""
    channel: Literal["zalo"]
    message: str
    """The receipt text, Vietnamese, within the channel's length limit."""
    received_at: datetime


class OrientationPublished(EventModel):
    """The department published the orientation (định hướng) for a period (topic intake.campaigns.v1)."""

    orientation_id: str
    period: str
    title: str
    guidance: str
    topic_codes: list[str]
    unit_codes: list[str] = []
    """Target units; empty means every unit."""
    published_at: datetime
    published_by: str


class SurveyQuestion(EventModel):
    """One question of a survey."""

    code: str
    text: str
    kind: Literal["single", "multi", "scale", "text"]
    options: list[str] = []
    required: bool = True
    """An optional question may be left unanswered."""


class SurveyPublished(EventModel):
    """A survey (điều tra thăm dò DLXH) was created (topic intake.campaigns.v1, key survey id)."""

    survey_id: str
    title: str
    questions: list[SurveyQuestion]
    unit_codes: list[str]
    opens_at: datetime
    closes_at: datetime
    published_at: datetime


class SurveyDemographics(EventModel):
    """Demographics of a survey respondent, each optional, from closed lists so no name can be written."""

    gender: Literal["male", "female", "other"] | None = None
    age_group: Literal["under_18", "18_30", "31_45", "46_60", "over_60"] | None = None
    occupation: (
        Literal["farmer", "worker", "civil_servant", "business", "student", "retired", "armed_forces", "other"] | None
    ) = None


class SurveyResponseSubmitted(EventModel):
    """A respondent answered a survey (topic intake.campaigns.v1, key survey id)."""

    survey_id: str
    response_id: str
    unit_code: str
    respondent_id: str
    """Pseudonymous id of the respondent: the collaborator answering for themself, or a fresh id per interviewee."""
    answers: dict[str, str | int | list[str]]
    submitted_at: datetime
    respondent_kind: Literal["self", "interview"] = "self"
    """`interview`: a citizen interviewed by the collaborator (điều tra xã hội học); many per collaborator."""
    demographics: SurveyDemographics | None = None
    """Optional demographics of the respondent, from closed lists (never a name)."""


class UnitSuccessor(EventModel):
    """A unit that took over (part of) a merged or split unit's area, and the local day it did."""

    code: str
    since: date | None = None
    """First local day under the successor; None for links recorded before links carried dates."""

    @field_serializer("since")
    def _iso_day(self, since: date | None) -> str | None:
        # A plain string in every dump mode: the store's BSON has no date-only type.
        return None if since is None else since.isoformat()


class UnitUpserted(EventModel):
    """An administrative unit was created or changed (topic intake.registry.v1)."""

    code: str
    name: str
    kind: Literal["ward", "commune", "town", "district", "province"]
    parent_code: str | None = None
    replaced_by: list[UnitSuccessor] = []
    """Successors of a merged or split unit (empty for a current unit); a split unit has several."""

    @field_validator("replaced_by", mode="before")
    @classmethod
    def _older_forms(cls, value: Any) -> Any:
        # Events written before successor links were lists carried one code (or null).
        if value is None:
            return []
        if isinstance(value, str):
            return [{"code": value}]
        return value


class TopicUpserted(EventModel):
    """A topic of the taxonomy was created or changed (topic intake.registry.v1)."""

    code: str
    name: str
    keywords: list[str] = []
    sensitive: bool = False


class ApiKeyIssued(EventModel):
    """An API key was issued; services mirror the hash to verify it themselves (topic intake.registry.v1)."""

    key_id: str
    name: str
    key_hash: str
    """SHA-256 hex of the secret key; the key itself never travels."""
    scopes: list[str]
    unit_codes: list[str] | None = None
    issued_at: datetime


class ApiKeyRevoked(EventModel):
    """An API key was revoked (topic intake.registry.v1)."""

    key_id: str
    revoked_at: datetime


class UserChanged(EventModel):
    """A user was created or changed (topic intake.directory.v1, key user id).

    Carries the whole current record, so a consumer keeps only the highest `version` per user;
    services use it to revoke access (inactive, or a token's `ver` below `version`) and notify
    builds its directory of people to page from it.
    """

    user_id: str
    username: str
    full_name: str
    role: str
    unit_codes: list[str] = []
    agency_code: str | None = None
    phone: str | None = None
    email: str | None = None
    zalo_user_id: str | None = None
    active: bool = True
    version: int
    """Increases on every change of the user (tokens carry the version they were issued at)."""
    access_version: int = 0
    """Version of the last change that cut access (role, units, agency, password, deactivation):
    every service refuses tokens whose `ver` is below it."""
    term_ends_on: date | None = None
    """Last day of the user's term (Asia/Ho_Chi_Minh); access ends after it."""
    changed_at: datetime


class AgencyChanged(EventModel):
    """An agency (a body that receives directives) was created or changed (topic intake.directory.v1, key its code)."""

    code: str
    name: str
    kind: AgencyKind
    unit_code: str | None = None
    active: bool = True
    changed_at: datetime
