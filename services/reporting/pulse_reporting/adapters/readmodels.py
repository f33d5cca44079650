"""Writers of the read models that are idempotent by construction (deterministic ids, `$set`/`$min`/`$max`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pulse_libs.store import Database
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from pulse_reporting.adapters.cells import LATE_COLLECTION
from pulse_reporting.adapters.projection import FACTS, SNAPSHOTS

UNITS = "units"
TOPICS = "topics"
HOTSPOTS = "hotspots"
ESCALATIONS = "escalations"
ORIENTATIONS = "orientations"
SURVEYS = "surveys"
RESPONSES = "survey_responses"
DELIVERIES = "delivery_outcomes"
SNAPSHOT_ROWS = "snapshot_rows"
AUDIT = "audit_log"
DIRECTIVES = "directives"
AGENCIES = "agencies"
FILED = "filed_reports"

INDEXES: Mapping[str, list[IndexModel]] = {
    LATE_COLLECTION: [IndexModel([("bucket", ASCENDING)], name="bucket")],
    FACTS: [],
    SNAPSHOTS: [IndexModel([("start", ASCENDING)], name="start")],
    SNAPSHOT_ROWS: [IndexModel([("period", ASCENDING)], name="period")],
    HOTSPOTS: [IndexModel([("opened_at", ASCENDING)], name="opened_at")],
    ESCALATIONS: [IndexModel([("raised_at", ASCENDING)], name="raised_at")],
    RESPONSES: [IndexModel([("survey_id", ASCENDING)], name="survey_id")],
    DELIVERIES: [IndexModel([("finished_at", ASCENDING)], name="finished_at")],
    AUDIT: [
        IndexModel([("at", ASCENDING)], name="at"),
        IndexModel([("chain", ASCENDING), ("seq", ASCENDING)], name="chain_seq"),
    ],
    DIRECTIVES: [IndexModel([("created_at", ASCENDING)], name="created_at")],
    FILED: [IndexModel([("period", ASCENDING)], name="period")],
}


class ReadModels:
    """Projects registry, hot-spot, escalation, campaign and delivery events into their collections."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_unit(self, *, code: str, fields: Mapping[str, Any]) -> None:
        """Mirror an administrative unit (name, kind, parent) for report output."""
        await self._db[UNITS].update_one({"_id": code}, {"$set": dict(fields)}, upsert=True)

    async def upsert_topic(self, *, code: str, fields: Mapping[str, Any]) -> None:
        """Mirror a topic (name, sensitivity) for report output."""
        await self._db[TOPICS].update_one({"_id": code}, {"$set": dict(fields)}, upsert=True)

    async def hotspot_changed(
        self, *, hotspot_id: str, kind: str, changed_at: datetime, state: Mapping[str, Any]
    ) -> None:
        """Record a hot-spot change: milestones keep their first time, the latest state wins."""
        milestone = {"opened": "opened_at", "acknowledged": "acknowledged_at", "resolved": "resolved_at"}.get(kind)
        update: dict[str, Any] = {"$max": {"last_changed_at": changed_at}}
        update["$min"] = {milestone: changed_at} if milestone else {"first_changed_at": changed_at}
        await self._db[HOTSPOTS].update_one({"_id": hotspot_id}, update, upsert=True)
        await self._db[HOTSPOTS].update_one(
            {"_id": hotspot_id, "$or": [{"state_at": {"$exists": False}}, {"state_at": {"$lte": changed_at}}]},
            {"$set": {**state, "state_at": changed_at}},
        )

    async def escalation_changed(
        self, *, escalation_id: str, kind: str, level: int, changed_at: datetime, state: Mapping[str, Any]
    ) -> None:
        """Record an escalation's timeline: when each level was paged, acknowledged and resolved."""
        mins: dict[str, Any] = {f"levels.{level}": changed_at} if kind in ("raised", "escalated") else {}
        if kind == "acknowledged":
            mins["acknowledged_at"] = state.get("acknowledged_at") or changed_at
        if kind == "resolved":
            mins["resolved_at"] = state.get("resolved_at") or changed_at
        update: dict[str, Any] = {"$max": {"max_level": level}, "$min": mins or {"first_changed_at": changed_at}}
        await self._db[ESCALATIONS].update_one({"_id": escalation_id}, update, upsert=True)
        if kind == "acknowledged":
            await self._db[ESCALATIONS].update_one(
                {"_id": escalation_id, "ack_level": {"$exists": False}}, {"$set": {"ack_level": level}}
            )
        await self._db[ESCALATIONS].update_one(
            {"_id": escalation_id, "$or": [{"state_at": {"$exists": False}}, {"state_at": {"$lte": changed_at}}]},
            {"$set": {**state, "state_at": changed_at}},
        )

    async def directive_changed(
        self, *, directive_id: str, change: str, at: datetime, state: Mapping[str, Any]
    ) -> None:
        """Record a directive: first time of each milestone (created, done, overdue), the latest state wins."""
        milestone = {"created": "created_at", "done": "done_at", "overdue": "overdue_at"}.get(change)
        update: dict[str, Any] = {"$min": {milestone or "first_changed_at": at}, "$max": {"last_changed_at": at}}
        await self._db[DIRECTIVES].update_one({"_id": directive_id}, update, upsert=True)
        await self._db[DIRECTIVES].update_one(
            {"_id": directive_id, "$or": [{"state_at": {"$exists": False}}, {"state_at": {"$lte": at}}]},
            {"$set": {**state, "state_at": at}},
        )

    async def upsert_agency(self, *, code: str, fields: Mapping[str, Any], changed_at: datetime) -> None:
        """Mirror an agency (name, kind, unit) for the directive tables; the newest change wins."""
        try:
            await self._db[AGENCIES].update_one(
                {"_id": code, "$or": [{"changed_at": {"$exists": False}}, {"changed_at": {"$lte": changed_at}}]},
                {"$set": {**fields, "changed_at": changed_at}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # the mirror holds a newer change already

    async def orientation_published(self, *, orientation_id: str, fields: Mapping[str, Any]) -> None:
        """Mirror an orientation: its period, topics and target units."""
        await self._db[ORIENTATIONS].update_one({"_id": orientation_id}, {"$set": dict(fields)}, upsert=True)

    async def survey_published(self, *, survey_id: str, fields: Mapping[str, Any]) -> None:
        """Mirror a survey's questions and target units."""
        await self._db[SURVEYS].update_one({"_id": survey_id}, {"$set": dict(fields)}, upsert=True)

    async def survey_response(self, *, response_id: str, fields: Mapping[str, Any]) -> None:
        """Keep one answer sheet per response id (a replay inserts nothing); no respondent identity is stored."""
        try:
            await self._db[RESPONSES].insert_one({"_id": response_id, **fields})
        except DuplicateKeyError:
            pass

    async def delivery_outcome(self, *, delivery_id: str, fields: Mapping[str, Any]) -> None:
        """Mirror a delivery's final state."""
        await self._db[DELIVERIES].update_one({"_id": delivery_id}, {"$set": dict(fields)}, upsert=True)
