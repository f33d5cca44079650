"""MongoDB access for triage's own collections; queries stay to what FerretDB 1.24 supports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.outbox import with_outbox
from pulse_libs.store import Database, Document
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

RESULTS = "triage_results"
HOTSPOTS = "hotspots"
ESCALATIONS = "escalations"
POLICIES = "policies"
SILENCES = "silences"
RULES = "rules"
TOPICS = "registry_topics"
EVENTS = "triage_outbox"
OUTBOX_COLLECTIONS = (RESULTS, EVENTS)
"""Only insert-only documents carry an outbox: FerretDB 1.24 applies updates as read-modify-write of the whole
document, so the relay's `$unset` on a document that another writer changes at the same time can undo that change
(measured here: concurrent `$inc`s on one document get lost). Hot spots and escalations therefore never carry an
outbox; their events go to one `triage_outbox` document each (id = event id), written before the state change."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RULES_ID = "current"

INDEXES: Mapping[str, Sequence[IndexModel]] = {
    RESULTS: [
        IndexModel([("unit_code", ASCENDING), ("topic_code", ASCENDING), ("observed_at", DESCENDING)], name="cluster")
    ],
    HOTSPOTS: [
        IndexModel([("unit_code", ASCENDING), ("topic_code", ASCENDING), ("last_seen", DESCENDING)], name="cluster"),
        IndexModel([("report_ids", ASCENDING)], name="report_ids"),
        IndexModel([("first_seen", DESCENDING), ("_id", DESCENDING)], name="recent"),
        IndexModel([("status", ASCENDING), ("urgency", ASCENDING)], name="status"),
    ],
    ESCALATIONS: [
        IndexModel([("state", ASCENDING), ("next_action_at", ASCENDING)], name="due"),
        IndexModel([("raised_at", DESCENDING), ("_id", DESCENDING)], name="recent"),
    ],
    SILENCES: [IndexModel([("until", ASCENDING)], name="until")],
    EVENTS: [IndexModel([("created_at", ASCENDING)], name="created_at")],
}


class TriageStore:
    """Repository of triage results, hot spots, escalations, policies, silences and rules."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.results = db[RESULTS]
        self.hotspots = db[HOTSPOTS]
        self.escalations = db[ESCALATIONS]
        self.policies = db[POLICIES]
        self.silences = db[SILENCES]
        self.rules = db[RULES]
        self.topics = db[TOPICS]

    async def insert(self, collection: str, doc: Document, events: Sequence[tuple[str, CloudEvent]]) -> bool:
        """Insert a document with its outbox; False if its id exists already (a replay)."""
        try:
            await self.db[collection].insert_one(with_outbox(doc, events))
        except DuplicateKeyError:
            return False
        return True

    async def emit(self, events: Sequence[tuple[str, CloudEvent]], now: datetime) -> None:
        """Store events for the relay, one document each keyed by event id: emitting again is a no-op."""
        for topic, event in events:
            try:
                await self.db[EVENTS].insert_one(with_outbox({"_id": event.id, "created_at": now}, [(topic, event)]))
            except DuplicateKeyError:
                pass

    async def update(self, collection: str, query: Document, update: Document) -> Document | None:
        """Apply a conditional update; the new document, or None if nothing matched."""
        return await self.db[collection].find_one_and_update(query, update, return_document=ReturnDocument.AFTER)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        """One document by id."""
        return await self.db[collection].find_one({"_id": doc_id})

    async def hotspot_of_report(self, report_id: str) -> Document | None:
        """The hot spot a report already joined (a replay), if any."""
        return await self.hotspots.find_one({"report_ids": report_id})

    async def open_hotspots(self, unit_code: str, topic_code: str, since: datetime) -> list[Document]:
        """Open or acknowledged hot spots of a unit and topic seen since `since`."""
        query = {
            "unit_code": unit_code,
            "topic_code": topic_code,
            "status": {"$in": ["open", "acknowledged"]},
            "last_seen": {"$gte": since},
        }
        return await self.hotspots.find(query, {"_outbox": 0}).limit(50).to_list()

    async def loose_results(self, unit_code: str, topic_code: str, since: datetime) -> list[Document]:
        """Recent triaged reports of a unit and topic that belong to no hot spot."""
        query = {"unit_code": unit_code, "topic_code": topic_code, "hotspot_id": None, "observed_at": {"$gte": since}}
        fields = {"_id": 1, "folded": 1, "reporter_id": 1, "channel": 1, "observed_at": 1, "base_score": 1, "floor": 1}
        return await self.results.find(query, fields).sort("observed_at", DESCENDING).limit(200).to_list()

    async def clustered(self, report_ids: list[str]) -> set[str]:
        """Which of these reports already belong to a hot spot."""
        found = self.hotspots.find({"report_ids": {"$in": report_ids}}, {"report_ids": 1})
        return {r for doc in await found.to_list() for r in doc["report_ids"]} & set(report_ids)

    async def sweep_events(self, older_than: datetime) -> int:
        """Forget published events older than the broker keeps them."""
        query = {"created_at": {"$lt": older_than}, "_outbox_pending": False}
        return (await self.db[EVENTS].delete_many(query)).deleted_count

    async def claim_due(self, now: datetime, owner: str, lease_until: datetime) -> Document | None:
        """Claim one pending escalation whose next action is due and whose lease (if any) expired."""
        return await self.escalations.find_one_and_update(
            {"state": "pending", "next_action_at": {"$lte": now}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": lease_until, "lease_owner": owner}},
            sort=[("next_action_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def active_silence(self, unit_code: str, topic_code: str, now: datetime) -> Document | None:
        """A silence covering this unit and topic that has not expired (the latest-ending one)."""
        query = {
            "until": {"$gt": now},
            "unit_code": {"$in": [unit_code, None]},
            "topic_code": {"$in": [topic_code, None]},
        }
        return await self.silences.find_one(query, sort=[("until", DESCENDING)])

    async def sweep_silences(self, now: datetime) -> int:
        """Delete expired silences; return how many."""
        return (await self.silences.delete_many({"until": {"$lte": now}})).deleted_count

    async def page(
        self,
        collection: str,
        query: Document,
        *,
        time_field: str,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Newest first by (time_field, _id), starting after a cursor position."""
        if after is not None:
            t, last_id = after
            query = {**query, "$or": [{time_field: {"$lt": t}}, {time_field: t, "_id": {"$lt": last_id}}]}
        cursor = self.db[collection].find(query, {"_outbox": 0, "_outbox_pending": 0, "samples": 0, "sources": 0})
        return await cursor.sort([(time_field, DESCENDING), ("_id", DESCENDING)]).limit(limit + 1).to_list()

    async def count_by(self, collection: str, match: Document, field: str) -> dict[Any, int]:
        """Count documents per value of `field` ($group with $sum, which FerretDB has)."""
        pipeline = [{"$match": match}, {"$group": {"_id": f"${field}", "n": {"$sum": 1}}}]
        out: dict[Any, int] = {}
        async for row in await self.db[collection].aggregate(pipeline):
            out[row["_id"]] = int(row["n"])
        return out
