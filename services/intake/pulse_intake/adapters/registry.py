"""The units and topics collections (the registries); documents are keyed by code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.outbox import outbox_update
from pulse_libs.store import Document, find_by_ids, upsert_one

from pulse_intake.adapters.collection import Collection
from pulse_intake.adapters.store import TOPICS, UNITS

COMMITTEE_KINDS = ("ward", "commune", "town")
"""Units with a People's Committee of their own."""


class _Registry(Collection):
    async def put(
        self, code: str, data: Mapping[str, Any], events: Sequence[tuple[str, CloudEvent]], now: datetime
    ) -> None:
        """Create or replace the entry `code` with `data` and the events announcing it."""
        update = outbox_update(events, {"$set": {**data, "updated_at": now}})
        # Two replicas seeding at start-up race to create the same unit: upsert_one survives that.
        await upsert_one(self.col, {"_id": code}, update)


class Units(_Registry):
    """Repository of administrative units."""

    name = UNITS

    async def after(
        self, *, kind: str | None, parent_code: str | None, after: str | None, limit: int
    ) -> list[Document]:
        """Units by code after the cursor, of one kind or parent."""
        query = {k: v for k, v in (("kind", kind), ("parent_code", parent_code)) if v is not None}
        return await self.page(query, limit=limit, after=after)

    async def links(self) -> dict[str, dict[str, Any]]:
        """Every unit's parent and successor codes, by code."""
        docs = await self.col.find({}, {"parent_code": 1, "replaced_by": 1}).to_list()
        return {str(d["_id"]): {"parent_code": d.get("parent_code"), "replaced_by": d.get("replaced_by")} for d in docs}

    async def current_with_committee(self, codes: Sequence[str] | None = None) -> list[Document]:
        """Current (not replaced) wards, communes and special zones by code; only `codes` when given.

        Given codes are read by `_id` (concurrently, `find_by_ids`): an `$in` on `_id` read every unit on FerretDB."""
        if codes is None:
            query: dict[str, Any] = {"kind": {"$in": list(COMMITTEE_KINDS)}, "replaced_by": None}
            return await self.col.find(query).sort("_id", 1).to_list()
        found = await find_by_ids(self.col, sorted(codes))
        return [d for d in found.values() if d.get("kind") in COMMITTEE_KINDS and d.get("replaced_by") is None]


class Topics(_Registry):
    """Repository of the topic taxonomy."""

    name = TOPICS

    async def after(self, after: str | None, limit: int) -> list[Document]:
        """Topics by code after the cursor."""
        return await self.page({}, limit=limit, after=after)

    async def every(self) -> list[Document]:
        """Every topic by code."""
        return await self.col.find({}).sort("_id", 1).to_list()

    async def names(self) -> dict[str, str]:
        """Topic code → name."""
        return {d["_id"]: d["name"] for d in await self.col.find({}, {"name": 1}).to_list()}
