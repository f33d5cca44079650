"""Types shared by the event schemas of several services."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class EventModel(BaseModel):
    """Base of every event payload: forward compatible (unknown fields ignored), immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Urgency(StrEnum):
    """The four levels of Vietnamese official practice, lowest first."""

    ROUTINE = "routine"  # thường
    URGENT = "urgent"  # khẩn
    VERY_URGENT = "very_urgent"  # thượng khẩn
    FLASH = "flash"  # hỏa tốc

    @property
    def rank(self) -> int:
        """0 for routine up to 3 for flash."""
        return list(Urgency).index(self)


class Channel(StrEnum):
    """How the opinion reached the collaborator."""

    ZALO = "zalo"
    PHONE = "phone"
    WRITTEN = "written"
    MEETING = "meeting"
    PRESS = "press"
    SOCIAL_MEDIA = "social_media"
    DIALOGUE = "dialogue"
    HOTLINE = "hotline"
    SURVEY = "survey"
    OTHER = "other"


class Sentiment(StrEnum):
    """Sentiment as the reporter judged it."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    MIXED = "mixed"


class EscalationTarget(StrEnum):
    """Who an escalation level pages."""

    DUTY_OFFICER = "duty_officer"
    DEPARTMENT_HEAD = "department_head"
    STANDING_COMMITTEE = "standing_committee"
