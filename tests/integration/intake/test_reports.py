"""Reports over HTTP against the real store and Kafka: durability, validation, idempotency, scope, search."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.topics import INTAKE_REPORTS

from .helpers import NAM_CUONG, VAN_PHU, YEN_BAI, assert_problem, count, read_events, report_body


async def test_report_is_stored_and_its_event_arrives_on_kafka(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI])
    body = report_body(title="Hoà bình  ", content="Nước thải của xưởng chế biến gỗ chảy ra suối, bốc mùi hôi thối.")
    response = await intake.client.post("/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    report = response.json()
    assert response.headers["Location"] == f"/v1/reports/{report['id']}"
    assert report["status"] == "received"
    assert report["title"] == "Hoà bình"
    assert report["reporter_id"] is None  # a collaborator never sees identities
    stored = await intake.db["reports"].find_one({"_id": report["id"]})
    assert stored is not None
    assert stored["unit_code"] == YEN_BAI

    events = await read_events(
        intake.settings, INTAKE_REPORTS, lambda es: any(e.data.get("report_id") == report["id"] for e in es)
    )
    event = next(e for e in events if e.data.get("report_id") == report["id"])
    assert event.type == ev.REPORT_SUBMITTED
    assert event.key == YEN_BAI
    assert event.data["content"].startswith("Nước thải")
    assert event.data["reporter_kind"] == "user"


async def test_text_is_normalised_to_nfc(intake: Any) -> None:
    decomposed = "Đất đai".replace("ấ", "a\u0302\u0301")
    response = await intake.client.post(
        "/v1/reports", json=report_body(title=decomposed), headers=intake.headers("collaborator", [YEN_BAI])
    )
    assert response.status_code == 201
    assert response.json()["title"] == "Đất đai"


def _future() -> str:
    return (utcnow() + timedelta(hours=3)).isoformat()


BAD_REPORTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown field", {"priority": "high"}, "priority"),
    ("operator injection in unit_code", {"unit_code": {"$gt": ""}}, "unit_code"),
    ("operator injection in title", {"title": {"$ne": None}}, "title"),
    ("number instead of string", {"content": 12345}, "content"),
    ("empty title", {"title": "   "}, "title"),
    ("title too long", {"title": "a" * 201}, "title"),
    ("content too long", {"content": "b" * 10_001}, "content"),
    ("future observed_at", {"observed_at": _future()}, "observed_at"),
    ("observed_at without offset", {"observed_at": "2026-11-20T08:00:00"}, "observed_at"),
    ("unknown channel", {"channel": "pigeon"}, "channel"),
    ("unknown unit", {"unit_code": "99999"}, "unit_code"),
    ("unit outside the caller's units", {"unit_code": VAN_PHU}, "unit_code"),
    ("unknown topic", {"topic_codes": ["khong-co"]}, "topic_codes"),
    ("negative people_count", {"people_count": -1}, "people_count"),
    ("boolean people_count", {"people_count": True}, "people_count"),
    ("latitude out of range", {"location": {"lat": 91, "lon": 104}}, "location.lat"),
    ("bad sha256", {"attachments": [{"url": "https://a.vn/x.jpg", "media_type": "image/jpeg", "sha256": "x"}]},
     "attachments.0.sha256"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "changes", "field"), BAD_REPORTS, ids=[c[0] for c in BAD_REPORTS])
async def test_bad_reports_are_refused_and_change_nothing(
    intake: Any, case: str, changes: dict[str, Any], field: str
) -> None:
    before = await count(intake.db, "reports")
    body = report_body(**changes)
    response = await intake.client.post("/v1/reports", json=body, headers=intake.headers("collaborator", [YEN_BAI]))
    assert_problem(response, 422, field)
    assert await count(intake.db, "reports") == before


async def test_unknown_unit_and_foreign_unit_get_the_same_answer(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI])
    unknown = await intake.client.post("/v1/reports", json=report_body(unit="99999"), headers=headers)
    foreign = await intake.client.post("/v1/reports", json=report_body(unit=VAN_PHU), headers=headers)
    assert unknown.json()["errors"] == foreign.json()["errors"]


async def test_malformed_json_and_oversized_bodies(intake: Any) -> None:
    headers = {**intake.headers("collaborator", [YEN_BAI]), "content-type": "application/json"}
    before = await count(intake.db, "reports")
    assert_problem(await intake.client.post("/v1/reports", content=b"{not json", headers=headers), 422)
    assert_problem(await intake.client.post("/v1/reports", content=b"[1, 2]", headers=headers), 422)
    big = report_body(content="x" * 2_000_000)
    assert_problem(await intake.client.post("/v1/reports", json=big, headers=headers), 413)
    assert await count(intake.db, "reports") == before


async def test_authentication_and_scope_are_required(intake: Any) -> None:
    assert_problem(await intake.client.post("/v1/reports", json=report_body()), 401)
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(await intake.client.post("/v1/reports", json=report_body(), headers=bad), 401)
    committee = intake.headers("standing_committee")
    assert_problem(await intake.client.post("/v1/reports", json=report_body(), headers=committee), 403)
    assert_problem(await intake.client.get("/v1/reports", headers=committee), 403)


async def test_idempotency_key_replays_the_same_answer_and_refuses_another_body(intake: Any) -> None:
    headers = {**intake.headers("collaborator", [YEN_BAI], user_id="u-idem"), "Idempotency-Key": uuid.uuid4().hex}
    body = report_body()
    first = await intake.client.post("/v1/reports", json=body, headers=headers)
    again = await intake.client.post("/v1/reports", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert await count(intake.db, "reports", {"reporter_id": "u-idem"}) == 1
    other = await intake.client.post("/v1/reports", json=report_body(title="Khác"), headers=headers)
    assert_problem(other, 409)
    assert await count(intake.db, "reports", {"reporter_id": "u-idem"}) == 1


async def test_external_ref_is_unique_per_reporter(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI], user_id="u-ref")
    first = await intake.client.post("/v1/reports", json=report_body(external_ref="zalo-778"), headers=headers)
    assert first.status_code == 201
    second = await intake.client.post("/v1/reports", json=report_body(external_ref="zalo-778"), headers=headers)
    assert assert_problem(second, 409)["id"] == first.json()["id"]
    other_user = intake.headers("collaborator", [YEN_BAI], user_id="u-ref-2")
    assert (
        await intake.client.post("/v1/reports", json=report_body(external_ref="zalo-778"), headers=other_user)
    ).status_code == 201


async def test_offline_batch_resent_twice_makes_no_duplicates(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI], user_id="u-offline")
    items = [report_body(client_id=f"phone-1-{i}", title=f"Phản ánh số {i}") for i in range(5)]
    items.append({"unit_code": YEN_BAI, "title": "thiếu trường"})
    first = await intake.client.post("/v1/reports:batch", json={"reports": items}, headers=headers)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["status"] for r in results] == [201] * 5 + [422]
    assert {e["field"] for e in results[5]["errors"]} >= {"channel", "content", "observed_at"}
    second = await intake.client.post("/v1/reports:batch", json={"reports": items}, headers=headers)
    again = second.json()["results"]
    assert [r["status"] for r in again] == [409] * 5 + [422]
    assert [r["id"] for r in again[:5]] == [r["id"] for r in results[:5]]
    assert await count(intake.db, "reports", {"reporter_id": "u-offline"}) == 5


async def test_batch_limits(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI])
    assert_problem(await intake.client.post("/v1/reports:batch", json={"reports": []}, headers=headers), 422)
    too_many = {"reports": [report_body()] * 501}
    assert_problem(await intake.client.post("/v1/reports:batch", json=too_many, headers=headers), 422)
    assert_problem(await intake.client.post("/v1/reports:batch", json={"reports": [], "x": 1}, headers=headers), 422)


async def test_scope_isolation_between_two_wards(intake: Any) -> None:
    ward_a = intake.headers("collaborator", [NAM_CUONG], user_id="u-nam-cuong")
    ward_b = intake.headers("collaborator", [VAN_PHU], user_id="u-van-phu")
    a = (await intake.client.post("/v1/reports", json=report_body(unit=NAM_CUONG), headers=ward_a)).json()
    b = (await intake.client.post("/v1/reports", json=report_body(unit=VAN_PHU), headers=ward_b)).json()
    assert (await intake.client.get(f"/v1/reports/{a['id']}", headers=ward_a)).status_code == 200
    assert_problem(await intake.client.get(f"/v1/reports/{a['id']}", headers=ward_b), 404)
    assert_problem(await intake.client.get(f"/v1/reports/{b['id']}", headers=ward_a), 404)
    # Another collaborator of the same ward sees only their own reports; the ward's officer sees all of it.
    colleague = intake.headers("collaborator", [NAM_CUONG], user_id="u-nam-cuong-2")
    assert_problem(await intake.client.get(f"/v1/reports/{a['id']}", headers=colleague), 404)
    officer_a = intake.headers("unit_officer", [NAM_CUONG])
    listed = (await intake.client.get("/v1/reports", headers=officer_a)).json()["items"]
    assert a["id"] in {r["id"] for r in listed}
    assert {r["unit_code"] for r in listed} == {NAM_CUONG}
    assert (await intake.client.get(f"/v1/reports?unit_code={VAN_PHU}", headers=officer_a)).json()["items"] == []
    assert_problem(await intake.client.get(f"/v1/reports/{b['id']}", headers=officer_a), 404)
    department = intake.headers("department")
    assert (await intake.client.get(f"/v1/reports/{b['id']}", headers=department)).status_code == 200


async def test_identity_only_for_department_and_each_read_is_audited(intake: Any) -> None:
    collaborator = intake.headers("collaborator", [AU_LAU := "04543"], user_id="u-au-lau")
    report = (await intake.client.post("/v1/reports", json=report_body(unit=AU_LAU), headers=collaborator)).json()
    officer = (
        await intake.client.get(f"/v1/reports/{report['id']}", headers=intake.headers("unit_officer", [AU_LAU]))
    ).json()
    assert officer["reporter_id"] is None
    assert officer["reporter_name"] is None
    before = await count(intake.db, "audit_log", {"action": "report.identity_read"})
    seen = (await intake.client.get(f"/v1/reports/{report['id']}", headers=intake.headers("department"))).json()
    assert seen["reporter_id"] == "u-au-lau"
    assert seen["reporter_name"] == "collaborator-tester"
    assert await count(intake.db, "audit_log", {"action": "report.identity_read"}) == before + 1


async def test_search_ignores_diacritics_and_filters_combine(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI], user_id="u-search")
    await intake.client.post(
        "/v1/reports",
        json=report_body(title="Tranh chấp đất đai ở tổ 7", content="Hai hộ tranh chấp ranh giới đất, có xô xát nhẹ.",
                         topic_codes=["dat-dai"], channel="meeting"),
        headers=headers,
    )  # fmt: skip
    found = (await intake.client.get("/v1/reports", params={"q": "DAT dai"}, headers=headers)).json()["items"]
    assert [r["title"] for r in found] == ["Tranh chấp đất đai ở tổ 7"]
    assert len((await intake.client.get("/v1/reports", params={"q": "xo xat"}, headers=headers)).json()["items"]) == 1
    assert (await intake.client.get("/v1/reports", params={"q": "đất", "channel": "zalo"}, headers=headers)).json()[
        "items"
    ] == []
    by_topic = await intake.client.get(
        "/v1/reports", params={"topic_code": "dat-dai", "status": "received"}, headers=headers
    )
    assert len(by_topic.json()["items"]) == 1
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    assert (await intake.client.get("/v1/reports", params={"from": later}, headers=headers)).json()["items"] == []


async def test_list_pages_with_a_cursor(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI], user_id="u-pages")
    for i in range(5):
        await intake.client.post("/v1/reports", json=report_body(title=f"Trang {i}"), headers=headers)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await intake.client.get("/v1/reports", params=params, headers=headers)).json()
        seen += [r["title"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Trang {i}" for i in reversed(range(5))]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"cursor": "%%%"}, {"status": "lost"}, {"urgency": "panic"}, {"from": "yesterday"}],
)
async def test_bad_list_parameters_are_problems(intake: Any, params: dict[str, Any]) -> None:
    response = await intake.client.get("/v1/reports", params=params, headers=intake.headers("department"))
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_openapi_describes_the_routes(intake: Any) -> None:
    spec = (await intake.client.get("/openapi.json")).json()
    post = spec["paths"]["/v1/reports"]["post"]
    assert {"201", "401", "403", "409", "422", "503"} <= set(post["responses"])
    assert "/v1/reports:batch" in spec["paths"]
    assert "/open311/v2/requests.json" in spec["paths"]


async def test_unknown_report_is_404(intake: Any) -> None:
    assert_problem(await intake.client.get("/v1/reports/nope", headers=intake.headers("department")), 404)


async def test_metrics_count_accepted_and_rejected_reports(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI])
    await intake.client.post("/v1/reports", json=report_body(channel="hotline"), headers=headers)
    await intake.client.post("/v1/reports", json=report_body(unit="99999"), headers=headers)
    await intake.client.post("/v1/reports", json=report_body(title={"$gt": ""}), headers=headers)
    metrics = (await intake.client.get("/metrics")).text
    assert 'pulse_intake_reports_rejected_total{reason="validation"}' in metrics
    assert 'pulse_intake_reports_accepted_total{channel="hotline"} 1.0' in metrics
    assert 'pulse_intake_reports_rejected_total{reason="unit"}' in metrics


async def test_batch_items_that_are_not_objects_fail_alone(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI])
    response = await intake.client.post(
        "/v1/reports:batch", json={"reports": [1, "x", report_body(unit=VAN_PHU), report_body()]}, headers=headers
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == [422, 422, 422, 201]
    assert results[2]["errors"] == [{"field": "unit_code", "message": "unknown or outside your units"}]
