"""The agencies collection (bodies that receive directives), keyed by code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.outbox import outbox_update
from pulse_libs.store import Document

from pulse_intake.adapters.collection import Collection
from pulse_intake.adapters.store import AGENCIES


class Agencies(Collection):
    """Repository of agencies."""

    name = AGENCIES

    async def after(self, *, after: str | None, limit: int, kind: str | None, unit_code: str | None) -> list[Document]:
        """Agencies by code after the cursor, of one kind or unit."""
        query = {k: v for k, v in (("kind", kind), ("unit_code", unit_code)) if v is not None}
        return await self.page(query, limit=limit, after=after)

    async def update(self, code: str, sets: Mapping[str, Any], events: Sequence[tuple[str, CloudEvent]]) -> None:
        """Set `sets` on the agency with the events announcing the change."""
        await self.col.update_one({"_id": code}, outbox_update(events, {"$set": dict(sets)}))

    async def codes(self) -> set[str]:
        """The code of every agency."""
        return {str(d["_id"]) for d in await self.col.find({}, {"_id": 1}).to_list()}
