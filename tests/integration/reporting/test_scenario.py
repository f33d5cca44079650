"""A known set of events through real Kafka and the real store: exact figures, the briefing, exports, replay."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import AsyncIterator
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.integration.reporting.helpers import (
    AU_LAU,
    NAM_CUONG,
    VAN_PHU,
    YEN_BAI,
    Reporting,
    fed,
    scenario,
)

EVENTS = scenario().events
RANGE = {"from": "2026-09-15", "to": "2026-10-14"}


@pytest.fixture(scope="module")
async def svc(infra: None) -> AsyncIterator[Reporting]:
    """One reporting app fed with the scenario, shared by the tests of this module (they run in order)."""
    async with fed(EVENTS) as svc:
        yield svc


async def summary(svc: Reporting, **params: str) -> dict[str, Any]:
    response = await svc.client.get(
        "/v1/stats/summary", params={**RANGE, **params}, headers=svc.headers("standing_committee")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_summary_equals_the_known_counts(svc: Reporting) -> None:
    body = await summary(svc)
    assert body["reports"] == 6
    assert body["by_urgency"] == {"routine": 2, "flash": 1, "unknown": 1, "urgent": 1, "very_urgent": 1}
    assert body["by_channel"] == {"zalo": 2, "meeting": 1, "phone": 1, "social_media": 1, "written": 1}
    assert body["by_sentiment"] == {"negative": 3, "neutral": 1, "positive": 1, "unknown": 1}
    assert body["by_topic"] == {"dat_dai": 4, "giam_ngheo": 2, "gpmb": 1}
    assert body["by_unit"] == {YEN_BAI: 3, AU_LAU: 1, NAM_CUONG: 1, VAN_PHU: 1}
    assert body["hotspots"] == {"opened": 2, "by_status": {"resolved": 1, "open": 1}}
    esc = body["escalations"]
    assert (esc["raised"], esc["acknowledged"]) == (2, 2)
    assert esc["time_to_ack_seconds"] == {"median": 1200.0, "p95": 1740.0}
    assert esc["by_level"] == [
        {"level": 1, "acknowledged": 1, "median": 600.0, "p95": 600.0},
        {"level": 2, "acknowledged": 1, "median": 900.0, "p95": 900.0},
    ]
    assert (await summary(svc, topic_code="gpmb"))["reports"] == 1
    assert (await summary(svc, unit_code=VAN_PHU))["by_unit"] == {VAN_PHU: 1}
    assert (await summary(svc, **{"from": "2026-08-15", "to": "2026-09-14"}))["reports"] == 1


async def test_trends_count_per_reporting_month(svc: Reporting) -> None:
    response = await svc.client.get(
        "/v1/stats/trends",
        params={"granularity": "month", "from": "2026-08-15", "to": "2026-10-14"},
        headers=svc.headers("department"),
    )
    assert response.status_code == 200, response.text
    assert [(p["bucket"], p["reports"]) for p in response.json()["items"]] == [("2026-09", 1), ("2026-10", 6)]


async def test_briefing_json(svc: Reporting) -> None:
    response = await svc.client.get("/v1/periodic-reports/2026-10", headers=svc.headers("standing_committee"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["period"]["start"] == "2026-09-15T00:00:00+07:00"
    assert report["totals"]["reports"] == 6
    assert report["previous"] == {"period": "2026-09", "reports": 1, "change_percent": 500.0}
    assert report["top_topics"][0] == {"topic_code": "dat_dai", "reports": 4, "previous": 0, "change_percent": None}
    h1 = next(h for h in report["hotspots"] if h["id"] == "h1")
    assert (h1["status"], h1["time_to_ack_seconds"]) == ("resolved", 1800.0)
    silent = {c["topic_code"]: [u["code"] for u in c["silent_units"]] for c in report["orientation_coverage"]}
    assert silent == {"dat_dai": [VAN_PHU], "giam_ngheo": [NAM_CUONG, AU_LAU]}
    (survey,) = report["surveys"]
    q1, q2, q3 = survey["questions"]
    assert survey["responses"] == 3
    assert q1["options"] == [
        {"option": "Đồng tình", "count": 2, "percent": 66.7},
        {"option": "Không đồng tình", "count": 1, "percent": 33.3},
    ]
    assert (q2["mean"], q2["median"]) == (3.67, 4)
    assert q3["answered"] == 1
    assert report["deliveries"]["sent"] == 1
    assert report["deliveries"]["dead"] == 1
    collaborators = report["collaborators"]
    assert collaborators["identities"] == "pseudonymous"
    assert collaborators["active"] == 4
    assert all(c["collaborator"].startswith("ctv-") for c in collaborators["items"])
    assert "u-ctv" not in response.text
    results = await svc.client.get("/v1/surveys/s1/results", headers=svc.headers("unit_officer", [VAN_PHU]))
    assert results.status_code == 200
    assert results.json()["responses"] == 1


async def test_department_sees_identities_and_the_read_is_audited(svc: Reporting) -> None:
    response = await svc.client.get(
        "/v1/periodic-reports/2026-10", headers=svc.headers("department", user_id="u-dept-7")
    )
    items = response.json()["collaborators"]["items"]
    assert items[0] == {"collaborator": "u-ctv-1", "unit_code": YEN_BAI, "reports": 2}
    audit = await svc.db["audit_log"].find_one({"actor_id": "u-dept-7"})
    assert audit is not None
    assert audit["action"] == "identities.read"
    assert audit["target"] == "periodic-reports/2026-10"
    assert audit["chain"].startswith("reporting.")


async def test_xlsx_and_docx_open_and_keep_the_vietnamese_text(svc: Reporting) -> None:
    headers = svc.headers("standing_committee")
    xlsx = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": "xlsx"}, headers=headers)
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20DLXH%202026-10.xlsx" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == [
        "Tổng hợp",
        "Đơn vị",
        "Chủ đề",
        "Sắc thái",
        "Điểm nóng",
        "Xử lý",
        "Định hướng",
        "Cộng tác viên",
        "Khảo sát",
        "Chỉ đạo",
        "Chỉ đạo theo đơn vị",
        "Xu hướng",
        "Dự báo",
        "Đề xuất",
    ]
    units = [row[1] for row in book["Đơn vị"].iter_rows(min_row=3, values_only=True)]
    assert units == ["Phường Yên Bái", "Phường Nam Cường", "Phường Văn Phú", "Phường Âu Lâu"]
    assert unicodedata.is_normalized("NFC", units[3])
    docx = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": "docx"}, headers=headers)
    assert docx.headers["content-type"].endswith("wordprocessingml.document")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "BÁO CÁO\nTình hình dư luận xã hội tháng 10 năm 2026" in text
    for heading in (
        "I. TÌNH HÌNH CHUNG",
        "II. CÁC VẤN ĐỀ NỔI CỘM, ĐIỂM NÓNG",
        "III. KẾT QUẢ CHỈ ĐẠO, XỬ LÝ",
        "VII. ĐỀ XUẤT, KIẾN NGHỊ",
    ):
        assert heading in text
    csv = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": "csv"}, headers=headers)
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "Quản lý đất đai" in csv.content.decode("utf-8-sig")


async def test_a_unit_officers_export_has_only_their_units(svc: Reporting) -> None:
    headers = svc.headers("unit_officer", [VAN_PHU])
    report = (await svc.client.get("/v1/periodic-reports/2026-10", headers=headers)).json()
    assert report["totals"]["by_unit"] == {VAN_PHU: 1}
    assert report["deliveries"] is None
    assert {h["unit_code"] for h in report["hotspots"]} == set()
    assert all(c["unit_code"] == VAN_PHU for c in report["collaborators"]["items"])
    xlsx = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": "xlsx"}, headers=headers)
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = " ".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert "Phường Văn Phú" in cells
    for other in ("Yên Bái", "Nam Cường", "Âu Lâu", YEN_BAI, NAM_CUONG, AU_LAU, "u-ctv"):
        assert other not in cells
    docx = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": "docx"}, headers=headers)
    document = Document(io.BytesIO(docx.content))
    text = " ".join(
        [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]
    )
    for other in ("Phường Yên Bái", "Nam Cường", "Âu Lâu", "u-ctv"):  # "Yên Bái" alone is the place of issue
        assert other not in text


async def test_bad_requests_are_problems_that_change_nothing(svc: Reporting) -> None:
    c, sc = svc.client, svc.headers("standing_committee")
    cases = [
        (await c.get("/v1/periods/2026-13", headers=sc), 422),
        (await c.get("/v1/periodic-reports/2026-Q5", headers=sc), 422),
        (await c.get("/v1/stats/summary", params={"from": "2026-10-10", "to": "2026-10-01"}, headers=sc), 422),
        (await c.get("/v1/stats/summary", params={"from": "hôm qua"}, headers=sc), 422),
        (await c.get("/v1/stats/trends", params={"granularity": "hour"}, headers=sc), 422),
        (await c.get("/v1/periodic-reports/2026-10", params={"format": "pdf"}, headers=sc), 422),
        (await c.get("/v1/stats/summary"), 401),
        (await c.get("/v1/stats/summary", headers=svc.headers("collaborator", [VAN_PHU])), 403),
        (
            await c.get(
                "/v1/stats/summary", params={"unit_code": YEN_BAI}, headers=svc.headers("unit_officer", [VAN_PHU])
            ),
            404,
        ),
        (await c.get("/v1/surveys/nope/results", headers=sc), 404),
        (await c.post("/v1/periods/2026-10/close", headers=sc), 403),
    ]
    odd = [
        ("/v1/stats/summary", {"from": "0001-01-01", "to": "0001-01-02"}),
        ("/v1/stats/summary", {"to": "9999-12-31T23:59:59+00:00"}),
        ("/v1/stats/summary", {"from": "2026-10-01T00:00:00"}),
        ("/v1/stats/trends", {"from": "2000-01-01", "to": "2100-12-31"}),
        ("/v1/stats/summary", {"unit_code": '{"$ne": 1}'}),
        ("/v1/periods/2026-11%00", {}),
        ("/v1/periodic-reports/" + "9" * 17, {}),
    ]
    for path, params in odd:
        response = await c.get(path, params=params, headers=sc)
        assert response.status_code in (404, 422), (path, params, response.status_code)
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await svc.db["period_snapshots"].count_documents({}) == 0
    period = await c.get("/v1/periods/2026-Q4", headers=sc)
    assert period.json() == {
        "period": "2026-Q4",
        "kind": "quarter",
        "start": "2026-09-15T00:00:00+07:00",
        "end": "2026-12-15T00:00:00+07:00",
        "cutoff_day": 15,
        "previous": "2026-Q3",
    }


async def test_openapi_and_metrics_describe_the_service(svc: Reporting) -> None:
    spec = (await svc.client.get("/openapi.json")).json()
    for path in (
        "/v1/stats/summary",
        "/v1/stats/trends",
        "/v1/periods/{period}",
        "/v1/periods/{period}/close",
        "/v1/periodic-reports/{period}",
        "/v1/surveys/{survey_id}/results",
    ):
        assert path in spec["paths"]
    summary_get = spec["paths"]["/v1/stats/summary"]["get"]
    assert {"401", "403", "404", "422"} <= set(summary_get["responses"])
    assert "application/problem+json" in summary_get["responses"]["422"]["content"]
    metrics = (await svc.client.get("/metrics")).text
    assert 'pulse_reporting_events_projected_total{type="pulse.report.submitted.v1"} 7.0' in metrics
    assert "pulse_reporting_projection_lag_seconds " in metrics


async def test_replaying_every_event_twice_doubles_nothing(svc: Reporting) -> None:
    sc = svc.headers("standing_committee")
    before_summary = await summary(svc)
    before_report = (await svc.client.get("/v1/periodic-reports/2026-10", headers=sc)).json()
    projected = await svc.projected()
    # Once as a redelivery whose inbox record was lost (same ids), once as a re-emission with new ids.
    await svc.db["processed_events"].delete_many({})
    await svc.publish(EVENTS)
    await svc.publish(EVENTS, fresh_ids=True)
    await svc.wait_projected(projected + 2 * len(EVENTS))
    assert await summary(svc) == before_summary
    after_report = (await svc.client.get("/v1/periodic-reports/2026-10", headers=sc)).json()
    assert {k: v for k, v in after_report.items() if k != "generated_at"} == {
        k: v for k, v in before_report.items() if k != "generated_at"
    }
    for name in await svc.db.list_collection_names():
        assert await svc.db[name].count_documents({"ops.0": {"$exists": True}}) == 0
