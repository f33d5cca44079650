"""Hostile input against the running system: Schemathesis on all four OpenAPI documents, the
authorisation matrix (OWASP API1 object level, API3 property level, API5 function level), oversized,
deep and invalid bodies, NoSQL operator injection and forged tokens. Each gets a clear error and
changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pulse_libs.settings import DEV_JWT_SECRET

from tests.support.pulse_system import SERVICES, PulseSystem

from .conftest import VAN_PHU, YEN_BAI, bearer, create_user

pytestmark = pytest.mark.e2e

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/v1/auth/token"),
    # One-tap acknowledgement: the signed link is the credential (no bearer), checked in test_ack_links.
    ("GET", "/v1/ack-links/{token}"),
    ("POST", "/v1/ack-links/{token}"),
}
ROLES = ("collaborator", "unit_officer", "department", "standing_committee", "admin")


@pytest.fixture(scope="module")
def people(system: PulseSystem, admin_token: str) -> dict[str, dict[str, str]]:
    """A token per role, unit-limited roles in Phường Yên Bái, plus a collaborator of Phường Văn Phú."""
    tokens = {
        role: bearer(
            create_user(
                system,
                admin_token,
                username=f"matrix.{role}",
                role=role,
                units=[YEN_BAI] if role in ("collaborator", "unit_officer") else [],
                name=f"Người thử {role}",
            )
        )
        for role in ROLES
        if role != "admin"
    }
    tokens["admin"] = bearer(admin_token)
    tokens["other_collaborator"] = bearer(
        create_user(
            system, admin_token, username="matrix.vanphu", role="collaborator", units=[VAN_PHU], name="Lý Văn Sơn"
        )
    )
    tokens["other_officer"] = bearer(
        create_user(
            system, admin_token, username="matrix.vanphu.cb", role="unit_officer", units=[VAN_PHU], name="Tạ Thu"
        )
    )
    return tokens


def submit(system: PulseSystem, token: dict[str, str], unit: str, title: str) -> str:
    response = httpx.post(
        f"{system.url('intake')}/v1/reports",
        json={
            "unit_code": unit,
            "channel": "zalo",
            "title": title,
            "content": f"{title}: người dân phản ánh trong nhóm Zalo của khu phố.",
            "observed_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        },
        headers=token,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def operations(system: PulseSystem) -> list[tuple[str, str, str]]:
    """(service, method, path) of every operation in the four OpenAPI documents."""
    out = []
    for service in SERVICES:
        spec = httpx.get(f"{system.url(service)}/openapi.json").json()
        for path, methods in spec["paths"].items():
            for method in methods:
                if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    out.append((service, method.upper(), path))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", path)


def test_every_operation_needs_credentials_and_refuses_forged_tokens(system: PulseSystem) -> None:
    claims = {"sub": "x", "name": "x", "role": "admin", "units": [], "iss": "pulse-intake", "aud": "pulse"}
    now = int(time.time())
    forged = {
        "alg none": jwt.encode({**claims, "exp": now + 600}, None, algorithm="none"),
        "wrong key": jwt.encode({**claims, "exp": now + 600}, "not-the-secret-" * 3, algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": now - 60}, DEV_JWT_SECRET, algorithm="HS256"),
        "garbage": "eyJhbGciOiJIUzI1NiJ9.e30.x",
    }
    checked = 0
    with httpx.Client() as client:  # one client: a new one per request loads the CA bundle each time
        for service, method, path in operations(system):
            if (method, path) in PUBLIC or path.startswith("/open311/"):
                continue
            url = system.url(service) + concrete(path)
            anonymous = client.request(method, url, json={})
            assert anonymous.status_code == 401, (service, method, path, anonymous.status_code)
            assert anonymous.headers["content-type"].startswith("application/problem+json")
            for name, token in forged.items():
                response = client.request(method, url, json={}, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401, (service, method, path, name, response.status_code)
            checked += 1
    assert checked >= 40


def test_open311_needs_an_api_key_and_answers_in_its_own_error_format(system: PulseSystem) -> None:
    response = httpx.get(f"{system.url('intake')}/open311/v2/requests.json")
    assert response.status_code in (401, 403)
    assert response.json()[0]["code"] == response.status_code


def test_no_role_gets_a_server_error_on_any_operation(system: PulseSystem, people: dict[str, dict[str, str]]) -> None:
    for service, method, path in operations(system):
        for role in ROLES:
            response = httpx.request(method, system.url(service) + concrete(path), json={}, headers=people[role])
            assert response.status_code < 500, (service, method, path, role, response.status_code, response.text)


FUNCTION_LEVEL = [
    # (service, method, path, body, roles allowed)
    ("intake", "POST", "/v1/users", {}, {"admin"}),
    ("intake", "POST", "/v1/api-keys", {}, {"admin"}),
    ("intake", "POST", "/v1/units", {}, {"admin"}),
    ("intake", "POST", "/v1/orientations", {}, {"department"}),
    ("intake", "POST", "/v1/surveys", {}, {"department"}),
    ("triage", "PUT", "/v1/policies/flash", {}, {"admin"}),
    ("triage", "PUT", "/v1/rules", {}, {"admin"}),
    ("triage", "POST", "/v1/silences", {}, {"department", "admin"}),
    ("triage", "GET", "/v1/hotspots", None, {"department", "standing_committee"}),
    ("triage", "GET", "/v1/escalations", None, {"department", "standing_committee"}),
    ("notify", "POST", "/v1/recipients", {}, {"admin"}),
    ("notify", "POST", "/v1/webhooks", {}, {"admin"}),
    ("notify", "POST", "/v1/bulletins", {}, {"department"}),
    ("reporting", "GET", "/v1/stats/summary", None, {"unit_officer", "department", "standing_committee"}),
]


@pytest.mark.parametrize(("service", "method", "path", "body", "allowed"), FUNCTION_LEVEL)
def test_function_level_authorisation(
    system: PulseSystem,
    people: dict[str, dict[str, str]],
    service: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: set[str],
) -> None:
    for role in ROLES:
        response = httpx.request(method, system.url(service) + path, json=body, headers=people[role])
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.status_code, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code, response.text)


def test_object_level_authorisation_between_two_wards(system: PulseSystem, people: dict[str, dict[str, str]]) -> None:
    intake = system.url("intake")
    mine = submit(system, people["collaborator"], YEN_BAI, "Phản ánh về giá rau tăng")
    theirs = submit(system, people["other_collaborator"], VAN_PHU, "Phản ánh về đèn đường hỏng")
    for token, visible, hidden in (
        (people["collaborator"], mine, theirs),
        (people["other_collaborator"], theirs, mine),
        (people["unit_officer"], mine, theirs),
        (people["other_officer"], theirs, mine),
    ):
        assert httpx.get(f"{intake}/v1/reports/{visible}", headers=token).status_code == 200
        hidden_answer = httpx.get(f"{intake}/v1/reports/{hidden}", headers=token)
        assert hidden_answer.status_code == 404
        listed = httpx.get(f"{intake}/v1/reports", params={"limit": 500}, headers=token).json()["items"]
        assert hidden not in {r["id"] for r in listed}
    # Asking for the other ward explicitly yields nothing, not an error that confirms it exists.
    crossed = httpx.get(f"{intake}/v1/reports", params={"unit_code": VAN_PHU}, headers=people["unit_officer"])
    assert crossed.status_code in (200, 404)
    if crossed.status_code == 200:
        assert crossed.json()["items"] == []
    # A collaborator cannot file a report in a ward that is not theirs.
    refused = httpx.post(
        f"{intake}/v1/reports",
        json={
            "unit_code": VAN_PHU,
            "channel": "zalo",
            "title": "Thử",
            "content": "Thử ngoài phạm vi",
            "observed_at": datetime.now(UTC).isoformat(),
        },
        headers=people["collaborator"],
    )
    assert refused.status_code == 422


def test_collaborator_identity_is_shown_only_to_the_department(
    system: PulseSystem, people: dict[str, dict[str, str]]
) -> None:
    intake = system.url("intake")
    report_id = submit(system, people["collaborator"], YEN_BAI, "Phản ánh về trường học")
    officer_view = httpx.get(f"{intake}/v1/reports/{report_id}", headers=people["unit_officer"]).json()
    department_view = httpx.get(f"{intake}/v1/reports/{report_id}", headers=people["department"]).json()
    identity_fields = {"reporter_id", "reporter_name", "reporter_username", "reporter"}
    assert not identity_fields & {k for k, v in officer_view.items() if v}
    assert identity_fields & {k for k, v in department_view.items() if v}


def test_oversized_deep_and_invalid_bodies_are_refused_and_change_nothing(
    system: PulseSystem, people: dict[str, dict[str, str]]
) -> None:
    intake = system.url("intake")
    token = people["department"]
    before = len(httpx.get(f"{intake}/v1/reports", params={"limit": 500}, headers=token).json()["items"])
    json_headers = {**token, "content-type": "application/json"}
    for service in SERVICES:
        big = httpx.post(
            f"{system.url(service)}/v1/reports", content=b"{" + b" " * 3_000_000 + b"}", headers=json_headers
        )
        assert big.status_code in (404, 405, 413), (service, big.status_code)
    cases = [
        b"{" * 20_000 + b"}" * 20_000,
        b'{"unit_code": "\xff\xfe", "title": "x"}',
        b'{"unit_code": {"$ne": ""}, "channel": "zalo", "title": "x", "content": "x",'
        b' "observed_at": "2026-11-01T00:00:00Z"}',
        b'{"unit_code": "04252", "channel": "zalo", "title": {"$gt": ""}, "content": "x",'
        b' "observed_at": "2026-11-01T00:00:00Z"}',
        b"[]",
        b"null",
    ]
    for body in cases:
        response = httpx.post(f"{intake}/v1/reports", content=body, headers=json_headers)
        assert 400 <= response.status_code < 500, (body[:40], response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
    injected = httpx.get(f"{intake}/v1/reports", params={"unit_code[$ne]": "x", "q": '{"$gt": ""}'}, headers=token)
    assert injected.status_code in (200, 422)
    after = len(httpx.get(f"{intake}/v1/reports", params={"limit": 500}, headers=token).json()["items"])
    assert after == before


def test_replayed_or_tampered_webhook_signatures_do_not_verify() -> None:
    from pulse_notify.domain.signing import new_secret, sign, verify

    secret = new_secret()
    body = b'{"type": "pulse.escalation.raised.v1"}'
    header = sign(secret, "msg_1", 1_764_000_000, body)
    assert verify(secret, "msg_1", 1_764_000_000, body, header)
    assert not verify(secret, "msg_1", 1_764_000_600, body, header)  # same signature, replayed later
    assert not verify(secret, "msg_2", 1_764_000_000, body, header)
    assert not verify(secret, "msg_1", 1_764_000_000, body + b" ", header)


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error_or_schema_violation(
    system: PulseSystem, people: dict[str, dict[str, str]], service: str, tmp_path: Path
) -> None:
    role = "admin" if service == "notify" else "department"
    command = [
        sys.executable,
        "-m",
        "tests.support.schemathesis_cli",  # schemathesis, guarded against a CPython 3.11.7 bug (see there)
        "run",
        f"{system.url(service)}/openapi.json",
        "--header",
        f"Authorization: {people[role]['Authorization']}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
        "--max-examples",
        "12",
        "--phases",
        "examples,fuzzing,stateful",
        "--seed",
        "20261126",
        "--workers",
        "2",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-6000:]
