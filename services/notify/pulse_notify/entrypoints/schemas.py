"""HTTP schemas of the notify API (`XCreate / XRead / XUpdate`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Target = Literal["duty_officer", "department_head", "standing_committee", "collaborator", "reporter"]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
TopicCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[^@\s<>\".]{2,63}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{8,15}$")]
ZaloUserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://\S+$")]
Secret = Annotated[str, StringConstraints(min_length=10, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    """Unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Channels(Strict):
    """How a recipient is reached; at least one channel should be set to receive anything."""

    email: Email | None = None
    phone: Phone | None = Field(default=None, description="E.164 digits, e.g. +84912345678")
    zalo_user_id: ZaloUserId | None = Field(default=None, description="The user's id as a follower of the Zalo OA")
    webhook_url: Url | None = Field(default=None, description="Personal webhook, signed like subscriptions")


class RecipientCreate(Strict):
    """A person or system that receives escalations, orientations and bulletins."""

    name: Name
    targets: list[Target] = Field(min_length=1, max_length=5)
    unit_codes: list[UnitCode] = Field(default=[], max_length=500, description="Empty: every unit")
    channels: Channels
    webhook_secret: Secret | None = Field(
        default=None, description="`whsec_` secret for webhook_url; generated (and shown once) if omitted"
    )
    active: bool = True
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The Pulse user this recipient is; with target `reporter` they get receipts"
    )


class RecipientUpdate(Strict):
    """Fields to change; absent fields stay as they are."""

    name: Name | None = None
    targets: list[Target] | None = Field(default=None, min_length=1, max_length=5)
    unit_codes: list[UnitCode] | None = Field(default=None, max_length=500)
    channels: Channels | None = None
    webhook_secret: Secret | None = None
    active: bool | None = None
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class RecipientRead(BaseModel):
    """A recipient (its webhook secret is shown only when created or set)."""

    id: str
    name: str
    targets: list[str]
    unit_codes: list[str]
    channels: Channels
    active: bool
    user_id: str | None = None
    created_at: datetime
    updated_at: datetime
    webhook_secret: str | None = Field(default=None, description="Only in the answer that set it")


class WebhookCreate(Strict):
    """An outbound subscription: Pulse events of these types are POSTed, signed, to `url`."""

    url: Url
    event_types: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50, description="Event types (`ce_type`), or `*` for all"
    )
    secret: Secret | None = Field(default=None, description="`whsec_` + base64 of 24–64 bytes; generated if omitted")


class WebhookRead(BaseModel):
    """A subscription; the secret appears only in the creation answer."""

    id: str
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(default=None, description="Only in the 201 answer: store it to verify signatures")


class DeliveryRead(BaseModel):
    """One delivery of one notice to one recipient on one channel."""

    id: str
    event_id: str
    event_type: str
    recipient_id: str
    channel: Literal["zalo", "sms", "email", "webhook"]
    address: str
    subject: str
    status: Literal["pending", "sent", "failed", "dead"]
    attempts: int
    last_error: str | None
    escalation_id: str | None = None
    level: int | None = None
    reminder_seq: int | None = None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


class BulletinCreate(Strict):
    """A thematic bulletin (thông tin chuyên đề) for collaborators."""

    title: Name
    body: Annotated[str, StringConstraints(min_length=1, max_length=10000)]
    unit_codes: list[UnitCode] = Field(default=[], max_length=500, description="Empty: every unit")
    topic_codes: list[TopicCode] = Field(default=[], max_length=50)


class BulletinAccepted(BaseModel):
    """The bulletin was stored and its deliveries recorded; sending happens in the background."""

    id: str
    deliveries: int


class ShiftWrite(Strict):
    """One person on duty from `starts_at` to `ends_at` (end excluded); times without offset are in the rota's zone."""

    recipient_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    starts_at: datetime
    ends_at: datetime


class RotaWrite(Strict):
    """The duty officers' rota: shifts, and overrides that win over them where they overlap."""

    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Ho_Chi_Minh"
    shifts: list[ShiftWrite] = Field(default=[], max_length=2000)
    overrides: list[ShiftWrite] = Field(default=[], max_length=500)


class ShiftRead(BaseModel):
    """A stored shift (times with their offset)."""

    recipient_id: str | None = None
    user_id: str | None = None
    starts_at: datetime
    ends_at: datetime


class RotaRead(BaseModel):
    """The rota, who is on duty now, and the gaps of the next seven days."""

    target: Literal["duty_officer"] = "duty_officer"
    timezone: str
    shifts: list[ShiftRead]
    overrides: list[ShiftRead]
    on_duty_now: list[str] = Field(description="Recipient ids paged at level 1 right now")
    gaps: list[dict[str, datetime]] = Field(description="Uncovered periods of the next 7 days ({starts_at, ends_at})")
    updated_at: datetime | None = None
    updated_by: str | None = None


class ZaloTokenWrite(Strict):
    """Tokens an operator got by authorising the OA app again (the refresh token rotates from then on)."""

    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    access_token: Annotated[str, StringConstraints(min_length=10, max_length=2000)] | None = None
    expires_in: int | None = Field(default=None, ge=60, le=10_000_000)


class ZaloTokenRead(BaseModel):
    """The stored Zalo OA token state (never the tokens themselves)."""

    generation: int
    expires_at: datetime | None = None
    updated_at: datetime | None = None
    has_refresh_token: bool
    last_error: str | None = None


class BulletinRead(BaseModel):
    """A thematic bulletin as collaborators and the console read it."""

    id: str
    title: str
    body: str
    unit_codes: list[str]
    topic_codes: list[str]
    created_at: datetime
    delivery_count: int | None = None
    link: str
