"""The handling loop of issue 14, end to end over HTTP against the four services as processes: three
collaborators' flash reports form a hot spot, the Standing Committee acknowledges it and directs the ward's
People's Committee, whose officer records progress and completes it; a second directive runs past its due
time and the department is told exactly once (across a notify restart); the department resolves with
`notify_reporters` and the three collaborators each receive the outcome and see their reports `resolved`;
the monthly briefing counts the directives exactly. Agency users reach only their own agency's directives
(404 otherwise) and never see who reported; bad input is a problem+json that changes nothing."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.pulse_system import PulseSystem
from tests.support.servers import RecordingHttpServer

from .conftest import bearer, create_user, eventually, token

pytestmark = pytest.mark.e2e

WARD = "04303"
"""A ward no other e2e test reports in: the session's services are shared, and a flash report of another test in the
same ward and topic would join this test's hot spot."""
WARD_COMMITTEE = f"UBND-{WARD}"  # seeded by intake with the unit registry
CONSTRUCTION = "SO-XD"  # Sở Xây dựng, shipped with intake's agencies
POLICE = "CA-TINH"
COLLABORATORS = (
    ("ctv.h6.lan", "Hoàng Thị Lan", "+84913600001"),
    ("ctv.h6.minh", "Vũ Đức Minh", "+84913600002"),
    ("ctv.h6.hoa", "Nông Thị Hoa", "+84913600003"),
)
AGENCY_PHONE = "+84913600010"
REPORTS = (
    (
        "Dân chặn xe chở đất của công trường",
        "Hàng trăm người dân tổ 5 tụ tập chặn xe tải chở đất đá ra vào công trường khu đô thị mới, phản đối việc đổ "
        "đất lấn ruộng, yêu cầu dừng thi công.",
    ),
    (
        "Dân tổ 5 chặn xe tải công trường",
        "Khoảng 200 người dân tổ 5 chặn các xe tải chở đất của công trường khu đô thị mới, phản đối đổ đất lấn ruộng, "
        "tình hình căng thẳng.",
    ),
    (
        "Chặn xe công trường khu đô thị mới",
        "Hàng trăm người dân đang tụ tập chặn xe chở đất đá vào công trường khu đô thị mới, phản đối việc đổ đất tràn "
        "xuống ruộng lúa.",
    ),
)
"""One matter of this ward in its own words: the flagship test's road-blocking protest in Phường Yên Bái is told
in other words, so the two wards of the province are not linked under one parent hot spot (test_parents.py)."""
OUTCOME = "UBND phường đã đối thoại với các hộ dân; phương án bồi thường được điều chỉnh, giao thông thông suốt."


def current_period(now: datetime) -> str:
    """The Decree 09 month containing `now` (15th of the previous month to the 14th), as reporting counts it."""
    local = now + timedelta(hours=7)
    year, month = local.year, local.month
    if local.day >= 15:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def ok(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None


def digits(phone: str) -> str:
    return phone.lstrip("+")


def sms_to(gateway: RecordingHttpServer, phone: str) -> list[str]:
    return [r.json()["text"] for r in gateway.received if digits(str(r.json().get("to", ""))) == digits(phone)]


def test_directive_loop_from_flash_report_to_outcome(
    system: PulseSystem,
    admin_token: str,
    sms_gateway: RecordingHttpServer,
    webhook_receiver: RecordingHttpServer,
) -> None:
    admin = bearer(admin_token)
    intake, triage, notify, reporting = (system.url(s) for s in ("intake", "triage", "notify", "reporting"))

    # The department head hears of overdue directives (a webhook recipient of notify).
    head = httpx.post(
        f"{notify}/v1/recipients",
        json={
            "name": "Trưởng ban Tuyên giáo",
            "targets": ["department_head"],
            "channels": {"webhook_url": f"{webhook_receiver.url}/h6-head"},
        },
        headers=admin,
    )
    assert head.status_code == 201, head.text

    # People: three collaborators of the ward, the department, a Standing Committee member, and officers of
    # the ward's People's Committee and of the provincial police (role agency, carrying agency_code).
    collaborators: list[tuple[str, dict[str, str]]] = []
    for username, name, phone in COLLABORATORS:
        signed_in = _user(system, admin, username=username, role="collaborator", units=[WARD], name=name, phone=phone)
        collaborators.append((phone, bearer(signed_in)))
    officer = bearer(
        create_user(system, admin_token, username="bantg.h6", role="department", units=[], name="Đỗ Thu Trang")
    )
    member = bearer(
        create_user(system, admin_token, username="btv.h6", role="standing_committee", units=[], name="Phạm Quốc Bảo")
    )
    ward_officer = bearer(
        _user(
            system,
            admin,
            username="ubnd.yenbai.h6",
            role="agency",
            units=[],
            name="Lương Văn Phúc",
            phone=AGENCY_PHONE,
            agency_code=WARD_COMMITTEE,
        )
    )
    police_officer = bearer(
        _user(system, admin, username="ca.h6", role="agency", units=[], name="Trần Quang Dũng", agency_code=POLICE)
    )

    # What the briefing counted before this test (other tests of the session may have directives too).
    before: dict[str, Any] = (briefing_body(reporting, officer) or {}).get("directives") or {}

    # Three collaborators report the same matter: one flash hot spot with three sources.
    observed = datetime.now(UTC) - timedelta(minutes=5)
    report_ids = []
    for (_, headers), (title, content) in zip(collaborators, REPORTS, strict=True):
        response = httpx.post(
            f"{intake}/v1/reports",
            json={
                "unit_code": WARD,
                "channel": "phone",
                "title": title,
                "content": content,
                "observed_at": observed.isoformat(),
                "people_count": 200,
                "sentiment": "negative",
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        report_ids.append(response.json()["id"])
    decision = eventually(lambda: ok(httpx.get(f"{triage}/v1/triage/{report_ids[0]}", headers=officer)))
    assert decision["urgency"] == "flash"
    hotspot_id = decision["hotspot_id"]
    hotspot = eventually(
        lambda: (
            (h := ok(httpx.get(f"{triage}/v1/hotspots/{hotspot_id}", headers=officer)))
            and h["source_count"] == 3
            and h.get("escalation")
            and h
        )
    )
    assert sorted(hotspot["report_ids"]) == sorted(report_ids)
    escalation_id = hotspot["escalation"]["id"]

    ack = httpx.post(
        f"{triage}/v1/escalations/{escalation_id}/ack",
        json={"comment": "Giao UBND phường chủ trì đối thoại."},
        headers=member,
    )
    assert ack.status_code == 200, ack.text

    # Bad input is refused with the field and changes nothing.
    directives_url = f"{triage}/v1/hotspots/{hotspot_id}/directives"
    due = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    good = {
        "assignee": WARD_COMMITTEE,
        "instruction": "Chủ trì đối thoại với các hộ dân tổ 5, rà soát phương án bồi thường, báo cáo kết quả.",
        "due_at": due,
    }
    for body, field in (
        (good | {"due_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, "due_at"),
        (good | {"assignee": "UBND-KHONG-CO"}, "assignee"),
        (good | {"instruction": ""}, "instruction"),
    ):
        refused = httpx.post(directives_url, json=body, headers=member)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in refused.json()["errors"]]
    assert httpx.get(f"{triage}/v1/directives", headers=officer).json()["items"] == []

    # The Standing Committee directs the ward's People's Committee; the department directs the construction
    # department with a due time a few seconds away.
    created = httpx.post(directives_url, json=good, headers=member)
    assert created.status_code == 201, created.text
    directive = created.json()
    assert directive["state"] == "open"
    assert directive["history"] == []
    soon = {
        "assignee": CONSTRUCTION,
        "instruction": "Kiểm tra hồ sơ cấp phép công trình liên quan, báo cáo ngay.",
        "due_at": (datetime.now(UTC) + timedelta(seconds=4)).isoformat(),
    }
    late = httpx.post(directives_url, json=soon, headers=officer)
    assert late.status_code == 201, late.text
    late_id = late.json()["id"]

    # The ward's officer is told on their channel (SMS), without who reported.
    notice = eventually(lambda: sms_to(sms_gateway, AGENCY_PHONE), timeout=60)
    for _, name, phone in COLLABORATORS:
        assert name not in notice[0]
        assert digits(phone) not in notice[0]

    # An agency user reaches only its own agency's directives and the hot spots they concern (as a brief).
    mine = httpx.get(f"{triage}/v1/directives", headers=ward_officer).json()["items"]
    assert [d["id"] for d in mine] == [directive["id"]]
    assert httpx.get(f"{triage}/v1/directives/{late_id}", headers=ward_officer).status_code == 404
    assert httpx.get(f"{triage}/v1/directives/{directive['id']}", headers=police_officer).status_code == 404
    assert httpx.get(f"{triage}/v1/directives", headers=police_officer).json()["items"] == []
    assert httpx.get(f"{triage}/v1/hotspots/{hotspot_id}", headers=police_officer).status_code == 404
    brief = httpx.get(f"{triage}/v1/hotspots/{hotspot_id}", headers=ward_officer)
    assert brief.status_code == 200
    assert "report_ids" not in brief.json()
    assert "escalation" not in brief.json()
    for report_id in report_ids:
        assert httpx.get(f"{intake}/v1/reports/{report_id}", headers=ward_officer).status_code in (403, 404)

    # Past its due time the second directive is overdue and the department head is told once.
    def overdue_notices() -> list[str]:
        return [
            r.headers["webhook-id"]
            for r in webhook_receiver.received
            if r.path == "/h6-head" and late_id in r.body.decode()
        ]

    eventually(overdue_notices, timeout=60)
    assert httpx.get(f"{triage}/v1/directives/{late_id}", headers=officer).json()["state"] == "overdue"
    system.restart("notify")
    time.sleep(5)
    assert len(set(overdue_notices())) == 1, overdue_notices()

    # The ward's officer records progress, then completes the directive with its result.
    updates = f"{triage}/v1/directives/{directive['id']}/updates"
    progress = httpx.post(updates, json={"note": "Đã làm việc với 14 hộ dân tổ 5."}, headers=ward_officer)
    assert progress.status_code == 200, progress.text
    assert httpx.post(updates, json={"note": "Xong", "done": True}, headers=ward_officer).status_code == 422
    result = "Đã tổ chức đối thoại; các hộ dân đồng thuận phương án bồi thường điều chỉnh."
    done = httpx.post(updates, json={"done": True, "result": result}, headers=ward_officer)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done"
    assert [h["change"] for h in done.json()["history"]] == ["updated", "done"]
    assert done.json()["history"][1]["by_role"] == "agency"
    assert httpx.post(updates, json={"note": "Bổ sung"}, headers=officer).status_code == 409

    # The department resolves with the outcome for the collaborators.
    resolved = httpx.post(
        f"{triage}/v1/escalations/{escalation_id}/resolve",
        json={"comment": OUTCOME, "notify_reporters": True},
        headers=officer,
    )
    assert resolved.status_code == 200, resolved.text

    # Each collaborator receives the outcome on their phone, with nobody else's identity in it, and sees
    # their report resolved with the outcome.
    for index, (phone, headers) in enumerate(collaborators):
        texts = eventually(lambda phone=phone: [t for t in sms_to(sms_gateway, phone) if "Kết quả" in t], timeout=60)
        assert len(texts) == 1, texts
        for other, (_, name, other_phone) in enumerate(COLLABORATORS):
            if other != index:
                assert name not in texts[0]
                assert digits(other_phone) not in texts[0]
        report = eventually(
            lambda headers=headers, rid=report_ids[index]: (
                (r := ok(httpx.get(f"{intake}/v1/reports/{rid}", headers=headers))) and r["status"] == "resolved" and r
            ),
            timeout=60,
        )
        assert report["outcome"] == OUTCOME
    assert all("Kết quả" not in t for t in sms_to(sms_gateway, AGENCY_PHONE))  # the outcome went to reporters only

    # The monthly briefing counts the directives exactly: two more opened, one done on time, one overdue.
    def briefing() -> dict[str, Any] | None:
        body = briefing_body(reporting, officer)
        figures = (body or {}).get("directives") or {}
        caught_up = figures.get("done") == before.get("done", 0) + 1
        return body if caught_up and figures.get("overdue") == before.get("overdue", 0) + 1 else None

    body = eventually(briefing, timeout=60)
    figures = body["directives"]
    for name, more in (("opened", 2), ("on_time", 1), ("late", 0), ("done", 1), ("overdue", 1)):
        assert figures[name] == before.get(name, 0) + more, (name, figures, before)
    by_agency = {a["agency_code"]: a for a in figures["by_agency"]}
    earlier = {a["agency_code"]: a for a in before.get("by_agency", [])}
    for code, name, more in (
        (WARD_COMMITTEE, "opened", 1),
        (WARD_COMMITTEE, "done", 1),
        (WARD_COMMITTEE, "on_time", 1),
        (CONSTRUCTION, "opened", 1),
        (CONSTRUCTION, "overdue", 1),
        (CONSTRUCTION, "done", 0),
    ):
        assert by_agency[code][name] == earlier.get(code, {}).get(name, 0) + more, (code, name)
    spot = next(h for h in body["hotspots"] if h.get("hotspot_id") == hotspot_id or h.get("id") == hotspot_id)
    listed = {d["directive_id"]: d for d in spot["directives"]}
    assert set(listed) == {directive["id"], late_id}
    assert listed[directive["id"]]["result"] == result
    assert listed[directive["id"]]["outcome"] == "on_time"
    assert listed[late_id]["outcome"] == "overdue"


def briefing_body(reporting: str, headers: dict[str, str]) -> dict[str, Any] | None:
    """This period's monthly briefing as JSON (None while reporting cannot answer)."""
    period = current_period(datetime.now(UTC))
    body: dict[str, Any] | None = ok(
        httpx.get(f"{reporting}/v1/periodic-reports/{period}?format=json", headers=headers)
    )
    return body


def _user(
    system: PulseSystem,
    admin: dict[str, str],
    *,
    username: str,
    role: str,
    units: list[str],
    name: str,
    phone: str | None = None,
    agency_code: str | None = None,
) -> str:
    """Create a user with a phone (and an agency) through intake's API and sign them in."""
    password = "Mat-khau-2026-" + hashlib.sha256(username.encode()).hexdigest()[:8]
    body: dict[str, Any] = {
        "username": username,
        "password": password,
        "full_name": name,
        "role": role,
        "unit_codes": units,
    }
    if phone:
        body["phone"] = phone
    if agency_code:
        body["agency_code"] = agency_code
    response = httpx.post(f"{system.url('intake')}/v1/users", json=body, headers=admin)
    assert response.status_code in (201, 409), response.text
    return token(system, username, password)
