"""Use cases of the registries: administrative units and topics, each change announced on the registry topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_REGISTRY

from pulse_intake.adapters.registry import Topics, Units
from pulse_intake.adapters.repositories import IntakeStore

UNIT_FIELDS = ("code", "name", "kind", "parent_code", "replaced_by")
TOPIC_FIELDS = ("code", "name", "keywords", "sensitive")


def _public(doc: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {f: doc.get(f) for f in fields}


async def upsert_unit(*, store: IntakeStore, unit: Mapping[str, Any]) -> str:
    """Create or replace a unit; return 'created', 'updated' or 'unchanged' (no event when unchanged)."""
    data = {f: unit.get(f) for f in UNIT_FIELDS}
    event = new_event(ev.UNIT_UPSERTED, source=ev.SOURCE, data=ev.UnitUpserted(**data), key=data["code"])
    return await _upsert(store.units, data, UNIT_FIELDS, [(INTAKE_REGISTRY, event)])


async def upsert_topic(*, store: IntakeStore, topic: Mapping[str, Any]) -> str:
    """Create or replace a topic; return 'created', 'updated' or 'unchanged'."""
    data = {f: topic.get(f) for f in TOPIC_FIELDS}
    data["keywords"] = list(data["keywords"] or [])
    data["sensitive"] = bool(data["sensitive"])
    event = new_event(ev.TOPIC_UPSERTED, source=ev.SOURCE, data=ev.TopicUpserted(**data), key=data["code"])
    return await _upsert(store.topics, data, TOPIC_FIELDS, [(INTAKE_REGISTRY, event)])


async def _upsert(entries: Units | Topics, data: dict[str, Any], fields: Sequence[str], events: Any) -> str:
    existing = await entries.get(data["code"])
    if existing is not None and _public(existing, fields) == data:
        return "unchanged"
    await entries.put(data["code"], data, events, utcnow())
    return "updated" if existing is not None else "created"


async def get_unit(*, store: IntakeStore, code: str) -> dict[str, Any] | None:
    """One unit by code, or None."""
    doc = await store.units.get(code)
    return None if doc is None else _public(doc, UNIT_FIELDS)


async def get_topic(*, store: IntakeStore, code: str) -> dict[str, Any] | None:
    """One topic by code, or None."""
    doc = await store.topics.get(code)
    return None if doc is None else _public(doc, TOPIC_FIELDS)


async def list_units(
    *, store: IntakeStore, kind: str | None, parent_code: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """Units ordered by code, after the cursor position."""
    docs = await store.units.after(kind=kind, parent_code=parent_code, after=after, limit=limit)
    return [_public(d, UNIT_FIELDS) for d in docs]


async def list_topics(*, store: IntakeStore, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Topics ordered by code, after the cursor position."""
    docs = await store.topics.after(after, limit)
    return [_public(d, TOPIC_FIELDS) for d in docs]


def unit_link_problems(units: Sequence[Mapping[str, Any]], known: set[str]) -> list[dict[str, str]]:
    """Field errors for parent/replacement codes that name no unit (known or in the same batch)."""
    codes = known | {u["code"] for u in units}
    errors = []
    for i, unit in enumerate(units):
        for link in ("parent_code", "replaced_by"):
            value = unit.get(link)
            if value is not None and value not in codes:
                prefix = f"{i}." if len(units) > 1 else ""
                errors.append({"field": f"{prefix}{link}", "message": f"unknown unit {value}"})
            if value is not None and value == unit["code"]:
                errors.append({"field": link, "message": "a unit cannot link to itself"})
    return errors
