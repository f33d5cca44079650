"""The compiled rule set the classifier and scorer use (built from data, never hard-coded)."""

from __future__ import annotations

from dataclasses import dataclass

from pulse_libs.events.common import Urgency

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class TopicRule:
    """A topic and the phrases that signal it."""

    code: str
    name: str
    sensitive: bool
    keywords: tuple[Phrase, ...]


@dataclass(frozen=True)
class AlarmRule:
    """An alarm phrase: its points, and the urgency it guarantees when present."""

    label: str
    phrase: Phrase
    points: int
    min_urgency: Urgency | None = None


@dataclass(frozen=True)
class RuleSet:
    """Everything classification and scoring need."""

    version: int
    fallback_topic: str
    topics: tuple[TopicRule, ...]
    alarms: tuple[AlarmRule, ...]
    spread: tuple[Phrase, ...]
    negative: tuple[Phrase, ...]
    weights: dict[str, int]
    people_bands: tuple[tuple[int, int], ...]
    thresholds: tuple[int, int, int]
    """Scores where urgent, very_urgent and flash start."""

    def urgency_for(self, score: float) -> Urgency:
        """Map a score to its urgency level."""
        urgent, very_urgent, flash = self.thresholds
        if score >= flash:
            return Urgency.FLASH
        if score >= very_urgent:
            return Urgency.VERY_URGENT
        if score >= urgent:
            return Urgency.URGENT
        return Urgency.ROUTINE

    def is_sensitive(self, code: str) -> bool:
        """True if the topic is sensitive by these rules."""
        return any(t.code == code and t.sensitive for t in self.topics)

    def topic_name(self, code: str) -> str:
        """The topic's Vietnamese name, or its code if unknown."""
        return next((t.name for t in self.topics if t.code == code), code)
