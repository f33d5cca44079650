"""The other roads in: a routine report, an offline phone's batch resent, a provincial system through Open311."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.pulse_system import PulseSystem

from .conftest import VAN_PHU, YEN_BAI, bearer, create_user, eventually

pytestmark = pytest.mark.e2e


def _ok_json(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None


def _officer(system: PulseSystem, admin_token: str) -> dict[str, str]:
    return bearer(create_user(system, admin_token, username="bantg.paths", role="department", units=[], name="Vũ Hà"))


def test_routine_report_is_triaged_counted_and_not_escalated(system: PulseSystem, admin_token: str) -> None:
    intake, triage, reporting = system.url("intake"), system.url("triage"), system.url("reporting")
    officer = _officer(system, admin_token)
    collaborator = bearer(
        create_user(
            system, admin_token, username="ctv.vanphu", role="collaborator", units=[VAN_PHU], name="Ngô Văn Phúc"
        )
    )
    observed = datetime.now(UTC) - timedelta(hours=2)
    response = httpx.post(
        f"{intake}/v1/reports",
        json={
            "unit_code": VAN_PHU,
            "channel": "meeting",
            "title": "Ý kiến về lịch thu gom rác",
            "content": "Bà con tổ dân phố 3 đề nghị tăng số buổi thu gom rác thải sinh hoạt trong tuần.",
            "observed_at": observed.isoformat(),
            "sentiment": "neutral",
        },
        headers=collaborator,
    )
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]

    decision = eventually(lambda: _ok_json(httpx.get(f"{triage}/v1/triage/{report_id}", headers=officer)))
    assert decision["urgency"] == "routine"
    report = eventually(
        lambda: (
            (r := _ok_json(httpx.get(f"{intake}/v1/reports/{report_id}", headers=collaborator)))
            and r["status"] == "triaged"
            and r
        )
    )
    assert report["triage"]["urgency"] == "routine"
    if decision.get("hotspot_id"):
        hotspot = _ok_json(httpx.get(f"{triage}/v1/hotspots/{decision['hotspot_id']}", headers=officer))
        assert not hotspot.get("escalation")

    day = (observed + timedelta(hours=7)).date()
    window = {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    def counted() -> Any:
        summary = _ok_json(
            httpx.get(f"{reporting}/v1/stats/summary", params={**window, "unit_code": VAN_PHU}, headers=officer)
        )
        return summary if summary and summary["by_urgency"].get("routine", 0) >= 1 else None

    summary = eventually(counted)
    assert summary["reports"] >= 1


def test_offline_batch_resent_twice_creates_each_report_once(system: PulseSystem, admin_token: str) -> None:
    intake, triage = system.url("intake"), system.url("triage")
    officer = _officer(system, admin_token)
    phone = bearer(
        create_user(
            system, admin_token, username="ctv.yenbai.batch", role="collaborator", units=[YEN_BAI], name="Đinh Thị Mai"
        )
    )
    now = datetime.now(UTC)
    reports = [
        {
            "unit_code": YEN_BAI,
            "channel": "dialogue",
            "title": f"Phản ánh số {i} từ buổi đối thoại",
            "content": f"Người dân hỏi về tiến độ làm đường liên thôn, lần ghi nhận thứ {i}.",
            "observed_at": (now - timedelta(days=1, minutes=i)).isoformat(),
            "client_id": f"may-ctv-yenbai-0001-{i}",
        }
        for i in range(3)
    ]
    first = httpx.post(f"{intake}/v1/reports:batch", json={"reports": reports}, headers=phone)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    ids = [r["id"] for r in results]
    for _ in range(2):
        again = httpx.post(f"{intake}/v1/reports:batch", json={"reports": reports}, headers=phone)
        assert again.status_code == 200
        assert [r.get("id") for r in again.json()["results"]] == ids
    listed = httpx.get(f"{intake}/v1/reports", params={"limit": 50}, headers=phone).json()["items"]
    assert sorted(r["id"] for r in listed if r["title"].startswith("Phản ánh số")) == sorted(ids)
    for report_id in ids:
        eventually(lambda rid=report_id: _ok_json(httpx.get(f"{triage}/v1/triage/{rid}", headers=officer)))


def test_a_provincial_system_reports_through_open311(system: PulseSystem, admin_token: str) -> None:
    intake, triage = system.url("intake"), system.url("triage")
    officer = _officer(system, admin_token)
    created = httpx.post(
        f"{intake}/v1/api-keys",
        json={
            "name": "Cổng dịch vụ công tỉnh Lào Cai",
            "scopes": ["reports:write", "reports:read"],
            "unit_codes": [YEN_BAI],
        },
        headers=bearer(admin_token),
    )
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}

    services = httpx.get(f"{intake}/open311/v2/services.json", headers=key)
    assert services.status_code == 200
    codes = {s["service_code"] for s in services.json()}
    assert "moi-truong" in codes

    posted = httpx.post(
        f"{intake}/open311/v2/requests.json",
        data={
            "service_code": "moi-truong",
            "description": "Khói bụi từ xưởng gỗ gây ô nhiễm cho khu dân cư tổ 12, người dân bức xúc.",
            "lat": "21.7229",
            "long": "104.9113",
            "attribute[unit_code]": YEN_BAI,
        },
        headers=key,
    )
    assert posted.status_code in (200, 201), posted.text
    request_id = posted.json()[0]["service_request_id"]

    fetched = httpx.get(f"{intake}/open311/v2/requests/{request_id}.json", headers=key)
    assert fetched.status_code == 200
    assert fetched.json()[0]["service_code"] == "moi-truong"
    eventually(lambda: _ok_json(httpx.get(f"{triage}/v1/triage/{request_id}", headers=officer)))

    outside = httpx.post(
        f"{intake}/open311/v2/requests.json",
        data={"service_code": "moi-truong", "description": "Thử ngoài phạm vi", "attribute[unit_code]": VAN_PHU},
        headers=key,
    )
    assert outside.status_code in (400, 403, 404, 422)
    assert isinstance(outside.json(), list)
    assert outside.json()[0]["code"] == outside.status_code
