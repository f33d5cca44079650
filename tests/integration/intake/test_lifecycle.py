"""The people lifecycle against the real store and Kafka: directory events, revocation, passwords, agencies."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.handlers.agencies import seed_agencies
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events import triage as tev
from pulse_libs.events.common import Urgency
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_DIRECTORY, TRIAGE_DECISIONS, TRIAGE_ESCALATIONS
from pulse_libs.kafka.producer import EventProducer

from .helpers import VAN_PHU, YEN_BAI, assert_problem, count, eventually, read_events, report_body

ADMIN = {"username": "admin", "password": "pulse-admin-dev-password"}
PASSWORD = "mat-khau-rat-dai-2026"


async def _sign_in(intake: Any, username: str, password: str = PASSWORD) -> httpx.Response:
    response: httpx.Response = await intake.client.post(
        "/v1/auth/token", data={"username": username, "password": password}
    )
    return response


async def _bearer(intake: Any, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await _sign_in(intake, username, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _admin(intake: Any) -> dict[str, str]:
    return await _bearer(intake, ADMIN["username"], ADMIN["password"])


async def _create(intake: Any, admin: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {
        "username": f"ctv.{uuid.uuid4().hex[:8]}",
        "password": PASSWORD,
        "full_name": "Nguyễn Thị Hồng Nhung",
        "role": "collaborator",
        "unit_codes": [YEN_BAI],
        "phone": "+84 912 345 678",
    }
    body.update(changes)
    response = await intake.client.post("/v1/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def _refused_within(intake: Any, headers: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds until the token is refused (401); fails after `timeout`."""
    started = asyncio.get_running_loop().time()

    async def refused() -> bool:
        response = await intake.client.get("/v1/users/me", headers=headers)
        return bool(response.status_code == 401)

    await eventually(refused, timeout=timeout)
    return asyncio.get_running_loop().time() - started


async def test_user_changes_are_published_on_the_directory_topic(intake: Any) -> None:
    admin = await _admin(intake)
    user = await _create(intake, admin, zalo_user_id="8412345678901234567", email="nhung@laocai.gov.vn")
    patched = await intake.client.patch(f"/v1/users/{user['id']}", json={"phone": "+84 988 000 111"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2

    def both(events: list[Any]) -> bool:
        return {e.data.get("version") for e in events if e.data.get("user_id") == user["id"]} >= {1, 2}

    events = [e for e in await read_events(intake.settings, INTAKE_DIRECTORY, both) if e.key == user["id"]]
    assert {e.type for e in events} == {ev.USER_CHANGED}
    latest = ev.UserChanged.model_validate(max(events, key=lambda e: e.data["version"]).data)
    assert latest.username == user["username"]
    assert latest.full_name == "Nguyễn Thị Hồng Nhung"
    assert latest.phone == "+84 988 000 111"
    assert latest.zalo_user_id == "8412345678901234567"
    assert latest.active is True
    assert latest.access_version == 0  # a phone change does not cut access
    assert all("password" not in str(e.data) for e in events)


async def test_deactivation_revokes_a_token_within_seconds(intake: Any) -> None:
    admin = await _admin(intake)
    user = await _create(intake, admin)
    headers = await _bearer(intake, user["username"])
    assert (await intake.client.get("/v1/reports", headers=headers)).status_code == 200
    response = await intake.client.patch(f"/v1/users/{user['id']}", json={"active": False}, headers=admin)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert await _refused_within(intake, headers) < 60
    assert_problem(await intake.client.get("/v1/reports", headers=headers), 401)
    assert_problem(await _sign_in(intake, user["username"]), 401)
    inactive = await intake.client.get("/v1/users", params={"active": "false"}, headers=admin)
    assert user["id"] in {u["id"] for u in inactive.json()["items"]}


async def test_a_role_or_unit_change_revokes_old_tokens_but_new_ones_work(intake: Any) -> None:
    admin = await _admin(intake)
    user = await _create(intake, admin)
    old = await _bearer(intake, user["username"])
    response = await intake.client.patch(f"/v1/users/{user['id']}", json={"unit_codes": [VAN_PHU]}, headers=admin)
    assert response.status_code == 200
    await _refused_within(intake, old)
    new = await _bearer(intake, user["username"])
    me = await intake.client.get("/v1/users/me", headers=new)
    assert me.status_code == 200
    assert me.json()["unit_codes"] == [VAN_PHU]


async def test_a_term_that_has_ended_ends_access(intake: Any) -> None:
    admin = await _admin(intake)
    user = await _create(intake, admin)
    headers = await _bearer(intake, user["username"])
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    response = await intake.client.patch(f"/v1/users/{user['id']}", json={"term_ends_on": yesterday}, headers=admin)
    assert response.status_code == 200
    assert response.json()["term_ends_on"] == yesterday
    await _refused_within(intake, headers)
    assert_problem(await _sign_in(intake, user["username"]), 401)


async def test_password_reset_gives_a_one_time_password_that_must_be_changed(intake: Any) -> None:
    admin = await _admin(intake)
    user = await _create(intake, admin)
    before = await _bearer(intake, user["username"])
    reset = await intake.client.post(f"/v1/users/{user['id']}/password-reset", headers=admin)
    assert reset.status_code == 200, reset.text
    one_time = reset.json()["one_time_password"]
    assert len(one_time) >= 12
    assert_problem(await _sign_in(intake, user["username"]), 401)  # the old password is gone
    signed = await _sign_in(intake, user["username"], one_time)
    assert signed.status_code == 200
    assert signed.json()["password_change_required"] is True
    limited = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert_problem(await intake.client.post("/v1/reports", json=report_body(), headers=limited), 403)
    wrong = await intake.client.post(
        "/v1/users/me/password",
        json={"current_password": "khong-dung-mat-khau", "new_password": "mat-khau-moi-2026-x"},
        headers=limited,
    )
    assert_problem(wrong, 422, "current_password")
    changed = await intake.client.post(
        "/v1/users/me/password",
        json={"current_password": one_time, "new_password": "mat-khau-moi-2026-x"},
        headers=limited,
    )
    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await intake.client.post("/v1/reports", json=report_body(), headers=fresh)).status_code == 201
    await _refused_within(intake, before)
    assert_problem(await _sign_in(intake, user["username"], one_time), 401)
    assert (await _sign_in(intake, user["username"], "mat-khau-moi-2026-x")).status_code == 200
    assert await count(intake.db, "audit_log", {"action": "user.password_reset", "target": user["id"]}) == 1


async def test_user_list_filters_and_bad_patches(intake: Any) -> None:
    admin = await _admin(intake)
    officer = await _create(intake, admin, role="unit_officer", unit_codes=[VAN_PHU], full_name="Trần Văn Đức")
    found = await intake.client.get(
        "/v1/users", params={"q": "tran van duc", "role": "unit_officer", "unit_code": VAN_PHU}, headers=admin
    )
    assert found.status_code == 200
    assert [u["id"] for u in found.json()["items"]] == [officer["id"]]
    none = await intake.client.get("/v1/users", params={"q": "tran van duc", "role": "collaborator"}, headers=admin)
    assert none.json()["items"] == []
    page = await intake.client.get("/v1/users", params={"limit": 1}, headers=admin)
    assert page.json()["next_cursor"] is not None
    assert_problem(await intake.client.get("/v1/users", params={"role": "king"}, headers=admin), 422)
    before = await intake.db["users"].find_one({"_id": officer["id"]})
    for body, field in (
        ({"role": "collaborator", "unit_codes": []}, "unit_codes"),
        ({"role": "agency"}, "agency_code"),
        ({"agency_code": "UBND-" + VAN_PHU}, "agency_code"),
        ({"unit_codes": ["99999"]}, "unit_codes"),
        ({"password_hash": "x"}, "password_hash"),
        ({"active": "no"}, "active"),
    ):
        response = await intake.client.patch(f"/v1/users/{officer['id']}", json=body, headers=admin)
        problem = assert_problem(response, 422)
        assert any(field in e["field"] for e in problem["errors"]), problem
    assert await intake.db["users"].find_one({"_id": officer["id"]}) == before
    assert_problem(await intake.client.patch("/v1/users/nobody", json={"phone": "0912345678"}, headers=admin), 404)
    collaborator = await _bearer(intake, officer["username"])
    assert_problem(await intake.client.get("/v1/users", headers=collaborator), 403)
    assert_problem(await intake.client.patch(f"/v1/users/{officer['id']}", json={}, headers=collaborator), 403)


async def test_agencies_are_seeded_managed_and_published(intake: Any) -> None:
    admin = await _admin(intake)
    committee = await intake.client.get(f"/v1/agencies/UBND-{YEN_BAI}", headers=admin)
    assert committee.status_code == 200, committee.text
    assert committee.json()["name"] == "Ủy ban nhân dân phường Yên Bái"
    assert committee.json()["kind"] == "people_committee"
    assert (
        await seed_agencies(store=IntakeStore.of(intake.db)) == 0
    )  # a restart (or a second replica) creates nothing again
    committees = await intake.db["agencies"].count_documents({"kind": "people_committee"})
    assert committees == await intake.db["units"].count_documents({"kind": {"$in": ["ward", "commune"]}})
    police = await intake.client.get("/v1/agencies", params={"kind": "police"}, headers=admin)
    assert [a["code"] for a in police.json()["items"]] == ["CA-TINH"]
    code = f"PHONG-{uuid.uuid4().hex[:6]}"
    created = await intake.client.post(
        "/v1/agencies",
        json={"code": code, "name": "Phòng Tài nguyên và Môi trường", "kind": "department", "unit_code": YEN_BAI},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert_problem(
        await intake.client.post(
            "/v1/agencies", json={"code": code, "name": "Trùng", "kind": "department"}, headers=admin
        ),
        409,
        "code",
    )
    assert_problem(
        await intake.client.post("/v1/agencies", json={"code": "X1", "name": "Sai", "kind": "army"}, headers=admin),
        422,
    )
    renamed = await intake.client.patch(
        f"/v1/agencies/{code}", json={"name": "Phòng Nông nghiệp và Môi trường"}, headers=admin
    )
    assert renamed.json()["name"] == "Phòng Nông nghiệp và Môi trường"
    agency_user = await _create(intake, admin, role="agency", unit_codes=[], agency_code=code, full_name="Lê Văn Tâm")
    assert agency_user["agency_code"] == code
    token = (await _sign_in(intake, agency_user["username"])).json()["access_token"]
    principal = await intake.app.state.token_verifier.verify(token)
    assert principal.agency_code == code
    assert principal.role == "agency"

    def renamed_seen(events: list[Any]) -> bool:
        return any(e.key == code and e.data.get("name") == "Phòng Nông nghiệp và Môi trường" for e in events)

    events = await read_events(intake.settings, INTAKE_DIRECTORY, renamed_seen)
    mine = [ev.AgencyChanged.model_validate(e.data) for e in events if e.key == code]
    assert [a.name for a in mine] == ["Phòng Tài nguyên và Môi trường", "Phòng Nông nghiệp và Môi trường"]
    assert any(e.key == f"UBND-{YEN_BAI}" for e in events)
    collaborator = await _bearer(intake, (await _create(intake, admin))["username"])
    assert_problem(await intake.client.get("/v1/agencies", headers=collaborator), 403)
    assert_problem(await intake.client.get("/v1/agencies/NOPE", headers=admin), 404)


def _escalation_resolved(report_ids: list[str], hotspot_id: str, outcome: str) -> Any:
    now = utcnow()
    data = tev.EscalationChanged(
        escalation_id=f"esc-{hotspot_id}", hotspot_id=hotspot_id, unit_code=YEN_BAI, topic_code="gia-ca",
        urgency=Urgency.FLASH, level=2, target="standing_committee", state="resolved", raised_at=now,
        ack_deadline=None, report_ids=report_ids, report_count=len(report_ids), source_count=2, channels=["zalo"],
        first_seen=now, last_seen=now, comment=outcome, resolved_at=now, changed_at=now,
    )  # fmt: skip
    event = new_event(tev.ESCALATION_RESOLVED, source=tev.SOURCE, data=data, key=hotspot_id)
    event.data.update({"outcome": outcome, "notify_reporters": True, "reporter_ids": []})
    return event


def _triaged(report_id: str, hotspot_id: str) -> Any:
    now = utcnow()
    data = tev.ReportTriaged(
        report_id=report_id, unit_code=YEN_BAI, urgency=Urgency.FLASH, topic_codes=["gia-ca"], sensitive=False,
        score=0.9, reasons=["nhiều người phản ánh"], hotspot_id=hotspot_id, channel="zalo", observed_at=now,
        received_at=now, decided_at=now,
    )  # fmt: skip
    return new_event(tev.REPORT_TRIAGED, source=tev.SOURCE, data=data, key=YEN_BAI)


async def test_reports_of_a_resolved_hotspot_show_resolved_and_the_outcome(intake: Any) -> None:
    admin = await _admin(intake)
    user = await _create(intake, admin)
    collaborator = await _bearer(intake, user["username"])
    ids = []
    for _ in range(3):
        response = await intake.client.post("/v1/reports", json=report_body(), headers=collaborator)
        ids.append(response.json()["id"])
    hotspot = f"hs-{uuid.uuid4().hex[:8]}"
    outcome = "UBND phường đã làm việc với điện lực; hóa đơn sai được điều chỉnh từ ngày 5/12."
    producer = EventProducer(intake.settings, client_id="test-triage-outcome")
    try:
        for report_id in ids:
            await producer.publish(TRIAGE_DECISIONS, _triaged(report_id, hotspot))

        async def triaged() -> bool:
            docs = await intake.db["reports"].find({"_id": {"$in": ids}, "triage.hotspot_id": hotspot}).to_list()
            return len(docs) == 3

        await eventually(triaged)
        # The escalation lists only the first two; the third joined the hot spot later.
        await producer.publish(TRIAGE_ESCALATIONS, _escalation_resolved(ids[:2], hotspot, outcome))
        await producer.publish(TRIAGE_ESCALATIONS, _escalation_resolved(ids[:2], hotspot, outcome))  # replayed

        async def resolved() -> bool:
            reports = [(await intake.client.get(f"/v1/reports/{r}", headers=collaborator)).json() for r in ids]
            return all(r["status"] == "resolved" and r.get("outcome") == outcome for r in reports)

        await eventually(resolved)
    finally:
        await producer.stop()
