"""Reads of the reporting read models; filters by unit and topic are pushed to the store, sums done in Python."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pulse_libs.audit import AuditTrail
from pulse_libs.auth import Principal
from pulse_libs.store import Database, Document
from pymongo.errors import DuplicateKeyError

from pulse_reporting.adapters.cells import LATE_COLLECTION, expand, month_collections
from pulse_reporting.adapters.projection import SNAPSHOTS
from pulse_reporting.adapters.readmodels import (
    AGENCIES,
    DELIVERIES,
    DIRECTIVES,
    ESCALATIONS,
    FILED,
    HOTSPOTS,
    ORIENTATIONS,
    RESPONSES,
    SNAPSHOT_ROWS,
    SURVEYS,
    TOPICS,
    UNITS,
)

SERVICE = "reporting"
"""Names this service's audit chains."""


def _months(first_day: str, last_day: str) -> list[str]:
    return month_collections(date.fromisoformat(first_day), date.fromisoformat(last_day))


class Queries:
    """Everything the use cases read or write outside the event projection."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def counter_rows(
        self, *, first_day: str, last_day: str, units: Sequence[str] | None, topic_code: str | None
    ) -> list[Document]:
        """Daily counter rows for local days first_day..last_day (both included)."""
        query: dict[str, Any] = {"kind": "day", "bucket": {"$gte": first_day, "$lte": last_day}}
        return await self._rows(_months(first_day, last_day), query, units, topic_code)

    async def late_rows(self, *, period: str, units: Sequence[str] | None, topic_code: str | None) -> list[Document]:
        """Counter rows of reports that arrived after `period` was closed."""
        return await self._rows([LATE_COLLECTION], {"kind": "late", "bucket": period}, units, topic_code)

    async def collaborator_rows(self, *, first_day: str, last_day: str, units: Sequence[str] | None) -> list[Document]:
        """Collaborator activity rows (reporter id, unit, reports) for the days given."""
        query: dict[str, Any] = {"kind": "collab", "bucket": {"$gte": first_day, "$lte": last_day}}
        return await self._rows(_months(first_day, last_day), query, units, None)

    async def window_rows(
        self, *, first_day: str, last_day: str, units: Sequence[str] | None
    ) -> tuple[list[Document], list[Document]]:
        """Day rows and collaborator rows of the same days in one pass over their collections."""
        query: dict[str, Any] = {"bucket": {"$gte": first_day, "$lte": last_day}}
        if units is not None:
            query["unit"] = {"$in": list(units)}
        day: list[Document] = []
        collab: list[Document] = []
        for name in _months(first_day, last_day):
            async for doc in self._db[name].find(query, {"ops": 0}):
                (collab if doc.get("kind") == "collab" else day).extend(expand(doc))
        return day, collab

    async def _rows(
        self, collections: list[str], query: dict[str, Any], units: Sequence[str] | None, topic_code: str | None
    ) -> list[Document]:
        if units is not None:
            query["unit"] = {"$in": list(units)}
        rows: list[Document] = []
        for name in collections:
            async for doc in self._db[name].find(query, {"ops": 0}):
                rows.extend(expand(doc, topic_code=topic_code))
        return rows

    async def hotspots(self, *, start: datetime, end: datetime, units: Sequence[str] | None) -> list[Document]:
        """Hot spots opened in [start, end)."""
        return await self._in_window(HOTSPOTS, "opened_at", start, end, units)

    async def escalations(self, *, start: datetime, end: datetime, units: Sequence[str] | None) -> list[Document]:
        """Escalations raised in [start, end)."""
        return await self._in_window(ESCALATIONS, "raised_at", start, end, units)

    async def deliveries(self, *, start: datetime, end: datetime) -> list[Document]:
        """Delivery outcomes finished in [start, end)."""
        return await self._in_window(DELIVERIES, "finished_at", start, end, None)

    async def _in_window(
        self, name: str, field: str, start: datetime, end: datetime, units: Sequence[str] | None
    ) -> list[Document]:
        query: dict[str, Any] = {field: {"$gte": start, "$lt": end}}
        if units is not None:
            query["unit_code"] = {"$in": list(units)}
        return [doc async for doc in self._db[name].find(query).sort(field, 1)]

    async def directives(self, *, end: datetime, units: Sequence[str] | None) -> list[Document]:
        """Directives created before `end` (the period's figures and each hot spot's list are drawn from them)."""
        query: dict[str, Any] = {"created_at": {"$lt": end}}
        if units is not None:
            query["unit_code"] = {"$in": list(units)}
        return [doc async for doc in self._db[DIRECTIVES].find(query).sort("created_at", 1)]

    async def agency_names(self) -> dict[str, str]:
        """Agency names by code, from the directory mirror."""
        return {str(doc["_id"]): str(doc.get("name", doc["_id"])) async for doc in self._db[AGENCIES].find({})}

    async def orientations(self) -> list[Document]:
        """Every orientation mirrored (a few per month)."""
        return [doc async for doc in self._db[ORIENTATIONS].find({})]

    async def names(self, collection: str) -> dict[str, Document]:
        """The units or topics mirror by code."""
        assert collection in (UNITS, TOPICS)
        return {str(doc["_id"]): doc async for doc in self._db[collection].find({})}

    async def survey(self, survey_id: str) -> Document | None:
        """A mirrored survey."""
        return await self._db[SURVEYS].find_one({"_id": survey_id})

    async def surveys_in(self, *, start: datetime, end: datetime) -> list[Document]:
        """Surveys open at some time in [start, end)."""
        query = {"opens_at": {"$lt": end}, "closes_at": {"$gt": start}}
        return [doc async for doc in self._db[SURVEYS].find(query).sort("opens_at", 1)]

    async def responses(self, *, survey_id: str, units: Sequence[str] | None) -> list[Document]:
        """The answer sheets of a survey, limited to units if given."""
        query: dict[str, Any] = {"survey_id": survey_id}
        if units is not None:
            query["unit_code"] = {"$in": list(units)}
        fields = {"answers": 1, "unit_code": 1, "respondent_kind": 1, "demographics": 1, "submitted_at": 1}
        return [doc async for doc in self._db[RESPONSES].find(query, fields).sort("submitted_at", 1)]

    async def snapshot(self, period: str) -> Document | None:
        """The freeze record of a period, if it was closed."""
        return await self._db[SNAPSHOTS].find_one({"_id": period})

    async def begin_snapshot(
        self, *, period: str, start: datetime, end: datetime, by: str, at: datetime, document_number: str | None
    ) -> Document | None:
        """Start freezing a period; None if it is already closed. From now on its new reports count as late.

        The first close is version 1 (late cells in bucket `<period>`); closing again after a reopening
        makes version n with its own late bucket `<period>#v<n>`, so late reports counted live while the
        period was open are not shown as late again.
        """
        fields = {"state": "closing", "closed_by": by, "closed_at": at, "document_number": document_number}
        try:
            await self._db[SNAPSHOTS].insert_one(
                {"_id": period, "start": start, "end": end, "version": 1, "late_bucket": period, **fields}
            )
        except DuplicateKeyError:
            doc = await self.snapshot(period)
            if doc is None or doc.get("state") == "closed":
                return None
            if doc.get("state") == "closing":
                return doc  # resume an interrupted close
            version = int(doc.get("version", 1)) + 1
            update = {**fields, "version": version, "late_bucket": f"{period}#v{version}"}
            result = await self._db[SNAPSHOTS].update_one(
                {"_id": period, "state": "reopened", "version": doc.get("version", 1)}, {"$set": update}
            )
            return {**doc, **update} if result.modified_count else None
        return await self.snapshot(period)

    async def reopen_snapshot(self, *, period: str, by: str, at: datetime, reason: str) -> Document | None:
        """Reopen a closed period (its filed versions are kept); None unless it was closed."""
        result = await self._db[SNAPSHOTS].update_one(
            {"_id": period, "state": "closed"},
            {"$set": {"state": "reopened", "reopened_by": by, "reopened_at": at, "reopen_reason": reason}},
        )
        return await self.snapshot(period) if result.modified_count else None

    async def save_filed(self, doc: Document) -> None:
        """Store a filed version of a periodic report (idempotent: one document per period and version)."""
        try:
            await self._db[FILED].insert_one(doc)
        except DuplicateKeyError:
            pass  # filed already by an earlier, interrupted close

    async def filed(self, *, period: str, version: int) -> Document | None:
        """The filed version `version` of a period's report."""
        return await self._db[FILED].find_one({"_id": f"{period}@v{version}"})

    async def finish_snapshot(self, *, period: str, rows: list[Document]) -> None:
        """Store the frozen rows (unit × topic × urgency × channel × sentiment) and mark the period closed."""
        await self._db[SNAPSHOT_ROWS].delete_many({"period": period})
        if rows:
            await self._db[SNAPSHOT_ROWS].insert_many([{**row, "period": period} for row in rows])
        await self._db[SNAPSHOTS].update_one({"_id": period}, {"$set": {"state": "closed"}})

    async def snapshot_rows(
        self, *, period: str, units: Sequence[str] | None, topic_code: str | None
    ) -> list[Document]:
        """The frozen rows of a closed period."""
        query: dict[str, Any] = {"period": period}
        if units is not None:
            query["unit"] = {"$in": list(units)}
        if topic_code is not None:
            query["topic"] = topic_code
        return [doc async for doc in self._db[SNAPSHOT_ROWS].find(query, {"_id": 0, "period": 0})]

    async def audit(
        self, *, principal: Principal, action: str, target: str, details: dict[str, Any] | None = None
    ) -> None:
        """Append an entry to this process's audit chain (who read identities or exported what, who closed what)."""
        await AuditTrail(self._db, service=SERVICE).record(
            actor=principal, action=action, target=target, details=details
        )
