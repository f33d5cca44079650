"""What intake's repositories share: inserts that report duplicates, id reads and cursor pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulse_libs.store import Database, Document
from pymongo.errors import BulkWriteError, DuplicateKeyError

NO_OUTBOX = {"_outbox": 0}
DUPLICATE_KEY = 11000


class Collection:
    """One collection, with the writes and reads every repository of intake shares."""

    name: str
    """The collection's name (adapters/store.py), set by each repository."""

    def __init__(self, db: Database) -> None:
        self.col = db[self.name]

    async def insert(self, doc: Mapping[str, Any]) -> bool:
        """Insert `doc`; False (and nothing written) when a unique key of it exists already."""
        try:
            await self.col.insert_one(dict(doc))
        except DuplicateKeyError:
            return False
        return True

    async def create(self, doc: Mapping[str, Any]) -> None:
        """Insert a document with a fresh id; a clash is a bug, never a replay (RuntimeError)."""
        if not await self.insert(doc):
            raise RuntimeError(f"{self.col.name}: id {doc['_id']} exists already")

    async def insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert `docs` in one round trip (unordered); return the positions refused as duplicates."""
        if not docs:
            return []
        try:
            await self.col.insert_many([dict(d) for d in docs], ordered=False)
        except BulkWriteError as exc:
            failed = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in failed):
                raise RuntimeError(f"batch insert failed: {failed[:3]}") from exc
            return [int(e["index"]) for e in failed]
        return []

    async def get(self, doc_id: str, *, outbox: bool = True) -> Document | None:
        """The document with this id, or None (without its outbox entries when `outbox` is False)."""
        return await self.col.find_one({"_id": doc_id}, None if outbox else NO_OUTBOX)

    async def page(
        self,
        query: Mapping[str, Any],
        *,
        limit: int,
        after: str | None = None,
        key: str = "_id",
        newest_first: bool = False,
        projection: Mapping[str, Any] | None = None,
    ) -> list[Document]:
        """Documents matching `query` in `key` order (descending when `newest_first`), after the cursor `after`."""
        clauses = [dict(query)] if query else []
        if after is not None:
            clauses.append({key: {"$lt" if newest_first else "$gt": after}})
        where = {} if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        cursor = self.col.find(where, projection).sort(key, -1 if newest_first else 1)
        docs: list[Document] = await cursor.limit(limit).to_list()
        return docs


def any_unit(units: Sequence[str] | None) -> dict[str, Any]:
    """Query part: documents for every unit (no `unit_codes`), or for one of `units` (None = no limit)."""
    if units is None:
        return {}
    return {"$or": [{"unit_codes": []}, {"unit_codes": {"$in": list(units)}}]}
