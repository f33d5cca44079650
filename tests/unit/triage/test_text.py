"""Normalisation and phrase matching of Vietnamese text."""

from __future__ import annotations

import unicodedata

from pulse_triage.domain.text import detelex, find_phrase, fold, normalize, phrase_syllables, shingles, similarity


def test_nfc_tone_marks_and_case_are_unified_and_the_original_kept() -> None:
    decomposed = unicodedata.normalize("NFD", "Hoà bình, THUỶ lợi")
    text = normalize(decomposed)
    assert text.original == decomposed
    assert "hòa" in text.lowered
    assert "thủy" in text.lowered
    assert unicodedata.is_normalized("NFC", text.normalized)


def test_folding_removes_diacritics_and_d_stroke() -> None:
    assert fold("Đất đai, giải phóng mặt bằng") == "Dat dai, giai phong mat bang"


def test_word_segmentation_joins_compounds() -> None:
    assert "người dân" in normalize("Người dân tụ tập").tokens


def test_phrases_match_with_or_without_diacritics() -> None:
    phrase = phrase_syllables("chặn đường")
    assert find_phrase(normalize("Bà con CHẶN ĐƯỜNG quốc lộ"), phrase)
    assert find_phrase(normalize("ba con chan duong quoc lo"), phrase)


def test_a_different_word_with_the_same_letters_does_not_match() -> None:
    assert not find_phrase(normalize("Trường đạt chuẩn quốc gia"), phrase_syllables("đất"))


def test_single_syllable_keyword_does_not_match_inside_a_compound() -> None:
    assert not find_phrase(normalize("Xây dựng đất nước giàu mạnh"), phrase_syllables("đất"))
    assert find_phrase(normalize("Tranh chấp đất giữa hai hộ"), phrase_syllables("đất"))


def test_phrases_match_whole_syllables_only() -> None:
    assert not find_phrase(normalize("lũ lụt"), phrase_syllables("lũ quét"))
    assert not find_phrase(normalize("tranh chấp"), phrase_syllables("tranh chấp đất"))


def test_similar_reports_share_shingles_and_unrelated_ones_do_not() -> None:
    a = shingles(normalize("Khoảng 200 người tụ tập trước UBND phường Yên Bái phản đối cưỡng chế thu hồi đất").folded)
    b = shingles(normalize("Nhieu nguoi dan tu tap truoc UBND phuong Yen Bai phan doi cuong che thu hoi dat").folded)
    c = shingles(normalize("Người dân hỏi về lịch tiêm chủng cho trẻ em tại trạm y tế").folded)
    assert similarity(a, b) >= 0.5
    assert similarity(a, c) < 0.5


def test_a_forgotten_tone_mark_telex_leftovers_and_one_typo_still_match() -> None:
    phrase = phrase_syllables("tụ tập đông người")
    assert find_phrase(normalize("Bà con tụ tâp đông người trước cổng"), phrase)
    assert find_phrase(normalize("ba con tuj taapj ddoong nguwowif"), phrase)
    assert find_phrase(normalize("ba con tu tap dong nguoii"), phrase)
    assert detelex("dduwowngf") == "duong"
    assert not find_phrase(normalize("gia đình ba người"), phrase_syllables("giả định"))
    assert not find_phrase(normalize("người già neo don"), phrase_syllables("đồn"))
