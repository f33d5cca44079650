"""Single-document outbox: the event rides in the same write as the state change; a relay publishes it.

A service adds `with_outbox(doc, events)` to an insert, or merges
`outbox_update(events)` into an update, so the state change and the event to
publish are one atomic document write. The relay finds documents flagged
`_outbox_pending`, publishes their events in order, then removes exactly those
events from the document. A crash between publish and removal republishes:
consumers dedupe on `ce_id`.

The outbox is a map {event id: entry} rather than an array: removing entries
by key with `$unset` works the same on MongoDB and on FerretDB, whose `$pull`
only matches whole values. Entries carry a sequence number for ordering.

Publication is recorded as an insert into `outbox_published` (one marker per
event id), never as a write to the state document. The entries are removed
from the document only once it has settled (`settle_seconds` after the relay
first saw it published): FerretDB applies updates as read-modify-write of the
whole document, so a relay write racing a service's own update could undo it.
Keeping the relay away from fresh documents (the ones services are still
updating) makes that race practically vanish on FerretDB; on MongoDB, whose
updates are atomic, it does not exist.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from pulse_libs.clock import as_utc, utcnow
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.metrics import OutboxMetrics
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.store import find_by_ids

log = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"
PENDING_FIELD = "_outbox_pending"
PUBLISHED_COLLECTION = "outbox_published"
MARKER_RETENTION_SECONDS = 7 * 24 * 3600


def outbox_entries(events: Sequence[tuple[str, CloudEvent]]) -> dict[str, dict[str, Any]]:
    """Serialise (topic, event) pairs for storage, keyed by event id, in publication order."""
    base = time.time_ns()
    out: dict[str, dict[str, Any]] = {}
    for i, (topic, event) in enumerate(events):
        if "." in event.id or event.id.startswith("$"):
            raise ValueError(f"event id {event.id!r} cannot be a document key")
        out[event.id] = {**event.to_document(topic), "seq": base + i}
    return out


def with_outbox(doc: dict[str, Any], events: Sequence[tuple[str, CloudEvent]]) -> dict[str, Any]:
    """Return `doc` carrying the events to publish (for insert_one)."""
    return {**doc, OUTBOX_FIELD: outbox_entries(events), PENDING_FIELD: bool(events)}


def outbox_update(events: Sequence[tuple[str, CloudEvent]], update: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return `update` extended to add the events to the document's outbox."""
    out: dict[str, Any] = {k: dict(v) for k, v in (update or {}).items()}
    if not events:
        return out
    sets = out.setdefault("$set", {})
    for event_id, entry in outbox_entries(events).items():
        sets[f"{OUTBOX_FIELD}.{event_id}"] = entry
    sets[PENDING_FIELD] = True
    return out


def strip_outbox(doc: dict[str, Any]) -> dict[str, Any]:
    """Return `doc` without the outbox bookkeeping (for API answers)."""
    return {k: v for k, v in doc.items() if k not in (OUTBOX_FIELD, PENDING_FIELD)}


async def ensure_outbox_index(db: AsyncDatabase[dict[str, Any]], collection: str) -> None:
    """Index the pending flag the relay scans, and the age of publication markers."""
    await db[collection].create_index([(PENDING_FIELD, ASCENDING)], name="outbox_pending")
    await db[PUBLISHED_COLLECTION].create_index([("at", ASCENDING)], name="at")


def _ordered(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((doc.get(OUTBOX_FIELD) or {}).values(), key=lambda e: e.get("seq", 0))


class OutboxRelay:
    """Publishes pending outbox events from the given collections until stopped."""

    def __init__(
        self,
        *,
        db: AsyncDatabase[dict[str, Any]],
        collections: Sequence[str],
        producer: EventProducer,
        metrics: OutboxMetrics,
        poll_seconds: float = 0.5,
        batch: int = 100,
        settle_seconds: float = 10.0,
    ) -> None:
        self._db = db
        self._settle = settle_seconds
        self._settling: dict[tuple[str, Any], tuple[float, list[str]]] = {}
        self._published = db[PUBLISHED_COLLECTION]
        self._collections = list(collections)
        self._producer = producer
        self._metrics = metrics
        self._poll = poll_seconds
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Wake the relay now (call after a write that carries events) instead of at the next poll."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        """Run the relay in a background task."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-relay")
        return self._task

    async def stop(self) -> None:
        """Stop after the current pass."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def run(self) -> None:
        """Loop: drain every collection, then wait for a kick or the poll interval."""
        failures = 0
        next_sweep = time.monotonic() + 60
        while not self._stopping.is_set():
            self._wake.clear()
            if time.monotonic() > next_sweep:
                next_sweep = time.monotonic() + 3600
                try:
                    await self.sweep_markers(MARKER_RETENTION_SECONDS)
                except Exception as exc:  # noqa: BLE001 - housekeeping; retried next hour
                    log.warning("outbox marker sweep failed", extra={"error": repr(exc)})
            try:
                busy = await self.drain_once()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - broker or store down: back off and retry, never die
                failures += 1
                self._metrics.errors.inc()
                log.warning("outbox relay pass failed", extra={"error": repr(exc), "failures": failures})
                busy = False
                await self._wait(min(10.0, 0.5 * 2 ** min(failures, 5)))
                continue
            if not busy:
                await self._wait(self._poll)

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def drain_once(self) -> bool:
        """Publish what is unpublished, then clean settled documents; True if more may wait."""
        busy = False
        pending_docs = 0
        oldest: float = 0.0
        now = utcnow()
        for name in self._collections:
            settling = sum(1 for (c, _) in self._settling if c == name)
            cursor = self._db[name].find({PENDING_FIELD: True}, {OUTBOX_FIELD: 1})
            docs = await cursor.limit(self._batch + settling).to_list()
            busy = busy or len(docs) >= self._batch + settling
            entries_by_doc = {
                doc["_id"]: sorted((doc.get(OUTBOX_FIELD) or {}).values(), key=lambda e: e.get("seq", 0))
                for doc in docs
            }
            all_ids = [e["id"] for entries in entries_by_doc.values() for e in entries]
            done = await self._already_published(all_ids)
            todo = [e for entries in entries_by_doc.values() for e in entries if e["id"] not in done]
            for entries in entries_by_doc.values():
                waiting = [e for e in entries if e["id"] not in done]
                if waiting:
                    pending_docs += 1
                    oldest = max(oldest, (now - as_utc(waiting[0]["time"])).total_seconds())
            await self._publish_entries(name, todo)
            for doc_id, entries in entries_by_doc.items():
                key = (name, doc_id)
                if key not in self._settling:
                    self._settling[key] = (time.monotonic() + self._settle, [e["id"] for e in entries])
        await self._clean_settled()
        self._metrics.pending.set(pending_docs)
        self._metrics.oldest_age.set(oldest)
        return busy

    async def _already_published(self, ids: list[str]) -> set[str]:
        # By `_id` one at a time, concurrently: the markers grow with every event published, and FerretDB
        # answers `$in` by reading them all.
        return set(await find_by_ids(self._published, ids, {"_id": 1}))

    async def _publish_entries(self, collection: str, entries: list[dict[str, Any]]) -> None:
        """Publish a pass's entries in document order, pipelined, then record them with one insert."""
        if not entries:
            return
        await self._producer.publish_many([CloudEvent.from_document(entry) for entry in entries])
        markers = [{"_id": entry["id"], "at": utcnow()} for entry in entries]
        try:
            await self._published.insert_many(markers, ordered=False)
        except BulkWriteError as exc:
            # Another relay published some of them too; consumers dedupe by ce_id.
            if any(err.get("code") != 11000 for err in exc.details.get("writeErrors", [])):
                raise
        self._metrics.published.labels(collection).inc(len(entries))

    async def _clean_settled(self) -> None:
        now = time.monotonic()
        for key, (deadline, ids) in list(self._settling.items()):
            if deadline > now:
                continue
            collection, doc_id = key
            col = self._db[collection]
            # Only documents whose entries were all published are ever registered as settling.
            if ids:
                await col.update_one({"_id": doc_id}, {"$unset": {f"{OUTBOX_FIELD}.{i}": "" for i in ids}})
                # Clear the flag only if no writer added a new event meanwhile.
                await col.update_one({"_id": doc_id, OUTBOX_FIELD: {}}, {"$set": {PENDING_FIELD: False}})
            del self._settling[key]

    async def sweep_markers(self, older_than_seconds: float) -> int:
        """Forget publication markers older than any document could still be pending."""
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        result = await self._published.delete_many({"at": {"$lt": cutoff}})
        return result.deleted_count
