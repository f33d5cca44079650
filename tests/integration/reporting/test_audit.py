"""reporting's audit trail on the real Kafka and store: closing and reopening a period, file downloads of the
briefing and the department's identity reads are chained entries; GET /v1/audit lists them for admins only,
and `python -m pulse_libs.audit verify` finds a deleted one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulse_libs.audit import ENTRIES, verify
from pulse_reporting.settings import ReportingSettings

from tests.integration.reporting.helpers import YEN_BAI, Published, at, registry_events, running, submitted, triaged
from tests.support.audit import verify_cli


async def test_period_changes_downloads_and_identity_reads_are_chained(make_settings: Callable[..., Any]) -> None:
    settings: ReportingSettings = make_settings(ReportingSettings)
    events = Published()
    registry_events(events)
    submitted(events, "r1", unit=YEN_BAI, observed=at("2026-10-01"), topics_=["dat_dai"], reporter="u-ctv-1")
    triaged(events, "r1", unit=YEN_BAI, observed=at("2026-10-01"), urgency="urgent", topics_=["dat_dai"])
    async with running(settings) as svc:
        dept, admin = svc.headers("department", user_id="u-dept-3"), svc.headers("admin")
        await svc.publish(events.events)
        await svc.wait_projected(len(events.events))

        live = await svc.client.get("/v1/periodic-reports/2026-10", headers=dept)
        assert live.json()["collaborators"]["items"][0]["collaborator"] == "u-ctv-1"
        closed = await svc.client.post("/v1/periods/2026-10/close", json={"document_number": "15/BC.BTG"}, headers=dept)
        assert closed.status_code == 201, closed.text
        xlsx = await svc.client.get("/v1/periodic-reports/2026-10", params={"format": "xlsx"}, headers=dept)
        assert xlsx.status_code == 200
        reopened = await svc.client.post(
            "/v1/periods/2026-10/reopen", json={"reason": "Bổ sung phản ánh đến muộn"}, headers=admin
        )
        assert reopened.status_code == 200, reopened.text
        # Refused or failed requests write nothing.
        assert (
            await svc.client.post("/v1/periods/2026-10/reopen", json={"reason": "Lần nữa"}, headers=admin)
        ).status_code == 409
        assert (
            await svc.client.get("/v1/periodic-reports/2026-13", params={"format": "docx"}, headers=dept)
        ).status_code == 422

        assert (await svc.client.get("/v1/audit", headers=dept)).status_code == 403
        assert (await svc.client.get("/v1/audit")).status_code == 401
        listed = await svc.client.get("/v1/audit", params={"limit": 500}, headers=admin)
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert [e["action"] for e in items] == [
            "period.reopen",
            "briefing.download",
            "period.close",
            "identities.read",  # the live report the department read before closing
        ]
        assert all(e["chain"].startswith("reporting.") for e in items)
        close = items[2]
        assert (close["actor_id"], close["target"]) == ("u-dept-3", "periods/2026-10")
        assert close["details"] == {"version": 1, "document_number": "15/BC.BTG"}
        assert items[1]["details"] == {"format": "xlsx", "filed_version": 1}
        assert items[0]["details"]["reason"] == "Bổ sung phản ánh đến muộn"
        by_admin = await svc.client.get("/v1/audit", params={"actor_id": "u-admin"}, headers=admin)
        assert [e["action"] for e in by_admin.json()["items"]] == ["period.reopen"]

        report = await verify(svc.db)
        assert report.ok, report.problems
        assert report.entries == 4
        assert verify_cli(settings.mongo_url, settings.mongo_db).returncode == 0
        await svc.db[ENTRIES].delete_one({"_id": close["id"]})
    broken = verify_cli(settings.mongo_url, settings.mongo_db)
    assert broken.returncode == 1, broken.stdout
    assert "deleted" in broken.stdout
