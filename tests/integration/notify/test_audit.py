"""notify's audit trail on the real store and Kafka: admin actions and deliveries reads are chained entries,
GET /v1/audit filters them (admin only), and `python -m pulse_libs.audit verify` checks notify's database."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

from pulse_libs.audit import ENTRIES
from pulse_libs.clock import utcnow
from pymongo import AsyncMongoClient


def _verify(settings: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulse_libs.audit", "verify"]
        + ["--mongo-url", settings.mongo_url, "--db", settings.mongo_db],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_admin_actions_and_deliveries_reads_are_audited_and_verifiable(
    notify_settings: Any, gateways: Any, smtp: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    department = helpers.auth(settings, "department")
    async with helpers.running(settings) as client:
        body = {
            "name": "Nguyễn Thị Hằng",
            "targets": ["duty_officer"],
            "channels": {"email": "hang@example.invalid"},
        }
        recipient = (await client.post("/v1/recipients", json=body, headers=admin)).json()["id"]
        renamed = await client.patch(f"/v1/recipients/{recipient}", json={"name": "Hằng (trực)"}, headers=admin)
        assert renamed.status_code == 200
        other = (await client.post("/v1/recipients", json=body | {"name": "Lò Văn Sơn"}, headers=admin)).json()["id"]
        assert (await client.delete(f"/v1/recipients/{other}", headers=admin)).status_code == 204
        hook = await client.post(
            "/v1/webhooks",
            json={"url": f"{gateways.base_url}/hook/audit", "event_types": ["pulse.escalation.raised.v1"]},
            headers=admin,
        )
        assert hook.status_code == 201, hook.text
        assert (await client.delete(f"/v1/webhooks/{hook.json()['id']}", headers=admin)).status_code == 204
        now = utcnow()
        end = now + timedelta(hours=8)
        shift = {"recipient_id": recipient, "starts_at": now.isoformat(), "ends_at": end.isoformat()}
        rota = await client.put("/v1/rotas/duty_officer", json={"shifts": [shift], "overrides": []}, headers=admin)
        assert rota.status_code == 200, rota.text
        assert (await client.get("/v1/channels/zalo/token", headers=admin)).status_code == 200
        fresh = {"refresh_token": "refresh-token-moi-0001"}
        put = await client.put("/v1/channels/zalo/token", json=fresh, headers=admin)
        assert put.status_code == 200, put.text

        await helpers.publish(settings, helpers.escalation(escalation_id="esc-audit"))

        async def delivered() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (
                await client.get("/v1/deliveries", params={"recipient_id": recipient}, headers=department)
            ).json()["items"]
            return items

        deliveries = await helpers.eventually(delivered)
        one = await client.get(f"/v1/deliveries/{deliveries[0]['id']}", headers=department)
        assert one.status_code == 200

        # A refused read changes nothing and is not an entry; only admins read the audit.
        assert (await client.get("/v1/audit", headers=department)).status_code == 403
        assert (await client.get("/v1/audit", params={"cursor": "%%%"}, headers=admin)).status_code == 400

        listed = await client.get("/v1/audit", params={"limit": 500}, headers=admin)
        assert listed.status_code == 200, listed.text
        entries = listed.json()["items"]
        actions = [e["action"] for e in entries]
        for expected in (
            "recipient.create",
            "recipient.update",
            "recipient.delete",
            "webhook.create",
            "webhook.delete",
            "rota.put",
            "zalo_token.read",
            "zalo_token.replace",
            "deliveries.read",
            "delivery.read",
        ):
            assert expected in actions, expected
        assert all(e["chain"].startswith("notify.") for e in entries)
        assert all(len(e["hash"]) == 64 for e in entries)
        # No secret of a webhook or a Zalo token is written into the trail.
        assert "whsec_" not in listed.text
        assert "refresh-token-moi-0001" not in listed.text

        reads = (await client.get("/v1/audit", params={"action": "deliveries.read"}, headers=admin)).json()["items"]
        assert {e["actor_id"] for e in reads} == {"u-department"}
        last = reads[0]  # newest first: the read that found the delivery
        assert last["details"]["filters"] == {"recipient_id": recipient}
        assert last["details"]["rows"] == len(deliveries) >= 1
        single = (await client.get("/v1/audit", params={"target": deliveries[0]["id"]}, headers=admin)).json()["items"]
        assert [e["action"] for e in single] == ["delivery.read"]
        assert single[0]["details"]["recipient_id"] == recipient

        page = (await client.get("/v1/audit", params={"limit": 2}, headers=admin)).json()
        after = {"limit": 2, "cursor": page["next_cursor"]}
        following = (await client.get("/v1/audit", params=after, headers=admin)).json()
        assert not {e["id"] for e in page["items"]} & {e["id"] for e in following["items"]}

    ok = _verify(settings)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK" in ok.stdout

    store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    try:
        db = store[settings.mongo_db]
        read = await db[ENTRIES].find_one({"action": "deliveries.read"})
        assert read is not None
        await db[ENTRIES].update_one({"_id": read["_id"]}, {"$set": {"details.rows": 999}})
    finally:
        await store.close()
    broken = _verify(settings)
    assert broken.returncode == 1, broken.stdout
    assert "edited" in broken.stdout
