"""Agencies: the bodies that receive directives (People's Committees, city departments, police, mass organisations)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.events.topics import INTAKE_DIRECTORY
from pulse_libs.outbox import with_outbox

from pulse_intake.adapters.repositories import IntakeStore

AGENCY_FIELDS = ("code", "name", "kind", "unit_code", "active", "created_at", "updated_at")
PEOPLE_COMMITTEE_PREFIX = "UBND-"


def committee_name(unit_name: str) -> str:
    """'Phường Lào Cai' → 'Ủy ban nhân dân phường Lào Cai'."""
    return "Ủy ban nhân dân " + unit_name[:1].lower() + unit_name[1:]


class AgencyExists(Exception):
    """An agency with that code exists."""


def agency_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An agency for the API."""
    return {"id": doc["_id"], **{f: doc.get(f) for f in AGENCY_FIELDS}, "code": doc["_id"]}


def agency_event(doc: Mapping[str, Any]) -> tuple[str, CloudEvent]:
    """The `pulse.agency.changed.v1` event of an agency at its current version (deterministic id)."""
    data = ev.AgencyChanged(
        code=doc["_id"],
        name=doc["name"],
        kind=doc["kind"],
        unit_code=doc.get("unit_code"),
        active=bool(doc.get("active", True)),
        changed_at=doc.get("updated_at") or utcnow(),
    )
    version = int(doc.get("version", 1))
    event_id = f"agency-{doc['_id']}-v{version}".replace(".", "_")
    return INTAKE_DIRECTORY, new_event(
        ev.AGENCY_CHANGED, source=ev.SOURCE, data=data, key=doc["_id"], event_id=event_id
    )


async def create_agency(
    *, store: IntakeStore, code: str, name: str, kind: str, unit_code: str | None, active: bool = True
) -> dict[str, Any]:
    """Create an agency with its directory event; raise AgencyExists."""
    now = utcnow()
    doc: dict[str, Any] = {
        "_id": code,
        "name": name,
        "kind": kind,
        "unit_code": unit_code,
        "active": active,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    if not await store.agencies.insert(with_outbox(doc, [agency_event(doc)])):
        raise AgencyExists(code)
    return agency_view(doc)


async def get_agency(*, store: IntakeStore, code: str) -> dict[str, Any] | None:
    """One agency, or None."""
    doc = await store.agencies.get(code)
    return None if doc is None else agency_view(doc)


async def list_agencies(
    *, store: IntakeStore, after: str | None, limit: int, kind: str | None = None, unit_code: str | None = None
) -> list[dict[str, Any]]:
    """Agencies by code after the cursor, optionally of one kind or unit."""
    docs = await store.agencies.after(after=after, limit=limit, kind=kind, unit_code=unit_code)
    return [agency_view(d) for d in docs]


async def update_agency(*, store: IntakeStore, code: str, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """PATCH an agency; None if absent. Only real changes bump the version and emit an event."""
    doc = await store.agencies.get(code)
    if doc is None:
        return None
    diff = {k: v for k, v in changes.items() if doc.get(k) != v}
    if not diff:
        return agency_view(doc)
    version = int(doc.get("version", 1))
    new = {**doc, **diff, "version": version + 1, "updated_at": utcnow()}
    sets = {k: new[k] for k in (*diff, "version", "updated_at")}
    await store.agencies.update(code, sets, [agency_event(new)])
    return agency_view(new)


def _shipped() -> list[dict[str, Any]]:
    text = resources.files("pulse_intake.data").joinpath("agencies.json").read_text(encoding="utf-8")
    value: list[dict[str, Any]] = json.loads(text)
    return value


async def seed_agencies(*, store: IntakeStore) -> int:
    """Create (idempotently) the People's Committee of every ward, commune and special zone in the unit registry,
    and the shipped provincial bodies (departments, police, mass organisations); return how many were created."""
    wanted: list[dict[str, Any]] = []
    for unit in await store.units.current_with_committee():
        wanted.append(
            {
                "code": PEOPLE_COMMITTEE_PREFIX + str(unit["_id"]),
                "name": committee_name(str(unit["name"])),
                "kind": "people_committee",
                "unit_code": str(unit["_id"]),
            }
        )
    wanted.extend(_shipped())
    existing = await store.agencies.codes()
    now = utcnow()
    docs = []
    for agency in wanted:
        if agency["code"] in existing:
            continue
        doc: dict[str, Any] = {
            "_id": agency["code"],
            "name": agency["name"],
            "kind": agency["kind"],
            "unit_code": agency.get("unit_code"),
            "active": True,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        docs.append(with_outbox(doc, [agency_event(doc)]))
    # One round trip: start-up time matters when every service starts at once; another replica may have
    # seeded some first (refused as duplicates).
    return len(docs) - len(await store.agencies.insert_many(docs))
