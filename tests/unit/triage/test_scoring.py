"""Classification, sensitivity, reasons in Vietnamese, features of the calibrated model, and repetition."""

from __future__ import annotations

import time

from pulse_libs.events.common import Channel, Sentiment, Urgency
from pulse_triage import data
from pulse_triage.domain.features import Facts, extract, people_in_text
from pulse_triage.domain.scoring import Decision, ReportFacts, hotspot_level, score_report, with_repetition
from pulse_triage.domain.text import normalize
from pulse_triage.rules_schema import default_rules

RULES = default_rules().to_rule_set()
NOUNS = data.lexicon().people_nouns


def score(text: str, channel: Channel = Channel.PHONE, **facts: object) -> Decision:
    """Score a text with the shipped model."""
    report = ReportFacts(channel, **facts)  # type: ignore[arg-type]
    return score_report(normalize(text), report, RULES, model=data.urgency_model(), lexicon=data.lexicon())


def test_reporter_topic_codes_are_strong_hints() -> None:
    decision = score("Bà con hỏi về tiền điện tháng này", Channel.ZALO, topic_hints=("moi-truong",))
    assert decision.primary_topic == "moi-truong"
    assert "gia-ca" in decision.topic_codes


def test_land_is_sensitive_and_reasons_are_vietnamese() -> None:
    decision = score("Khoảng 200 người chặn đường phản đối thu hồi đất", sentiment=Sentiment.NEGATIVE)
    assert decision.sensitive
    assert any(r.startswith("Lĩnh vực nhạy cảm: Quản lý đất đai") for r in decision.reasons)
    assert any("số người nêu trong phản ánh: 200" in r for r in decision.reasons)
    assert decision.reasons[-2].startswith("Mô hình hiệu chỉnh xếp mức")
    assert decision.reasons[-1].startswith("Kết luận: mức")
    assert decision.urgency.rank >= Urgency.VERY_URGENT.rank


def test_unknown_topic_falls_back_and_a_greeting_is_routine() -> None:
    decision = score("Xin chào", Channel.OTHER)
    assert decision.topic_codes == ("khac",)
    assert decision.urgency == Urgency.ROUTINE


def test_a_drill_about_blocking_roads_is_calmer_than_a_real_blockade() -> None:
    drill = score("Kế hoạch diễn tập phòng thủ dân sự sáng thứ Bảy, tình huống giả định đám đông chặn đường")
    riot = score("Hàng trăm người đang chặn đường, ném đá vào lực lượng chức năng, có người bị thương")
    assert drill.urgency.rank < riot.urgency.rank
    assert riot.urgency == Urgency.FLASH


def test_people_counts_read_numbers_words_and_ranges_in_linear_time() -> None:
    assert people_in_text("khoang 180–200 nguoi dan", NOUNS) == 200
    assert people_in_text("1.200 cong nhan ngung viec", NOUNS) == 1200
    assert people_in_text("hang tram nguoi", NOUNS) == 100
    assert people_in_text("ba tram ho dan", NOUNS) == 300
    assert people_in_text("tong khoang 450 trieu dong", NOUNS) == 0
    assert people_in_text("nam 2024 tai nha van hoa", NOUNS) == 0
    started = time.perf_counter()
    assert people_in_text("1" * 10_000 + " nguoi " + "9" * 10_000, NOUNS) == 0
    decision = score("1" * 10_000 + " người tụ tập " + "9," * 5_000)
    assert time.perf_counter() - started < 1.0
    assert decision.urgency in Urgency


def test_calm_context_and_time_are_features() -> None:
    text = normalize("Năm ngoái công nhân đình công; hôm nay hội nghị bàn giải pháp phòng ngừa")
    values = extract(text, Facts(Channel.MEETING), RULES, data.lexicon()).values
    assert values["lex_past"] >= 1
    assert values["lex_meeting"] >= 1
    assert values["lex_strike"] >= 1
    assert values["action_calm"] >= 1
    now = extract(normalize("Từ sáng công nhân đang đình công"), Facts(Channel.PHONE), RULES, data.lexicon())
    assert now.values["action_now"] >= 1


def test_more_sources_raise_a_hot_spot_one_level_but_never_to_flash() -> None:
    decision = score("Nhiều hộ dân bức xúc vì mức bồi thường thấp hơn giá thị trường", Channel.ZALO)
    raised = with_repetition(decision, sources=3, channels=2, rules=RULES)
    assert raised.urgency.rank == min(decision.urgency.rank + 1, Urgency.VERY_URGENT.rank) or (
        decision.urgency.rank >= Urgency.VERY_URGENT.rank and raised == decision
    )
    assert with_repetition(decision, sources=1, channels=1, rules=RULES) == decision
    urgency, _ = hotspot_level(RULES, base_score=0, floor=Urgency.FLASH, sources=1, channels=1)
    assert urgency == Urgency.FLASH
    urgency, _ = hotspot_level(RULES, base_score=0, floor=Urgency.ROUTINE, sources=3, channels=1)
    assert urgency == Urgency.URGENT
    urgency, _ = hotspot_level(RULES, base_score=0, floor=Urgency.VERY_URGENT, sources=5, channels=3)
    assert urgency == Urgency.VERY_URGENT
