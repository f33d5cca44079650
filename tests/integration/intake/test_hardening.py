"""Low-severity hardening of issue 15 in intake, each with the request that used to get through."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pulse_libs.auth import check_api_key, hash_api_key
from pulse_libs.clock import utcnow
from pulse_libs.events import triage as tev
from pulse_libs.events.common import Urgency
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import TRIAGE_DECISIONS
from pulse_libs.kafka.producer import EventProducer

from .helpers import YEN_BAI, assert_problem, count, eventually, report_body

ADMIN = {"username": "admin", "password": "pulse-admin-dev-password"}


async def _admin(intake: Any) -> dict[str, str]:
    token = (await intake.client.post("/v1/auth/token", data=ADMIN)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_an_api_key_with_an_empty_unit_list_is_refused_not_unlimited(intake: Any) -> None:
    admin = await _admin(intake)
    before = await count(intake.db, "api_keys")
    response = await intake.client.post(
        "/v1/api-keys", json={"name": "Cổng 1022", "scopes": ["reports:write"], "unit_codes": []}, headers=admin
    )
    assert_problem(response, 422, "unit_codes")
    assert await count(intake.db, "api_keys") == before
    # A mirrored record with an empty list (from an older intake) limits the key to nothing.
    key = "pk_abc123_secret"
    principal = check_api_key(key, {"_id": "abc123", "key_hash": hash_api_key(key), "scopes": [], "unit_codes": []})
    assert principal.unit_codes == frozenset()
    assert not principal.sees_unit(YEN_BAI)


async def test_topic_codes_with_a_dot_are_refused(intake: Any) -> None:
    dept = intake.headers("department")
    response = await intake.client.post(
        "/v1/topics", json={"code": "dat.dai", "name": "Đất đai", "keywords": []}, headers=dept
    )
    assert_problem(response, 422)
    assert await intake.db["topics"].find_one({"_id": "dat.dai"}) is None
    for_report = report_body(topic_codes=["gia.ca"])
    assert_problem(await intake.client.post("/v1/reports", json=for_report, headers=dept), 422)


async def test_observed_at_far_in_the_past_is_refused(intake: Any) -> None:
    dept = intake.headers("department", [YEN_BAI])
    before = await count(intake.db, "reports")
    old = (utcnow() - timedelta(days=800)).isoformat()
    assert_problem(await intake.client.post("/v1/reports", json=report_body(observed_at=old), headers=dept), 422)
    batch = await intake.client.post(
        "/v1/reports:batch", json={"reports": [report_body(observed_at=old)]}, headers=dept
    )
    assert batch.status_code == 200
    assert batch.json()["results"][0]["status"] == 422
    assert await count(intake.db, "reports") == before
    recent = (utcnow() - timedelta(days=300)).isoformat()
    assert (
        await intake.client.post("/v1/reports", json=report_body(observed_at=recent), headers=dept)
    ).status_code == 201


async def test_answers_carry_security_headers(intake: Any) -> None:
    response = await intake.client.get("/v1/users/me", headers=intake.headers("collaborator", [YEN_BAI]))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_roles_without_identity_rights_cannot_group_reports_by_reporter(intake: Any) -> None:
    author = intake.headers("collaborator", [YEN_BAI], user_id="u-ctv-linking")
    created = await intake.client.post("/v1/reports", json=report_body(client_id="phone-7f3a-0001"), headers=author)
    assert created.status_code == 201
    report_id = created.json()["id"]
    assert created.json()["client_id"] == "phone-7f3a-0001"  # the reporter sees their own reference
    now = utcnow()
    decision = tev.ReportTriaged(
        report_id=report_id, unit_code=YEN_BAI, urgency=Urgency.URGENT, topic_codes=["gia-ca"], sensitive=False,
        score=0.5, reasons=[], hotspot_id="hs-link", merged=True, channel="zalo", observed_at=now, received_at=now,
        decided_at=now,
    )  # fmt: skip
    producer = EventProducer(intake.settings, client_id="test-linking")
    try:
        await producer.publish(
            TRIAGE_DECISIONS, new_event(tev.REPORT_TRIAGED, source=tev.SOURCE, data=decision, key=YEN_BAI)
        )

        async def merged() -> bool:
            doc = await intake.db["reports"].find_one({"_id": report_id})
            return bool(doc and doc.get("status") == "merged")

        await eventually(merged)
    finally:
        await producer.stop()
    officer = intake.headers("unit_officer", [YEN_BAI])
    seen = (await intake.client.get(f"/v1/reports/{report_id}", headers=officer)).json()
    assert seen["client_id"] is None
    assert seen["status"] == "triaged"
    assert "reporter_id" not in seen or seen["reporter_id"] is None
    listed = await intake.client.get("/v1/reports", params={"status": "merged"}, headers=officer)
    assert listed.json()["items"] == []
    triaged = await intake.client.get("/v1/reports", params={"status": "triaged"}, headers=officer)
    assert report_id in {r["id"] for r in triaged.json()["items"]}
    dept = (await intake.client.get(f"/v1/reports/{report_id}", headers=intake.headers("department"))).json()
    assert dept["client_id"] == "phone-7f3a-0001"
    assert dept["status"] == "merged"
    own = (await intake.client.get(f"/v1/reports/{report_id}", headers=author)).json()
    assert own["client_id"] == "phone-7f3a-0001"
