"""Classification, sensitivity, reasons and repetition."""

from __future__ import annotations

from pulse_libs.events.common import Channel, Sentiment, Urgency
from pulse_triage.domain.scoring import ReportFacts, hotspot_level, score_report, with_repetition
from pulse_triage.domain.text import normalize
from pulse_triage.rules_schema import default_rules

RULES = default_rules().to_rule_set()


def test_reporter_topic_codes_are_strong_hints() -> None:
    text = normalize("Bà con hỏi về tiền điện tháng này")
    decision = score_report(text, ReportFacts(Channel.ZALO, topic_hints=("moi-truong",)), RULES)
    assert decision.primary_topic == "moi-truong"
    assert "gia-ca" in decision.topic_codes


def test_land_is_sensitive_and_reasons_are_vietnamese() -> None:
    text = normalize("Khoảng 200 người chặn đường phản đối thu hồi đất")
    decision = score_report(text, ReportFacts(Channel.PHONE, sentiment=Sentiment.NEGATIVE), RULES)
    assert decision.sensitive
    assert "Có cụm từ báo động: «chặn đường» (+40)" in decision.reasons
    assert "Số người liên quan: 200 (≥ 100) (+30)" in decision.reasons
    assert decision.reasons[-1].startswith("Tổng điểm")


def test_unknown_topic_falls_back() -> None:
    decision = score_report(normalize("Xin chào"), ReportFacts(Channel.OTHER), RULES)
    assert decision.topic_codes == ("khac",)
    assert decision.urgency == Urgency.ROUTINE


def test_floor_phrase_forces_flash() -> None:
    decision = score_report(normalize("Có dấu hiệu bạo loạn"), ReportFacts(Channel.PHONE), RULES)
    assert decision.urgency == Urgency.FLASH


def test_more_sources_and_channels_raise_urgency() -> None:
    text = normalize("Nhiều hộ dân bức xúc vì mức bồi thường thấp")
    decision = score_report(text, ReportFacts(Channel.ZALO), RULES)
    raised = with_repetition(decision, sources=3, channels=2, rules=RULES)
    assert raised.urgency.rank > decision.urgency.rank
    assert "Điểm nóng có 3 nguồn phản ánh khác nhau (+30)" in raised.reasons
    assert with_repetition(decision, sources=1, channels=1, rules=RULES) == decision


def test_hotspot_level_respects_floor() -> None:
    urgency, _ = hotspot_level(RULES, base_score=0, floor=Urgency.FLASH, sources=1, channels=1)
    assert urgency == Urgency.FLASH
    urgency, score = hotspot_level(RULES, base_score=20, floor=Urgency.ROUTINE, sources=3, channels=1)
    assert urgency == Urgency.URGENT
    assert score == 50
