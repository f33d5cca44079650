"""The urgency model's inputs: rule features (alarm lexicon, people counts, calm context, time, violence, spread,
sensitivity, channel) and the text's terms, all computed from a normalised report."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pulse_libs.events.common import Channel, Sentiment

from pulse_triage.domain.rules import Phrase, RuleSet
from pulse_triage.domain.text import MAX_TEXT_CHARS, NormalizedText, detelex, find_phrase, fold, phrase_syllables

MAX_COUNT_DIGITS = 7
"""A people count has at most this many digits; longer digit runs are not counts (and are never parsed)."""
PEOPLE_CAP = 1_000_000
_LETTERS = re.compile(r"[^\W\d_]+")
_WORD = re.compile(r"\d+(?:[.,]\d{3})*|[^\W\d]+")
_UNITS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6, "bay": 7, "tam": 8}
_UNITS |= {"chin": 9, "muoi": 10}
_SCALES = {"chuc": 10, "tram": 100, "nghin": 1000, "ngan": 1000}
_VAGUE = {"hang": 1, "vai": 2, "may": 2, "it": 1, "hon": 1, "gan": 1}
"""Multipliers of a scale word: "hàng trăm" ≈ 100, "vài trăm" ≈ 200."""


@dataclass(frozen=True)
class LexiconGroup:
    """A named group of phrases: one rule feature, with the label an officer reads in the reasons."""

    name: str
    label: str
    phrases: tuple[Phrase, ...]


@dataclass(frozen=True)
class Lexicon:
    """Every phrase group and the nouns that make a number a count of people."""

    groups: tuple[LexiconGroup, ...]
    people_nouns: frozenset[tuple[str, ...]]
    """Folded people nouns as syllables: ("nguoi",), ("ho",), ("cong", "nhan") ..."""

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> Lexicon:
        """Build from the parsed features.yaml."""
        raw_groups = data["groups"]
        assert isinstance(raw_groups, Mapping)
        groups = tuple(
            LexiconGroup(name, str(spec["label"]), tuple(p for p in map(phrase_syllables, spec["phrases"]) if p))
            for name, spec in raw_groups.items()
        )
        nouns = data["people_nouns"]
        assert isinstance(nouns, Sequence)
        return cls(groups, frozenset(tuple(fold(p) for p in phrase_syllables(str(n))) for n in nouns))


@dataclass(frozen=True)
class Facts:
    """What the report says besides its text."""

    channel: Channel
    sentiment: Sentiment | None = None
    people_count: int | None = None


@dataclass(frozen=True)
class Extracted:
    """A report's rule features (name → value), what matched (name → phrases, for reasons) and its terms."""

    values: dict[str, float]
    matched: dict[str, tuple[str, ...]]
    people: int
    terms: tuple[str, ...]


def people_in_text(folded: str, nouns: frozenset[tuple[str, ...]]) -> int:
    """The largest count of people stated in the text: "khoảng 300 hộ", "1.200 công nhân", "180–200 người",
    "hàng trăm người", "ba trăm người dân". One pass over the words (a linear-time pattern); a number must be
    followed at once by a people noun; a digit run longer than MAX_COUNT_DIGITS is not a count."""
    words = [detelex(w) for w in _WORD.findall(folded)]
    best = 0
    i = 0
    while i < len(words):
        value, end = _number_at(words, i)
        while value and end < len(words) and _number_at(words, end)[0]:
            value, end = max(value, _number_at(words, end)[0]), _number_at(words, end)[1]  # a range: "50 - 60"
        if value and any(tuple(words[end : end + n]) in nouns for n in (1, 2, 3)):
            best = max(best, min(value, PEOPLE_CAP))
        i = max(end, i + 1)
    return best


def _number_at(words: Sequence[str], i: int) -> tuple[int, int]:
    """A number starting at word i (digits with thousands separators, or number words): (value, index after)."""
    word = words[i]
    if word[0].isdigit():
        digits = word.replace(".", "").replace(",", "")
        return (int(digits) if len(digits) <= MAX_COUNT_DIGITS else 0), i + 1
    base = _UNITS.get(word) or _VAGUE.get(word)
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if base is None:
        return (_SCALES[word], i + 1) if word in _SCALES else (0, i + 1)  # "trăm người", "chục hộ"
    if nxt in _SCALES:
        return base * _SCALES[nxt], i + 2
    return (base, i + 1) if word in _UNITS else (0, i + 1)


def extract(text: NormalizedText, facts: Facts, rules: RuleSet, lexicon: Lexicon) -> Extracted:
    """Compute the rule features and terms of one report (pure; a few milliseconds)."""
    values: dict[str, float] = {}
    matched: dict[str, tuple[str, ...]] = {}
    for group in lexicon.groups:
        hits = tuple(" ".join(p) for p in group.phrases if find_phrase(text, p))
        values["lex_" + group.name] = min(3.0, float(len(hits)))
        if hits:
            matched["lex_" + group.name] = hits
    _alarms(text, rules, values, matched)
    _composites(values)
    people = max(people_in_text(text.folded, lexicon.people_nouns), facts.people_count or 0)
    values["people_log"] = math.log10(1 + people)
    values["people_action"] = values["people_log"] * (1.0 if values["action"] else 0.0)
    for band in (10, 20, 50, 100, 300):
        values[f"people_{band}"] = 1.0 if people >= band else 0.0
    sensitive = [t.code for t in rules.topics if t.sensitive and any(find_phrase(text, k) for k in t.keywords)]
    values["sensitive"] = 1.0 if sensitive else 0.0
    if sensitive:
        matched["sensitive"] = tuple(rules.topic_name(c) for c in sensitive)
    values["channel_social"] = 1.0 if facts.channel == Channel.SOCIAL_MEDIA else 0.0
    values["sentiment_negative"] = 1.0 if facts.sentiment == Sentiment.NEGATIVE else 0.0
    values["sentiment_positive"] = 1.0 if facts.sentiment == Sentiment.POSITIVE else 0.0
    values["length_log"] = math.log10(1 + len(text.syllables))
    return Extracted(values, matched, people, terms(text))


def _alarms(
    text: NormalizedText, rules: RuleSet, values: dict[str, float], matched: dict[str, tuple[str, ...]]
) -> None:
    hits = [a for a in rules.alarms if find_phrase(text, a.phrase)]
    values["alarm_points"] = min(150, sum(a.points for a in hits)) / 50
    values["alarm_floor"] = float(max((a.min_urgency.rank for a in hits if a.min_urgency), default=0))
    if hits:
        matched["alarm_points"] = tuple(a.label for a in hits)


ACTION = ("gathering", "blocking", "detaining", "strike", "violence", "panic")
CALM = ("drill", "meeting", "celebration", "past", "refuted", "goodwill", "hypothetical")


def _composites(values: dict[str, float]) -> None:
    """Interactions a linear model cannot form itself: action happening now, action in a calm context."""
    action = sum(values["lex_" + g] for g in ACTION)
    calm = sum(values["lex_" + g] for g in CALM)
    values["action"] = min(3.0, action)
    values["calm"] = min(3.0, calm)
    values["action_now"] = min(3.0, action) if values["lex_now"] else 0.0
    values["action_calm"] = min(3.0, action) if calm else 0.0
    harm = values["lex_violence"] + values["lex_casualties"] + values["lex_danger"]
    values["harm_now"] = min(3.0, harm) if values["lex_now"] else 0.0


def terms(text: NormalizedText) -> tuple[str, ...]:
    """Text terms for the model and for similarity: folded, telex-repaired syllables and syllable bigrams."""
    return folded_terms(text.folded)


def folded_terms(folded: str) -> tuple[str, ...]:
    """The terms of an already folded text (as hot spots keep their samples)."""
    plains = [detelex(w) for w in _LETTERS.findall(folded[:MAX_TEXT_CHARS])]
    return (*plains, *(f"{a}_{b}" for a, b in itertools.pairwise(plains)))
