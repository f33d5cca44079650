"""Classification and urgency scoring: pure functions of a report's text and fields, the rule set, the feature
lexicon and the calibrated model; every decision keeps reasons an officer understands."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pulse_libs.events.common import Channel, Sentiment, Urgency

from pulse_triage.domain.features import Extracted, Facts, Lexicon, extract
from pulse_triage.domain.model import LEVELS, Contribution, UrgencyModel
from pulse_triage.domain.rules import Phrase, RuleSet
from pulse_triage.domain.text import NormalizedText, find_phrase

URGENCY_VI = {
    Urgency.ROUTINE: "thường",
    Urgency.URGENT: "khẩn",
    Urgency.VERY_URGENT: "thượng khẩn",
    Urgency.FLASH: "hỏa tốc",
}
HINT_WEIGHT = 3
REPETITION_SOURCES = 3
"""A hot spot reported by this many distinct sources rises one level (repetition alone never makes it hỏa tốc)."""


@dataclass(frozen=True)
class ReportFacts:
    """What triage knows about a report besides its text."""

    channel: Channel
    topic_hints: tuple[str, ...] = ()
    sentiment: Sentiment | None = None
    people_count: int | None = None


@dataclass(frozen=True)
class Decision:
    """Triage's verdict on one report; `base_score` and `floor` are the report's own, before repetition."""

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


def score_report(
    text: NormalizedText,
    facts: ReportFacts,
    rules: RuleSet,
    *,
    model: UrgencyModel,
    lexicon: Lexicon,
    sensitive_topics: frozenset[str] = frozenset(),
) -> Decision:
    """Classify the report and decide its urgency with the calibrated model, with reasons an officer understands."""
    codes, reasons = classify(text, facts, rules)
    extracted = extract(text, Facts(facts.channel, facts.sentiment, facts.people_count), rules, lexicon)
    prediction = model.predict(extracted.values, extracted.terms)
    sensitive = [c for c in codes if rules.is_sensitive(c) or c in sensitive_topics]
    if sensitive:
        reasons.append("Lĩnh vực nhạy cảm: " + ", ".join(rules.topic_name(c) for c in sensitive))
    alarms = extracted.matched.get("alarm_points", ())
    if alarms:
        reasons.append("Cụm từ báo động: " + ", ".join(f"«{a}»" for a in alarms))
    chosen = LEVELS.index(prediction.urgency)
    said: set[str] = set()
    words = {w for w in text.plain_words if "_" in w}
    head = f"Căn cứ xếp mức {URGENCY_VI[prediction.urgency]}"
    reasons += _explain(prediction.towards, extracted, lexicon, text, head, said, words)
    # An input against the chosen level is grounds to raise it if it favours a higher level, to lower it if lower.
    raising = tuple(p for p in prediction.against if p.leans > chosen)
    reasons += _explain(raising, extracted, lexicon, text, "Căn cứ nâng mức", said, words, 1)
    lowering = tuple(p for p in prediction.against if p not in raising)
    reasons += _explain(lowering, extracted, lexicon, text, "Căn cứ hạ mức", said, words, 1)
    urgency = prediction.urgency
    if extracted.values["alarm_floor"] and not extracted.values["calm"] and urgency == Urgency.ROUTINE:
        # A safety net for short reports the model has too little text for: a rule's floor phrase, told with
        # no calm context, is never left at thường (the level itself stays the model's call above that).
        urgency = Urgency.URGENT
        reasons.append("Cụm từ báo động không kèm bối cảnh bình thường: tối thiểu mức khẩn")
    odds = ", ".join(f"{URGENCY_VI[lv]} {p:.0%}" for lv, p in zip(LEVELS, prediction.probabilities, strict=True))
    reasons.append(f"Mô hình hiệu chỉnh xếp mức {URGENCY_VI[prediction.urgency]} (xác suất: {odds})")
    reasons.append(f"Kết luận: mức {URGENCY_VI[urgency]}")
    score = prediction.score
    return Decision(urgency, score, score, urgency, tuple(codes), bool(sensitive), tuple(reasons))


def _explain(
    parts: tuple[Contribution, ...],
    extracted: Extracted,
    lexicon: Lexicon,
    text: NormalizedText,
    head: str,
    said: set[str],
    words: set[str],
    max_words: int = 2,
) -> list[str]:
    """One reason line per input, each said once across headings; of the report's own terms only those that
    are words of the segmented text («phản đối», not «đối thu»), at most `max_words`."""
    labels = {"lex_" + g.name: g.label for g in lexicon.groups}
    out: list[str] = []
    for part in parts:
        is_word = part.name.startswith("term:")
        if is_word and (part.name.removeprefix("term:") not in words or max_words <= 0):
            continue
        line = _describe(part.name, extracted, labels, text)
        if line and line not in said:
            said.add(line)
            out.append(f"{head}: {line}")
            max_words -= is_word
    return out


def _describe(name: str, extracted: Extracted, labels: dict[str, str], text: NormalizedText) -> str | None:
    phrases = ", ".join(f"«{p}»" for p in extracted.matched.get(name, ())[:3])
    if name in labels:
        return f"{labels[name]} ({phrases})" if phrases else labels[name]
    if name.startswith("people"):
        return f"số người nêu trong phản ánh: {extracted.people}" if extracted.people else None
    if name.startswith("alarm"):
        return f"cụm từ báo động ({phrases})" if phrases else None
    if name.startswith("term:"):
        return f"từ ngữ «{_written(name.removeprefix('term:'), text)}»"
    return {
        "sensitive": f"lĩnh vực nhạy cảm ({', '.join(extracted.matched.get('sensitive', ()))})",
        "channel_social": "phản ánh từ mạng xã hội",
        "sentiment_negative": "người phản ánh đánh giá dư luận tiêu cực",
        "sentiment_positive": "người phản ánh đánh giá dư luận tích cực",
        "length_log": "độ dài phản ánh",
        "intended": "hành động mới dự định hoặc đe dọa, chưa xảy ra",
        "intent_now": "đang bàn, dọa làm lớn chuyện",
        "intent_people": "số người dự định tham gia",
        "staged": "bối cảnh diễn tập, hội nghị, lễ hội hoặc tin đã cải chính",
        "staged_alarm": "từ ngữ báo động trong bối cảnh diễn tập, hội nghị, lễ hội",
        "live_action": "hành động tập thể đang diễn ra",
        "live_harm": "bạo lực, thương vong đang diễn ra",
        "live_deaths": "có người chết, sự việc đang diễn ra",
        "live_alarm": "cụm từ báo động về sự việc đang diễn ra",
        "live_people": "đông người, sự việc đang diễn ra",
    }.get(name)


def _written(term: str, text: NormalizedText) -> str:
    """The syllables of a folded term as the reporter wrote them."""
    wanted = term.split("_")
    sylls = [s for s in text.syllables if s.plain.isalpha()]  # terms skip numbers: "khoảng 50 hộ" → khoang_ho
    for i in range(len(sylls) - len(wanted) + 1):
        if all(sylls[i + k].plain == w for k, w in enumerate(wanted)):
            return " ".join(s.text for s in sylls[i : i + len(wanted)])
    return term.replace("_", " ")


def raised_level(floor: Urgency, *, sources: int, channels: int) -> Urgency:
    """A hot spot's level: its strongest report's, one higher from REPETITION_SOURCES distinct sources on
    (repetition alone stops at thượng khẩn)."""
    del channels  # counted and shown, but distinct people are what the department weighs
    if sources >= REPETITION_SOURCES and floor.rank < Urgency.VERY_URGENT.rank:
        return LEVELS[floor.rank + 1]
    return floor


def with_repetition(decision: Decision, *, sources: int, channels: int, rules: RuleSet) -> Decision:
    """Raise a decision for the hot spot it belongs to: enough distinct sources raise it one level."""
    del rules
    urgency = raised_level(decision.floor, sources=sources, channels=channels)
    if urgency == decision.urgency:
        return decision
    reasons = [
        *decision.reasons,
        f"Điểm nóng có {sources} nguồn phản ánh khác nhau: nâng lên mức {URGENCY_VI[urgency]}",
    ]
    return replace(decision, urgency=urgency, reasons=tuple(reasons))


def hotspot_level(
    rules: RuleSet, *, base_score: float, floor: Urgency, sources: int, channels: int
) -> tuple[Urgency, float]:
    """A hot spot's urgency and score: its strongest report raised by distinct sources."""
    del rules
    return raised_level(floor, sources=sources, channels=channels), base_score
