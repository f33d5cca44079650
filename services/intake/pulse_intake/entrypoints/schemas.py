"""HTTP schemas of the intake API: strict on input (unknown fields and non-strings refused), typed on output."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pulse_libs.auth import Role
from pulse_libs.events.common import Channel, Sentiment, Urgency
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from pulse_intake.domain.text import nfc

Code = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
TopicCode = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:-]+$")]
"""No '.': topic codes become keys of counter documents downstream."""
UnitKind = Literal["ward", "commune", "town", "district", "province"]


def _text(min_length: int, max_length: int) -> Any:
    return Annotated[StrictStr, AfterValidator(nfc), Field(min_length=min_length, max_length=max_length)]


Title = _text(1, 200)
Content = _text(1, 10_000)
Name = _text(1, 200)
Url = Annotated[StrictStr, Field(min_length=1, max_length=2000, pattern=r"^https?://\S+$")]


class Strict(BaseModel):
    """Input models refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


class LocationIn(Strict):
    """A WGS84 point."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class AttachmentIn(Strict):
    """A file the reporter attached (stored elsewhere; we keep its address and digest)."""

    url: Url
    media_type: Annotated[StrictStr, Field(min_length=3, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$")]
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None


class ReportCreate(Strict):
    """A report as a collaborator or a provincial system submits it."""

    unit_code: Code
    channel: Channel
    title: Title  # type: ignore[valid-type]
    content: Content  # type: ignore[valid-type]
    observed_at: AwareDatetime
    topic_codes: Annotated[list[TopicCode], Field(max_length=20)] = []
    sentiment: Sentiment | None = None
    people_count: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = None
    location: LocationIn | None = None
    source_url: Url | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=20)] = []
    external_ref: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    client_id: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None


class TriageOut(BaseModel):
    """Triage's decision as projected onto the report."""

    urgency: Urgency
    topic_codes: list[str]
    sensitive: bool
    hotspot_id: str | None = None
    reasons: list[str] = []


class ReportOut(BaseModel):
    """A report as stored, with its status; reporter identity only for department and admin."""

    id: str
    status: Literal["received", "triaged", "merged", "escalated", "acknowledged", "resolved"]
    received_at: datetime
    unit_code: str
    channel: Channel
    title: str
    content: str
    observed_at: datetime
    topic_codes: list[str] = []
    sentiment: Sentiment | None = None
    people_count: int | None = None
    location: LocationIn | None = None
    source_url: str | None = None
    attachments: list[AttachmentIn] = []
    external_ref: str | None = None
    client_id: str | None = None
    triage: TriageOut | None = None
    outcome: str | None = None
    """How the hot spot this report belongs to was resolved (once `resolved`, if the department said)."""
    reporter_id: str | None = None
    reporter_name: str | None = None
    reporter_kind: str | None = None


class BatchIn(Strict):
    """Up to 500 reports sent together (an offline phone catching up)."""

    reports: Annotated[list[Any], Field(min_length=1, max_length=500)]


class BatchItemResult(BaseModel):
    """The outcome of one item of a batch."""

    index: int
    status: Literal[201, 409, 422]
    id: str | None = None
    errors: list[dict[str, str]] | None = None


class BatchOut(BaseModel):
    """Outcomes of a batch, in input order."""

    results: list[BatchItemResult]


class TokenOut(BaseModel):
    """An OAuth2 bearer token; `password_change_required` after a reset (the token then only changes the password)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    password_change_required: bool = False


Password = Annotated[StrictStr, Field(min_length=10, max_length=256)]
Phone = Annotated[StrictStr, Field(pattern=r"^\+?[0-9 .-]{8,20}$")]
Email = Annotated[StrictStr, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ZaloUserId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]


class UserCreate(Strict):
    """A person who signs in."""

    username: Annotated[StrictStr, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+$")]
    password: Password
    full_name: Name  # type: ignore[valid-type]
    role: Role
    unit_codes: Annotated[list[Code], Field(max_length=200)] = []
    phone: Phone | None = None
    email: Email | None = None
    agency_code: Code | None = None
    zalo_user_id: ZaloUserId | None = None
    term_ends_on: date | None = None


class UserPatch(Strict):
    """Fields of a user to change (admin); a change of role, units or agency, or a deactivation, revokes old tokens."""

    full_name: Name | None = None  # type: ignore[valid-type]
    role: Role | None = None
    unit_codes: Annotated[list[Code], Field(max_length=200)] | None = None
    agency_code: Code | None = None
    phone: Phone | None = None
    email: Email | None = None
    zalo_user_id: ZaloUserId | None = None
    active: StrictBool | None = None
    term_ends_on: date | None = None


class UserOut(BaseModel):
    """A user, never with the password or its hash."""

    id: str
    username: str
    full_name: str
    role: Role
    unit_codes: list[str]
    phone: str | None = None
    email: str | None = None
    agency_code: str | None = None
    zalo_user_id: str | None = None
    active: bool = True
    term_ends_on: date | None = None
    version: int = 0
    password_change_required: bool = False
    created_at: datetime
    updated_at: datetime | None = None


class PasswordChange(Strict):
    """Change one's own password."""

    current_password: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    new_password: Password


class PasswordResetOut(BaseModel):
    """A one-time password, shown once; the user must change it at the next sign-in."""

    id: str
    one_time_password: str
    password_change_required: Literal[True] = True


AgencyKind = Literal["people_committee", "department", "police", "mass_organisation", "other"]


class AgencyIn(Strict):
    """A body that receives directives."""

    code: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_:-]+$")]
    name: Name  # type: ignore[valid-type]
    kind: AgencyKind
    unit_code: Code | None = None


class AgencyPatch(Strict):
    """Fields of an agency to change."""

    name: Name | None = None  # type: ignore[valid-type]
    kind: AgencyKind | None = None
    unit_code: Code | None = None
    active: StrictBool | None = None


class AgencyOut(BaseModel):
    """A body that receives directives."""

    id: str
    code: str
    name: str
    kind: AgencyKind
    unit_code: str | None = None
    active: bool
    created_at: datetime
    updated_at: datetime | None = None


class ApiKeyCreate(Strict):
    """A key for a provincial system; omit `unit_codes` for every unit (an empty list is refused)."""

    name: Name  # type: ignore[valid-type]
    scopes: Annotated[list[StrictStr], Field(min_length=1, max_length=20)]
    unit_codes: Annotated[list[Code], Field(min_length=1, max_length=200)] | None = None


class ApiKeyIssuedOut(BaseModel):
    """The new key: `key` is shown this once and never again."""

    id: str
    key: str


class ApiKeyOut(BaseModel):
    """A key's record without its secret."""

    id: str
    name: str
    scopes: list[str]
    unit_codes: list[str] | None = None
    revoked: bool
    issued_at: datetime


class UnitSuccessorIn(Strict):
    """A unit that took over (part of) a merged or split unit's area, from a local day on."""

    code: Code
    since: date
    """First local day under the successor (the resolution's effective date, e.g. 2025-07-01)."""


Successors = Annotated[list[UnitSuccessorIn], Field(max_length=50)]
"""Successor links of a merged unit (one) or a split unit (several); empty for a current unit."""

_UNIT_EXAMPLE: dict[str, Any] = {
    "code": "132",
    "name": "Thành phố Yên Bái (cũ)",
    "kind": "district",
    "parent_code": "15",
    "replaced_by": [{"code": "04252", "since": "2025-07-01"}, {"code": "04279", "since": "2025-07-01"}],
}


class UnitIn(Strict):
    """An administrative unit (2025 two-level or older three-level)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_UNIT_EXAMPLE]})

    code: Code
    name: Name  # type: ignore[valid-type]
    kind: UnitKind
    parent_code: Code | None = None
    replaced_by: Successors = []


class UnitPatch(Strict):
    """Fields of a unit to change."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"replaced_by": _UNIT_EXAMPLE["replaced_by"]}]}
    )

    name: Name | None = None  # type: ignore[valid-type]
    kind: UnitKind | None = None
    parent_code: Code | None = None
    replaced_by: Successors | None = None


class UnitSuccessorOut(BaseModel):
    """A successor link; `since` is null for a link recorded before links carried their date."""

    code: str
    since: date | None = None


class UnitOut(BaseModel):
    """An administrative unit."""

    code: str
    name: str
    kind: UnitKind
    parent_code: str | None = None
    replaced_by: list[UnitSuccessorOut] = []


class ImportOut(BaseModel):
    """What a bulk import changed."""

    created: int
    updated: int
    unchanged: int


class TopicIn(Strict):
    """A topic of the taxonomy."""

    code: TopicCode
    name: Name  # type: ignore[valid-type]
    keywords: Annotated[
        list[Annotated[StrictStr, AfterValidator(nfc), Field(min_length=1, max_length=100)]], Field(max_length=200)
    ] = []
    sensitive: StrictBool = False


class TopicPatch(Strict):
    """Fields of a topic to change."""

    name: Name | None = None  # type: ignore[valid-type]
    keywords: (
        Annotated[
            list[Annotated[StrictStr, AfterValidator(nfc), Field(min_length=1, max_length=100)]], Field(max_length=200)
        ]
        | None
    ) = None
    sensitive: StrictBool | None = None


class TopicOut(BaseModel):
    """A topic of the taxonomy."""

    code: str
    name: str
    keywords: list[str]
    sensitive: bool
