"""Exactly-once counter projection on a store without transactions.

Each report has a fact document holding what is known about it, the contribution it
has already applied to the counters, a sequence number and at most one pending move.
A move is written into the fact first (compare-and-set on `seq`), then applied to each
counter document (see cells.py for their layout) with the filter `{"ops": {"$ne": op}}` and `$push: {"ops": op}` in the
same single-document update, so a retried move skips the counters it already reached.
Only after the fact records the move as applied are the op markers pulled again, so a
marker never disappears while a retry could still need it. See the service README.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pulse_libs.clock import as_utc, utcnow
from pulse_libs.kafka.errors import TransientError
from pulse_libs.store import Database
from pymongo.errors import DuplicateKeyError

from pulse_reporting.adapters.cells import grouped, increments
from pulse_reporting.domain.counters import Cell, Contribution, ReportFact, contribution, difference

FACTS = "report_facts"
SNAPSHOTS = "period_snapshots"


class CounterProjector:
    """Keeps the counters equal to the sum of every report's current contribution."""

    def __init__(self, db: Database, *, tz: ZoneInfo, takeover_seconds: float = 30.0) -> None:
        self._db = db
        self._facts = db[FACTS]
        self._snapshots = db[SNAPSHOTS]
        self._tz = tz
        self._takeover = timedelta(seconds=takeover_seconds)
        self._mine: set[str] = set()
        """Moves this process wrote and has not finished (e.g. the store failed midway): it may resume them at once."""

    async def record_submission(self, *, report_id: str, fields: Mapping[str, Any], observed_at: datetime) -> None:
        """Merge a submission into the report's fact and move its counters."""
        late = await self._closed_periods_covering(observed_at)
        result = await self._facts.update_one(
            {"_id": report_id},
            {
                "$set": {**fields, "submitted": True},
                "$setOnInsert": {"seq": 0, "pending": None, "late_periods": late},
            },
            upsert=True,
        )
        if result.upserted_id is None:  # the fact existed (triage came first, or a replay): set lateness once
            await self._facts.update_one(
                {"_id": report_id, "late_periods": {"$exists": False}}, {"$set": {"late_periods": late}}
            )
        await self.settle(report_id)

    async def record_triage(self, *, report_id: str, urgency: str, topics: list[str], decided_at: datetime) -> None:
        """Merge a triage decision (the newest wins) into the report's fact and move its counters."""
        try:
            await self._facts.update_one(
                {"_id": report_id, "$or": [{"triage_at": {"$exists": False}}, {"triage_at": {"$lte": decided_at}}]},
                {
                    "$set": {"urgency": urgency, "triage_topics": sorted(set(topics)), "triage_at": decided_at},
                    "$setOnInsert": {"seq": 0, "pending": None},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # the fact holds a newer decision already
        await self.settle(report_id)

    async def settle(self, report_id: str) -> None:
        """Drive the report's counters to its current contribution, finishing any interrupted move first."""
        for _ in range(50):
            doc = await self._facts.find_one({"_id": report_id})
            if doc is None:
                return
            pending = doc.get("pending")
            if pending is not None:
                self._check_may_finish(report_id, pending)
                await self._finish(report_id, pending)
                continue
            applied = _decode(doc.get("applied", []))
            delta = difference(applied, contribution(_fact(doc), self._tz))
            if not delta:
                return
            seq = int(doc.get("seq", 0))
            op = f"{report_id}:{seq + 1}"
            desired = contribution(_fact(doc), self._tz)
            move = {"op": op, "state": "apply", "at": utcnow(), "to": _encode(desired), "delta": _encode(delta)}
            result = await self._facts.update_one(
                {"_id": report_id, "seq": seq, "pending": None}, {"$set": {"pending": move, "seq": seq + 1}}
            )
            if result.modified_count:
                self._mine.add(op)
                if await self._finish(report_id, move):
                    await self._finish(report_id, {**move, "state": "clean"})  # no re-read: the move is ours
        raise TransientError(f"report {report_id}: counters did not settle")

    def _check_may_finish(self, report_id: str, pending: Mapping[str, Any]) -> None:
        # A young move belongs to the process that wrote it; others help only once it looks abandoned.
        if pending["state"] != "apply" or pending["op"] in self._mine:
            return
        if utcnow() - as_utc(pending["at"]) < self._takeover:
            raise TransientError(f"report {report_id}: a counter move is in progress elsewhere")

    async def _finish(self, report_id: str, pending: Mapping[str, Any]) -> bool:
        """Advance a move one state: apply it and record it applied, or pull its markers and clear it."""
        op = str(pending["op"])
        if pending["state"] == "apply":
            await self._apply(op, _decode(pending["delta"]))
            result = await self._facts.update_one(
                {"_id": report_id, "pending.op": op, "pending.state": "apply"},
                {"$set": {"applied": pending["to"], "pending.state": "clean"}},
            )
            return bool(result.modified_count)
        for collection, doc_id in grouped(_decode(pending["delta"])):
            await self._db[collection].update_one({"_id": doc_id}, {"$pull": {"ops": op}})
        result = await self._facts.update_one({"_id": report_id, "pending.op": op}, {"$set": {"pending": None}})
        self._mine.discard(op)
        return bool(result.modified_count)

    async def _apply(self, op: str, delta: Contribution) -> None:
        for (collection, doc_id), cells in grouped(delta).items():
            first = cells[0][0]
            try:
                await self._db[collection].update_one(
                    {"_id": doc_id, "ops": {"$ne": op}},
                    {
                        "$inc": increments(cells),
                        "$push": {"ops": op},
                        "$setOnInsert": {"kind": first.kind, "bucket": first.bucket, "unit": first.unit},
                    },
                    upsert=True,
                )
            except DuplicateKeyError:
                pass  # the document exists and already carries this op: applied before a retry

    async def _closed_periods_covering(self, instant: datetime) -> list[str]:
        # A reopened period counts live again; each closing has its own late bucket (see Queries.begin_snapshot).
        query = {"start": {"$lte": instant}, "end": {"$gt": instant}, "state": {"$in": ["closing", "closed"]}}
        cursor = self._snapshots.find(query, {"_id": 1, "late_bucket": 1})
        return sorted([str(doc.get("late_bucket") or doc["_id"]) async for doc in cursor])


def _fact(doc: Mapping[str, Any]) -> ReportFact:
    fact = ReportFact(report_id=str(doc["_id"]))
    if doc.get("submitted"):
        fact = replace(
            fact,
            submitted=True,
            unit_code=doc["unit_code"],
            channel=doc["channel"],
            sentiment=doc.get("sentiment"),
            observed_at=as_utc(doc["observed_at"]),
            reporter_topics=tuple(doc.get("reporter_topics", [])),
            reporter_id=doc.get("reporter_id", ""),
            reporter_kind=doc.get("reporter_kind", "user"),
        )
    if doc.get("triage_at") is not None:
        fact = replace(fact, urgency=doc["urgency"], triage_topics=tuple(doc.get("triage_topics", [])))
    return replace(fact, late_periods=tuple(doc.get("late_periods", [])))


def _encode(amounts: Contribution) -> list[dict[str, Any]]:
    return [{**cell.fields(), "r": r, "m": m} for cell, (r, m) in amounts.items()]


def _decode(items: list[Mapping[str, Any]]) -> Contribution:
    return {Cell.from_fields(item): (int(item["r"]), int(item["m"])) for item in items}
