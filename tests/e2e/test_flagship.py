"""The flagship flow, end to end over HTTP: a crowd blocking a road over a forced site clearance reaches
the Standing Committee, is acknowledged there, and is counted with its time to acknowledge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.pulse_system import PulseSystem
from tests.support.servers import RecordingHttpServer

from .conftest import YEN_BAI, bearer, create_user, eventually, verify_signature

pytestmark = pytest.mark.e2e

FLASH_TEXT = "Hàng trăm người dân tụ tập chặn đường phản đối cưỡng chế giải phóng mặt bằng"


def current_period(now: datetime) -> str:
    """The Decree 09 month containing `now` (15th of the previous month to the 14th)."""
    local = now + timedelta(hours=7)
    year, month = local.year, local.month
    if local.day >= 15:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def test_flash_report_reaches_the_standing_committee_and_is_acknowledged(
    system: PulseSystem,
    admin_token: str,
    sms_gateway: RecordingHttpServer,
    webhook_receiver: RecordingHttpServer,
) -> None:
    admin = bearer(admin_token)
    intake, triage, notify, reporting = (system.url(s) for s in ("intake", "triage", "notify", "reporting"))

    # Short acknowledgement deadlines so the escalation climbs within the test.
    policy = {
        "levels": [
            {"level": 1, "target": "duty_officer", "ack_timeout_seconds": 3},
            {"level": 2, "target": "department_head", "ack_timeout_seconds": 3},
            {"level": 3, "target": "standing_committee", "ack_timeout_seconds": 600},
        ]
    }
    assert httpx.put(f"{triage}/v1/policies/flash", json=policy, headers=admin).status_code == 200

    secrets: dict[str, str] = {}
    for path, name, target, phone in (
        ("duty", "Nguyễn Văn Trực", "duty_officer", "+84912000001"),
        ("head", "Trần Thị Hương", "department_head", "+84912000002"),
        ("btv", "Lê Minh Thường", "standing_committee", "+84912000003"),
    ):
        response = httpx.post(
            f"{notify}/v1/recipients",
            json={
                "name": name,
                "targets": [target],
                "channels": {"phone": phone, "webhook_url": f"{webhook_receiver.url}/{path}"},
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
        secrets[path] = response.json().get("webhook_secret") or ""

    collaborator = create_user(
        system, admin_token, username="ctv.yenbai.e2e", role="collaborator", units=[YEN_BAI], name="Hoàng Thị Lan"
    )
    officer = bearer(
        create_user(system, admin_token, username="bantg.e2e", role="department", units=[], name="Đỗ Thu Trang")
    )
    member = create_user(
        system, admin_token, username="btv.e2e", role="standing_committee", units=[], name="Phạm Quốc Bảo"
    )

    observed = datetime.now(UTC) - timedelta(minutes=5)
    response = httpx.post(
        f"{intake}/v1/reports",
        json={
            "unit_code": YEN_BAI,
            "channel": "phone",
            "title": "Người dân chặn đường phản đối cưỡng chế",
            "content": FLASH_TEXT,
            "observed_at": observed.isoformat(),
            "people_count": 200,
            "sentiment": "negative",
        },
        headers=bearer(collaborator),
    )
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]
    assert response.json()["status"] == "received"

    # Triaged flash, joined to a hot spot with an escalation.
    decision = eventually(lambda: _ok_json(httpx.get(f"{triage}/v1/triage/{report_id}", headers=officer)))
    assert decision["urgency"] == "flash"
    assert decision["reasons"]
    hotspot_id = decision["hotspot_id"]
    hotspot = eventually(
        lambda: (
            (h := _ok_json(httpx.get(f"{triage}/v1/hotspots/{hotspot_id}", headers=officer)))
            and h.get("escalation")
            and h
        )
    )
    escalation_id = hotspot["escalation"]["id"]

    # The duty officer hears of it by webhook (signed) and by SMS.
    duty = eventually(lambda: [r for r in webhook_receiver.received if r.path == "/duty"])
    assert verify_signature(duty[0], secrets["duty"])
    assert escalation_id in duty[0].body.decode()
    sms = eventually(lambda: [r for r in sms_gateway.received if r.json().get("to") in ("+84912000001", "84912000001")])
    assert "hỏa tốc" in sms[0].json()["text"].lower() or "hoả tốc" in sms[0].json()["text"].lower()

    # Nobody acknowledges: it climbs to the Standing Committee.
    btv = eventually(lambda: [r for r in webhook_receiver.received if r.path == "/btv"], timeout=60)
    assert verify_signature(btv[0], secrets["btv"])
    escalation = _ok_json(httpx.get(f"{triage}/v1/escalations/{escalation_id}", headers=officer))
    assert escalation["level"] == 3

    # A Standing Committee member acknowledges.
    ack = httpx.post(
        f"{triage}/v1/escalations/{escalation_id}/ack",
        json={"comment": "Đã chỉ đạo UBND phường đối thoại với người dân."},
        headers=bearer(member),
    )
    assert ack.status_code == 200, ack.text
    assert ack.json()["state"] == "acknowledged"

    # The collaborator's report shows it.
    report = eventually(
        lambda: (
            (r := _ok_json(httpx.get(f"{intake}/v1/reports/{report_id}", headers=bearer(collaborator))))
            and r["status"] == "acknowledged"
            and r
        )
    )
    assert report["triage"]["urgency"] == "flash"

    # Each level's recipients were paged exactly once per channel.
    for path in ("duty", "head", "btv"):
        ids = [r.headers["webhook-id"] for r in webhook_receiver.received if r.path == f"/{path}"]
        assert ids, f"no notice reached /{path}"
        assert len(ids) == len(set(ids)), f"/{path} received a notice twice: {ids}"
    sms_ids = [r.json()["request_id"] for r in sms_gateway.received]
    assert len(sms_ids) == len(set(sms_ids))
    assert {r.json()["to"].lstrip("+") for r in sms_gateway.received} >= {"84912000001", "84912000002", "84912000003"}

    # The monthly briefing counts it with its time to acknowledge.
    period = current_period(datetime.now(UTC))

    def briefing() -> dict[str, Any] | None:
        body = _ok_json(httpx.get(f"{reporting}/v1/periodic-reports/{period}?format=json", headers=officer))
        if not body or body["escalations"]["acknowledged"] < 1:
            return None
        return body

    body = eventually(briefing)
    assert body["totals"]["reports"] >= 1
    assert body["escalations"]["time_to_ack_seconds"]["median"] is not None
    assert any(h.get("hotspot_id") == hotspot_id or h.get("id") == hotspot_id for h in body["hotspots"])


def _ok_json(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None
