"""Recipients, deliveries and their states: plain values, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ChannelName = Literal["zalo", "sms", "email", "webhook"]
CHANNELS: tuple[ChannelName, ...] = ("zalo", "sms", "email", "webhook")

DeliveryStatus = Literal["pending", "sent", "failed", "dead"]
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = ("pending", "sent", "failed", "dead")
DUE_STATUSES: tuple[DeliveryStatus, ...] = ("pending", "failed")
"""`failed` = the last attempt failed transiently and a retry is scheduled."""

TARGETS = ("duty_officer", "department_head", "standing_committee", "collaborator", "reporter", "agency")

# Which recipient contact field feeds which channel.
CONTACT_FIELDS: dict[ChannelName, str] = {
    "zalo": "zalo_user_id",
    "sms": "phone",
    "email": "email",
    "webhook": "webhook_url",
}


@dataclass(frozen=True)
class Recipient:
    """A person or system that receives notices, with the targets and units it covers."""

    id: str
    name: str
    targets: frozenset[str]
    unit_codes: frozenset[str] = frozenset()
    """Units covered; empty means every unit."""
    channels: dict[str, str] = field(default_factory=dict)
    webhook_secret: str | None = None
    active: bool = True
    user_id: str | None = None
    """The Pulse user this recipient is (intake's user id), for receipts of their own reports."""
    agency_code: str | None = None
    """For `agency` users: the agency whose directives they receive."""

    def covers_unit(self, unit_code: str) -> bool:
        """True if the recipient is concerned by `unit_code`."""
        return not self.unit_codes or unit_code in self.unit_codes

    def covers_any(self, unit_codes: frozenset[str]) -> bool:
        """True if the recipient covers any of `unit_codes` (empty = every unit)."""
        return not unit_codes or not self.unit_codes or bool(self.unit_codes & unit_codes)

    def addresses(self) -> list[tuple[ChannelName, str]]:
        """(channel, address) for every channel the recipient can be reached on."""
        out: list[tuple[ChannelName, str]] = []
        for channel in CHANNELS:
            value = self.channels.get(CONTACT_FIELDS[channel])
            if value:
                out.append((channel, value))
        return out


@dataclass(frozen=True)
class Message:
    """What a channel sends: a subject, plain text, optional HTML, and structured data for webhooks."""

    subject: str
    text: str
    html: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to record before anything is sent."""

    id: str
    event_id: str
    event_type: str
    event_time: datetime
    recipient_id: str
    channel: ChannelName
    address: str
    message: Message
    escalation_id: str | None = None
    level: int | None = None
    reminder_seq: int | None = None


def delivery_id(*parts: object) -> str:
    """A deterministic delivery id from its identifying tuple (same tuple → same id, at any replica)."""
    raw = "\x1f".join(str(p) for p in parts)
    return "dl_" + hashlib.sha256(raw.encode()).hexdigest()[:32]
