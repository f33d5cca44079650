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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from pulse_libs.clock import as_utc, utcnow
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.metrics import OutboxMetrics
from pulse_libs.kafka.producer import EventProducer

log = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"
PENDING_FIELD = "_outbox_pending"


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
    """Index the pending flag the relay scans."""
    await db[collection].create_index([(PENDING_FIELD, ASCENDING)], name="outbox_pending")


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
    ) -> None:
        self._db = db
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
        while not self._stopping.is_set():
            self._wake.clear()
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
        """Publish one batch per collection; True if a full batch was found (more may wait)."""
        busy = False
        pending_docs = 0
        oldest: float = 0.0
        now = utcnow()
        for name in self._collections:
            col = self._db[name]
            docs = await col.find({PENDING_FIELD: True}, {OUTBOX_FIELD: 1}).limit(self._batch).to_list()
            pending_docs += len(docs)
            busy = busy or len(docs) >= self._batch
            for doc in docs:
                entries = sorted((doc.get(OUTBOX_FIELD) or {}).values(), key=lambda e: e.get("seq", 0))
                if entries:
                    oldest = max(oldest, (now - as_utc(entries[0]["time"])).total_seconds())
                await self._publish_document(name, doc["_id"], entries)
        self._metrics.pending.set(pending_docs)
        self._metrics.oldest_age.set(oldest)
        return busy

    async def _publish_document(self, collection: str, doc_id: Any, entries: list[dict[str, Any]]) -> None:
        col = self._db[collection]
        ids = []
        for entry in entries:
            topic, event = CloudEvent.from_document(entry)
            await self._producer.publish(topic, event)
            ids.append(entry["id"])
            self._metrics.published.labels(collection).inc()
        if ids:
            await col.update_one({"_id": doc_id}, {"$unset": {f"{OUTBOX_FIELD}.{i}": "" for i in ids}})
        # Clear the flag only if no writer added a new event meanwhile.
        await col.update_one({"_id": doc_id, OUTBOX_FIELD: {}}, {"$set": {PENDING_FIELD: False}})
