"""MongoDB repositories of hot spots, triage results and reviews (the routes' reads)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulse_libs.store import Document

from pulse_triage.adapters.escalations import unit_match
from pulse_triage.adapters.store import HOTSPOTS, REVIEWS, TriageStore


class Hotspots:
    """Hot spots; every write is conditional on the version read."""

    def __init__(self, store: TriageStore) -> None:
        self.store = store

    async def get(self, hotspot_id: str) -> Document | None:
        return await self.store.get(HOTSPOTS, hotspot_id)

    async def children(self, parent_id: str) -> list[Document]:
        return await self.store.hotspots.find({"parent_id": parent_id}).to_list()

    async def save(self, hotspot_id: str, version: int, fields: Document) -> Document | None:
        query = {"_id": hotspot_id, "version": version}
        return await self.store.update(HOTSPOTS, query, {"$set": fields, "$inc": {"version": 1}})

    async def page(
        self,
        *,
        units: Sequence[str] | None,
        ids: Sequence[str] | None,
        filters: Mapping[str, str],
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        query = ({"_id": {"$in": list(ids)}} if ids is not None else unit_match(units)) | dict(filters)
        return await self.store.page(HOTSPOTS, query, time_field="first_seen", after=after, limit=limit)

    async def open_by_urgency(self) -> dict[Any, int]:
        return await self.store.count_by(HOTSPOTS, {"status": "open"}, "urgency")


class ById:
    """Documents of one collection read by id (triage results, mirrored registry topics)."""

    def __init__(self, store: TriageStore, collection: str) -> None:
        self.store, self.collection = store, collection

    async def get(self, doc_id: str) -> Document | None:
        return await self.store.get(self.collection, doc_id)

    async def every(self) -> list[Document]:
        return await self.store.db[self.collection].find({}).to_list()


class Reviews:
    """Officers' reviews of triage decisions."""

    def __init__(self, store: TriageStore) -> None:
        self.store = store

    async def page(
        self, *, units: Sequence[str] | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        return await self.store.page(REVIEWS, unit_match(units), time_field="reviewed_at", after=after, limit=limit)
