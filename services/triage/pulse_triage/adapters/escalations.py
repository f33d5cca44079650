"""MongoDB repositories of escalations and of the API keys a hot spot's sources are checked against."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from pulse_libs.api_keys import API_KEYS_COLLECTION
from pulse_libs.store import Document

from pulse_triage.adapters.store import EPOCH, ESCALATIONS, TriageStore

NO_LEASE: Document = {"lease_until": EPOCH}


def unit_match(units: Sequence[str] | None) -> Document:
    """The unit condition of a list query (None: every unit)."""
    return {} if units is None else {"unit_code": {"$in": list(units)}}


class Escalations:
    """Escalations: inserted once, then moved by updates conditional on state, version or lease owner."""

    def __init__(self, store: TriageStore) -> None:
        self.store = store

    async def get(self, escalation_id: str) -> Document | None:
        return await self.store.get(ESCALATIONS, escalation_id)

    async def add(self, doc: Document) -> bool:
        return await self.store.insert(ESCALATIONS, {**doc, **NO_LEASE, "lease_owner": None}, [])

    async def raise_urgency(
        self, escalation_id: str, version: int, fields: Document, entry: Document
    ) -> Document | None:
        query = {"_id": escalation_id, "state": "pending", "version": version}
        return await self.store.update(
            ESCALATIONS, query, {"$set": fields, "$inc": {"version": 1}, "$push": {"history": entry}}
        )

    async def claim_due(self, now: datetime, owner: str, lease_until: datetime) -> Document | None:
        return await self.store.claim_due(now, owner, lease_until)

    async def apply_step(self, escalation_id: str, owner: str, fields: Document, entry: Document) -> Document | None:
        query = {"_id": escalation_id, "state": "pending", "lease_owner": owner}
        update = {"$set": fields | NO_LEASE | {"lease_owner": None}, "$inc": {"version": 1}}
        return await self.store.update(ESCALATIONS, query, update | {"$push": {"history": entry}})

    async def close(
        self,
        escalation_id: str,
        allowed: Collection[str],
        fields: Document,
        entry: Document,
        token_id: str | None = None,
    ) -> Document | None:
        query = {"_id": escalation_id, "state": {"$in": list(allowed)}}
        update = {"$set": fields | NO_LEASE, "$inc": {"version": 1}, "$push": {"history": entry}}
        return await self.store.update(
            ESCALATIONS, query, update | ({"$addToSet": {"ack_link_ids": token_id}} if token_id else {})
        )

    async def wake_silenced(self, silence_id: str, now: datetime) -> None:
        await self.store.escalations.update_many(
            {"silenced_by": silence_id, "state": "pending"}, {"$set": {"next_action_at": now}}
        )

    async def page(
        self, *, units: Sequence[str] | None, state: str | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        query = unit_match(units) | ({"state": state} if state else {})
        return await self.store.page(ESCALATIONS, query, time_field="raised_at", after=after, limit=limit)

    async def pending_by_level(self) -> dict[Any, int]:
        return await self.store.count_by(ESCALATIONS, {"state": "pending"}, "level")

    async def overdue(self, late: datetime) -> int:
        return await self.store.escalations.count_documents({"state": "pending", "next_action_at": {"$lt": late}})


class ApiKeys:
    """The API keys mirrored from intake's registry."""

    def __init__(self, store: TriageStore) -> None:
        self.keys = store.db[API_KEYS_COLLECTION]

    async def known(self, ids: Sequence[str]) -> set[str]:
        return {d["_id"] async for d in self.keys.find({"_id": {"$in": list(ids)}}, {"_id": 1})}
