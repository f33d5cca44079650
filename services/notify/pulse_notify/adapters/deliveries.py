"""The `deliveries` collection: record before sending, claim with a lease, finish with an outbox event."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pulse_libs.events.notify as notify_events
import pulse_libs.events.triage as triage_events
from pulse_libs.claims import ClaimLocks
from pulse_libs.clock import as_utc
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import NOTIFY_DELIVERIES
from pulse_libs.outbox import outbox_update
from pulse_libs.store import Database, Document
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import BulkWriteError

from pulse_notify.domain.model import DUE_STATUSES, NewDelivery

COLLECTION = "deliveries"
CLAIMS = "delivery_claims"
MESSAGES = "delivery_messages"
DUPLICATE_KEY = 11000

INDEXES = [
    IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
    IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="recent"),
    IndexModel([("recipient_id", ASCENDING)], name="recipient"),
    IndexModel([("event_id", ASCENDING)], name="event"),
    IndexModel([("channel", ASCENDING), ("status", ASCENDING)], name="channel_status"),
    IndexModel([("escalation_id", ASCENDING), ("level", ASCENDING)], name="escalation_level"),  # recipients_of
]
CLAIM_INDEXES = [
    IndexModel([("at", ASCENDING)], name="at"),  # pulse_libs.claims.ClaimLocks' age field
    IndexModel([("claimed_at", ASCENDING)], name="claimed_at"),  # locks written before ClaimLocks, swept
]


def delivery_document(d: NewDelivery, now: datetime) -> Document:
    """The stored form of a new delivery: pending and due now."""
    return {
        "_id": d.id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "event_time": as_utc(d.event_time),
        "recipient_id": d.recipient_id,
        "channel": d.channel,
        "address": d.address,
        "subject": d.message.subject,
        "escalation_id": d.escalation_id,
        "level": d.level,
        "reminder_seq": d.reminder_seq,
        "status": "pending",
        "attempts": 0,
        "claim_seq": 0,
        "last_error": None,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "sent_at": None,
    }


class DeliveryStore:
    """Persistence of deliveries; every state change is one single-document write."""

    def __init__(self, db: Database) -> None:
        self._col = db[COLLECTION]
        self._claims = db[CLAIMS]
        self._locks = ClaimLocks(db, CLAIMS)  # same collection and `<id>:<seq>` ids as before: replicas agree
        self._messages = db[MESSAGES]

    async def record(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        """Insert deliveries not recorded yet (the id is deterministic); return how many are new."""
        if not deliveries:
            return 0
        # The message first: a delivery must never exist without it (an orphan message is harmless).
        await self._insert_new(self._messages, [{"_id": d.id, **asdict(d.message)} for d in deliveries])
        return await self._insert_new(self._col, [delivery_document(d, now) for d in deliveries])

    @staticmethod
    async def _insert_new(col: Any, docs: list[Document]) -> int:
        try:
            result = await col.insert_many(docs, ordered=False)
            return len(result.inserted_ids)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return int(exc.details.get("nInserted", len(docs) - len(errors)))

    async def claim(self, *, now: datetime, lease_seconds: float, limit: int) -> list[Document]:
        """Take up to `limit` due deliveries for `lease_seconds` each (an expired lease makes one due again).

        FerretDB's findAndModify and filtered updates are not atomic under concurrent writers (two
        claimers both "win"), but a unique-key insert is. So a claim bumps the delivery's `claim_seq`
        and then takes the lock `<id>:<claim_seq>` (`pulse_libs.claims.ClaimLocks`, a unique insert into
        `delivery_claims`): only one claimer of a given sequence can take it. Later writes of this claim
        match on `claim_seq`, so a claimer whose lease expired (and was re-claimed) can no longer finish
        the delivery. FerretDB may also
        apply an update computed from a stale read, so each process runs a single claimer; across
        replicas only real MongoDB (atomic updates) rules out every race.
        """
        # One query per due status, an equality FerretDB answers from the index (a `$in` on status read every
        # delivery ever made); the time condition then filters only the waiting ones. No sort in the query
        # (FerretDB sorts in memory after reading them all): the batch is ordered here.
        found = await asyncio.gather(
            *(
                self._col.find({"status": status, "next_attempt_at": {"$lte": now}}).limit(limit * 4).to_list()
                for status in DUE_STATUSES
            )
        )
        candidates = [doc for docs in found for doc in docs]
        candidates.sort(key=lambda d: as_utc(d["next_attempt_at"]))
        # Different documents, so claiming them concurrently races with nothing in this process.
        claims = await asyncio.gather(*(self._claim_one(doc, now, lease_seconds) for doc in candidates[:limit]))
        return [doc for doc in claims if doc is not None]

    async def _claim_one(self, doc: Document, now: datetime, lease_seconds: float) -> Document | None:
        seq = int(doc.get("claim_seq", 0)) + 1
        fields = {
            "claim_seq": seq,
            "attempts": int(doc.get("attempts", 0)) + 1,
            "next_attempt_at": now + timedelta(seconds=lease_seconds),
            "updated_at": now,
        }
        result = await self._col.update_one(
            {"_id": doc["_id"], "claim_seq": seq - 1, "status": {"$in": list(DUE_STATUSES)}}, {"$set": fields}
        )
        if result.matched_count != 1:
            return None
        if not await self._locks.take(str(doc["_id"]), seq, now=now):
            return None
        return doc | fields

    async def recipients_of(self, escalation_id: str, level: int) -> list[str]:
        """Who was paged (raised, escalated or reminded) for an escalation level."""
        docs = await self._col.find(
            {"escalation_id": escalation_id, "level": level}, {"recipient_id": 1, "event_type": 1}
        ).to_list()
        closing = (triage_events.ESCALATION_ACKNOWLEDGED, triage_events.ESCALATION_RESOLVED)
        return sorted({str(d["recipient_id"]) for d in docs if d.get("event_type") not in closing})

    async def message(self, delivery_id: str) -> Document | None:
        """The rendered message of a delivery (kept apart so that scans of `deliveries` stay light)."""
        return await self._messages.find_one({"_id": delivery_id})

    async def mark_sent(self, doc: Document, *, now: datetime) -> bool:
        """Mark sent and queue DELIVERY_SENT in the same write; False if the claim was lost."""
        return await self._finish(doc, status="sent", now=now, error=None)

    async def mark_dead(self, doc: Document, *, now: datetime, error: str) -> bool:
        """Mark dead and queue DELIVERY_DEAD in the same write; False if the claim was lost."""
        return await self._finish(doc, status="dead", now=now, error=error)

    async def schedule_retry(self, doc: Document, *, when: datetime, now: datetime, error: str) -> bool:
        """Record a transient failure and when to try again."""
        result = await self._col.update_one(
            self._claimed(doc),
            {"$set": {"status": "failed", "next_attempt_at": when, "last_error": error, "updated_at": now}},
        )
        return result.modified_count == 1

    async def sweep_claims(self, *, older_than: datetime) -> int:
        """Delete claim locks of finished attempts (kept a day, far beyond any lease)."""
        legacy = await self._claims.delete_many({"claimed_at": {"$lt": older_than}})  # pre-ClaimLocks locks
        return await self._locks.sweep(older_than) + legacy.deleted_count

    @staticmethod
    def _claimed(doc: Document) -> Document:
        return {"_id": doc["_id"], "claim_seq": doc["claim_seq"], "status": {"$in": list(DUE_STATUSES)}}

    async def _finish(self, doc: Document, *, status: str, now: datetime, error: str | None) -> bool:
        outcome = notify_events.DeliveryOutcome(
            delivery_id=doc["_id"],
            event_id=doc["event_id"],
            event_type=doc["event_type"],
            recipient_id=doc["recipient_id"],
            channel=doc["channel"],
            status="sent" if status == "sent" else "dead",
            attempts=doc["attempts"],
            last_error=error,
            escalation_id=doc.get("escalation_id"),
            level=doc.get("level"),
            created_at=doc["created_at"],
            finished_at=now,
        )
        event_type = notify_events.DELIVERY_SENT if status == "sent" else notify_events.DELIVERY_DEAD
        event = new_event(
            event_type,
            source=notify_events.SOURCE,
            data=outcome,
            key=doc["_id"],
            subject=doc["_id"],
            event_id=f"{doc['_id']}-{status}",
        )
        fields: dict[str, Any] = {"status": status, "last_error": error, "updated_at": now}
        if status == "sent":
            fields["sent_at"] = now
        update = outbox_update([(NOTIFY_DELIVERIES, event)], {"$set": fields})
        result = await self._col.update_one(self._claimed(doc), update)
        return result.modified_count == 1

    async def get(self, delivery_id: str) -> Document | None:
        """One delivery."""
        return await self._col.find_one({"_id": delivery_id})

    async def list(self, *, filters: dict[str, Any], after: tuple[datetime, str] | None, limit: int) -> list[Document]:
        """Deliveries matching `filters`, newest first, after a (created_at, id) position."""
        query: dict[str, Any] = dict(filters)
        if after is not None:
            at, last_id = after
            query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last_id}}]
        cursor = self._col.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return await cursor.to_list()

    async def pending_by_channel(self) -> dict[str, int]:
        """How many deliveries wait (pending or retrying), per channel: one count per due status, each an equality
        on the indexed status (a `$in` made every gauge reading scan all deliveries ever made)."""
        out: dict[str, int] = {}

        async def count(status: str) -> list[Document]:
            pipeline: list[dict[str, Any]] = [
                {"$match": {"status": status}},
                {"$group": {"_id": "$channel", "n": {"$sum": 1}}},
            ]
            return await (await self._col.aggregate(pipeline)).to_list()

        for rows in await asyncio.gather(*(count(status) for status in DUE_STATUSES)):
            for row in rows:
                out[str(row["_id"])] = out.get(str(row["_id"]), 0) + int(row["n"])
        return out
