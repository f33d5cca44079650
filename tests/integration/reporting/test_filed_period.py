"""A closed period stays frozen: the filed report (every section, DOCX and XLSX bytes) never changes; late delta shown.

Real Kafka and store. Reopening is an audited admin action; closing again files a new version.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from pulse_reporting.settings import ReportingSettings

from tests.integration.reporting.helpers import (
    NAM_CUONG,
    VAN_PHU,
    YEN_BAI,
    Published,
    at,
    escalation,
    hotspot,
    registry_events,
    running,
    submitted,
    triaged,
)


def _first() -> Published:
    out = Published()
    registry_events(out)
    submitted(out, "r1", unit=YEN_BAI, observed=at("2026-10-01"), topics_=["dat_dai"])
    triaged(out, "r1", unit=YEN_BAI, observed=at("2026-10-01"), urgency="urgent", topics_=["dat_dai"])
    submitted(out, "r2", unit=VAN_PHU, observed=at("2026-10-02"), topics_=["gpmb"], sentiment="neutral")
    hotspot(out, "opened", "h1", unit=YEN_BAI, when=at("2026-10-01", 10))
    return out


def _late() -> Published:
    """After the close: a report for the window, a new hot spot in it and the first one resolved."""
    out = Published()
    submitted(out, "r9", unit=NAM_CUONG, observed=at("2026-10-05"), topics_=["giam_ngheo"], reporter="u-ctv-9")
    triaged(out, "r9", unit=NAM_CUONG, observed=at("2026-10-05"), urgency="routine", topics_=["giam_ngheo"])
    hotspot(out, "opened", "h2", unit=NAM_CUONG, when=at("2026-10-06"))
    raised = at("2026-10-01", 10)
    escalation(out, "raised", "e1", hotspot_id="h1", unit=YEN_BAI, level=1, raised=raised, when=raised)
    hotspot(out, "resolved", "h1", unit=YEN_BAI, when=at("2026-10-08"))
    return out


async def test_a_filed_period_keeps_its_bytes_and_shows_the_late_delta(make_settings: Callable[..., Any]) -> None:
    settings: ReportingSettings = make_settings(ReportingSettings)
    first, late = _first(), _late()
    async with running(settings) as svc:
        dept, admin = svc.headers("department"), svc.headers("admin")
        await svc.publish(first.events)
        await svc.wait_projected(len(first.events))

        bad = await svc.client.post("/v1/periods/2026-10/close", json={"document_number": "12 ; DROP"}, headers=dept)
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert await svc.db["period_snapshots"].count_documents({}) == 0

        closed = await svc.client.post("/v1/periods/2026-10/close", json={"document_number": "125"}, headers=dept)
        assert closed.status_code == 201, closed.text
        filed = closed.json()
        assert (filed["version"], filed["reports"], filed["filed"]["document_number"]) == (1, 2, "125")

        async def get(fmt: str) -> Any:
            response = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": fmt}, headers=dept)
            assert response.status_code == 200, response.text
            return response

        docx_before, xlsx_before, json_before = await get("docx"), await get("xlsx"), (await get("json")).json()
        for response, fmt in ((docx_before, "docx"), (xlsx_before, "xlsx")):
            digest = hashlib.sha256(response.content).digest()
            assert digest.hex() == filed["filed"]["sha256"][fmt]
            assert response.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
            assert response.headers["x-pulse-late-reports"] == "0"
        assert json_before["frozen"] is True
        assert json_before["filed"]["version"] == 1
        assert json_before["late"]["reports"] == 0
        assert json_before["document"]["number"] == "125"
        assert [h["id"] for h in json_before["hotspots"]] == ["h1"]
        assert json_before["collaborators"]["identities"] == "pseudonymous"  # the filed version names nobody

        projected = await svc.projected()
        await svc.publish(late.events)
        await svc.wait_projected(projected + len(late.events))

        docx_after, xlsx_after, json_after = await get("docx"), await get("xlsx"), (await get("json")).json()
        assert docx_after.content == docx_before.content
        assert xlsx_after.content == xlsx_before.content
        assert docx_after.headers["x-pulse-late-reports"] == "1"
        assert json_after["late"]["reports"] == 1
        assert json_after["late"]["by_unit"] == {NAM_CUONG: 1}
        unchanged = ("totals", "hotspots", "orientation_coverage", "surveys", "collaborators", "directives", "forecast")
        for section in unchanged:
            assert json_after[section] == json_before[section], section
        assert {k: v for k, v in json_after.items() if k != "late"} == {
            k: v for k, v in json_before.items() if k != "late"
        }
        csv_text = (await get("csv")).content.decode("utf-8-sig")
        assert "Phản ánh đến muộn sau khi chốt,1" in csv_text
        live = await svc.client.get(
            "/v1/stats/summary", params={"from": "2026-09-15", "to": "2026-10-14"}, headers=dept
        )
        assert live.json()["reports"] == 3  # live statistics count everything

        # Reopening: admin only, with a reason, audited; figures are live until the period is closed again.
        reopen = "/v1/periods/2026-10/reopen"
        assert (await svc.client.post(reopen, json={"reason": "Bổ sung số liệu"}, headers=dept)).status_code == 403
        missing = await svc.client.post(reopen, json={}, headers=admin)
        assert missing.status_code == 422
        assert (
            await svc.client.post("/v1/periods/2026-09/reopen", json={"reason": "Thử"}, headers=admin)
        ).status_code == 409
        reopened = await svc.client.post(reopen, json={"reason": "Bổ sung phản ánh đến muộn"}, headers=admin)
        assert reopened.status_code == 200, reopened.text
        assert (reopened.json()["state"], reopened.json()["filed_version"]) == ("reopened", 1)
        audit = await svc.db["audit_log"].find_one({"action": "period.reopen"})
        assert audit is not None
        assert (audit["actor_id"], audit["target"], audit["details"]["reason"]) == (
            "u-admin", "periods/2026-10", "Bổ sung phản ánh đến muộn",
        )  # fmt: skip
        live_report = (await get("json")).json()
        assert live_report["frozen"] is False
        assert live_report["totals"]["reports"] == 3
        assert "filed" not in live_report

        again = await svc.client.post("/v1/periods/2026-10/close", json={"document_number": "131"}, headers=dept)
        assert again.status_code == 201, again.text
        assert (again.json()["version"], again.json()["reports"]) == (2, 3)
        refiled = (await get("json")).json()
        assert (refiled["filed"]["version"], refiled["late"]["reports"], refiled["document"]["number"]) == (2, 0, "131")
        assert (await get("docx")).content != docx_before.content
        assert await svc.db["filed_reports"].count_documents({"period": "2026-10"}) == 2
        assert (await svc.client.post("/v1/periods/2026-10/close", headers=dept)).status_code == 409
