"""Sign-in, throttling, users, API keys (mirrored through Kafka) and the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from pulse_libs.events import intake as ev
from pulse_libs.events.topics import INTAKE_REGISTRY

from .helpers import VAN_PHU, YEN_BAI, assert_problem, count, read_events, report_body

ADMIN = {"username": "admin", "password": "pulse-admin-dev-password"}


async def _token(intake: Any, username: str, password: str) -> dict[str, str]:
    response = await intake.client.post("/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _user(username: str, **changes: Any) -> dict[str, Any]:
    body = {
        "username": username,
        "password": "mat-khau-rat-dai-2026",
        "full_name": "Nguyễn Thị Hồng Nhung",
        "role": "collaborator",
        "unit_codes": [YEN_BAI],
        "phone": "+84 912 345 678",
    }
    body.update(changes)
    return body


async def test_first_admin_signs_in_and_creates_a_collaborator_who_signs_in(intake: Any) -> None:
    response = await intake.client.post("/v1/auth/token", data=ADMIN)
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] > 0
    admin = {"Authorization": f"Bearer {token['access_token']}"}
    me = (await intake.client.get("/v1/users/me", headers=admin)).json()
    assert me["role"] == "admin"
    assert me["unit_codes"] == []
    listed = await intake.client.get("/v1/users", headers=admin)
    assert listed.status_code == 200
    assert "admin" in {u["username"] for u in listed.json()["items"]}
    created = await intake.client.post("/v1/users", json=_user("nhung.nt"), headers=admin)
    assert created.status_code == 201, created.text
    user = created.json()
    assert "password" not in user
    assert "password_hash" not in user
    stored = await intake.db["users"].find_one({"username": "nhung.nt"})
    assert stored["password_hash"].startswith("$argon2id$")
    collaborator = await _token(intake, "nhung.nt", "mat-khau-rat-dai-2026")
    me = (await intake.client.get("/v1/users/me", headers=collaborator)).json()
    assert me["full_name"] == "Nguyễn Thị Hồng Nhung"
    assert me["unit_codes"] == [YEN_BAI]
    report = await intake.client.post("/v1/reports", json=report_body(), headers=collaborator)
    assert report.status_code == 201
    assert await count(intake.db, "audit_log", {"action": "user.create", "target": user["id"]}) == 1


BAD_USERS = [
    ("unknown role", {"role": "boss"}, "role"),
    ("unknown unit", {"unit_codes": ["00000"]}, "unit_codes"),
    ("collaborator without unit", {"unit_codes": []}, "unit_codes"),
    ("short password", {"password": "ngan"}, "password"),
    ("bad username", {"username": "Nhung NT"}, "username"),
    ("unknown field", {"is_admin": True}, "is_admin"),
    ("object as string", {"full_name": {"$gt": ""}}, "full_name"),
]


@pytest.mark.parametrize(("case", "changes", "field"), BAD_USERS, ids=[c[0] for c in BAD_USERS])
async def test_bad_users_are_refused(intake: Any, case: str, changes: dict[str, Any], field: str) -> None:
    before = await count(intake.db, "users")
    response = await intake.client.post(
        "/v1/users", json={**_user("bad.user"), **changes}, headers=intake.headers("admin")
    )
    assert_problem(response, 422, field)
    assert await count(intake.db, "users") == before


async def test_duplicate_username_and_non_admin(intake: Any) -> None:
    admin = intake.headers("admin")
    assert (await intake.client.post("/v1/users", json=_user("trung.lv"), headers=admin)).status_code == 201
    assert_problem(await intake.client.post("/v1/users", json=_user("trung.lv"), headers=admin), 409, "username")
    department = intake.headers("department")
    assert_problem(await intake.client.post("/v1/users", json=_user("x.y"), headers=department), 403)
    assert_problem(await intake.client.get("/v1/users/me"), 401)


async def test_wrong_passwords_are_throttled_per_username(intake: Any) -> None:
    attempts = intake.settings.login_max_failures_per_user
    for _ in range(attempts):
        response = await intake.client.post("/v1/auth/token", data={"username": "khach", "password": "sai-mat-khau"})
        assert_problem(response, 401)
    throttled = await intake.client.post("/v1/auth/token", data={"username": "khach", "password": "sai-mat-khau"})
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) >= 1
    metrics = (await intake.client.get("/metrics")).text
    assert "pulse_intake_login_failures_total" in metrics
    assert_problem(await intake.client.post("/v1/auth/token", data={"username": "admin"}), 422)


async def test_api_key_is_issued_once_mirrored_limited_and_revoked(intake: Any) -> None:
    admin = intake.headers("admin")
    body = {"name": "Cổng dịch vụ công tỉnh", "scopes": ["reports:write", "reports:read"], "unit_codes": [YEN_BAI]}
    issued = await intake.client.post("/v1/api-keys", json=body, headers=admin)
    assert issued.status_code == 201, issued.text
    key_id, key = issued.json()["id"], issued.json()["key"]
    record = (await intake.client.get(issued.headers["Location"], headers=admin)).json()
    assert record["scopes"] == ["reports:read", "reports:write"]
    assert "key_hash" not in record
    listed = (await intake.client.get("/v1/api-keys", headers=admin)).json()["items"]
    assert all("key" not in k and "key_hash" not in k for k in listed)

    system = {"X-API-Key": key}
    ok = await intake.client.post("/v1/reports", json=report_body(external_ref="dvc-1"), headers=system)
    assert ok.status_code == 201
    outside = await intake.client.post("/v1/reports", json=report_body(unit=VAN_PHU), headers=system)
    assert outside.json()["errors"] == [{"field": "unit_code", "message": "unknown or outside your units"}]
    assert (await intake.client.get(f"/v1/reports/{ok.json()['id']}", headers=system)).status_code == 200

    assert (await intake.client.delete(f"/v1/api-keys/{key_id}", headers=admin)).status_code == 204
    assert_problem(await intake.client.post("/v1/reports", json=report_body(), headers=system), 401)
    assert_problem(await intake.client.delete("/v1/api-keys/khong-co", headers=admin), 404)

    events = await read_events(
        intake.settings,
        INTAKE_REGISTRY,
        lambda es: {ev.API_KEY_ISSUED, ev.API_KEY_REVOKED} <= {e.type for e in es if e.key == key_id},
    )
    issued_event = next(e for e in events if e.type == ev.API_KEY_ISSUED and e.key == key_id)
    assert key not in str(issued_event.data)
    assert issued_event.data["unit_codes"] == [YEN_BAI]
    assert await count(intake.db, "audit_log", {"target": key_id}) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "scopes": ["users:write"]}, "scopes"),
        ({"name": "X", "scopes": []}, "scopes"),
        ({"name": "X", "scopes": ["reports:read"], "unit_codes": ["00000"]}, "unit_codes"),
        ({"name": "X", "scopes": ["reports:read"], "secret": "x"}, "secret"),
    ],
)
async def test_bad_api_key_requests(intake: Any, body: dict[str, Any], field: str) -> None:
    before = await count(intake.db, "api_keys")
    assert_problem(await intake.client.post("/v1/api-keys", json=body, headers=intake.headers("admin")), 422, field)
    assert await count(intake.db, "api_keys") == before


async def test_audit_log_is_admin_only(intake: Any) -> None:
    entries = await intake.client.get("/v1/audit", headers=intake.headers("admin"))
    assert entries.status_code == 200
    assert "items" in entries.json()
    assert_problem(await intake.client.get("/v1/audit", headers=intake.headers("department")), 403)
