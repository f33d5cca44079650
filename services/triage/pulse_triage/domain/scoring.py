"""Classification and urgency scoring: pure functions of a report's text and fields and the rule set."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pulse_libs.events.common import Channel, Sentiment, Urgency

from pulse_triage.domain.rules import Phrase, RuleSet
from pulse_triage.domain.text import NormalizedText, find_phrase

URGENCY_VI = {
    Urgency.ROUTINE: "thường",
    Urgency.URGENT: "khẩn",
    Urgency.VERY_URGENT: "thượng khẩn",
    Urgency.FLASH: "hỏa tốc",
}
HINT_WEIGHT = 3
_COUNT = re.compile(
    r"(\d{1,3}(?:[.,]\d{3})*|\d+)\s*(?:nguoi|ho|cong nhan|lao dong|phu huynh|tieu thuong|giao dan|xa vien|ho dan)\b"
)
_VAGUE = re.compile(
    r"\b(hang nghin|hang ngan|hang tram|hang chuc|vai chuc) (?:nguoi|ho|cong nhan|tieu thuong|giao dan)\b"
)
_VAGUE_VALUE = {"hang nghin": 1000, "hang ngan": 1000, "hang tram": 100, "hang chuc": 20, "vai chuc": 20}


@dataclass(frozen=True)
class ReportFacts:
    """What triage knows about a report besides its text."""

    channel: Channel
    topic_hints: tuple[str, ...] = ()
    sentiment: Sentiment | None = None
    people_count: int | None = None


@dataclass(frozen=True)
class Decision:
    """Triage's verdict on one report; `base_score` excludes repetition bonuses."""

    urgency: Urgency
    score: float
    base_score: float
    floor: Urgency
    topic_codes: tuple[str, ...]
    sensitive: bool
    reasons: tuple[str, ...]

    @property
    def primary_topic(self) -> str:
        """The topic a hot spot is grouped by."""
        return self.topic_codes[0]


def _label(phrase: Phrase) -> str:
    return " ".join(phrase)


def classify(text: NormalizedText, facts: ReportFacts, rules: RuleSet) -> tuple[list[str], list[str]]:
    """Return (topic codes, best first; reasons); the reporter's own codes are strong hints."""
    scores: dict[str, int] = {code: HINT_WEIGHT for code in facts.topic_hints}
    reasons: list[str] = []
    if facts.topic_hints:
        reasons.append("Chủ đề do người phản ánh chọn: " + ", ".join(rules.topic_name(c) for c in facts.topic_hints))
    for topic in rules.topics:
        hits = [k for k in topic.keywords if find_phrase(text, k)]
        if hits:
            scores[topic.code] = scores.get(topic.code, 0) + len(hits)
            reasons.append(
                f"Thuộc lĩnh vực «{topic.name}» (từ khóa: " + ", ".join(f"«{_label(h)}»" for h in hits[:4]) + ")"
            )
    if not scores:
        return [rules.fallback_topic], ["Không nhận diện được lĩnh vực, xếp vào nhóm khác"]
    hint_order = {c: i for i, c in enumerate(facts.topic_hints)}
    codes = sorted(scores, key=lambda c: (-scores[c], hint_order.get(c, len(hint_order)), c))
    return codes, reasons


def people_involved(text: NormalizedText, declared: int | None) -> int:
    """The larger of the declared count and a count stated in the text ("khoảng 200 người", "hàng trăm người")."""
    found = declared or 0
    for match in _COUNT.finditer(text.folded):
        digits = re.sub(r"[.,]", "", match.group(1))
        if digits.isdigit():
            found = max(found, int(digits))
    for match in _VAGUE.finditer(text.folded):
        found = max(found, _VAGUE_VALUE[match.group(1)])
    return found


def score_report(
    text: NormalizedText, facts: ReportFacts, rules: RuleSet, *, sensitive_topics: frozenset[str] = frozenset()
) -> Decision:
    """Classify the report and score its urgency, with reasons an officer understands."""
    w = rules.weights
    codes, reasons = classify(text, facts, rules)
    points = 0
    floor = Urgency.ROUTINE
    alarm_points = 0
    matched = [a for a in rules.alarms if find_phrase(text, a.phrase)]
    for alarm in matched:
        if any(_contains(other.phrase, alarm.phrase) for other in matched if other is not alarm):
            continue  # "tụ tập" inside a matched "tụ tập đông người" counts once
        alarm_points += alarm.points
        reasons.append(f"Có cụm từ báo động: «{alarm.label}» (+{alarm.points})")
        if alarm.min_urgency is not None and alarm.min_urgency.rank > floor.rank:
            floor = alarm.min_urgency
    if alarm_points > w["alarm_max"]:
        reasons.append(f"Điểm cụm từ báo động được giới hạn ở {w['alarm_max']}")
    points += min(alarm_points, w["alarm_max"])
    people = people_involved(text, facts.people_count)
    band = max((b for b in rules.people_bands if people >= b[0]), default=None, key=lambda b: b[0])
    if band is not None:
        points += band[1]
        reasons.append(f"Số người liên quan: {people} (≥ {band[0]}) (+{band[1]})")
    sensitive = [c for c in codes if rules.is_sensitive(c) or c in sensitive_topics]
    if sensitive:
        points += w["sensitive"]
        names = ", ".join(rules.topic_name(c) for c in sensitive)
        reasons.append(f"Lĩnh vực nhạy cảm: {names} (+{w['sensitive']})")
    points += _negativity(text, facts, rules, reasons)
    points += _spread(text, facts, rules, reasons)
    urgency = rules.urgency_for(points)
    if floor.rank > urgency.rank:
        reasons.append(f"Cụm từ báo động buộc mức tối thiểu: {URGENCY_VI[floor]}")
        urgency = floor
    reasons.append(f"Tổng điểm {points} → mức {URGENCY_VI[urgency]}")
    return Decision(urgency, float(points), float(points), floor, tuple(codes), bool(sensitive), tuple(reasons))


def _contains(longer: Phrase, shorter: Phrase) -> bool:
    n = len(shorter)
    return len(longer) > n and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _negativity(text: NormalizedText, facts: ReportFacts, rules: RuleSet, reasons: list[str]) -> int:
    w = rules.weights
    points = 0
    if facts.sentiment == Sentiment.NEGATIVE:
        points += w["negative_sentiment"]
        reasons.append(f"Người phản ánh đánh giá dư luận tiêu cực (+{w['negative_sentiment']})")
    hits = [p for p in rules.negative if find_phrase(text, p)]
    if hits:
        extra = min(w["negative_phrase_max"], w["negative_phrase"] * len(hits))
        points += extra
        reasons.append("Có biểu hiện bức xúc: " + ", ".join(f"«{_label(h)}»" for h in hits[:4]) + f" (+{extra})")
    return points


def _spread(text: NormalizedText, facts: ReportFacts, rules: RuleSet, reasons: list[str]) -> int:
    w = rules.weights
    points = 0
    if facts.channel == Channel.SOCIAL_MEDIA:
        points += w["social_media_channel"]
        reasons.append(f"Phản ánh từ mạng xã hội (+{w['social_media_channel']})")
    hits = [p for p in rules.spread if find_phrase(text, p)]
    if hits:
        points += w["spread_phrase"]
        reasons.append(
            "Có dấu hiệu lan truyền: " + ", ".join(f"«{_label(h)}»" for h in hits[:3]) + f" (+{w['spread_phrase']})"
        )
    return points


def with_repetition(decision: Decision, *, sources: int, channels: int, rules: RuleSet) -> Decision:
    """Raise a decision for the hot spot it belongs to: more distinct sources and channels, more urgency."""
    w = rules.weights
    bonus = 0
    reasons = list(decision.reasons[:-1])
    if sources > 1:
        extra = min(w["extra_source_max"], w["extra_source"] * (sources - 1))
        bonus += extra
        reasons.append(f"Điểm nóng có {sources} nguồn phản ánh khác nhau (+{extra})")
    if channels > 1:
        extra = min(w["extra_channel_max"], w["extra_channel"] * (channels - 1))
        bonus += extra
        reasons.append(f"Phản ánh qua {channels} kênh khác nhau (+{extra})")
    if bonus == 0:
        return decision
    score = decision.base_score + bonus
    urgency = rules.urgency_for(score)
    if decision.floor.rank > urgency.rank:
        urgency = decision.floor
    reasons.append(f"Tổng điểm {score:g} → mức {URGENCY_VI[urgency]}")
    return replace(decision, urgency=urgency, score=float(score), reasons=tuple(reasons))


def hotspot_level(
    rules: RuleSet, *, base_score: float, floor: Urgency, sources: int, channels: int
) -> tuple[Urgency, float]:
    """A hot spot's urgency and score: its strongest report raised by distinct sources and channels."""
    urgency = rules.urgency_for(base_score)
    seed = Decision(
        urgency=urgency if urgency.rank >= floor.rank else floor,
        score=base_score,
        base_score=base_score,
        floor=floor,
        topic_codes=(rules.fallback_topic,),
        sensitive=False,
        reasons=("",),
    )
    raised = with_repetition(seed, sources=sources, channels=channels, rules=rules)
    return raised.urgency, raised.score
