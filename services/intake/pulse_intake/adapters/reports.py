"""The reports collection: submissions, scoped reads and the projection of triage's decisions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pulse_libs.store import Document, each_concurrently
from pymongo.errors import DuplicateKeyError

from pulse_intake.adapters.collection import NO_OUTBOX, Collection
from pulse_intake.adapters.store import MIGRATIONS, REPORTS

HOTSPOT_BACKFILL = "reports.hotspot_id"
"""The migration that gave reports triaged before it a top-level `hotspot_id`."""


@dataclass(frozen=True)
class ReportScope:
    """What a caller may see: reports of `units` (None = every unit), or only their own (`reporter`)."""

    units: Sequence[str] | None = None
    reporter: tuple[str, str] | None = None
    """(kind, subject) of the reporter whose reports alone are visible."""
    unit_code: str | None = None
    """With `reporter`: only their reports of this unit."""


@dataclass(frozen=True)
class ReportQuery:
    """Filters of a report search; every one given must hold."""

    scope: ReportScope
    ids: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    not_statuses: Sequence[str] | None = None
    urgency: str | None = None
    channel: str | None = None
    topic_codes: Sequence[str] | None = None
    """Reports with any of these topics."""
    received_from: datetime | None = None
    """Inclusive."""
    received_before: datetime | None = None
    """Exclusive."""
    received_until: datetime | None = None
    """Inclusive."""
    terms: Sequence[str] = ()
    """Folded words that must all occur in the title or content."""


class ReportSubmissions(Protocol):
    """What submitting needs of the reports' store (Reports, or InMemoryReports in unit tests)."""

    async def insert(self, doc: Mapping[str, Any]) -> bool: ...

    async def insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[int]: ...

    async def by_idempotency_key(self, idem_key: str) -> Document | None: ...

    async def id_of_duplicate(self, dedupe_key: str) -> str | None: ...


class InMemoryReports:
    """ReportSubmissions in memory, with the unique keys of the real collection (`_id`, dedupe and idempotency key)."""

    UNIQUE = ("_id", "dedupe_key", "idem_key")

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []

    def _clash(self, doc: Mapping[str, Any]) -> bool:
        return any(doc.get(k) == d.get(k) for d in self.docs for k in self.UNIQUE)

    async def insert(self, doc: Mapping[str, Any]) -> bool:
        if self._clash(doc):
            return False
        self.docs.append(dict(doc))
        return True

    async def insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[int]:
        return [pos for pos, doc in enumerate(docs) if not await self.insert(doc)]

    async def by_idempotency_key(self, idem_key: str) -> Document | None:
        return next((dict(d) for d in self.docs if d.get("idem_key") == idem_key), None)

    async def id_of_duplicate(self, dedupe_key: str) -> str | None:
        return next((str(d["_id"]) for d in self.docs if d.get("dedupe_key") == dedupe_key), None)


class ReportProjection(Protocol):
    """What projecting triage's decisions needs of the reports' store (Reports, or InMemoryReports)."""

    async def record_triage(self, report_id: str, triage: Mapping[str, Any], decided_at: datetime) -> None: ...

    async def advance(self, report_ids: Sequence[str], status: str, rank: int) -> None: ...

    async def advance_hotspot(self, hotspot_id: str, status: str, rank: int) -> None: ...

    async def set_outcome(
        self, report_ids: Sequence[str], hotspot_id: str, outcome: str, at: datetime | None
    ) -> None: ...


class InMemoryProjectedReports(InMemoryReports):
    """InMemoryReports that also take triage's projection, with the conditions of the real updates."""

    def _matching(self, report_ids: Sequence[str] = (), hotspot_id: str | None = None) -> list[dict[str, Any]]:
        return [
            d
            for d in self.docs
            if d["_id"] in report_ids or (hotspot_id is not None and d.get("hotspot_id") == hotspot_id)
        ]

    async def record_triage(self, report_id: str, triage: Mapping[str, Any], decided_at: datetime) -> None:
        for doc in self._matching([report_id]):
            known = doc.get("triage")
            if (
                known is None
                or known["decided_at"] < decided_at
                or (
                    known["decided_at"] == decided_at
                    and (triage.get("hotspot_id") is not None or known.get("hotspot_id") is None)
                )
            ):
                doc.update(triage=dict(triage), hotspot_id=triage.get("hotspot_id"))

    async def advance(self, report_ids: Sequence[str], status: str, rank: int) -> None:
        for doc in self._matching(report_ids):
            if doc["status_rank"] < rank:
                doc.update(status=status, status_rank=rank)

    async def advance_hotspot(self, hotspot_id: str, status: str, rank: int) -> None:
        for doc in self._matching(hotspot_id=hotspot_id):
            if doc["status_rank"] < rank:
                doc.update(status=status, status_rank=rank)

    async def set_outcome(self, report_ids: Sequence[str], hotspot_id: str, outcome: str, at: datetime | None) -> None:
        for doc in self._matching(report_ids, hotspot_id):
            doc.update(outcome=outcome, outcome_at=at)


def _scope(scope: ReportScope) -> dict[str, Any]:
    if scope.reporter is not None:
        kind, subject = scope.reporter
        query: dict[str, Any] = {"reporter_id": subject, "reporter_kind": kind}
        if scope.unit_code is not None:
            query["unit_code"] = scope.unit_code
        return query
    return {} if scope.units is None else {"unit_code": {"$in": list(scope.units)}}


def _clauses(q: ReportQuery) -> list[dict[str, Any]]:
    clauses = [_scope(q.scope)]
    if q.ids:
        clauses.append({"_id": {"$in": list(q.ids)}})
    if q.statuses is not None:
        clauses.append({"status": {"$in": list(q.statuses)}})
    if q.not_statuses is not None:
        clauses.append({"status": {"$nin": list(q.not_statuses)}})
    for field, value in (("triage.urgency", q.urgency), ("channel", q.channel)):
        if value is not None:
            clauses.append({field: value})
    if q.topic_codes:
        clauses.append({"topic_codes": {"$in": list(q.topic_codes)}})
    for op, moment in (("$gte", q.received_from), ("$lt", q.received_before), ("$lte", q.received_until)):
        if moment is not None:
            clauses.append({"received_at": {op: moment}})
    clauses += [{"search_text": {"$regex": re.escape(term)}} for term in q.terms]
    return clauses


class Reports(Collection):
    """Repository of reports."""

    name = REPORTS

    async def by_idempotency_key(self, idem_key: str) -> Document | None:
        """The report stored under this idempotency key (with its outbox), or None."""
        return await self.col.find_one({"idem_key": idem_key})

    async def id_of_duplicate(self, dedupe_key: str) -> str | None:
        """The id of the report already stored under this deduplication key, or None."""
        doc = await self.col.find_one({"dedupe_key": dedupe_key}, {"_id": 1})
        return None if doc is None else str(doc["_id"])

    async def visible(self, report_id: str, scope: ReportScope) -> Document | None:
        """The report if it lies inside `scope` (without its outbox), else None."""
        return await self.col.find_one({"_id": report_id, **_scope(scope)}, NO_OUTBOX)

    async def search(self, query: ReportQuery, *, before: str | None, limit: int) -> list[Document]:
        """Reports matching `query`, newest first, before the cursor id `before`."""
        clauses = _clauses(query)
        if before is not None:
            clauses.append({"_id": {"$lt": before}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return await self.page(where, limit=limit, newest_first=True, projection=NO_OUTBOX)

    async def record_triage(self, report_id: str, triage: Mapping[str, Any], decided_at: datetime) -> None:
        """Set the report's triage decision unless a newer one is recorded.

        The decision's hot spot is also kept top-level (`hotspot_id`, indexed): FerretDB answers an equality on a
        dotted path (`triage.hotspot_id`) by reading every report, on a top-level field from the index.

        One decision can arrive twice with the same `decided_at`, first without its hot spot and then with it (a
        review that opens a hot spot), and the relay does not promise their order: at an equal time, a decision
        without a hot spot never replaces one that names it."""
        same_time: dict[str, Any] = {"triage.decided_at": decided_at}
        if triage.get("hotspot_id") is None:
            same_time["hotspot_id"] = None
        await self.col.update_one(
            {"_id": report_id, "$or": [{"triage": None}, {"triage.decided_at": {"$lt": decided_at}}, same_time]},
            {"$set": {"triage": dict(triage), "hotspot_id": triage.get("hotspot_id")}},
        )

    async def backfill_hotspot_ids(self) -> int:
        """Once per store: copy `triage.hotspot_id` to the top-level `hotspot_id` of reports triaged before it existed.

        A marker document records that it ran, so later starts cost one lookup; the one scan happens the first time.
        Replicas starting together both backfill: the writes are the same, conditional on the field being absent."""
        migrations = self.col.database[MIGRATIONS]
        if await migrations.find_one({"_id": HOTSPOT_BACKFILL}) is not None:
            return 0
        stale = self.col.find({"hotspot_id": {"$exists": False}, "triage": {"$ne": None}}, {"triage.hotspot_id": 1})
        todo = [(str(doc["_id"]), (doc.get("triage") or {}).get("hotspot_id")) async for doc in stale]

        async def one(item: tuple[str, str | None]) -> None:
            report_id, hotspot_id = item
            await self.col.update_one(
                {"_id": report_id, "hotspot_id": {"$exists": False}}, {"$set": {"hotspot_id": hotspot_id}}
            )

        await each_concurrently(one, todo)
        try:
            await migrations.insert_one({"_id": HOTSPOT_BACKFILL, "reports": len(todo)})
        except DuplicateKeyError:
            pass  # another replica starting at the same time recorded it first (seen: two intakes in the fault suite)
        return len(todo)

    async def advance(self, report_ids: Sequence[str], status: str, rank: int) -> None:
        """Move the reports to `status` (of order `rank`) unless they are already at or beyond it.

        One update by `_id` per report, concurrently (FerretDB answers `{_id: {$in: ids}}` by reading every report)."""
        change = {"$set": {"status": status, "status_rank": rank}}

        async def one(report_id: str) -> None:
            await self.col.update_one({"_id": report_id, "status_rank": {"$lt": rank}}, change)

        await each_concurrently(one, dict.fromkeys(report_ids))

    async def advance_hotspot(self, hotspot_id: str, status: str, rank: int) -> None:
        """Move every report triaged into the hot spot to `status` unless already at or beyond it."""
        await self.col.update_many(
            {"hotspot_id": hotspot_id, "status_rank": {"$lt": rank}},
            {"$set": {"status": status, "status_rank": rank}},
        )

    async def set_outcome(self, report_ids: Sequence[str], hotspot_id: str, outcome: str, at: datetime | None) -> None:
        """Record the outcome on every report of the hot spot, then on the listed reports (by `_id`, concurrently):
        equalities the index answers, where one `$or` of both made FerretDB read every report."""
        change = {"$set": {"outcome": outcome, "outcome_at": at}}
        await self.col.update_many({"hotspot_id": hotspot_id}, change)

        async def one(report_id: str) -> None:
            await self.col.update_one({"_id": report_id}, change)

        await each_concurrently(one, dict.fromkeys(report_ids))
