"""One-tap acknowledgement links against the real store and Kafka: read-only GET, single-use POST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_libs import acktoken
from pulse_libs.clock import utcnow

from .conftest import WARD, Harness, serve, wait_until

RIOT = "Khoảng 200 người tụ tập đông người chặn đường, có dấu hiệu xô xát với lực lượng cưỡng chế."


def _link(harness: Harness, escalation_id: str, *, recipient: str = "u-duty-1", hours: float = 24) -> str:
    return acktoken.mint(
        harness.settings.ack_secret,
        escalation_id=escalation_id,
        level=1,
        recipient_id=recipient,
        channel="sms",
        expires_at=utcnow() + timedelta(hours=hours),
    )


async def _raised(harness: Harness, client: object) -> str:
    await harness.collector.start()
    report = await harness.submit("Tụ tập đông người", RIOT, unit=WARD)
    raised = await wait_until(
        lambda: [e for e in harness.collector.of(ev.ESCALATION_RAISED) if e.data["report_ids"] == [report.subject]],
        what="escalation raised",
    )
    return str(raised[0].data["escalation_id"])


async def test_get_changes_nothing_and_post_acknowledges_once(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        esc_id = await _raised(harness, client)
        token = _link(harness, esc_id)
        for _ in range(3):  # link previewers fetch a link, maybe several times
            facts = await client.get(f"/v1/ack-links/{token}")
            assert facts.status_code == 200, facts.text
        body = facts.json()
        assert (body["state"], body["used"], body["unit_code"], body["urgency"]) == ("pending", False, WARD, "flash")
        assert body["ack_deadline"] is not None
        assert body["reasons"]
        before = (await client.get(f"/v1/escalations/{esc_id}", headers=harness.headers())).json()
        assert before["state"] == "pending"
        assert [h["action"] for h in before["history"]] == ["raised"]

        comment = "Đã nắm tình hình, đang xuống hiện trường."
        used = await client.post(f"/v1/ack-links/{token}", json={"comment": comment})
        assert used.status_code == 200, used.text
        assert (used.json()["state"], used.json()["used"]) == ("acknowledged", True)
        after = (await client.get(f"/v1/escalations/{esc_id}", headers=harness.headers())).json()
        assert after["state"] == "acknowledged"
        entry = after["history"][-1]
        assert (entry["action"], entry["by"], entry["via"]) == ("acknowledged", "u-duty-1", "link")
        assert entry["channel"] == "sms"
        assert entry["comment"] == comment
        acked = await wait_until(
            lambda: harness.collector.of(ev.ESCALATION_ACKNOWLEDGED, escalation_id=esc_id), what="ack event"
        )
        assert acked[0].data["actor_id"] == "u-duty-1"

        again = await client.post(f"/v1/ack-links/{token}")
        assert again.status_code == 409
        assert again.json()["type"].endswith("/ack-link-used")
        assert (await client.get(f"/v1/ack-links/{token}")).json()["used"] is True
        other = await client.post(f"/v1/ack-links/{_link(harness, esc_id, recipient='u-duty-2')}")
        assert other.status_code == 409
        assert other.json()["type"].endswith("/already-acknowledged")
        final = (await client.get(f"/v1/escalations/{esc_id}", headers=harness.headers())).json()
        assert [h["action"] for h in final["history"]] == ["raised", "acknowledged"]


async def test_forged_expired_and_resolved_links_are_refused(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        esc_id = await _raised(harness, client)
        forged = acktoken.mint(
            "not-the-secret-of-this-deployment-0000",
            escalation_id=esc_id,
            level=1,
            recipient_id="u-x",
            channel="sms",
            expires_at=utcnow() + timedelta(hours=1),
        )
        for bad in (forged, "garbage", "A" * 80):
            for method in ("GET", "POST"):
                answer = await client.request(method, f"/v1/ack-links/{bad}")
                assert answer.status_code == 404, (bad, method, answer.text)
                assert answer.headers["content-type"].startswith("application/problem+json")
        expired = _link(harness, esc_id, hours=-1)
        assert (await client.get(f"/v1/ack-links/{expired}")).status_code == 410
        assert (await client.post(f"/v1/ack-links/{expired}")).status_code == 410
        unknown = _link(harness, "esc-" + "0" * 32)
        assert (await client.get(f"/v1/ack-links/{unknown}")).status_code == 404
        bad_body = await client.post(f"/v1/ack-links/{_link(harness, esc_id)}", json={"comment": {"$gt": ""}})
        assert bad_body.status_code == 422
        still = (await client.get(f"/v1/escalations/{esc_id}", headers=harness.headers())).json()
        assert still["state"] == "pending"

        resolve = await client.post(
            f"/v1/escalations/{esc_id}/resolve", json={"comment": "Đã giải quyết xong."}, headers=harness.headers()
        )
        assert resolve.status_code == 200, resolve.text
        token = _link(harness, esc_id)
        assert (await client.get(f"/v1/ack-links/{token}")).status_code == 410
        assert (await client.post(f"/v1/ack-links/{token}")).status_code == 410
