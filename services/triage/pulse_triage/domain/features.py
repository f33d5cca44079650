"""The urgency model's inputs: rule features (alarm lexicon, people counts, calm context, time, violence, spread,
sensitivity, channel) and the text's terms, all computed from a normalised report."""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pulse_libs.events.common import Channel, Sentiment

from pulse_triage.domain.rules import Phrase, RuleSet
from pulse_triage.domain.text import (
    MAX_TEXT_CHARS,
    NormalizedText,
    detelex,
    find_phrase,
    fold,
    matches_at,
    phrase_syllables,
)

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
    negated = intended = 0
    loose = _unaccented(text)
    values["unaccented"] = 1.0 if loose else 0.0
    found_by_group = {g.name: [(p, _occurrences(text, p, loose=loose)) for p in g.phrases] for g in lexicon.groups}
    intents = sorted(i for g in INTENT for _, at in found_by_group.get(g, ()) for i in at)
    for group in lexicon.groups:
        found = found_by_group[group.name]
        hits = tuple(" ".join(p) for p, at in found if at)
        if group.name in NEGATABLE:
            # "không ai bị thương", "ko có va chạm gì", "chưa tụ tập": a phrase told only under a negation
            # is evidence of calm, not of the act.
            denied = {" ".join(p) for p, at in found if at and all(_negated(text, i) for i in at)}
            negated += len(denied)
            # "định sáng thứ Hai cùng lên điện lực", "nếu không trả thì nghỉ": an act only intended or
            # threatened is khẩn in the guide, not the act happening.
            planned = {" ".join(p) for p, at in found if at and all(_intended(intents, i) for i in at)}
            intended += len(planned - denied)
            hits = tuple(h for h in hits if h not in denied and h not in planned)
        values["lex_" + group.name] = min(3.0, float(len(hits)))
        if hits:
            matched["lex_" + group.name] = hits
    values["negated"] = min(3.0, float(negated))
    values["intended"] = min(3.0, float(intended))
    _alarms(text, rules, values, matched)
    _composites(values)
    people = max(people_in_text(text.folded, lexicon.people_nouns), facts.people_count or 0)
    values["people_log"] = math.log10(1 + people)
    values["people_action"] = values["people_log"] * (1.0 if values["action"] else 0.0)
    _crowd(values, people)
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
CALM = ("drill", "meeting", "celebration", "past", "refuted", "goodwill", "hypothetical", "calm_outcome")


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


NEGATABLE = frozenset({"gathering", "blocking", "detaining", "violence", "casualties", "danger", "strike", "panic"})
NEGATORS = frozenset({"khong", "ko", "k", "kg", "khg", "chua", "chang"})
"""Folded negators (syllables that are never anything else once folded; "hông", "chả" are: "Hồng", "cha")."""
NEGATION_REACH = 3
"""A negator this many syllables or fewer before a phrase denies it ("không có ai bị thương")."""


UNACCENTED_SHARE = 0.05
"""A text with marks on fewer than this share of its syllables was typed without diacritics."""


def _unaccented(text: NormalizedText) -> bool:
    sylls = [s for s in text.syllables if s.plain.isalpha()]
    return len(sylls) >= 5 and sum(1 for s in sylls if s.text != s.folded) < UNACCENTED_SHARE * len(sylls)


def _occurrences(text: NormalizedText, phrase: tuple[str, ...], *, loose: bool = False) -> tuple[int, ...]:
    """Every syllable index where `phrase` matches (the matching rules of `find_phrase`). In a text typed
    without any diacritics (`loose`), a one-syllable phrase matches its folded form ("dang chet" → «đang»,
    «chết»): there the writer's marks cannot tell words apart, so the marks rule would only lose matches."""
    n = len(phrase)
    if not n:
        return ()
    folded = tuple(fold(p) for p in phrase)
    sylls = text.syllables
    if loose and n == 1:
        return tuple(i for i in text.positions.get(folded[0], ()) if sylls[i].text == sylls[i].folded)
    allow = 1 if n > 1 else 0
    return tuple(
        i
        for i in text.positions.get(folded[0], ())
        if i + n <= len(sylls) and matches_at(sylls, i, phrase, folded, typos=allow)
    )


INTENT = ("planned", "threat", "hypothetical")
"""Groups whose phrases, a few syllables before an act, make it intended or conditional, not happening."""
INTENT_REACH = 8


def _intended(intents: Sequence[int], i: int) -> bool:
    """True if an intent phrase starts within INTENT_REACH syllables before position i."""
    at = bisect.bisect_left(intents, i - INTENT_REACH)
    return at < len(intents) and intents[at] < i


def _negated(text: NormalizedText, i: int) -> bool:
    return any(s.plain in NEGATORS for s in text.syllables[max(0, i - NEGATION_REACH) : i])


def _crowd(values: dict[str, float], people: int) -> None:
    """Crowd size against what the crowd does and when: a big crowd blocking or holding officials now is the
    guide's hỏa tốc; the same number at a festival, a drill or last year's strike is thường."""
    big = people >= 100 or values["lex_crowd_words"] > 0
    now = values["lex_now"] > 0 and not values["lex_past"]
    values["people_now"] = values["people_log"] if now else 0.0
    values["people_calm"] = values["people_log"] if values["calm"] else 0.0
    values["big_blocking"] = 1.0 if big and (values["lex_blocking"] or values["lex_detaining"]) else 0.0
    values["officials_held"] = 1.0 if values["lex_detaining"] and values["lex_officials"] else 0.0
    values["deaths_anger"] = (
        1.0 if values["lex_deaths"] and (values["lex_gathering"] or values["lex_blocking"]) else 0.0
    )
    values["harm_calm"] = min(3.0, values["lex_violence"] + values["lex_casualties"]) if values["calm"] else 0.0
    values["planned_action"] = values["action"] if values["lex_planned"] and not values["lex_now"] else 0.0
    values["calm_negated"] = values["negated"] if not values["lex_violence"] else 0.0
    _live(values)


STAGED = ("drill", "meeting", "celebration", "refuted")
"""Contexts that make a report's alarm words something staged, discussed, celebrated or denied, not happening."""


def _live(values: dict[str, float]) -> None:
    """Alarm evidence gated by context: action, harm, alarm phrases and crowd size counted only when the report
    is not a drill, a meeting, a festival or a refuted rumour, and not told of the past or as a plan. A linear
    model cannot make «đốt xe» in a documentary film weigh nothing by adding weights; a gate can."""
    staged = sum(values["lex_" + g] for g in STAGED)
    values["staged"] = min(3.0, staged)
    told_live = not staged and not values["lex_past"] and not values["planned_action"]
    harm = values["lex_violence"] + values["lex_casualties"] + values["lex_danger"] + values["lex_deaths"]
    values["live_action"] = values["action"] if told_live else 0.0
    values["live_harm"] = min(3.0, harm) if told_live else 0.0
    # Deaths happening now are hỏa tốc in the guide whether or not a crowd is angry (a flood, a collapse).
    values["live_deaths"] = 1.0 if told_live and values["lex_deaths"] else 0.0
    values["live_alarm"] = values["alarm_points"] if told_live else 0.0
    values["live_people"] = values["people_log"] if told_live else 0.0
    values["staged_alarm"] = values["alarm_points"] + min(3.0, harm) if staged else 0.0
    values["intent_now"] = values["intended"] if values["lex_now"] else 0.0
    values["intent_people"] = values["people_log"] if values["intended"] else 0.0


def terms(text: NormalizedText) -> tuple[str, ...]:
    """Text terms for the model and for similarity: folded, telex-repaired syllables and syllable bigrams."""
    return folded_terms(text.folded)


def folded_terms(folded: str) -> tuple[str, ...]:
    """The terms of an already folded text (as hot spots keep their samples)."""
    plains = [detelex(w) for w in _LETTERS.findall(folded[:MAX_TEXT_CHARS])]
    return (*plains, *(f"{a}_{b}" for a, b in itertools.pairwise(plains)))
