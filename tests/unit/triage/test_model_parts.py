"""The parts of the third and fourth fits: intended acts, context gates, the text blocks, the reasons' headings
(pure logic, and the shipped model where reasons are read; its figures are in test_frozen_split)."""

from __future__ import annotations

from typing import Any

from pulse_libs.events.common import Channel
from pulse_triage import data
from pulse_triage.domain.features import Facts, extract
from pulse_triage.domain.model import UrgencyModel, char_grams, text_inputs
from pulse_triage.domain.text import normalize
from pulse_triage.rules_schema import default_rules

RULES = default_rules().to_rule_set()


def values(text: str) -> dict[str, float]:
    return extract(normalize(text), Facts(Channel.PHONE), RULES, data.lexicon()).values


def test_an_act_only_threatened_is_counted_as_intended_not_as_the_act() -> None:
    threatened = values("Khoảng 50 hộ đang họp, quyết định thứ Hai sẽ không cho xe rác vào nếu chưa có phương án")
    happening = values("Khoảng 200 người đang chặn xe rác trước cổng bãi rác")
    assert threatened["intended"] >= 1
    assert threatened["intent_now"] >= 1
    assert threatened["lex_blocking"] == 0
    assert threatened["live_action"] == 0
    assert happening["intended"] == 0
    assert happening["lex_blocking"] >= 1
    assert happening["live_action"] >= 1


def test_alarm_words_in_a_staged_context_are_gated_off() -> None:
    film = values("Chiếu bộ phim về vụ bạo loạn, cảnh đập phá trụ sở, đốt xe tại nhà văn hóa, 120 người xem")
    drill = values("Diễn tập phòng thủ dân sự, tình huống giả định đám đông chặn đường, 300 người tham gia")
    riot = values("Hàng trăm người đang đập phá trụ sở xã, đốt xe của nhà thầu")
    for calm in (film, drill):
        assert calm["staged"] >= 1
        assert calm["live_harm"] == 0
        assert calm["live_alarm"] == 0
        assert calm["live_people"] == 0
    assert riot["staged"] == 0
    assert riot["live_harm"] >= 1
    assert riot["live_action"] >= 1


def test_character_ngrams_share_most_grams_across_a_typo() -> None:
    assert char_grams(["ab"]) == [" a", "ab", "b ", " ab", "ab ", " ab ", " ab "]  # 4- and 5-grams: the word
    right, typo = set(char_grams(["duong"])), set(char_grams(["duongg"]))
    assert len(right & typo) / len(right) > 0.5
    inputs = text_inputs(("chan", "duong", "chan_duong"))
    assert inputs["terms"] == ["chan", "duong", "chan_duong"]
    assert " chan" in inputs["chars"]
    assert not any("_" in g for g in inputs["chars"])


def test_the_text_blocks_weigh_the_words_and_only_words_are_named_as_reasons() -> None:
    terms = {
        "idf": {"chay": 1.0, "nha": 1.0, "chay_nha": 1.0},
        "coef": {"chay": [0.0, 0.0, 0.0, 1.0], "chay_nha": [0.0, 0.0, 0.0, 4.0]},
    }
    doc: dict[str, Any] = {
        "dense": {"names": ["x"], "mean": [0.0], "scale": [1.0], "coef": [[0.0]] * 4},
        "blocks": {"terms": terms, "chars": {"idf": {" ch": 1.0}, "coef": {" ch": [0.0, 0.0, 0.0, 1.0]}}},
        "intercept": [1.0, 0.0, 0.0, 0.0],
        "offsets": [0.0] * 4,
    }
    model = UrgencyModel.from_dict(doc)
    hot, cold = model.predict({}, ("chay", "nha", "chay_nha")), model.predict({}, ("nha",))
    assert hot.urgency.value == "flash"
    assert cold.urgency.value == "routine"
    # the character n-gram and the lone syllable weigh but are no officer's reason: the two-syllable term is
    assert [c.name for c in hot.towards] == ["term:chay_nha"]
    first_form = {k: v for k, v in doc.items() if k != "blocks"} | {"text": terms}  # the first fit's form
    assert UrgencyModel.from_dict(first_form).predict({}, ("chay_nha",)).urgency.value == "flash"


def test_deaths_told_live_are_gated_on_and_a_crowd_keeping_officials_is_holding() -> None:
    flood = values("Lũ quét cuốn trôi hai nhà ở Khe Lóng, một người chết, ba người mất tích, đang tìm kiếm")
    recalled = values("Hội nghị tổng kết nhắc lại trận lũ năm ngoái làm hai người chết")
    kept = values("Đoàn của phường vẫn ở nhà văn hóa, mấy trăm người đứng kín sân, không cho ai về")
    assert flood["live_deaths"] == 1.0
    assert recalled["lex_deaths"] >= 1
    assert recalled["live_deaths"] == 0.0  # a meeting about last year's flood
    assert kept["lex_detaining"] >= 1
    assert kept["big_blocking"] == 1.0


def reasons(text: str) -> list[str]:
    from pulse_triage.domain.scoring import ReportFacts, score_report

    decision = score_report(
        normalize(text), ReportFacts(Channel.PHONE), RULES, model=data.urgency_model(), lexicon=data.lexicon()
    )
    return list(decision.reasons)


def test_reasons_head_grounds_by_direction_and_name_only_words_of_the_text() -> None:
    drill = reasons(
        "Sáng 28/11 xã tổ chức diễn tập khu vực phòng thủ, tình huống giả định: một nhóm đối tượng kích động khoảng "
        "200 người chặn quốc lộ, đốt lốp xe, bao vây trụ sở. Buổi diễn tập kết thúc an toàn."
    )
    assert drill[-1] == "Kết luận: mức thường"
    # the drill is grounds for thường; the crowd and the siege weigh towards a higher level: grounds to raise
    assert any(r.startswith("Căn cứ xếp mức thường: diễn tập") for r in drill)
    assert any(r.startswith("Căn cứ nâng mức: ") for r in drill)
    assert not any(r.startswith("Căn cứ nâng mức") and "diễn tập" in r for r in drill)
    named = [r.split("từ ngữ «")[1].rstrip("»") for r in drill if "từ ngữ «" in r]
    assert named
    assert all(" " in w for w in named)  # two-syllable words, never a lone syllable
    lines = [r.split(": ", 1)[1] for r in drill if r.startswith("Căn cứ")]
    assert len(lines) == len(set(lines))  # each ground said once
