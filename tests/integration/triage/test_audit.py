"""triage's audit trail on the real Kafka and store: reviews, hot-spot merge and split, policy and rule
changes (with the version they replaced), silences and acknowledgements are chained entries that
GET /v1/audit lists for admins, and `python -m pulse_libs.audit verify` finds an edited one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_libs.audit import ENTRIES, verify
from pulse_libs.clock import utcnow
from pymongo import AsyncMongoClient

from tests.support.audit import verify_cli

from .conftest import WARD, Harness, serve, wait_until

TOPIC = ["giai-phong-mat-bang"]
FLASH = (
    "Chặn đường phản đối cưỡng chế",
    "Khoảng 200 người dân đang chặn đường Quốc lộ 37 phản đối cưỡng chế thu hồi đất.",
)


async def test_triage_changes_are_chained_listed_for_admins_and_verifiable(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        admin, department = harness.headers("admin"), harness.headers("department")
        a = await harness.submit(*FLASH, reporter="ctv-a", channel="phone", topic_codes=TOPIC)
        b = await harness.submit(*FLASH, reporter="ctv-b", channel="zalo", topic_codes=TOPIC)
        await wait_until(lambda: len(harness.collector.of(ev.REPORT_TRIAGED)) >= 2, what="two decisions")
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="an escalation")

        async def hotspot_of(report_id: str) -> str:
            return str((await client.get(f"/v1/triage/{report_id}", headers=department)).json()["hotspot_id"])

        spot = await hotspot_of(a.subject)
        assert await hotspot_of(b.subject) == spot  # the same words from two reporters: one hot spot

        # Policy and rules: the entry keeps the version it replaced.
        before = (await client.get("/v1/policies/urgent", headers=admin)).json()
        policy = {"levels": [{"level": 1, "target": "duty_officer", "ack_timeout_seconds": 600}], "repeat_seconds": 900}
        assert (await client.put("/v1/policies/urgent", json=policy, headers=admin)).status_code == 200
        rules = (await client.get("/v1/rules", headers=admin)).json()
        changed = {**rules, "alarm_phrases": [*rules["alarm_phrases"], {"phrase": "đập phá trụ sở", "points": 3}]}
        put = await client.put("/v1/rules", json=changed, headers=admin)
        assert put.status_code == 200, put.text

        until = (utcnow() + timedelta(hours=2)).isoformat()
        silence = await client.post(
            "/v1/silences", json={"unit_code": WARD, "until": until, "reason": "Đang xử lý tại chỗ"}, headers=department
        )
        assert silence.status_code == 201, silence.text
        assert (await client.delete(f"/v1/silences/{silence.json()['id']}", headers=department)).status_code == 204

        review = await client.post(
            f"/v1/triage/{a.subject}/review",
            json={"urgency": "very_urgent", "comment": "Đã xác minh"},
            headers=department,
        )
        assert review.status_code == 201, review.text
        split = await client.post(f"/v1/hotspots/{spot}/split", json={"report_ids": [b.subject]}, headers=department)
        assert split.status_code == 200, split.text
        other = split.json()["split"]["id"]
        merged = await client.post(f"/v1/hotspots/{other}/merge", json={"into": spot}, headers=department)
        assert merged.status_code == 200, merged.text
        escalation = raised[0].data["escalation_id"]
        ack = await client.post(f"/v1/escalations/{escalation}/ack", json={"comment": "Đã nhận"}, headers=department)
        assert ack.status_code == 200, ack.text

        # Refused requests change nothing and write no entry; only admins read the trail.
        assert (await client.post(f"/v1/escalations/{escalation}/ack", headers=department)).status_code == 409
        assert (await client.put("/v1/rules", json={"topics": 3}, headers=admin)).status_code == 422
        assert (await client.get("/v1/audit", headers=department)).status_code == 403
        assert (await client.get("/v1/audit")).status_code == 401
        assert (await client.get("/v1/audit", params={"cursor": "%%%"}, headers=admin)).status_code == 400

        listed = (await client.get("/v1/audit", params={"limit": 500}, headers=admin)).json()
        actions = [e["action"] for e in listed["items"]]
        assert sorted(actions) == sorted(
            [
                "policy.replace",
                "rules.replace",
                "silence.create",
                "silence.delete",
                "triage.review",
                "hotspot.split",
                "hotspot.merge",
                "escalation.acknowledge",
            ]
        )
        assert actions[0] == "escalation.acknowledge"  # newest first
        assert listed["next_cursor"] is None
        assert all(e["chain"].startswith("triage.") and len(e["hash"]) == 64 for e in listed["items"])
        replaced = next(e for e in listed["items"] if e["action"] == "policy.replace")
        assert replaced["target"] == "urgent"
        assert replaced["actor_role"] == "admin"
        assert replaced["details"]["previous"] == before
        assert replaced["details"]["policy"]["repeat_seconds"] == 900
        old_rules = next(e for e in listed["items"] if e["action"] == "rules.replace")["details"]["previous"]
        assert old_rules == rules  # the overwritten rule set is kept in the trail
        review_entry = (await client.get("/v1/audit", params={"target": a.subject}, headers=admin)).json()["items"]
        assert [e["action"] for e in review_entry] == ["triage.review"]
        assert review_entry[0]["details"]["comment"] == "Đã xác minh"
        assert review_entry[0]["actor_id"] == "u-department"

        page = (await client.get("/v1/audit", params={"limit": 3}, headers=admin)).json()
        rest = (
            await client.get("/v1/audit", params={"limit": 500, "cursor": page["next_cursor"]}, headers=admin)
        ).json()
        assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in listed["items"]]

        store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(harness.settings.mongo_url, tz_aware=True)
        try:
            db = store[harness.settings.mongo_db]
            report = await verify(db)
            assert report.ok, report.problems
            assert report.entries == 8
            assert verify_cli(harness.settings.mongo_url, harness.settings.mongo_db).returncode == 0
            await db[ENTRIES].update_one({"action": "rules.replace"}, {"$set": {"details.previous": {}}})
        finally:
            await store.close()
        broken = verify_cli(harness.settings.mongo_url, harness.settings.mongo_db)
        assert broken.returncode == 1, broken.stdout
        assert "edited" in broken.stdout
