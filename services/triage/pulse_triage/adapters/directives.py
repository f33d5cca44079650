"""Storage of directives, their overdue timers, the agencies mirrored from intake, and the gauge counters.

Written for FerretDB 1.24, whose updates are read-modify-write of the whole document, so every document has
one writer at a time:
- A directive document is written by whoever holds the verified claim of its next version
  (`claim_version`: a unique insert into libs' claim locks, which exactly one caller wins). A claim left by
  a process that died before writing is taken over once it is `STALE_CLAIM_SECONDS` old.
- Overdue timers (`directive_timers`, one per directive) are inserted with the directive and then written
  only by the holder of the `directive-overdue` lease (libs `Lease`: trusted terms never overlap). The timer
  never writes the directive; the overdue entry of its timeline is derived from `due_at`.
- The agencies mirror is written by the Kafka consumer of intake.directory.v1 (one partition per code).
- The open/overdue gauges come from counter documents, one per process (`_id` = its owner id), written only
  by that process: summing a handful of small documents replaces counting the directives.

`InMemoryDirectives` (and the other `InMemory*`) are fakes of the same interfaces for use-case unit tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pulse_libs.claims import CLAIM_LOCKS, LEASES, ClaimLocks
from pulse_libs.clock import as_utc
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.store import Database, Document
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from pulse_triage.adapters.store import EPOCH, EVENTS, TriageStore
from pulse_triage.domain.directive import Directive, DirectiveState

DIRECTIVES = "directives"
TIMERS = "directive_timers"
AGENCIES = "agencies"
COUNTERS = "directive_counters"
BASE_ID = "base"
"""The counter document the recount writes (only the `directive-overdue` lease holder)."""
STALE_CLAIM_SECONDS = 60.0
"""A version claim this old whose version was never written belongs to a process that died: take it over."""

DIRECTIVE_INDEXES: Mapping[str, Sequence[IndexModel]] = {
    DIRECTIVES: [
        IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="recent"),
        IndexModel([("assignee", ASCENDING), ("hotspot_id", ASCENDING)], name="assignee"),
        IndexModel([("hotspot_id", ASCENDING)], name="hotspot"),
    ],
    TIMERS: [IndexModel([("fired", ASCENDING), ("due_at", ASCENDING)], name="due")],
    # The same indexes libs' ClaimLocks and Lease create (ensure_indexes), so either may run first.
    CLAIM_LOCKS: [IndexModel([("at", ASCENDING)], name="at")],
    LEASES: [IndexModel([("name", ASCENDING), ("term", DESCENDING)], name="name_term")],
}


@dataclass(frozen=True)
class Agency:
    """A body that receives directives, as intake's directory last described it."""

    code: str
    name: str
    kind: str
    unit_code: str | None
    active: bool


@dataclass(frozen=True)
class DirectiveFilter:
    """What a directive list may be narrowed to; `assignees`/`units` None means any."""

    state: DirectiveState | None = None
    assignees: frozenset[str] | None = None
    hotspot_id: str | None = None
    units: frozenset[str] | None = None


class Directives(Protocol):
    """The directive repository the use cases depend on."""

    async def add(self, directive: Directive) -> None:
        """Store a new directive and arm its overdue timer."""
        ...

    async def get(self, directive_id: str) -> Directive | None:
        """One directive by id."""
        ...

    async def claim_version(self, directive_id: str, version: int, now: datetime) -> bool:
        """Win the right to write `version` of the directive (one winner per version)."""
        ...

    async def save(self, directive: Directive, *, expected_version: int) -> bool:
        """Write a changed directive (under its version claim) if it is still at `expected_version`."""
        ...

    async def page(
        self, flt: DirectiveFilter, *, now: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[Directive]:
        """Newest first by (created_at, id) after a cursor; up to limit + 1."""
        ...

    async def concerns(self, hotspot_id: str, assignee: str) -> bool:
        """True if the hot spot carries a directive to the agency."""
        ...

    async def hotspots_of(self, assignee: str) -> list[str]:
        """Hot spot ids the agency has directives on."""
        ...

    async def due_timers(self, now: datetime, limit: int) -> list[str]:
        """Directive ids whose overdue timer is due and unfired, earliest first (lease holder only)."""
        ...

    async def fire(self, directive_id: str, now: datetime, outcome: str) -> None:
        """Mark the timer fired: `overdue`, or `done` when it came due on a finished directive (lease holder only)."""
        ...

    async def timer_fired(self, directive_id: str) -> bool:
        """True if the overdue transition was already emitted."""
        ...

    async def count_open(self, cutoff: datetime) -> tuple[int, int]:
        """(not done and due after `cutoff`, not done and due by it): the recount that heals the gauges."""
        ...


class Agencies(Protocol):
    """Triage's mirror of intake's agencies."""

    async def get(self, code: str) -> Agency | None:
        """The agency with this code."""
        ...

    async def apply(self, agency: Agency, changed_at: datetime) -> bool:
        """Apply a change unless a later one is already applied; True if applied."""
        ...


class Counters(Protocol):
    """Open/overdue counts for the gauges."""

    async def add(self, *, open_delta: int = 0, overdue_delta: int = 0) -> None:
        """Record a transition of this process."""
        ...

    async def totals(self) -> tuple[int, int]:
        """(open, overdue) over every process."""
        ...

    async def rebase(self, *, open_count: int, overdue_count: int) -> None:
        """Make the totals equal a recount (lease holder only): the base absorbs any drift."""
        ...


def _state_query(state: DirectiveState | None, now: datetime) -> Document:
    if state is None:
        return {}
    if state == "done":
        return {"state": "done"}
    return {"state": "open", "due_at": {"$lte": now} if state == "overdue" else {"$gt": now}}


class MongoDirectives:
    """Directives in the store."""

    def __init__(self, db: Database) -> None:
        self._col = db[DIRECTIVES]
        self._timers = db[TIMERS]
        self._locks = ClaimLocks(db)
        self._lock_col = db[CLAIM_LOCKS]

    async def add(self, directive: Directive) -> None:
        for collection, doc in (
            (self._timers, {"_id": directive.id, "due_at": directive.due_at, "fired": False}),
            (self._col, directive.to_doc()),
        ):
            try:
                await collection.insert_one(doc)
            except DuplicateKeyError:
                pass

    async def get(self, directive_id: str) -> Directive | None:
        doc = await self._col.find_one({"_id": directive_id})
        return Directive.from_doc(doc) if doc else None

    async def claim_version(self, directive_id: str, version: int, now: datetime) -> bool:
        resource = f"directive-{directive_id}"
        if await self._locks.take(resource, version, now=now):
            return True
        lock = await self._lock_col.find_one({"_id": f"{resource}:{version}"})
        current = await self._col.find_one({"_id": directive_id}, {"version": 1})
        stale = lock is not None and (now - as_utc(lock["at"])).total_seconds() > STALE_CLAIM_SECONDS
        if not stale or current is None or current.get("version", 0) >= version:
            return False
        assert lock is not None
        # The claimer died before writing: remove its lock (only if unchanged) and contend again by insert.
        await self._lock_col.delete_one({"_id": lock["_id"], "at": lock["at"]})
        return await self._locks.take(resource, version, now=now)

    async def save(self, directive: Directive, *, expected_version: int) -> bool:
        doc = directive.to_doc()
        doc.pop("_id")
        result = await self._col.update_one({"_id": directive.id, "version": expected_version}, {"$set": doc})
        return result.matched_count == 1

    async def page(
        self, flt: DirectiveFilter, *, now: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[Directive]:
        query: Document = _state_query(flt.state, now)
        if flt.assignees is not None:
            query["assignee"] = {"$in": sorted(flt.assignees)}
        if flt.units is not None:
            query["unit_code"] = {"$in": sorted(flt.units)}
        if flt.hotspot_id is not None:
            query["hotspot_id"] = flt.hotspot_id
        if after is not None:
            t, last_id = after
            query["$or"] = [{"created_at": {"$lt": t}}, {"created_at": t, "_id": {"$lt": last_id}}]
        cursor = self._col.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
        return [Directive.from_doc(d) for d in await cursor.to_list()]

    async def concerns(self, hotspot_id: str, assignee: str) -> bool:
        return await self._col.find_one({"assignee": assignee, "hotspot_id": hotspot_id}, {"_id": 1}) is not None

    async def hotspots_of(self, assignee: str) -> list[str]:
        ids = {d["hotspot_id"] async for d in self._col.find({"assignee": assignee}, {"hotspot_id": 1})}
        return sorted(ids)

    async def due_timers(self, now: datetime, limit: int) -> list[str]:
        cursor = self._timers.find({"fired": False, "due_at": {"$lte": now}}, {"_id": 1})
        return [str(t["_id"]) for t in await cursor.sort([("due_at", ASCENDING)]).limit(limit).to_list()]

    async def fire(self, directive_id: str, now: datetime, outcome: str) -> None:
        await self._timers.update_one(
            {"_id": directive_id, "fired": False}, {"$set": {"fired": True, "fired_at": now, "outcome": outcome}}
        )

    async def count_open(self, cutoff: datetime) -> tuple[int, int]:
        return await _count_open(self._col, cutoff)

    async def timer_fired(self, directive_id: str) -> bool:
        timer = await self._timers.find_one({"_id": directive_id})
        return bool(timer and timer.get("fired") and timer.get("outcome") == "overdue")


async def _count_open(col: Any, cutoff: datetime) -> tuple[int, int]:
    upcoming = await col.count_documents({"state": "open", "due_at": {"$gt": cutoff}})
    overdue = await col.count_documents({"state": "open", "due_at": {"$lte": cutoff}})
    return int(upcoming), int(overdue)


class MongoAgencies:
    """The agencies mirror in the store (`_id` = agency code)."""

    def __init__(self, db: Database) -> None:
        self._col = db[AGENCIES]

    async def get(self, code: str) -> Agency | None:
        doc = await self._col.find_one({"_id": code})
        if doc is None:
            return None
        return Agency(doc["_id"], doc["name"], doc["kind"], doc.get("unit_code"), bool(doc.get("active")))

    async def apply(self, agency: Agency, changed_at: datetime) -> bool:
        stored = await self._col.find_one({"_id": agency.code}, {"changed_at": 1})
        if stored is not None and as_utc(stored["changed_at"]) > as_utc(changed_at):
            return False  # an older change delivered late
        fields = {"name": agency.name, "kind": agency.kind, "unit_code": agency.unit_code, "active": agency.active}
        await self._col.replace_one({"_id": agency.code}, fields | {"changed_at": changed_at}, upsert=True)
        return True


class MongoCounters:
    """Per-process counter documents; only this process writes its own (`_id` = owner)."""

    def __init__(self, db: Database, owner: str) -> None:
        self._col = db[COUNTERS]
        self._owner = owner
        self._open = 0
        self._overdue = 0
        self._lock = asyncio.Lock()

    async def add(self, *, open_delta: int = 0, overdue_delta: int = 0) -> None:
        async with self._lock:
            self._open += open_delta
            self._overdue += overdue_delta
            doc = {"open": self._open, "overdue": self._overdue}
            await self._col.replace_one({"_id": self._owner}, doc, upsert=True)

    async def totals(self) -> tuple[int, int]:
        rows = await self._col.find({}).to_list()
        return sum(int(r.get("open", 0)) for r in rows), sum(int(r.get("overdue", 0)) for r in rows)

    async def rebase(self, *, open_count: int, overdue_count: int) -> None:
        rows = await self._col.find({"_id": {"$ne": BASE_ID}}).to_list()
        deltas = sum(int(r.get("open", 0)) for r in rows), sum(int(r.get("overdue", 0)) for r in rows)
        base = {"open": open_count - deltas[0], "overdue": overdue_count - deltas[1]}
        await self._col.replace_one({"_id": BASE_ID}, base, upsert=True)


class InMemoryDirectives:
    """The repository as a dict, for use-case unit tests."""

    def __init__(self) -> None:
        self.items: dict[str, Directive] = {}
        self.timers: dict[str, dict[str, Any]] = {}
        self.claims: set[tuple[str, int]] = set()

    async def add(self, directive: Directive) -> None:
        self.timers[directive.id] = {"due_at": directive.due_at, "fired": False}
        self.items.setdefault(directive.id, directive.copy())

    async def get(self, directive_id: str) -> Directive | None:
        found = self.items.get(directive_id)
        return found.copy() if found else None

    async def claim_version(self, directive_id: str, version: int, now: datetime) -> bool:
        if (directive_id, version) in self.claims:
            return False
        self.claims.add((directive_id, version))
        return True

    async def save(self, directive: Directive, *, expected_version: int) -> bool:
        current = self.items.get(directive.id)
        if current is None or current.version != expected_version:
            return False
        self.items[directive.id] = directive.copy()
        return True

    async def page(
        self, flt: DirectiveFilter, *, now: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[Directive]:
        out = [
            d.copy()
            for d in self.items.values()
            if (flt.state is None or d.state(now) == flt.state)
            and (flt.assignees is None or d.assignee in flt.assignees)
            and (flt.units is None or d.unit_code in flt.units)
            and (flt.hotspot_id is None or d.hotspot_id == flt.hotspot_id)
            and (after is None or (d.created_at, d.id) < after)
        ]
        return sorted(out, key=lambda d: (d.created_at, d.id), reverse=True)[: limit + 1]

    async def concerns(self, hotspot_id: str, assignee: str) -> bool:
        return any(d.hotspot_id == hotspot_id and d.assignee == assignee for d in self.items.values())

    async def hotspots_of(self, assignee: str) -> list[str]:
        return sorted({d.hotspot_id for d in self.items.values() if d.assignee == assignee})

    async def due_timers(self, now: datetime, limit: int) -> list[str]:
        due = sorted((t["due_at"], i) for i, t in self.timers.items() if not t["fired"] and t["due_at"] <= now)
        return [i for _, i in due[:limit]]

    async def fire(self, directive_id: str, now: datetime, outcome: str) -> None:
        timer = self.timers.get(directive_id)
        if timer is not None and not timer["fired"]:
            timer.update(fired=True, outcome=outcome)

    async def count_open(self, cutoff: datetime) -> tuple[int, int]:
        waiting = [d for d in self.items.values() if not d.done]
        return sum(1 for d in waiting if d.due_at > cutoff), sum(1 for d in waiting if d.due_at <= cutoff)

    async def timer_fired(self, directive_id: str) -> bool:
        timer = self.timers.get(directive_id)
        return bool(timer and timer["fired"] and timer.get("outcome") == "overdue")


class InMemoryAgencies:
    """The agencies mirror as a dict."""

    def __init__(self, *agencies: Agency) -> None:
        self.items = {a.code: (a, EPOCH) for a in agencies}

    async def get(self, code: str) -> Agency | None:
        found = self.items.get(code)
        return found[0] if found else None

    async def apply(self, agency: Agency, changed_at: datetime) -> bool:
        stored = self.items.get(agency.code)
        if stored is not None and stored[1] > changed_at:
            return False
        self.items[agency.code] = (agency, changed_at)
        return True


class InMemoryCounters:
    """Counters as two integers."""

    def __init__(self) -> None:
        self.open = 0
        self.overdue = 0

    async def add(self, *, open_delta: int = 0, overdue_delta: int = 0) -> None:
        self.open += open_delta
        self.overdue += overdue_delta

    async def totals(self) -> tuple[int, int]:
        return self.open, self.overdue

    async def rebase(self, *, open_count: int, overdue_count: int) -> None:
        self.open, self.overdue = open_count, overdue_count


class StoreOutbox:
    """Events into triage's insert-only outbox, one document per event id."""

    def __init__(self, store: TriageStore) -> None:
        self._store = store

    async def emit_once(self, event: tuple[str, CloudEvent], now: datetime) -> bool:
        """Store the event; False if an event with its id is already stored."""
        topic, cloud_event = event
        return await self._store.insert(EVENTS, {"_id": cloud_event.id, "created_at": now}, [(topic, cloud_event)])


class InMemoryOutbox:
    """The outbox as a dict of events by id."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[str, CloudEvent]] = {}

    async def emit_once(self, event: tuple[str, CloudEvent], now: datetime) -> bool:
        """Keep the event; False if its id is already kept."""
        if event[1].id in self.events:
            return False
        self.events[event[1].id] = event
        return True
