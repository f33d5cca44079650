"""Recipients, webhook subscriptions, bulletins and the mirrored unit/topic names."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pulse_libs.store import Database, Document
from pymongo import ASCENDING, IndexModel, ReturnDocument

from pulse_notify.domain.model import Recipient

RECIPIENTS = "recipients"
WEBHOOKS = "webhooks"
BULLETINS = "bulletins"
UNITS = "units"
TOPICS = "topics"

INDEXES = {
    RECIPIENTS: [
        IndexModel([("targets", ASCENDING)], name="targets"),
        IndexModel([("user_id", ASCENDING)], name="user_id"),
    ],
    WEBHOOKS: [IndexModel([("event_types", ASCENDING)], name="event_types")],
}


def to_recipient(doc: Document) -> Recipient:
    """The domain value of a stored recipient."""
    return Recipient(
        id=str(doc["_id"]),
        name=str(doc["name"]),
        targets=frozenset(doc.get("targets") or ()),
        unit_codes=frozenset(doc.get("unit_codes") or ()),
        channels={k: str(v) for k, v in (doc.get("channels") or {}).items() if v},
        webhook_secret=doc.get("webhook_secret"),
        active=bool(doc.get("active", True)),
        user_id=doc.get("user_id"),
    )


class Directory:
    """Who gets what: recipients by target and unit, webhook subscriptions by event type."""

    def __init__(self, db: Database, *, subscription_ttl: float = 2.0) -> None:
        self._recipients = db[RECIPIENTS]
        self._webhooks = db[WEBHOOKS]
        self._bulletins = db[BULLETINS]
        self._units = db[UNITS]
        self._topics = db[TOPICS]
        self._ttl = subscription_ttl
        self._subs: list[Document] | None = None
        self._subs_at = 0.0
        self._secrets: dict[str, tuple[str | None, float]] = {}

    # recipients
    async def insert_recipient(self, doc: Document) -> None:
        """Store a new recipient."""
        await self._recipients.insert_one(doc)

    async def get_recipient(self, recipient_id: str) -> Document | None:
        """One recipient document."""
        return await self._recipients.find_one({"_id": recipient_id})

    async def list_recipients(
        self, *, target: str | None, unit_code: str | None, after: str | None, limit: int
    ) -> list[Document]:
        """Recipients in id order, optionally by target or unit (recipients without units cover all)."""
        query: dict[str, Any] = {}
        if target is not None:
            query["targets"] = target
        if after is not None:
            query["_id"] = {"$gt": after}
        docs: list[Document] = []
        async for doc in self._recipients.find(query).sort("_id", ASCENDING):
            if unit_code is None or not doc.get("unit_codes") or unit_code in doc["unit_codes"]:
                docs.append(doc)
                if len(docs) >= limit:
                    break
        return docs

    async def update_recipient(self, recipient_id: str, fields: Document) -> Document | None:
        """Apply `$set` fields; the updated document or None if absent."""
        return await self._recipients.find_one_and_update(
            {"_id": recipient_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )

    async def delete_recipient(self, recipient_id: str) -> bool:
        """Remove a recipient; True if it existed."""
        return (await self._recipients.delete_one({"_id": recipient_id})).deleted_count == 1

    async def webhook_secret(self, recipient_id: str) -> str | None:
        """A recipient's personal webhook secret (cached for a moment: the worker asks per delivery)."""
        cached = self._secrets.get(recipient_id)
        if cached is not None and time.monotonic() - cached[1] < self._ttl:
            return cached[0]
        doc = await self._recipients.find_one({"_id": recipient_id}, {"webhook_secret": 1})
        secret = doc.get("webhook_secret") if doc else None
        self._secrets[recipient_id] = (secret, time.monotonic())
        return secret

    async def subscription(self, webhook_id: str) -> Document | None:
        """An active subscription, from the same short-lived cache as `subscriptions_for`."""
        await self.subscriptions_for("")
        cached = next((s for s in self._subs or [] if s["_id"] == webhook_id), None)
        if cached is not None:
            return cached
        return await self._webhooks.find_one({"_id": webhook_id, "active": True})  # newer than the cache?

    async def reporters(self, user_id: str) -> list[Recipient]:
        """Active recipients of receipts for the reports of Pulse user `user_id`."""
        docs = await self._recipients.find({"user_id": user_id}).to_list()
        return [r for r in map(to_recipient, docs) if r.active and "reporter" in r.targets]

    async def recipients_for(self, target: str) -> list[Recipient]:
        """Active recipients holding `target` (unit filtering is the caller's, in Python)."""
        docs = await self._recipients.find({"targets": target}).to_list()
        return [r for r in map(to_recipient, docs) if r.active]

    # webhook subscriptions
    async def insert_webhook(self, doc: Document) -> None:
        """Store a subscription."""
        await self._webhooks.insert_one(doc)
        self._subs = None

    async def get_webhook(self, webhook_id: str) -> Document | None:
        """One subscription (with its secret: never answer it as is)."""
        return await self._webhooks.find_one({"_id": webhook_id})

    async def list_webhooks(self, *, after: str | None, limit: int) -> list[Document]:
        """Subscriptions in id order."""
        query: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
        return await self._webhooks.find(query).sort("_id", ASCENDING).limit(limit).to_list()

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a subscription; True if it existed."""
        self._subs = None
        return (await self._webhooks.delete_one({"_id": webhook_id})).deleted_count == 1

    async def subscriptions_for(self, event_type: str) -> list[Document]:
        """Active subscriptions to `event_type` (cached for a moment: every event of every topic asks)."""
        if self._subs is None or time.monotonic() - self._subs_at > self._ttl:
            self._subs = await self._webhooks.find({"active": True}).to_list()
            self._subs_at = time.monotonic()
        return [s for s in self._subs if event_type in s.get("event_types", []) or "*" in s.get("event_types", [])]

    # bulletins
    async def insert_bulletin(self, doc: Document) -> None:
        """Store a bulletin."""
        await self._bulletins.insert_one(doc)

    async def set_bulletin_count(self, bulletin_id: str, count: int) -> None:
        """Record how many deliveries a bulletin produced."""
        await self._bulletins.update_one({"_id": bulletin_id}, {"$set": {"delivery_count": count}})

    # mirrored registry names
    async def upsert_name(self, kind: str, code: str, name: str, at: datetime) -> None:
        """Mirror the name of a unit or topic from intake's registry events."""
        col = self._units if kind == "unit" else self._topics
        await col.update_one({"_id": code}, {"$set": {"name": name, "updated_at": at}}, upsert=True)

    async def names(self, kind: str, codes: Iterable[str]) -> dict[str, str]:
        """{code: name} for the codes whose names are known."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        col = self._units if kind == "unit" else self._topics
        return {str(d["_id"]): str(d["name"]) async for d in col.find({"_id": {"$in": wanted}})}
