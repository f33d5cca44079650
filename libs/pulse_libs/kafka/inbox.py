"""Idempotent consumption: a tracking record per (group, event id) in the consumer's own store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from pulse_libs.clock import utcnow
from pulse_libs.store import find_by_ids

INBOX_COLLECTION = "processed_events"


class Inbox(Protocol):
    """Remembers which events a consumer group has fully processed."""

    async def seen(self, group: str, event_id: str) -> bool:
        """True if the group already processed this event."""
        ...

    async def mark(self, group: str, event_id: str) -> None:
        """Record that the group processed this event."""
        ...

    async def seen_many(self, group: str, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` the group already processed (one lookup for the batch)."""
        ...

    async def mark_many(self, group: str, event_ids: list[str]) -> None:
        """Record that the group processed these events (one store round trip)."""
        ...


class MongoInbox:
    """Inbox in the service's own database; old records are swept, not expired by TTL."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._col = db[INBOX_COLLECTION]

    async def ensure_indexes(self) -> None:
        """Create the index the sweeper uses."""
        await self._col.create_index([("at", ASCENDING)], name="at")

    async def seen(self, group: str, event_id: str) -> bool:
        """True if the group already processed this event."""
        return await self._col.find_one({"_id": f"{group}:{event_id}"}, {"_id": 1}) is not None

    async def mark(self, group: str, event_id: str) -> None:
        """Record that the group processed this event (a repeat is harmless)."""
        try:
            await self._col.insert_one({"_id": f"{group}:{event_id}", "at": utcnow()})
        except DuplicateKeyError:
            pass

    async def seen_many(self, group: str, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` the group already processed.

        One `_id` equality find per id, concurrently: the collection holds every event the service handled
        within the broker's retention, and FerretDB answers `{_id: {$in: keys}}` by reading all of it."""
        cut = len(group) + 1
        found = await find_by_ids(self._col, [f"{group}:{i}" for i in event_ids], {"_id": 1})
        return {key[cut:] for key in found}

    async def mark_many(self, group: str, event_ids: list[str]) -> None:
        """Record that the group processed these events; ids already recorded are harmless."""
        if not event_ids:
            return
        at = utcnow()
        docs = [{"_id": f"{group}:{i}", "at": at} for i in dict.fromkeys(event_ids)]
        try:
            await self._col.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(err.get("code") != 11000 for err in exc.details.get("writeErrors", [])):
                raise

    async def sweep(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Forget records older than the broker's retention; return how many were removed."""
        cutoff = (now or utcnow()) - older_than
        result = await self._col.delete_many({"at": {"$lt": cutoff}})
        return result.deleted_count


class MemoryInbox:
    """Inbox for unit tests of handlers."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def seen(self, group: str, event_id: str) -> bool:
        """True if the group already processed this event."""
        return f"{group}:{event_id}" in self.ids

    async def mark(self, group: str, event_id: str) -> None:
        """Record that the group processed this event."""
        self.ids.add(f"{group}:{event_id}")

    async def seen_many(self, group: str, event_ids: list[str]) -> set[str]:
        """The ids among `event_ids` the group already processed."""
        return {i for i in event_ids if f"{group}:{i}" in self.ids}

    async def mark_many(self, group: str, event_ids: list[str]) -> None:
        """Record that the group processed these events."""
        self.ids.update(f"{group}:{i}" for i in event_ids)
