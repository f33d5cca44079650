"""A restart never sends twice what was sent and never forgets what was pending (lease expiry included)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pulse_libs.clock import utcnow
from pymongo import AsyncMongoClient


async def test_stopping_between_record_and_send_then_restarting_delivers_once(
    notify_settings: Any, gateways: Any, smtp: Any, helpers: Any, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    paused = notify_settings(sending_paused=True)
    admin = helpers.auth(paused)
    async with helpers.running(paused) as client:
        for name, mail in (("Nguyễn Văn An", "an"), ("Trần Thị Bình", "binh")):
            answer = await client.post(
                "/v1/recipients",
                json={"name": name, "targets": ["duty_officer"], "channels": {"email": f"{mail}@example.invalid"}},
                headers=admin,
            )
            assert answer.status_code == 201
        await helpers.publish(paused, helpers.escalation(escalation_id="esc-restart"))

        async def recorded() -> bool:
            page = (await client.get("/v1/deliveries?status=pending", headers=admin)).json()
            return len(page["items"]) == 2

        await helpers.eventually(recorded)
    assert smtp.messages == []  # notify stopped after recording, before sending

    # A worker that claimed a delivery and died before sending: its lease expires and the delivery goes out.
    deliveries = mongo[paused.mongo_db]["deliveries"]
    crashed = await deliveries.find_one({"address": "binh@example.invalid"})
    assert crashed is not None
    await deliveries.update_one(
        {"_id": crashed["_id"]},
        {"$set": {"claim_seq": 1, "attempts": 1, "next_attempt_at": utcnow() + timedelta(seconds=2)}},
    )
    await mongo[paused.mongo_db]["delivery_claims"].insert_one({"_id": f"{crashed['_id']}:1", "claimed_at": utcnow()})

    resumed = notify_settings(mongo_db=paused.mongo_db)
    async with helpers.running(resumed) as client:
        await helpers.eventually(lambda: len(smtp.messages) == 2)

        async def all_sent() -> list[dict[str, Any]] | None:
            items = (await client.get("/v1/deliveries?status=sent", headers=admin)).json()["items"]
            return items if len(items) == 2 else None

        sent = await helpers.eventually(all_sent)
        assert sorted(d["attempts"] for d in sent) == [1, 2]
    assert sorted(m["To"] for m in smtp.messages) == ["an@example.invalid", "binh@example.invalid"]

    # Restarting again sends nothing more: sent is final, and the consumer does not re-record.
    again = notify_settings(mongo_db=paused.mongo_db)
    async with helpers.running(again) as client:
        await helpers.publish(again, helpers.escalation(escalation_id="esc-restart"))  # a re-emission, too
        processed = (
            f'pulse_consumer_processed_total{{group="{again.kafka_topic_prefix}notify-escalations",'
            'topic="triage.escalations.v1",type="pulse.escalation.raised.v1"} 1.0'
        )

        async def consumed() -> bool:
            return processed in (await client.get("/metrics")).text

        await helpers.eventually(consumed)
        statuses = (await client.get("/v1/deliveries", headers=admin)).json()["items"]
        assert [d["status"] for d in statuses] == ["sent", "sent"]
        await _settle()
    assert len(smtp.messages) == 2


async def _settle() -> None:
    """Give a wrongly re-sent message the time to arrive before counting (absence cannot be polled)."""
    import asyncio

    await asyncio.sleep(1.5)
