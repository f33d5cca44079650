"""Use cases of the registries: administrative units and topics, each change announced on the registry topic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_REGISTRY

from pulse_intake.adapters.ports import RegistryEntries
from pulse_intake.adapters.repositories import IntakeStore

UNIT_FIELDS = ("code", "name", "kind", "parent_code", "replaced_by")
TOPIC_FIELDS = ("code", "name", "keywords", "sensitive")
EARLIEST_SINCE = date(1945, 9, 2)
"""No successor link is dated before the founding of the state."""
MAX_DAYS_AHEAD = 366
"""A merger is resolved before it takes effect; a link dated more than a year ahead is a typing error."""


def _public(doc: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: doc.get(f) for f in fields}


def successors(value: Any) -> list[dict[str, str | None]]:
    """A unit's successor links `[{code, since}]` from any stored form: absent or null (none), a bare code
    (stored before links carried a date: `since` unknown) or the list itself; `since` as `YYYY-MM-DD`."""
    if not value:
        return []
    if isinstance(value, str):
        return [{"code": value, "since": None}]
    return [{"code": str(link["code"]), "since": _day_text(link.get("since"))} for link in value]


def _day_text(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else (None if value is None else str(value))


def _stored_unit(unit: Mapping[str, Any]) -> dict[str, Any]:
    # No successor is stored as null, not []: "current unit" queries elsewhere match `replaced_by: null`.
    data = {f: unit.get(f) for f in UNIT_FIELDS}
    data["replaced_by"] = successors(data["replaced_by"]) or None
    return data


def _public_unit(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {**_public(doc, UNIT_FIELDS), "replaced_by": successors(doc.get("replaced_by"))}


async def upsert_unit(*, store: IntakeStore, unit: Mapping[str, Any]) -> str:
    """Create or replace a unit; return 'created', 'updated' or 'unchanged' (no event when unchanged)."""
    data = _stored_unit(unit)
    payload = ev.UnitUpserted(**{**data, "replaced_by": data["replaced_by"] or []})
    event = new_event(ev.UNIT_UPSERTED, source=ev.SOURCE, data=payload, key=data["code"])
    return await _upsert(store.units, data, _stored_unit, [(INTAKE_REGISTRY, event)])


async def upsert_topic(*, store: IntakeStore, topic: Mapping[str, Any]) -> str:
    """Create or replace a topic; return 'created', 'updated' or 'unchanged'."""
    data = {f: topic.get(f) for f in TOPIC_FIELDS}
    data["keywords"] = list(data["keywords"] or [])
    data["sensitive"] = bool(data["sensitive"])
    event = new_event(ev.TOPIC_UPSERTED, source=ev.SOURCE, data=ev.TopicUpserted(**data), key=data["code"])
    return await _upsert(store.topics, data, lambda doc: _public(doc, TOPIC_FIELDS), [(INTAKE_REGISTRY, event)])


async def _upsert(
    entries: RegistryEntries, data: dict[str, Any], current: Callable[[Mapping[str, Any]], dict[str, Any]], events: Any
) -> str:
    existing = await entries.get(data["code"])
    if existing is not None and current(existing) == data:
        return "unchanged"
    await entries.put(data["code"], data, events, utcnow())
    return "updated" if existing is not None else "created"


async def get_unit(*, store: IntakeStore, code: str) -> dict[str, Any] | None:
    """One unit by code, or None."""
    doc = await store.units.get(code)
    return None if doc is None else _public_unit(doc)


async def get_topic(*, store: IntakeStore, code: str) -> dict[str, Any] | None:
    """One topic by code, or None."""
    doc = await store.topics.get(code)
    return None if doc is None else _public(doc, TOPIC_FIELDS)


async def list_units(
    *, store: IntakeStore, kind: str | None, parent_code: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """Units ordered by code, after the cursor position."""
    docs = await store.units.after(kind=kind, parent_code=parent_code, after=after, limit=limit)
    return [_public_unit(d) for d in docs]


async def list_topics(*, store: IntakeStore, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Topics ordered by code, after the cursor position."""
    docs = await store.topics.after(after, limit)
    return [_public(d, TOPIC_FIELDS) for d in docs]


def link_codes(unit: Mapping[str, Any]) -> list[str]:
    """The unit codes a unit links to: its parent and its successors."""
    parent = [unit["parent_code"]] if unit.get("parent_code") else []
    return parent + [str(link["code"]) for link in successors(unit.get("replaced_by"))]


async def unit_links(*, store: IntakeStore) -> dict[str, dict[str, Any]]:
    """Every unit's parent and successor codes, by code (to find cycles before a write)."""
    return await store.units.links()


def unit_link_problems(
    units: Sequence[Mapping[str, Any]],
    known: set[str],
    *,
    links: Mapping[str, Mapping[str, Any]] | None = None,
    today: date | None = None,
) -> list[dict[str, str]]:
    """Field errors of the units' links: a parent or successor that names no unit (known or in the same batch),
    a link to itself, a successor named twice, a successor dated before 1945-09-02 or more than a year after
    `today`, and a cycle of successors or of parents through the stored `links` and the batch."""
    codes = known | {u["code"] for u in units}
    graph = {code: dict(value) for code, value in (links or {}).items()} | {u["code"]: dict(u) for u in units}
    errors: list[dict[str, str]] = []
    for i, unit in enumerate(units):
        prefix = f"{i}." if len(units) > 1 else ""

        def fail(field: str, message: str, prefix: str = prefix) -> None:
            errors.append({"field": f"{prefix}{field}", "message": message})

        parent = unit.get("parent_code")
        if parent is not None and parent not in codes:
            fail("parent_code", f"unknown unit {parent}")
        if parent is not None and parent == unit["code"]:
            fail("parent_code", "a unit cannot link to itself")
        seen: set[str] = set()
        for j, link in enumerate(successors(unit.get("replaced_by"))):
            code, since = str(link["code"]), link["since"]
            if code not in codes:
                fail(f"replaced_by.{j}.code", f"unknown unit {code}")
            if code == unit["code"]:
                fail(f"replaced_by.{j}.code", "a unit cannot link to itself")
            if code in seen:
                fail(f"replaced_by.{j}.code", f"successor {code} is named twice")
            seen.add(code)
            if since is not None and today is not None:
                day = date.fromisoformat(since)
                if day < EARLIEST_SINCE or day > today + timedelta(days=MAX_DAYS_AHEAD):
                    fail(f"replaced_by.{j}.since", f"must lie between {EARLIEST_SINCE} and a year from today")
        for field, step in (("replaced_by", _successor_codes), ("parent_code", _parent_codes)):
            cycle = _cycle(unit["code"], graph, step)
            if cycle:
                fail(field, "a cycle: " + " → ".join(cycle))
    return errors


def _successor_codes(node: Mapping[str, Any]) -> Iterable[str]:
    return [str(link["code"]) for link in successors(node.get("replaced_by"))]


def _parent_codes(node: Mapping[str, Any]) -> Iterable[str]:
    return [node["parent_code"]] if node.get("parent_code") else []


def _cycle(
    start: str, graph: Mapping[str, Mapping[str, Any]], step: Callable[[Mapping[str, Any]], Iterable[str]]
) -> list[str]:
    """A path from `start` back to itself through `step` links (self-links are reported apart), or []."""
    paths: list[list[str]] = [[start, c] for c in step(graph.get(start, {})) if c != start]
    visited: set[str] = set()
    while paths:
        path = paths.pop()
        node = path[-1]
        if node == start:
            return path
        if node in visited:
            continue
        visited.add(node)
        paths += [[*path, c] for c in step(graph.get(node, {}))]
    return []
