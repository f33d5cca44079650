"""The rule set as data: the pydantic schema shared by the defaults file, the store and PUT /v1/rules."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from pulse_libs.events.common import Urgency
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pulse_triage.domain.rules import AlarmRule, RuleSet, TopicRule
from pulse_triage.domain.text import phrase_syllables

Phrase = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicSpec(_Strict):
    """A topic of the taxonomy with its keywords."""

    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=200)
    sensitive: bool = False
    keywords: list[Phrase] = Field(min_length=1, max_length=200)


class AlarmSpec(_Strict):
    """An alarm phrase, its points and an optional urgency floor."""

    phrase: Phrase = Field(min_length=1, max_length=100)
    points: int = Field(ge=0, le=100)
    min_urgency: Urgency | None = None


class PeopleBand(_Strict):
    """Points given when at least `min` people are involved."""

    min: int = Field(ge=1)
    points: int = Field(ge=0, le=100)


class Weights(_Strict):
    """Points of each signal."""

    sensitive: int = Field(default=15, ge=0, le=100)
    negative_sentiment: int = Field(default=10, ge=0, le=100)
    negative_phrase: int = Field(default=5, ge=0, le=100)
    negative_phrase_max: int = Field(default=10, ge=0, le=100)
    social_media_channel: int = Field(default=10, ge=0, le=100)
    spread_phrase: int = Field(default=10, ge=0, le=100)
    extra_source: int = Field(default=15, ge=0, le=100)
    extra_source_max: int = Field(default=45, ge=0, le=200)
    extra_channel: int = Field(default=5, ge=0, le=100)
    extra_channel_max: int = Field(default=10, ge=0, le=100)
    alarm_max: int = Field(default=90, ge=0, le=300)


class Thresholds(_Strict):
    """Scores at which each urgency starts; must rise strictly."""

    urgent: int = Field(ge=1)
    very_urgent: int = Field(ge=1)
    flash: int = Field(ge=1)

    @model_validator(mode="after")
    def _ascending(self) -> Thresholds:
        if not self.urgent < self.very_urgent < self.flash:
            raise ValueError("thresholds must rise strictly: urgent < very_urgent < flash")
        return self


class RulesDoc(_Strict):
    """The whole rule set (GET/PUT /v1/rules)."""

    version: int = Field(default=1, ge=1)
    fallback_topic: str = Field(default="khac", min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")
    topics: list[TopicSpec] = Field(min_length=1, max_length=500)
    alarm_phrases: list[AlarmSpec] = Field(default_factory=list, max_length=1000)
    spread_phrases: list[Phrase] = Field(default_factory=list, max_length=500)
    negative_phrases: list[Phrase] = Field(default_factory=list, max_length=500)
    weights: Weights = Field(default_factory=Weights)
    people_bands: list[PeopleBand] = Field(default_factory=list, max_length=20)
    thresholds: Thresholds

    @model_validator(mode="after")
    def _consistent(self) -> RulesDoc:
        problems: list[str] = []
        codes = [t.code for t in self.topics]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            problems.append(f"duplicate topic codes: {', '.join(dupes)}")
        phrases = [k for t in self.topics for k in t.keywords]
        phrases += [a.phrase for a in self.alarm_phrases] + self.spread_phrases + self.negative_phrases
        empty = [p for p in phrases if not phrase_syllables(p)]
        if empty:
            problems.append(f"phrases without any letter or digit: {empty[:5]}")
        mins = [b.min for b in self.people_bands]
        if mins != sorted(set(mins)):
            problems.append("people_bands must be sorted by strictly rising min")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_rule_set(self) -> RuleSet:
        """Compile into the domain's rule set."""
        return RuleSet(
            version=self.version,
            fallback_topic=self.fallback_topic,
            topics=tuple(
                TopicRule(t.code, t.name, t.sensitive, tuple(phrase_syllables(k) for k in t.keywords))
                for t in self.topics
            ),
            alarms=tuple(
                AlarmRule(a.phrase, phrase_syllables(a.phrase), a.points, a.min_urgency) for a in self.alarm_phrases
            ),
            spread=tuple(phrase_syllables(p) for p in self.spread_phrases),
            negative=tuple(phrase_syllables(p) for p in self.negative_phrases),
            weights=self.weights.model_dump(),
            people_bands=tuple((b.min, b.points) for b in self.people_bands),
            thresholds=(self.thresholds.urgent, self.thresholds.very_urgent, self.thresholds.flash),
        )


def default_rules() -> RulesDoc:
    """The Vietnamese defaults shipped in the package (domain/rules_default.yaml)."""
    text = resources.files("pulse_triage.domain").joinpath("rules_default.yaml").read_text(encoding="utf-8")
    raw: Any = yaml.safe_load(text)
    return RulesDoc.model_validate(raw)
