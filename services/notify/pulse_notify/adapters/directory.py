"""Recipients, webhook subscriptions, bulletins and the mirrored unit/topic names."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pulse_libs.clock import utcnow
from pulse_libs.events.intake import UserChanged
from pulse_libs.store import Database, Document, find_by_ids, find_by_values
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from pulse_notify.domain.model import Recipient

RECIPIENTS = "recipients"
WEBHOOKS = "webhooks"
BULLETINS = "bulletins"
UNITS = "units"
TOPICS = "topics"
AGENCIES = "agencies"
ROTAS = "rotas"
REPORT_TEXTS = "report_texts"
REPORT_REASONS = "report_reasons"
USER_PREFIX = "us_"
"""Recipients built from intake's users have the id `us_<user id>` (hand-made ones `rc_…`)."""

INDEXES = {
    RECIPIENTS: [
        IndexModel([("targets", ASCENDING)], name="targets"),
        IndexModel([("user_id", ASCENDING)], name="user_id"),
        IndexModel([("agency_code", ASCENDING)], name="agency_code"),
    ],
    WEBHOOKS: [IndexModel([("event_types", ASCENDING)], name="event_types")],
    BULLETINS: [IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="recent")],
}

ROLE_TARGETS: dict[str, tuple[str, ...]] = {
    "department": ("duty_officer", "department_head"),
    "standing_committee": ("standing_committee",),
    "collaborator": ("collaborator", "reporter"),
    "unit_officer": ("collaborator", "reporter"),
    "agency": ("agency",),
    "admin": (),
}
"""What each intake role is paged for. The department's staff are the duty officers (the rota says who
is on duty at level 1) and, together, the department at level 2; intake has no separate role for the
head of department, so heads who must be told apart are entered with `POST /v1/recipients`."""


def user_recipient(user: UserChanged) -> Document:
    """The recipient document of an intake user (its id, targets, units and contacts)."""
    channels = {
        k: v for k, v in (("email", user.email), ("phone", user.phone), ("zalo_user_id", user.zalo_user_id)) if v
    }
    return {
        "_id": USER_PREFIX + user.user_id,
        "name": user.full_name,
        "targets": list(ROLE_TARGETS.get(user.role, ())),
        "unit_codes": sorted(set(user.unit_codes)),
        "channels": channels,
        "webhook_secret": None,
        "active": user.active,
        "user_id": user.user_id,
        "agency_code": user.agency_code,
        "role": user.role,
        "term_ends_on": user.term_ends_on.isoformat() if user.term_ends_on else None,
        "version": user.version,
        "source": "directory",
        "created_at": user.changed_at,
        "updated_at": user.changed_at,
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
        active=bool(doc.get("active", True)) and not _term_over(doc.get("term_ends_on")),
        user_id=doc.get("user_id"),
        agency_code=doc.get("agency_code"),
    )


def _term_over(term_ends_on: str | None) -> bool:
    if not term_ends_on:
        return False
    return utcnow().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date() > date.fromisoformat(term_ends_on)


class Directory:
    """Who gets what: recipients by target and unit, webhook subscriptions by event type."""

    def __init__(self, db: Database, *, subscription_ttl: float = 2.0) -> None:
        self._recipients = db[RECIPIENTS]
        self._webhooks = db[WEBHOOKS]
        self._bulletins = db[BULLETINS]
        self._units = db[UNITS]
        self._topics = db[TOPICS]
        self._agencies = db[AGENCIES]
        self._rotas = db[ROTAS]
        self._texts = db[REPORT_TEXTS]
        self._reasons = db[REPORT_REASONS]
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

    async def by_ids(self, recipient_ids: Iterable[str]) -> list[Recipient]:
        """Active recipients with these ids (in id order)."""
        docs = await find_by_ids(self._recipients, sorted(set(recipient_ids)))
        return [r for r in map(to_recipient, docs.values()) if r.active]

    async def users(self, user_ids: Iterable[str]) -> list[Recipient]:
        """Active recipients that are these Pulse users (whatever their targets), by user id."""
        found = await find_by_values(self._recipients, "user_id", sorted(set(user_ids)))
        docs = [doc for docs in found.values() for doc in docs]
        return [r for r in map(to_recipient, docs) if r.active]

    async def agency_users(self, agency_code: str) -> list[Recipient]:
        """Active users of an agency."""
        docs = await self._recipients.find({"agency_code": agency_code}).to_list()
        return [r for r in map(to_recipient, docs) if r.active and "agency" in r.targets]

    # the people directory, from intake's user and agency events
    async def apply_user(self, user: UserChanged) -> bool:
        """Keep the newest version of a user's recipient; False if a newer or equal one is stored."""
        doc = user_recipient(user)
        created = doc.pop("created_at")
        try:
            result = await self._recipients.update_one(
                {"_id": doc["_id"], "version": {"$lt": user.version}},
                {"$set": doc, "$setOnInsert": {"created_at": created}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # stored version is newer or the same: a redelivered or older event
        self._secrets.pop(doc["_id"], None)
        return result.modified_count == 1 or result.upserted_id is not None

    async def apply_agency(self, code: str, name: str, active: bool, unit_code: str | None, at: datetime) -> None:
        """Mirror an agency's name and state."""
        await self._agencies.update_one(
            {"_id": code},
            {"$set": {"name": name, "active": active, "unit_code": unit_code, "updated_at": at}},
            upsert=True,
        )

    # the duty rota
    async def rota(self, name: str) -> Document | None:
        """The stored rota of a target (only `duty_officer` has one)."""
        return await self._rotas.find_one({"_id": name})

    async def put_rota(self, name: str, doc: Document) -> None:
        """Replace a rota."""
        await self._rotas.replace_one({"_id": name}, {"_id": name, **doc}, upsert=True)

    # facts of reports, for the notices (two collections: two consumer groups never write one document)
    async def put_report_text(self, report_id: str, doc: Document) -> None:
        """The title and a sample of a report's text (from report.submitted)."""
        await self._texts.update_one({"_id": report_id}, {"$set": doc}, upsert=True)

    async def put_report_reasons(self, report_id: str, doc: Document) -> None:
        """Triage's reasons for a report (from report.triaged)."""
        await self._reasons.update_one({"_id": report_id}, {"$set": doc}, upsert=True)

    async def report_facts(self, report_ids: list[str]) -> tuple[list[Document], list[Document]]:
        """(texts, reasons) known for these reports."""
        # By `_id`, concurrently: both collections grow with every report, and FerretDB scans them for `$in`.
        ids = sorted(set(report_ids))
        texts, reasons = await asyncio.gather(find_by_ids(self._texts, ids), find_by_ids(self._reasons, ids))
        return list(texts.values()), list(reasons.values())

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

    async def get_bulletin(self, bulletin_id: str) -> Document | None:
        """One bulletin."""
        return await self._bulletins.find_one({"_id": bulletin_id})

    async def list_bulletins(self, *, after: tuple[datetime, str] | None, limit: int) -> list[Document]:
        """Bulletins newest first, after a (created_at, id) position."""
        query: dict[str, Any] = {}
        if after is not None:
            at, last_id = after
            query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last_id}}]
        cursor = self._bulletins.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return await cursor.to_list()

    # mirrored registry names
    async def upsert_name(self, kind: str, code: str, name: str, at: datetime) -> None:
        """Mirror the name of a unit or topic from intake's registry events."""
        col = self._units if kind == "unit" else self._topics
        await col.update_one({"_id": code}, {"$set": {"name": name, "updated_at": at}}, upsert=True)

    async def names(self, kind: str, codes: Iterable[str]) -> dict[str, str]:
        """{code: name} for the codes whose names are known."""
        col = {"unit": self._units, "topic": self._topics, "agency": self._agencies}[kind]
        found = await find_by_ids(col, sorted(set(codes)), {"name": 1})
        return {str(code): str(doc["name"]) for code, doc in found.items()}
