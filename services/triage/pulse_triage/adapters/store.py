"""MongoDB access for triage's own collections; queries stay to what FerretDB 1.24 supports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pulse_libs.claims import ClaimLocks
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.outbox import with_outbox
from pulse_libs.store import Database, Document, each_concurrently, find_by_ids
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

RESULTS = "triage_results"
HOTSPOTS = "hotspots"
ESCALATIONS = "escalations"
POLICIES = "policies"
SILENCES = "silences"
RULES = "rules"
TOPICS = "registry_topics"
UNITS = "registry_units"
"""Administrative units mirrored from intake's registry: a ward's parent links its hot spots to its neighbours'."""
CLUSTERS = "clusters"
EVENTS = "triage_outbox"
REVIEWS = "triage_reviews"
INDEX = "triage_index"
"""Candidate index: one posting document per (unit, topic, term), the latest hot spots and loose reports filed
under that term (bounded), read by id so a lookup costs the same whatever the window holds."""
OUTBOX_COLLECTIONS = (EVENTS,)
"""Only insert-only documents carry an outbox: FerretDB 1.24 applies updates as read-modify-write of the whole
document, so the relay's `$unset` on a document that another writer changes at the same time can undo that change
(measured here: concurrent `$inc`s on one document get lost). Hot spots and escalations therefore never carry an
outbox; their events go to one `triage_outbox` document each (id = event id), written before the state change."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RULES_ID = "current"
UNIT_CACHE_SECONDS = 60.0
"""How long a replica reuses a mirrored unit (name, kind, parent): the registry changes rarely, and one replica
consumes each upsert (it forgets its copy at once; the others within this term)."""

INDEXES: Mapping[str, Sequence[IndexModel]] = {
    HOTSPOTS: [
        IndexModel([("first_seen", DESCENDING), ("_id", DESCENDING)], name="recent"),
        IndexModel([("status", ASCENDING), ("urgency", ASCENDING)], name="status"),
        IndexModel([("parent_id", ASCENDING)], name="parent", sparse=True),
    ],
    ESCALATIONS: [
        IndexModel([("state", ASCENDING), ("next_action_at", ASCENDING)], name="due"),
        IndexModel([("raised_at", DESCENDING), ("_id", DESCENDING)], name="recent"),
    ],
    SILENCES: [IndexModel([("until", ASCENDING)], name="until")],
    REVIEWS: [IndexModel([("reviewed_at", DESCENDING), ("_id", DESCENDING)], name="recent")],
    EVENTS: [IndexModel([("created_at", ASCENDING)], name="created_at")],
}


def posting_id(unit_code: str, topic_code: str, key: str) -> str:
    """Id of the posting document of one index key in one unit and topic."""
    return f"{unit_code}|{topic_code}|{key}"


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
        self.units = db[UNITS]
        self.claims = ClaimLocks(db)
        self._units: dict[str, tuple[float, Document]] = {}
        self._guards: dict[str, asyncio.Lock] = {}

    async def insert(self, collection: str, doc: Document, events: Sequence[tuple[str, CloudEvent]]) -> bool:
        """Insert a document with its outbox; False if its id exists already (a replay)."""
        try:
            await self.db[collection].insert_one(with_outbox(doc, events))
        except DuplicateKeyError:
            return False
        return True

    async def emit(self, events: Sequence[tuple[str, CloudEvent]], now: datetime, bundle: str | None = None) -> None:
        """Store events for the relay, one insert-only document each (or one for a bundle) keyed by id:
        emitting the same events again is a no-op, or after the sweep a duplicate consumers drop by `ce_id`."""
        groups = [(bundle, list(events))] if bundle else [(event.id, [(topic, event)]) for topic, event in events]
        for doc_id, group in groups:
            if not group:
                continue
            try:
                await self.db[EVENTS].insert_one(with_outbox({"_id": doc_id, "created_at": now}, group))
            except DuplicateKeyError:
                pass

    async def cluster(self, unit_code: str, topic_code: str, *, parent: bool = False) -> Document:
        """The (unit, topic) cluster: its hot spot ids and its recent reports without a hot spot. With `parent`,
        the cluster of a parent unit: the recent hot spots of its wards on that topic."""
        cluster_id = f"parent|{unit_code}|{topic_code}" if parent else f"{unit_code}|{topic_code}"
        found = await self.db[CLUSTERS].find_one({"_id": cluster_id})
        return found or {"_id": cluster_id, "hotspots": [], "loose": [], "version": 0}

    async def save_cluster(
        self, cluster: Document, *, loose: list[Document], hotspots: list[str] | None = None
    ) -> bool:
        """Write a cluster back if nobody changed it since it was read; False on a conflict."""
        fields = {"loose": loose, "hotspots": cluster["hotspots"] if hotspots is None else hotspots}
        if cluster["version"] == 0:
            try:
                await self.db[CLUSTERS].insert_one({"_id": cluster["_id"], **fields, "version": 1})
            except DuplicateKeyError:
                return False
            return True
        query = {"_id": cluster["_id"], "version": cluster["version"]}
        result = await self.db[CLUSTERS].update_one(query, {"$set": fields, "$inc": {"version": 1}})
        return result.modified_count == 1

    async def postings(self, unit_code: str, topic_code: str, keys: Sequence[str]) -> dict[str, Document]:
        """The posting documents of a report's index keys, by key (missing keys have none yet).

        One read by id per key, all at once: FerretDB does not push `$in` down, so one query for all keys would
        scan."""
        ids = {posting_id(unit_code, topic_code, key): key for key in keys}
        found = await find_by_ids(self.db[INDEX], ids)
        return {ids[doc_id]: doc for doc_id, doc in found.items()}

    async def file(
        self,
        unit_code: str,
        topic_code: str,
        keys: Sequence[str],
        entry: Document,
        *,
        known: Mapping[str, Document],
        keep: int,
    ) -> None:
        """File an entry (`{"id", "hotspot", "at"}`) under each key, latest last, at most `keep` per posting.

        A posting changed by another writer meanwhile is read again (three tries); losing an entry only makes a
        later lookup rely on the cluster's recent lists, so a conflict never fails the report. The postings are
        distinct documents: they are written concurrently."""

        async def one(key: str) -> None:
            doc_id = posting_id(unit_code, topic_code, key)
            current = known.get(key)
            for _ in range(3):
                entries = [e for e in (current or {}).get("entries", []) if e["id"] != entry["id"]]
                fields = {"entries": [*entries, entry][-keep:]}
                if current is None:
                    try:
                        await self.db[INDEX].insert_one({"_id": doc_id, **fields, "version": 1})
                        return
                    except DuplicateKeyError:
                        pass
                else:
                    query = {"_id": doc_id, "version": current["version"]}
                    done = await self.db[INDEX].update_one(query, {"$set": fields, "$inc": {"version": 1}})
                    if done.modified_count == 1:
                        return
                current = await self.db[INDEX].find_one({"_id": doc_id})

        await each_concurrently(one, dict.fromkeys(keys))

    async def update(self, collection: str, query: Document, update: Document) -> Document | None:
        """Apply a conditional update; the new document, or None if nothing matched."""
        return await self.db[collection].find_one_and_update(query, update, return_document=ReturnDocument.AFTER)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        """One document by id."""
        return await self.db[collection].find_one({"_id": doc_id})

    async def get_many(self, collection: str, doc_ids: Iterable[str]) -> dict[str, Document]:
        """Documents by id, read concurrently (in the order of the ids; missing ones absent)."""
        return await find_by_ids(self.db[collection], doc_ids)

    async def set_fields_many(self, collection: str, doc_ids: Iterable[str], fields: Document) -> None:
        """Set the same fields on several documents by id, one concurrent update each (a bulk write runs them one
        after the other on FerretDB)."""

        async def one(doc_id: str) -> None:
            await self.db[collection].update_one({"_id": doc_id}, {"$set": fields})

        await each_concurrently(one, dict.fromkeys(doc_ids))

    async def unit(self, code: str) -> Document | None:
        """A mirrored administrative unit (name, kind, parent_code), cached for UNIT_CACHE_SECONDS once found (a unit
        not mirrored yet is asked for again)."""
        cached = self._units.get(code)
        if cached is not None and time.monotonic() - cached[0] < UNIT_CACHE_SECONDS:
            return cached[1]
        found = await self.units.find_one({"_id": code})
        if found is not None:
            self._units[code] = (time.monotonic(), found)
        return found

    def guard(self, key: str) -> asyncio.Lock:
        """This replica's lock of a key (a unit or a parent unit: at most one per registry unit), for writers that
        must not overlap on one document: FerretDB applies a versioned update as a read-modify-write."""
        return self._guards.setdefault(key, asyncio.Lock())

    def forget_unit(self, code: str) -> None:
        """Drop the cached copy of a unit (after its upsert was mirrored)."""
        self._units.pop(code, None)

    async def sweep_events(self, older_than: datetime) -> int:
        """Forget published events older than the broker keeps them."""
        query = {"created_at": {"$lt": older_than}, "_outbox_pending": False}
        return (await self.db[EVENTS].delete_many(query)).deleted_count

    async def claim_due(self, now: datetime, owner: str, lease_until: datetime) -> Document | None:
        """Claim one pending escalation whose next action is due and whose lease (if any) expired.

        The store's findAndModify is not atomic against a concurrent claimer (both may "win" from the
        same stale read, and so both see the same `claim_seq`): the claim counts only with the
        unique lock of that sequence number, which exactly one claimer can insert."""
        esc = await self.escalations.find_one_and_update(
            {"state": "pending", "next_action_at": {"$lte": now}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": lease_until, "lease_owner": owner}, "$inc": {"claim_seq": 1}},
            sort=[("next_action_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if esc is None or not await self.claims.take(f"escalation-{esc['_id']}", int(esc["claim_seq"]), now=now):
            return None
        return esc

    async def sweep_claims(self, older_than: datetime) -> int:
        """Forget claim locks far older than any lease."""
        return await self.claims.sweep(older_than)

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
