"""Low-severity hardening of issue 15 in intake, each with the request that used to get through."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pulse_libs.auth import check_api_key, hash_api_key
from pulse_libs.clock import utcnow

from .helpers import YEN_BAI, assert_problem, count, report_body

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
