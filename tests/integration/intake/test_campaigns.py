"""Orientations and surveys: validation, what each caller sees, one response per respondent, events on Kafka."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pulse_libs.auth import pseudonym
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.topics import INTAKE_CAMPAIGNS
from pulse_libs.periods import local_days, month_containing, parse_period

from .helpers import NAM_CUONG, VAN_PHU, YEN_BAI, assert_problem, count, read_events


def _this_month() -> str:
    """The reporting month of today (Decree 09: from the 15th it is already next month's period)."""
    return month_containing(utcnow(), cutoff_day=15, tz=ZoneInfo("Asia/Ho_Chi_Minh")).name


def _orientation(**changes: Any) -> dict[str, Any]:
    body = {
        "period": _this_month(),
        "title": "Định hướng tháng: giải phóng mặt bằng và giá cả",
        "guidance": "Nắm chắc tâm trạng của người dân vùng dự án; kịp thời phản ánh ý kiến về đền bù, tái định cư.",
        "topic_codes": ["giai-phong-mat-bang", "gia-ca"],
        "unit_codes": [YEN_BAI],
    }
    body.update(changes)
    return body


async def test_orientation_is_published_and_current_for_its_units(intake: Any) -> None:
    department = intake.headers("department")
    created = await intake.client.post("/v1/orientations", json=_orientation(), headers=department)
    assert created.status_code == 201, created.text
    orientation = created.json()
    first, last = local_days(parse_period(_this_month()), 15)
    assert (orientation["period_start"], orientation["period_end"]) == (first.isoformat(), last.isoformat())
    assert orientation["period_start"].endswith("-15")
    quarter = await intake.client.post(
        "/v1/orientations", json=_orientation(period="2020-Q2", unit_codes=[]), headers=department
    )
    assert (quarter.json()["period_start"], quarter.json()["period_end"]) == ("2020-03-15", "2020-06-14")

    mine = (
        await intake.client.get("/v1/orientations/current", headers=intake.headers("collaborator", [YEN_BAI]))
    ).json()
    assert [o["id"] for o in mine["items"]] == [orientation["id"]]
    assert mine["timezone"] == "Asia/Ho_Chi_Minh"
    other = (
        await intake.client.get("/v1/orientations/current", headers=intake.headers("collaborator", [VAN_PHU]))
    ).json()
    assert other["items"] == []
    by_location = await intake.client.get(
        created.headers["Location"], headers=intake.headers("collaborator", [YEN_BAI])
    )
    assert by_location.json()["title"] == orientation["title"]
    assert_problem(
        await intake.client.get(created.headers["Location"], headers=intake.headers("collaborator", [VAN_PHU])), 404
    )
    listed = (await intake.client.get("/v1/orientations", headers=intake.headers("collaborator", [VAN_PHU]))).json()
    assert [o["period"] for o in listed["items"]] == ["2020-Q2"]

    events = await read_events(
        intake.settings, INTAKE_CAMPAIGNS, lambda es: any(e.key == orientation["id"] for e in es)
    )
    event = next(e for e in events if e.key == orientation["id"])
    assert event.type == ev.ORIENTATION_PUBLISHED
    assert event.data["unit_codes"] == [YEN_BAI]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-Q5"}, "period"),
        ({"period": "26-11"}, "period"),
        ({"period": "2026-H3"}, "period"),
        ({"topic_codes": ["khong-co"]}, "topic_codes"),
        ({"topic_codes": []}, "topic_codes"),
        ({"unit_codes": ["00000"]}, "unit_codes"),
        ({"guidance": {"$gt": ""}}, "guidance"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_orientations_change_nothing(intake: Any, changes: dict[str, Any], field: str) -> None:
    before = await count(intake.db, "orientations")
    response = await intake.client.post(
        "/v1/orientations", json=_orientation(**changes), headers=intake.headers("department")
    )
    assert_problem(response, 422, field)
    assert await count(intake.db, "orientations") == before


async def test_only_the_department_publishes(intake: Any) -> None:
    for role in ("collaborator", "admin", "standing_committee"):
        response = await intake.client.post(
            "/v1/orientations", json=_orientation(), headers=intake.headers(role, [YEN_BAI])
        )
        assert_problem(response, 403)


def _survey(**changes: Any) -> dict[str, Any]:
    now = utcnow()
    body = {
        "title": "Thăm dò ý kiến về giá điện sinh hoạt",
        "questions": [
            {"code": "q1", "text": "Bà con đánh giá mức giá điện hiện nay thế nào?", "kind": "single",
             "options": ["Hợp lý", "Hơi cao", "Quá cao"]},
            {"code": "q2", "text": "Những khoản chi nào tăng nhiều nhất?", "kind": "multi",
             "options": ["Điện", "Nước", "Xăng dầu", "Thực phẩm"]},
            {"code": "q3", "text": "Mức độ hài lòng với ngành điện (1–5)", "kind": "scale"},
            {"code": "q4", "text": "Ý kiến khác", "kind": "text"},
        ],
        "unit_codes": [YEN_BAI, NAM_CUONG],
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
    }  # fmt: skip
    body.update(changes)
    return body


ANSWERS = {"q1": "Hơi cao", "q2": ["Điện", "Thực phẩm"], "q3": 3, "q4": "Đề nghị công khai cách tính bậc thang."}


async def test_survey_answered_once_by_a_target_collaborator(intake: Any) -> None:
    created = await intake.client.post("/v1/surveys", json=_survey(), headers=intake.headers("department"))
    assert created.status_code == 201, created.text
    survey = created.json()
    assert survey["state"] == "open"
    respondent = intake.headers("collaborator", [YEN_BAI], user_id="u-survey-1")
    seen = await intake.client.get(f"/v1/surveys/{survey['id']}", headers=respondent)
    assert seen.status_code == 200
    answered = await intake.client.post(
        f"/v1/surveys/{survey['id']}/responses", json={"answers": ANSWERS}, headers=respondent
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["respondent_id"] == pseudonym(intake.settings, "u-survey-1")
    assert answered.json()["unit_code"] == YEN_BAI
    again = await intake.client.post(
        f"/v1/surveys/{survey['id']}/responses", json={"answers": ANSWERS}, headers=respondent
    )
    assert_problem(again, 409)
    assert await count(intake.db, "survey_responses", {"survey_id": survey["id"]}) == 1

    outsider = intake.headers("collaborator", [VAN_PHU])
    assert_problem(await intake.client.get(f"/v1/surveys/{survey['id']}", headers=outsider), 404)
    assert_problem(
        await intake.client.post(f"/v1/surveys/{survey['id']}/responses", json={"answers": ANSWERS}, headers=outsider),
        404,
    )
    events = await read_events(
        intake.settings,
        INTAKE_CAMPAIGNS,
        lambda es: {ev.SURVEY_PUBLISHED, ev.SURVEY_RESPONSE_SUBMITTED} <= {e.type for e in es if e.key == survey["id"]},
    )
    response_event = next(e for e in events if e.type == ev.SURVEY_RESPONSE_SUBMITTED)
    assert response_event.data["respondent_id"].startswith("ctv-")
    assert "u-survey-1" not in str(response_event.data)


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({**ANSWERS, "q1": "Rẻ"}, "answers.q1"),
        ({**ANSWERS, "q2": ["Điện", "Điện"]}, "answers.q2"),
        ({**ANSWERS, "q3": 6}, "answers.q3"),
        ({**ANSWERS, "q3": True}, "answers.q3"),
        ({k: v for k, v in ANSWERS.items() if k != "q4"}, "answers.q4"),
        ({**ANSWERS, "q9": "?"}, "answers.q9"),
        ({**ANSWERS, "q1": {"$gt": ""}}, "answers.q1"),
    ],
)
async def test_bad_answers_change_nothing(intake: Any, answers: dict[str, Any], field: str) -> None:
    survey = (await intake.client.post("/v1/surveys", json=_survey(), headers=intake.headers("department"))).json()
    respondent = intake.headers("collaborator", [YEN_BAI])
    response = await intake.client.post(
        f"/v1/surveys/{survey['id']}/responses", json={"answers": answers}, headers=respondent
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.json()
    assert await count(intake.db, "survey_responses", {"survey_id": survey["id"]}) == 0


async def test_closed_survey_and_bad_questionnaires(intake: Any) -> None:
    department = intake.headers("department")
    now = utcnow()
    later = _survey(opens_at=(now + timedelta(days=1)).isoformat(), closes_at=(now + timedelta(days=2)).isoformat())
    scheduled = (await intake.client.post("/v1/surveys", json=later, headers=department)).json()
    assert scheduled["state"] == "scheduled"
    response = await intake.client.post(
        f"/v1/surveys/{scheduled['id']}/responses",
        json={"answers": ANSWERS},
        headers=intake.headers("collaborator", [YEN_BAI]),
    )
    assert_problem(response, 409)
    before = await count(intake.db, "surveys")
    q = _survey()["questions"]
    bad = [
        (_survey(closes_at=(now - timedelta(days=1)).isoformat()), "closes_at"),
        (_survey(questions=[q[0], q[0]]), "questions.1.code"),
        (_survey(questions=[{**q[0], "options": ["Một"]}]), "questions.0.options"),
        (_survey(questions=[{**q[0], "kind": "ranking"}]), "questions.0.kind"),
        (_survey(unit_codes=["00000"]), "unit_codes"),
    ]
    for body, field in bad:
        assert_problem(await intake.client.post("/v1/surveys", json=body, headers=department), 422, field)
    assert await count(intake.db, "surveys") == before


async def test_orientations_in_force_follow_the_decree_09_windows_of_reporting(intake: Any) -> None:
    """On the 20th of a month the orientation in force is next month's (its window began on the 15th)."""
    department = intake.headers("department")
    ids = {}
    for period in ("2031-11", "2031-12", "2031-Q4"):
        created = await intake.client.post(
            "/v1/orientations", json=_orientation(period=period, unit_codes=[NAM_CUONG]), headers=department
        )
        assert created.status_code == 201, created.text
        ids[period] = created.json()["id"]
    reader = intake.headers("collaborator", [NAM_CUONG])

    async def in_force(day: str) -> set[str]:
        response = await intake.client.get("/v1/orientations/current", params={"on": day}, headers=reader)
        assert response.status_code == 200, response.text
        assert response.json()["date"] == day
        return {o["period"] for o in response.json()["items"] if o["id"] in ids.values()}

    assert await in_force("2031-11-20") == {"2031-12", "2031-Q4"}
    assert await in_force("2031-11-14") == {"2031-11", "2031-Q4"}
    assert await in_force("2031-10-15") == {"2031-11", "2031-Q4"}
    assert await in_force("2031-10-14") == {"2031-Q4"}
    assert await in_force("2031-09-15") == {"2031-Q4"}
    assert await in_force("2031-09-14") == set()
    assert await in_force("2031-12-14") == {"2031-12", "2031-Q4"}
    assert await in_force("2031-12-15") == set()
    assert_problem(
        await intake.client.get("/v1/orientations/current", params={"on": "1999-12-31"}, headers=reader), 422
    )
    assert_problem(await intake.client.get("/v1/orientations/current", params={"on": "20-11"}, headers=reader), 422)


async def test_a_collaborator_records_many_interviews_with_demographics_and_optional_questions(intake: Any) -> None:
    questions = _survey()["questions"]
    body = _survey(questions=[*questions[:3], {**questions[3], "required": False}])
    survey = (await intake.client.post("/v1/surveys", json=body, headers=intake.headers("department"))).json()
    assert [q["required"] for q in survey["questions"]] == [True, True, True, False]
    collaborator = intake.headers("collaborator", [NAM_CUONG], user_id="u-interviewer-1")
    url = f"/v1/surveys/{survey['id']}/responses"
    without_q4 = {k: v for k, v in ANSWERS.items() if k != "q4"}
    ids = []
    for i in range(3):
        respondent = [{"gender": "female", "age_group": "31_45", "occupation": "farmer"}, {"gender": "male"}, {}][i]
        made = await intake.client.post(
            url, json={"answers": without_q4, "respondent": respondent}, headers=collaborator
        )
        assert made.status_code == 201, made.text
        out = made.json()
        assert out["respondent_kind"] == "interview"
        assert out["respondent_id"] == f"interview-{out['id']}"
        ids.append(out["id"])
    assert (await intake.client.post(url, json={"answers": ANSWERS}, headers=collaborator)).status_code == 201
    assert_problem(await intake.client.post(url, json={"answers": ANSWERS}, headers=collaborator), 409)
    before = await count(intake.db, "survey_responses", {"survey_id": survey["id"]})
    assert before == 4
    for respondent, field in (
        ({"name": "Nguyễn Văn A"}, "respondent.name"),
        ({"gender": "nam"}, "respondent.gender"),
        ({"occupation": "Trưởng thôn Nguyễn Văn B"}, "respondent.occupation"),
    ):
        bad = await intake.client.post(url, json={"answers": ANSWERS, "respondent": respondent}, headers=collaborator)
        assert_problem(bad, 422, field)
    missing_required = {k: v for k, v in ANSWERS.items() if k != "q1"}
    assert_problem(
        await intake.client.post(url, json={"answers": missing_required, "respondent": {}}, headers=collaborator),
        422,
        "answers.q1",
    )
    assert await count(intake.db, "survey_responses", {"survey_id": survey["id"]}) == before
    events = await read_events(
        intake.settings,
        INTAKE_CAMPAIGNS,
        lambda es: sum(1 for e in es if e.type == ev.SURVEY_RESPONSE_SUBMITTED and e.key == survey["id"]) >= 4,
    )
    mine = [e.data for e in events if e.type == ev.SURVEY_RESPONSE_SUBMITTED and e.key == survey["id"]]
    first = next(d for d in mine if d["response_id"] == ids[0])
    assert first["demographics"] == {"gender": "female", "age_group": "31_45", "occupation": "farmer"}
    assert first["respondent_kind"] == "interview"
    assert "q4" not in first["answers"]
    assert "u-interviewer-1" not in str(mine)
