"""A sociological survey: 30 interviews recorded by one collaborator give exact percentages and breakdowns.

Real Kafka and store; the responses arrive as intake publishes them (interviews with demographics).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pulse_libs.events.intake as intake
import pytest
from openpyxl import load_workbook
from pulse_libs.events import topics

from tests.integration.reporting.helpers import (
    NAM_CUONG,
    VAN_PHU,
    Published,
    Reporting,
    at,
    fed,
    registry_events,
)

Q1 = ["Đồng tình", "Đồng tình", "Không đồng tình", "Chưa rõ", "Đồng tình"]


def interview(i: int) -> dict[str, Any]:
    """The i-th interview (0–29): answers and demographics follow simple cycles so every figure is known."""
    answers: dict[str, Any] = {
        "q1": Q1[i % 5],
        "q2": ["Điện", "Nước"] if i % 2 == 0 else ["Điện"],
        "q3": i % 5 + 1,
    }
    if i % 10 == 0:
        answers["q4"] = f"Ý kiến số {i:02d}: đề nghị công khai cách tính giá điện"
    demographics: dict[str, str] = {
        "age_group": ("18_30", "31_45", "46_60")[i % 3],
        "occupation": "farmer" if i < 20 else "worker",
    }
    if i < 12:
        demographics["gender"] = "female"
    elif i < 27:
        demographics["gender"] = "male"
    return {"answers": answers, "demographics": demographics, "unit": NAM_CUONG if i < 20 else VAN_PHU}


def survey_events() -> Published:
    out = Published()
    registry_events(out)
    questions = [
        intake.SurveyQuestion(code="q1", text="Ông/bà có đồng tình với việc điều chỉnh giá điện?", kind="single",
                              options=["Đồng tình", "Không đồng tình", "Chưa rõ"]),
        intake.SurveyQuestion(code="q2", text="Khoản chi nào tăng?", kind="multi",
                              options=["Điện", "Nước", "Xăng dầu"]),
        intake.SurveyQuestion(code="q3", text="Mức độ hài lòng (1–5)", kind="scale"),
        intake.SurveyQuestion(code="q4", text="Ý kiến khác", kind="text", required=False),
    ]  # fmt: skip
    out.add(
        topics.INTAKE_CAMPAIGNS,
        intake.SURVEY_PUBLISHED,
        intake.SurveyPublished(
            survey_id="s30",
            title="Điều tra xã hội học về giá điện",
            questions=questions,
            unit_codes=[NAM_CUONG, VAN_PHU],
            opens_at=at("2026-09-20"),
            closes_at=at("2026-10-10"),
            published_at=at("2026-09-20"),
        ),
        "s30",
    )
    for i in range(30):
        item = interview(i)
        out.add(
            topics.INTAKE_CAMPAIGNS,
            intake.SURVEY_RESPONSE_SUBMITTED,
            intake.SurveyResponseSubmitted(
                survey_id="s30",
                response_id=f"resp-{i:02d}",
                unit_code=item["unit"],
                respondent_id=f"interview-resp-{i:02d}",
                respondent_kind="interview",
                demographics=intake.SurveyDemographics(**item["demographics"]),
                answers=item["answers"],
                submitted_at=at("2026-10-01", 8 + i % 10),
            ),
            "s30",
        )
    return out


EVENTS = survey_events().events


@pytest.fixture(scope="module")
async def svc(infra: None) -> AsyncIterator[Reporting]:
    async with fed(EVENTS) as svc:
        yield svc


async def results(svc: Reporting, role: str = "department", units: tuple[str, ...] = (), **params: str) -> Any:
    response = await svc.client.get("/v1/surveys/s30/results", params=params, headers=svc.headers(role, units))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()


def options(question: dict[str, Any]) -> list[tuple[str, int, float | None]]:
    return [(o["option"], o["count"], o["percent"]) for o in question["options"]]


async def test_thirty_interviews_give_exact_percentages(svc: Reporting) -> None:
    body = await results(svc)
    assert body["responses"] == 30
    q1, q2, q3, q4 = body["questions"]
    assert options(q1) == [("Đồng tình", 18, 60.0), ("Không đồng tình", 6, 20.0), ("Chưa rõ", 6, 20.0)]
    assert options(q2) == [("Điện", 30, 100.0), ("Nước", 15, 50.0), ("Xăng dầu", 0, 0.0)]
    assert (q3["mean"], q3["median"]) == (3.0, 3.0)
    assert [(d["value"], d["count"], d["percent"]) for d in q3["distribution"]] == [(v, 6, 20.0) for v in range(1, 6)]
    assert (q4["required"], q4["answered"], q4["skipped"]) == (False, 3, 27)
    assert q4["answers"] == [f"Ý kiến số {i:02d}: đề nghị công khai cách tính giá điện" for i in (0, 10, 20)]
    people = body["respondents"]
    assert [(k["value"], k["count"], k["percent"]) for k in people["by_kind"]] == [
        ("self", 0, 0.0),
        ("interview", 30, 100.0),
    ]
    assert [(g["value"], g["count"], g["percent"]) for g in people["gender"]] == [
        ("male", 15, 50.0),
        ("female", 12, 40.0),
        ("not_given", 3, 10.0),
    ]
    assert [(g["value"], g["percent"]) for g in people["age_group"]] == [
        ("18_30", 33.3),
        ("31_45", 33.3),
        ("46_60", 33.3),
    ]
    assert [(g["label"], g["count"]) for g in people["occupation"]] == [("Nông dân", 20), ("Công nhân", 10)]
    audit = await svc.db["audit_log"].find_one({"action": "survey_text.read"})
    assert audit is not None
    assert audit["details"]["count"] == 3


async def test_breakdowns_by_unit_and_by_demographic(svc: Reporting) -> None:
    by_unit = (await results(svc, by="unit"))["breakdown"]
    assert by_unit["by"] == "unit"
    groups = {g["key"]: g for g in by_unit["groups"]}
    assert [(g["key"], g["name"], g["responses"], g["percent"]) for g in by_unit["groups"]] == [
        (NAM_CUONG, "Phường Nam Cường", 20, 66.7),
        (VAN_PHU, "Phường Văn Phú", 10, 33.3),
    ]
    assert options(groups[NAM_CUONG]["questions"][0]) == [
        ("Đồng tình", 12, 60.0), ("Không đồng tình", 4, 20.0), ("Chưa rõ", 4, 20.0),
    ]  # fmt: skip
    assert options(groups[VAN_PHU]["questions"][0]) == [
        ("Đồng tình", 6, 60.0), ("Không đồng tình", 2, 20.0), ("Chưa rõ", 2, 20.0),
    ]  # fmt: skip
    assert "answers" not in groups[NAM_CUONG]["questions"][3]  # no free text inside a group
    by_gender = {g["key"]: g for g in (await results(svc, by="gender"))["breakdown"]["groups"]}
    assert {k: g["responses"] for k, g in by_gender.items()} == {"male": 15, "female": 12, "not_given": 3}
    assert by_gender["female"]["name"] == "Nữ"
    assert options(by_gender["female"]["questions"][0]) == [
        ("Đồng tình", 8, 66.7), ("Không đồng tình", 2, 16.7), ("Chưa rõ", 2, 16.7),
    ]  # fmt: skip
    by_age = {g["key"]: g["questions"][2]["mean"] for g in (await results(svc, by="age_group"))["breakdown"]["groups"]}
    # 18–30 are interviews 0, 3, …, 27: scale values (i % 5) + 1 → 1,4,2,5,3,1,4,2,5,3, mean 3.0.
    assert by_age == {"18_30": 3.0, "31_45": 3.0, "46_60": 3.0}


async def test_who_sees_what(svc: Reporting) -> None:
    committee = await results(svc, "standing_committee")
    assert committee["responses"] == 30
    assert "answers" not in committee["questions"][3]  # free text for department and admin only
    officer = await results(svc, "unit_officer", (VAN_PHU,))
    assert officer["responses"] == 10
    assert options(officer["questions"][0]) == [
        ("Đồng tình", 6, 60.0),
        ("Không đồng tình", 2, 20.0),
        ("Chưa rõ", 2, 20.0),
    ]
    bad = await svc.client.get("/v1/surveys/s30/results", params={"by": "name"}, headers=svc.headers("department"))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_raw_data_xlsx_for_the_analysts(svc: Reporting) -> None:
    url = "/v1/surveys/s30/responses.xlsx"
    assert (await svc.client.get(url, headers=svc.headers("standing_committee"))).status_code == 403
    response = await svc.client.get(url, headers=svc.headers("department", user_id="u-analyst"))
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Phiếu trả lời"]
    header = [c.value for c in sheet[2]]
    assert header[:8] == [
        "STT",
        "Mã đơn vị",
        "Đơn vị",
        "Người trả lời",
        "Giới tính",
        "Nhóm tuổi",
        "Nghề nghiệp",
        "Ngày trả lời",
    ]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 30
    assert [r[0] for r in rows] == list(range(1, 31))
    assert sum(1 for r in rows if r[4] == "Nữ") == 12
    assert sum(1 for r in rows if r[2] == "Phường Văn Phú") == 10
    q2 = header.index("q2. Khoản chi nào tăng?")
    assert sum(1 for r in rows if r[q2] == "Điện; Nước") == 15
    cells = " ".join(str(v) for r in rows for v in r if v is not None)
    assert "interview-resp" not in cells
    assert "resp-" not in cells  # no response or respondent id in the raw data
    audit = await svc.db["audit_log"].find_one({"action": "survey_responses.export", "actor_id": "u-analyst"})
    assert audit is not None
    assert audit["details"]["count"] == 30
