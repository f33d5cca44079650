"""MongoDB repositories of triage's configuration: policies, the rule set and silences."""

from __future__ import annotations

from datetime import datetime

from pulse_libs.store import Document

from pulse_triage.adapters.store import POLICIES, RULES, RULES_ID, SILENCES, TriageStore


class ConfigDocs:
    """One replaceable document per key in a collection (policies by urgency, the rule set as `current`)."""

    def __init__(self, store: TriageStore, collection: str) -> None:
        self.store, self.collection = store, collection

    async def get(self, key: str) -> Document | None:
        return await self.store.get(self.collection, key)

    async def put(self, key: str, doc: Document) -> None:
        await self.store.db[self.collection].replace_one({"_id": key}, doc, upsert=True)


def policies(store: TriageStore) -> ConfigDocs:
    """Escalation policies by urgency."""
    return ConfigDocs(store, POLICIES)


class StoredRules:
    """The rule set in force, one document (`current`)."""

    def __init__(self, store: TriageStore) -> None:
        self.docs = ConfigDocs(store, RULES)

    async def get(self) -> Document | None:
        return await self.docs.get(RULES_ID)

    async def put(self, doc: Document) -> None:
        await self.docs.put(RULES_ID, doc)


class Silences:
    """Silences; the sweeper deletes expired ones (FerretDB has no TTL index)."""

    def __init__(self, store: TriageStore) -> None:
        self.store = store

    async def add(self, doc: Document) -> None:
        await self.store.silences.insert_one(doc)

    async def get(self, silence_id: str) -> Document | None:
        return await self.store.get(SILENCES, silence_id)

    async def delete(self, silence_id: str) -> None:
        await self.store.silences.delete_one({"_id": silence_id})

    async def active(self, unit_code: str, topic_code: str, now: datetime) -> Document | None:
        return await self.store.active_silence(unit_code, topic_code, now)

    async def page(self, *, after: tuple[datetime, str] | None, limit: int) -> list[Document]:
        return await self.store.page(SILENCES, {}, time_field="until", after=after, limit=limit)

    async def sweep(self, now: datetime) -> int:
        return await self.store.sweep_silences(now)
