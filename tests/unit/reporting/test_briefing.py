"""Briefing sections computed in Python: escalation percentiles, survey tallies, silence, headings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulse_reporting.adapters.exports import content_disposition, report_heading
from pulse_reporting.domain.briefing import collaborator_activity, escalation_stats, hotspot_status, silent_units
from pulse_reporting.domain.surveys import survey_results

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def test_time_to_acknowledge_per_level_counts_from_when_that_level_was_paged() -> None:
    escalations = [
        {"raised_at": T0, "acknowledged_at": T0 + timedelta(minutes=10), "ack_level": 1, "levels": {"1": T0}},
        {
            "raised_at": T0,
            "acknowledged_at": T0 + timedelta(minutes=40),
            "ack_level": 2,
            "levels": {"1": T0, "2": T0 + timedelta(minutes=15)},
        },
        {"raised_at": T0},
    ]
    stats = escalation_stats(escalations)
    assert (stats["raised"], stats["acknowledged"]) == (3, 2)
    assert stats["time_to_ack_seconds"] == {"median": 1500.0, "p95": 2310.0}
    assert stats["by_level"][1] == {"level": 2, "acknowledged": 1, "median": 1500.0, "p95": 1500.0}


def test_hotspot_outcome_follows_the_milestones_even_out_of_order() -> None:
    assert hotspot_status({"status": "open", "resolved_at": T0}) == "resolved"
    assert hotspot_status({"acknowledged_at": T0}) == "acknowledged"
    assert hotspot_status({}) == "open"


def test_survey_tallies_hide_free_text_unless_allowed() -> None:
    survey = {
        "_id": "s1",
        "title": "Thăm dò",
        "questions": [
            {"code": "q1", "text": "Chọn", "kind": "multi", "options": ["Có", "Không"]},
            {"code": "q2", "text": "Điểm", "kind": "scale"},
            {"code": "q3", "text": "Ý kiến", "kind": "text"},
        ],
    }
    sheets = [
        {"answers": {"q1": ["Có", "Không"], "q2": 5, "q3": "Tên tôi là Nguyễn Văn A"}},
        {"answers": {"q1": ["Có"], "q2": "3"}},
    ]
    result = survey_results(survey=survey, answer_sheets=sheets)
    q1, q2, q3 = result["questions"]
    assert q1["options"] == [
        {"option": "Có", "count": 2, "percent": 100.0},
        {"option": "Không", "count": 1, "percent": 50.0},
    ]
    assert (q2["mean"], q2["median"]) == (4.0, 4.0)
    assert q3 == {"code": "q3", "text": "Ý kiến", "kind": "text", "required": True, "skipped": 1, "answered": 1}
    assert "Nguyễn Văn A" not in str(result)
    shown = survey_results(survey=survey, answer_sheets=sheets, show_text=True)
    assert shown["questions"][2]["answers"] == ["Tên tôi là Nguyễn Văn A"]
    grouped = survey_results(survey=survey, answer_sheets=sheets, show_text=True, by="gender")
    assert grouped["breakdown"]["groups"][0]["key"] == "not_given"
    assert "answers" not in grouped["breakdown"]["groups"][0]["questions"][2]


def test_silent_units_per_orientation_topic() -> None:
    rows = [{"unit": "04252", "topic": "dat_dai", "mentions": 2}, {"unit": "04279", "topic": "dat_dai", "mentions": 0}]
    assert silent_units(topic_codes=["dat_dai"], target_units=["04279", "04252"], rows=rows) == {"dat_dai": ["04279"]}


def test_collaborators_are_shown_as_identify_says() -> None:
    rows = [{"reporter": "u-1", "unit": "04252", "reports": 2}, {"reporter": "u-2", "unit": "04252", "reports": 3}]
    items = collaborator_activity(rows, identify=lambda s: "ctv-" + s[-1])
    assert items == [
        {"collaborator": "ctv-2", "unit_code": "04252", "reports": 3},
        {"collaborator": "ctv-1", "unit_code": "04252", "reports": 2},
    ]


def test_headings_and_file_names() -> None:
    def heading(period: str, kind: str) -> str:
        return report_heading({"period": {"period": period, "kind": kind}})

    assert heading("2026-11", "month") == "BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI THÁNG 11 NĂM 2026"
    assert heading("2026-Q4", "quarter") == "BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI QUÝ 4 NĂM 2026"
    assert heading("2026-H1", "half_year") == "BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI SÁU THÁNG ĐẦU NĂM 2026"
    assert heading("2026-9M", "nine_months") == "BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI CHÍN THÁNG NĂM 2026"
    assert heading("2026", "year") == "BÁO CÁO TÌNH HÌNH DƯ LUẬN XÃ HỘI NĂM 2026"
    assert content_disposition("2026-11", "docx") == (
        "attachment; filename=\"bao-cao-dlxh-2026-11.docx\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20DLXH%202026-11.docx"
    )
