"""Pure domain rules of intake: text folding, survey answers, idempotency keys, status order."""

from __future__ import annotations

import pytest
from pulse_intake.domain.errors import InvalidAnswerError
from pulse_intake.domain.reports import dedupe_key, idempotency_key, new_report_id, request_hash
from pulse_intake.domain.status import advances
from pulse_intake.domain.surveys import Question, questionnaire_problems, validate_answers
from pulse_intake.domain.text import fold, nfc, search_terms


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đất đai", "dat dai"),
        ("GIẢI PHÓNG MẶT BẰNG", "giai phong mat bang"),
        ("hoà  bình", "hoa binh"),
        ("Hòa bình", "hoa binh"),
        ("thuỷ lợi", "thuy loi"),
        ("Âu Lâu", "au lau"),
    ],
)
def test_fold_removes_diacritics_and_case(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_nfc_composes_and_strips() -> None:
    assert nfc("  Đa\u0302\u0301t ") == "Đất"
    assert search_terms("  Xô  XÁT ") == ["xo", "xat"]


QUESTIONS = [
    Question("q1", "Giá điện?", "single", ["Hợp lý", "Cao"]),
    Question("q2", "Khoản chi?", "multi", ["Điện", "Nước", "Xăng"]),
    Question("q3", "Hài lòng?", "scale"),
    Question("q4", "Mức?", "scale", ["Kém", "Trung bình", "Tốt"]),
    Question("q5", "Ý kiến", "text"),
]
GOOD = {"q1": "Cao", "q2": ["Điện"], "q3": 5, "q4": 3, "q5": " Cần minh bạch "}


def test_good_answers_pass_and_are_cleaned() -> None:
    assert validate_answers(QUESTIONS, GOOD)["q5"] == "Cần minh bạch"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"q1": "Rẻ"}, "answers.q1"),
        ({"q1": ["Cao"]}, "answers.q1"),
        ({"q2": []}, "answers.q2"),
        ({"q2": "Điện"}, "answers.q2"),
        ({"q3": 0}, "answers.q3"),
        ({"q3": False}, "answers.q3"),
        ({"q4": 4}, "answers.q4"),
        ({"q5": ""}, "answers.q5"),
        ({"q6": "?"}, "answers.q6"),
    ],
)
def test_bad_answers(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidAnswerError) as info:
        validate_answers(QUESTIONS, {**GOOD, **change})
    assert info.value.field == field


def test_missing_answer_and_bad_questionnaire() -> None:
    with pytest.raises(InvalidAnswerError):
        validate_answers(QUESTIONS, {k: v for k, v in GOOD.items() if k != "q1"})
    problems = questionnaire_problems([QUESTIONS[0], QUESTIONS[0], Question("t", "?", "text", ["x"])])
    assert [f for f, _ in problems] == ["questions.1.code", "questions.2.options"]


def test_keys_are_unique_per_reporter_and_always_present() -> None:
    a = dedupe_key(reporter_kind="user", reporter_id="u1", external_ref="r1", client_id=None, report_id="x")
    b = dedupe_key(reporter_kind="api_key", reporter_id="u1", external_ref="r1", client_id=None, report_id="y")
    assert a != b
    assert (
        dedupe_key(reporter_kind="user", reporter_id="u1", external_ref=None, client_id=None, report_id="x") == "id:x"
    )
    assert idempotency_key(reporter_id="u1", key=None, report_id="x") == "id:x"
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})


def test_report_ids_sort_by_time() -> None:
    ids = [new_report_id() for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 24 for i in ids)
    assert ids[0][:12] <= ids[-1][:12]


def test_status_only_moves_forward() -> None:
    assert advances("received", "triaged")
    assert advances("merged", "escalated")
    assert not advances("resolved", "escalated")
    assert not advances("triaged", "merged")
