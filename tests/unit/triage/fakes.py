"""In-memory fakes of triage's repositories (adapters/repositories.py), for use-case unit tests.

Each keeps the conditions of its MongoDB twin's writes (state, version, lease owner) so a use case meets the
same refusals here as on the store; documents go in and come out as copies, as they would through a driver."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.store import Document
from pulse_triage.adapters.repositories import Position, TriageRepositories

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _newest_first(docs: Collection[Document], time_field: str, after: Position | None, limit: int) -> list[Document]:
    """Newest first by (time_field, _id) after a cursor position, up to limit + 1 (as TriageStore.page)."""
    rows = sorted(docs, key=lambda d: (d[time_field], d["_id"]), reverse=True)
    if after is not None:
        rows = [d for d in rows if (d[time_field], d["_id"]) < after]
    return [copy.deepcopy(d) for d in rows[: limit + 1]]


def _in_units(doc: Document, units: Sequence[str] | None) -> bool:
    return units is None or doc["unit_code"] in units


class FakeEscalations:
    """Escalations by id; each write applies only if its condition holds, like the conditional updates."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.claims: set[tuple[str, int]] = set()

    def _apply(self, doc: Document, fields: Document, entry: Document) -> Document:
        doc.update(copy.deepcopy(fields))
        doc["version"] = doc.get("version", 0) + 1
        doc.setdefault("history", []).append(copy.deepcopy(entry))
        return copy.deepcopy(doc)

    async def get(self, escalation_id: str) -> Document | None:
        found = self.docs.get(escalation_id)
        return copy.deepcopy(found) if found is not None else None

    async def add(self, doc: Document) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = copy.deepcopy({**doc, "lease_until": EPOCH, "lease_owner": None})
        return True

    async def raise_urgency(
        self, escalation_id: str, version: int, fields: Document, entry: Document
    ) -> Document | None:
        doc = self.docs.get(escalation_id)
        if doc is None or doc["state"] != "pending" or doc["version"] != version:
            return None
        return self._apply(doc, fields, entry)

    async def claim_due(self, now: datetime, owner: str, lease_until: datetime) -> Document | None:
        due = [
            d
            for d in self.docs.values()
            if d["state"] == "pending" and d.get("next_action_at") is not None and d["next_action_at"] <= now
            if d["lease_until"] <= now
        ]
        if not due:
            return None
        doc = min(due, key=lambda d: d["next_action_at"])
        doc |= {"lease_until": lease_until, "lease_owner": owner, "claim_seq": doc.get("claim_seq", 0) + 1}
        lock = (doc["_id"], doc["claim_seq"])
        if lock in self.claims:
            return None
        self.claims.add(lock)
        return copy.deepcopy(doc)

    async def apply_step(self, escalation_id: str, owner: str, fields: Document, entry: Document) -> Document | None:
        doc = self.docs.get(escalation_id)
        if doc is None or doc["state"] != "pending" or doc.get("lease_owner") != owner:
            return None
        return self._apply(doc, {**fields, "lease_until": EPOCH, "lease_owner": None}, entry)

    async def close(
        self,
        escalation_id: str,
        allowed: Collection[str],
        fields: Document,
        entry: Document,
        token_id: str | None = None,
    ) -> Document | None:
        doc = self.docs.get(escalation_id)
        if doc is None or doc["state"] not in allowed:
            return None
        if token_id and token_id not in doc.setdefault("ack_link_ids", []):
            doc["ack_link_ids"].append(token_id)
        return self._apply(doc, {**fields, "lease_until": EPOCH}, entry)

    async def wake_silenced(self, silence_id: str, now: datetime) -> None:
        for doc in self.docs.values():
            if doc.get("silenced_by") == silence_id and doc["state"] == "pending":
                doc["next_action_at"] = now

    async def page(
        self, *, units: Sequence[str] | None, state: str | None, after: Position | None, limit: int
    ) -> list[Document]:
        docs = [d for d in self.docs.values() if _in_units(d, units) and (state is None or d["state"] == state)]
        return _newest_first(docs, "raised_at", after, limit)

    async def pending_by_level(self) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for doc in self.docs.values():
            if doc["state"] == "pending":
                out[doc["level"]] = out.get(doc["level"], 0) + 1
        return out

    async def overdue(self, late: datetime) -> int:
        return sum(
            1
            for d in self.docs.values()
            if d["state"] == "pending" and d.get("next_action_at") is not None and d["next_action_at"] < late
        )


class FakeHotspots:
    """Hot spots by id; a save applies only at the version read."""

    def __init__(self, *docs: Document) -> None:
        self.docs: dict[str, Document] = {d["_id"]: copy.deepcopy(d) for d in docs}

    async def get(self, hotspot_id: str) -> Document | None:
        found = self.docs.get(hotspot_id)
        return copy.deepcopy(found) if found is not None else None

    async def children(self, parent_id: str) -> list[Document]:
        return [copy.deepcopy(d) for d in self.docs.values() if d.get("parent_id") == parent_id]

    async def save(self, hotspot_id: str, version: int, fields: Document) -> Document | None:
        doc = self.docs.get(hotspot_id)
        if doc is None or doc["version"] != version:
            return None
        doc.update(copy.deepcopy(fields))
        doc["version"] += 1
        return copy.deepcopy(doc)

    async def page(
        self,
        *,
        units: Sequence[str] | None,
        ids: Sequence[str] | None,
        filters: Mapping[str, str],
        after: Position | None,
        limit: int,
    ) -> list[Document]:
        docs = [
            d
            for d in self.docs.values()
            if (d["_id"] in ids if ids is not None else _in_units(d, units))
            and all(d.get(k) == v for k, v in filters.items())
        ]
        return _newest_first(docs, "first_seen", after, limit)

    async def open_by_urgency(self) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for doc in self.docs.values():
            if doc["status"] == "open":
                out[doc["urgency"]] = out.get(doc["urgency"], 0) + 1
        return out


class FakeSilences:
    """Silences by id."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    async def add(self, doc: Document) -> None:
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def get(self, silence_id: str) -> Document | None:
        found = self.docs.get(silence_id)
        return copy.deepcopy(found) if found is not None else None

    async def delete(self, silence_id: str) -> None:
        self.docs.pop(silence_id, None)

    async def active(self, unit_code: str, topic_code: str, now: datetime) -> Document | None:
        covering = [
            d
            for d in self.docs.values()
            if d["until"] > now and d["unit_code"] in (unit_code, None) and d["topic_code"] in (topic_code, None)
        ]
        return copy.deepcopy(max(covering, key=lambda d: d["until"])) if covering else None

    async def page(self, *, after: Position | None, limit: int) -> list[Document]:
        return _newest_first(self.docs.values(), "until", after, limit)

    async def sweep(self, now: datetime) -> int:
        expired = [k for k, d in self.docs.items() if d["until"] <= now]
        for key in expired:
            del self.docs[key]
        return len(expired)


class FakeConfig:
    """Configuration documents by key."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    async def get(self, key: str) -> Document | None:
        found = self.docs.get(key)
        return copy.deepcopy(found) if found is not None else None

    async def put(self, key: str, doc: Document) -> None:
        self.docs[key] = copy.deepcopy({**doc, "_id": key})


class FakeRules:
    """The one stored rule set."""

    def __init__(self) -> None:
        self.doc: Document | None = None

    async def get(self) -> Document | None:
        return copy.deepcopy(self.doc)

    async def put(self, doc: Document) -> None:
        self.doc = copy.deepcopy(doc)


class FakeReads:
    """Documents read by id."""

    def __init__(self, *docs: Document) -> None:
        self.docs = {d["_id"]: copy.deepcopy(d) for d in docs}

    async def get(self, doc_id: str) -> Document | None:
        found = self.docs.get(doc_id)
        return copy.deepcopy(found) if found is not None else None

    async def every(self) -> list[Document]:
        return [copy.deepcopy(d) for d in self.docs.values()]


class FakeReviews:
    """Reviews, newest first."""

    def __init__(self, *docs: Document) -> None:
        self.docs = [copy.deepcopy(d) for d in docs]

    async def page(self, *, units: Sequence[str] | None, after: Position | None, limit: int) -> list[Document]:
        return _newest_first([d for d in self.docs if _in_units(d, units)], "reviewed_at", after, limit)


class FakeApiKeys:
    """The ids of the API keys mirrored from intake."""

    def __init__(self, *ids: str) -> None:
        self.ids = set(ids)

    async def known(self, ids: Sequence[str]) -> set[str]:
        return self.ids & set(ids)


@dataclass
class FakeOutbox:
    """Events in the order emitted; emitting the same event id again is a no-op, as for the insert-only outbox."""

    events: list[tuple[str, CloudEvent]] = field(default_factory=list)

    async def emit(self, events: Sequence[tuple[str, CloudEvent]], now: datetime, bundle: str | None = None) -> None:
        seen = {e.id for _, e in self.events}
        self.events += [(topic, e) for topic, e in events if e.id not in seen]

    def types(self) -> list[str]:
        """The event types, in order."""
        return [e.type for _, e in self.events]


@dataclass
class Fakes:
    """One set of fakes and the TriageRepositories over them."""

    escalations: FakeEscalations = field(default_factory=FakeEscalations)
    hotspots: FakeHotspots = field(default_factory=FakeHotspots)
    silences: FakeSilences = field(default_factory=FakeSilences)
    policies: FakeConfig = field(default_factory=FakeConfig)
    rules: FakeRules = field(default_factory=FakeRules)
    results: FakeReads = field(default_factory=FakeReads)
    topics: FakeReads = field(default_factory=FakeReads)
    reviews: FakeReviews = field(default_factory=FakeReviews)
    api_keys: FakeApiKeys = field(default_factory=FakeApiKeys)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)

    def repositories(self) -> TriageRepositories:
        """The bundle the use cases take (type-checked against the Protocols)."""
        return TriageRepositories(
            escalations=self.escalations,
            hotspots=self.hotspots,
            silences=self.silences,
            policies=self.policies,
            rules=self.rules,
            results=self.results,
            topics=self.topics,
            reviews=self.reviews,
            api_keys=self.api_keys,
            outbox=self.outbox,
        )
