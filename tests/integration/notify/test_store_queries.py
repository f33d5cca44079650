"""notify's per-delivery and per-event reads ask the store only what an index answers (real store).

The claimer polls for due deliveries, the gauge counts the waiting ones, and every notice reads report texts,
reasons, recipients and names: with `$in` filters each of them read a whole collection on FerretDB, and
`deliveries`, `report_texts` and `report_reasons` grow with every report.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pulse_libs.clock import utcnow
from pulse_libs.store import ensure_indexes
from pulse_notify.adapters import deliveries, directory
from pulse_notify.adapters.deliveries import DeliveryStore
from pulse_notify.adapters.directory import Directory
from pulse_notify.domain.model import ChannelName, Message, NewDelivery
from pymongo import AsyncMongoClient

from tests.support.store_queries import MONGO, QueryWatcher, scans, watched_db


@pytest.fixture
async def watched(infra: None) -> AsyncIterator[tuple[Any, QueryWatcher]]:
    name = "t" + uuid.uuid4().hex[:10] + "_notify_queries"
    async with watched_db(name) as (db, watcher):
        await ensure_indexes(db, {deliveries.COLLECTION: deliveries.INDEXES, **directory.INDEXES})
        try:
            yield db, watcher
        finally:
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
            await client.drop_database(name)
            await client.close()


def _delivery(i: int, channel: ChannelName) -> NewDelivery:
    return NewDelivery(
        id=f"dl_{i:03d}",
        event_id=f"ev-{i}",
        event_type="pulse.triage.escalation.raised.v1",
        event_time=utcnow(),
        recipient_id=f"us_u{i % 3}",
        channel=channel,
        address="https://truc-ban.example.vn/hook",
        message=Message(subject="Điểm nóng mới: Phường Yên Bái", text="Nhiều hộ dân phản ánh giá điện tăng."),
        escalation_id="esc-1",
        level=1,
    )


async def test_claims_and_the_waiting_gauge_read_only_due_deliveries_by_status(
    watched: tuple[Any, QueryWatcher],
) -> None:
    db, watcher = watched
    store = DeliveryStore(db)
    now = utcnow()
    await store.record([_delivery(i, "webhook" if i % 2 else "sms") for i in range(12)], now - timedelta(seconds=5))
    # history: sent and dead deliveries, which a claim must never touch
    await db[deliveries.COLLECTION].update_many({"_id": {"$in": ["dl_000", "dl_001"]}}, {"$set": {"status": "sent"}})
    await db[deliveries.COLLECTION].update_one({"_id": "dl_002"}, {"$set": {"status": "dead"}})
    await db[deliveries.COLLECTION].update_one(
        {"_id": "dl_003"}, {"$set": {"status": "failed", "next_attempt_at": now - timedelta(seconds=60)}}
    )
    await db[deliveries.COLLECTION].update_one(
        {"_id": "dl_004"}, {"$set": {"status": "failed", "next_attempt_at": now + timedelta(minutes=10)}}
    )
    watcher.clear()

    waiting = await store.pending_by_channel()
    claimed = await store.claim(now=now, lease_seconds=30, limit=5)
    rest = await store.claim(now=now, lease_seconds=30, limit=50)
    again = await store.claim(now=now, lease_seconds=30, limit=50)

    assert waiting == {"webhook": 5, "sms": 4}  # dl_003..dl_011: pending or failed
    assert claimed[0]["_id"] == "dl_003"  # the longest due first
    assert len(claimed) == 5
    assert sorted(d["_id"] for d in claimed + rest) == ["dl_003", *(f"dl_{i:03d}" for i in range(5, 12))]
    assert again == []  # all under lease now; dl_004 is not due yet
    assert scans(watcher, ["status"]) == []


async def test_notice_lookups_go_by_id_or_by_an_indexed_field(watched: tuple[Any, QueryWatcher]) -> None:
    db, watcher = watched
    names = Directory(db)
    for i in range(3):
        await db[directory.RECIPIENTS].insert_one(
            {"_id": f"us_u{i}", "name": f"Cán bộ {i}", "targets": ["reporter"], "user_id": f"u{i}", "active": i != 2}
        )
    await db[directory.RECIPIENTS].insert_one({"_id": "rc_9", "name": "Trực ban Sở", "targets": [], "user_id": "u1"})
    await names.put_report_text("r1", {"title": "Giá điện tăng bất thường ở tổ 5"})
    await names.put_report_text("r2", {"title": "Ngập úng đường Nguyễn Thái Học"})
    await names.put_report_reasons("r2", {"reasons": ["cụm từ báo động: tụ tập đông người"]})
    await names.upsert_name("unit", "04252", "Phường Yên Bái", utcnow())
    await names.upsert_name("topic", "gia-ca", "Giá cả", utcnow())
    watcher.clear()

    texts, reasons = await names.report_facts(["r2", "r1", "r9", "r2"])
    by_ids = await names.by_ids(["us_u2", "us_u0", "nobody"])
    users = await names.users(["u1", "u0", "u7"])
    units = await names.names("unit", ["04252", "99999"])
    topics = await names.names("topic", ["gia-ca"])

    assert sorted(t["_id"] for t in texts) == ["r1", "r2"]
    assert [r["_id"] for r in reasons] == ["r2"]
    assert [r.id for r in by_ids] == ["us_u0"]  # us_u2 is inactive
    assert sorted(r.id for r in users) == ["rc_9", "us_u0", "us_u1"]
    assert units == {"04252": "Phường Yên Bái"}
    assert topics == {"gia-ca": "Giá cả"}
    assert scans(watcher, ["user_id"]) == []
