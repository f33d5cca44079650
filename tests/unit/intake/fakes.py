"""In-memory fakes of intake's people, registry, agencies and campaigns repositories (the Protocols of
pulse_intake/adapters/ports.py), for use-case unit tests.

Each keeps what its MongoDB twin enforces: unique ids and the unique indexes of adapters/store.py (usernames,
one response per respondent and survey), version-conditional writes, the outbox stored with the document."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from pulse_intake.adapters.ports import Events
from pulse_intake.adapters.reports import InMemoryProjectedReports, Reports
from pulse_intake.adapters.repositories import IntakeStore
from pulse_libs.outbox import OUTBOX_FIELD, outbox_entries
from pulse_libs.store import Document


class FakeEntries:
    """Documents by id; `unique` names fields (or field tuples) no two documents may share."""

    unique: tuple[tuple[str, ...], ...] = ()

    def __init__(self, *docs: Mapping[str, Any]) -> None:
        self.docs: dict[str, Document] = {}
        for doc in docs:
            self.docs[str(doc["_id"])] = copy.deepcopy(dict(doc))

    def _clash(self, doc: Mapping[str, Any]) -> bool:
        if doc["_id"] in self.docs:
            return True
        return any(
            all(other.get(f) == doc.get(f) for f in fields) for fields in self.unique for other in self.docs.values()
        )

    async def insert(self, doc: Mapping[str, Any]) -> bool:
        if self._clash(doc):
            return False
        self.docs[str(doc["_id"])] = copy.deepcopy(dict(doc))
        return True

    async def create(self, doc: Mapping[str, Any]) -> None:
        if not await self.insert(doc):
            raise RuntimeError(f"id {doc['_id']} exists already")

    async def insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[int]:
        return [i for i, doc in enumerate(docs) if not await self.insert(doc)]

    async def get(self, doc_id: str, *, outbox: bool = True) -> Document | None:
        found = self.docs.get(doc_id)
        if found is None:
            return None
        return copy.deepcopy(found if outbox else {k: v for k, v in found.items() if k != OUTBOX_FIELD})

    def _set(self, doc_id: str, sets: Mapping[str, Any], events: Events) -> None:
        doc = self.docs[doc_id]
        doc.update(copy.deepcopy(dict(sets)))
        doc.setdefault(OUTBOX_FIELD, {}).update(outbox_entries(events))

    def by_code(self, after: str | None, limit: int, **match: Any) -> list[Document]:
        """Documents by id after the cursor whose fields equal `match` (None: any)."""
        rows = [
            d
            for key, d in sorted(self.docs.items())
            if (after is None or key > after) and all(v is None or d.get(k) == v for k, v in match.items())
        ]
        return copy.deepcopy(rows[:limit])

    def events(self, doc_id: str) -> list[str]:
        """The types of the events stored with a document, in publication order (what the relay publishes)."""
        stored: dict[str, Document] = self.docs[doc_id].get(OUTBOX_FIELD, {})
        return [str(e["type"]) for e in sorted(stored.values(), key=lambda e: e["seq"])]


class FakeUsers(FakeEntries):
    unique = (("username",),)

    async def by_username(self, username: str) -> Document | None:
        return next((copy.deepcopy(d) for d in self.docs.values() if d["username"] == username), None)

    async def by_zalo_id(self, zalo_user_id: str) -> Document | None:
        return next((copy.deepcopy(d) for d in self.docs.values() if d.get("zalo_user_id") == zalo_user_id), None)

    async def write_version(self, user_id: str, version: int | None, sets: Mapping[str, Any], events: Events) -> bool:
        doc = self.docs.get(user_id)
        if doc is None or doc.get("version") != version:
            return False
        self._set(user_id, sets, events)
        return True

    async def search(
        self,
        *,
        after: str | None,
        limit: int,
        role: str | None,
        unit_code: str | None,
        active: bool | None,
        terms: Sequence[str],
    ) -> list[Document]:
        rows = sorted(self.docs.values(), key=lambda d: d["username"])
        rows = [
            d
            for d in rows
            if (after is None or d["username"] > after)
            and (role is None or d["role"] == role)
            and (unit_code is None or unit_code in d.get("unit_codes", []))
            and (active is None or d.get("active", not d.get("disabled")) is active)
            and all(t in d.get("search", "") for t in terms)
        ]
        return copy.deepcopy(rows[:limit])


class FakeApiKeys(FakeEntries):
    async def revoke(self, key_id: str, at: datetime, events: Events) -> None:
        if key_id in self.docs:
            self._set(key_id, {"revoked": True, "revoked_at": at}, events)

    async def after(self, after: str | None, limit: int) -> list[Document]:
        return self.by_code(after, limit)


class FakeRegistry(FakeEntries):
    async def put(self, code: str, data: Mapping[str, Any], events: Events, now: datetime) -> None:
        self.docs.setdefault(code, {"_id": code})
        self._set(code, {**data, "updated_at": now}, events)


class FakeUnits(FakeRegistry):
    async def after(
        self, *, kind: str | None, parent_code: str | None, after: str | None, limit: int
    ) -> list[Document]:
        return self.by_code(after, limit, kind=kind, parent_code=parent_code)

    async def links(self) -> dict[str, dict[str, Any]]:
        return {
            k: {"parent_code": d.get("parent_code"), "replaced_by": d.get("replaced_by")} for k, d in self.docs.items()
        }

    async def current_with_committee(self, codes: Sequence[str] | None = None) -> list[Document]:
        rows = [
            d
            for k, d in sorted(self.docs.items())
            if d.get("kind") in ("ward", "commune", "town") and d.get("replaced_by") is None
            if codes is None or k in codes
        ]
        return copy.deepcopy(rows)


class FakeTopics(FakeRegistry):
    async def after(self, after: str | None, limit: int) -> list[Document]:
        return self.by_code(after, limit)

    async def every(self) -> list[Document]:
        return self.by_code(None, len(self.docs))

    async def names(self) -> dict[str, str]:
        return {k: str(d["name"]) for k, d in self.docs.items()}


class FakeAgencies(FakeEntries):
    async def after(self, *, after: str | None, limit: int, kind: str | None, unit_code: str | None) -> list[Document]:
        return self.by_code(after, limit, kind=kind, unit_code=unit_code)

    async def update(self, code: str, sets: Mapping[str, Any], events: Events) -> None:
        if code in self.docs:
            self._set(code, sets, events)

    async def codes(self) -> set[str]:
        return set(self.docs)


def _for_units(doc: Mapping[str, Any], units: Sequence[str] | None) -> bool:
    return units is None or not doc.get("unit_codes") or bool(set(doc["unit_codes"]) & set(units))


def _newest(docs: Sequence[Document], before: str | None, limit: int) -> list[Document]:
    rows = sorted((d for d in docs if before is None or d["_id"] < before), key=lambda d: d["_id"], reverse=True)
    return [{k: v for k, v in copy.deepcopy(d).items() if k != OUTBOX_FIELD} for d in rows[:limit]]


class FakeOrientations(FakeEntries):
    async def visible(
        self, *, units: Sequence[str] | None, day: date | None, before: str | None, limit: int
    ) -> list[Document]:
        iso = day.isoformat() if day else None
        rows = [
            d
            for d in self.docs.values()
            if _for_units(d, units) and (iso is None or d["period_start"] <= iso <= d["period_end"])
        ]
        return _newest(rows, before, limit)

    async def visible_one(self, orientation_id: str, units: Sequence[str] | None) -> Document | None:
        doc = self.docs.get(orientation_id)
        return copy.deepcopy(doc) if doc is not None and _for_units(doc, units) else None


class FakeSurveys(FakeEntries):
    async def visible(self, *, units: Sequence[str] | None, before: str | None, limit: int) -> list[Document]:
        return _newest([d for d in self.docs.values() if _for_units(d, units)], before, limit)

    async def visible_one(self, survey_id: str, units: Sequence[str] | None) -> Document | None:
        doc = await self.get(survey_id, outbox=False)
        return doc if doc is not None and _for_units(doc, units) else None


class FakeResponses(FakeEntries):
    unique = (("survey_id", "respondent_id"),)


def fake_store(
    *,
    users: FakeUsers | None = None,
    api_keys: FakeApiKeys | None = None,
    units: FakeUnits | None = None,
    topics: FakeTopics | None = None,
    agencies: FakeAgencies | None = None,
    orientations: FakeOrientations | None = None,
    surveys: FakeSurveys | None = None,
    responses: FakeResponses | None = None,
) -> IntakeStore:
    """An IntakeStore of fakes (fresh ones for any not given; mypy checks each against its Protocol); the reports
    are intake's own in-memory reports (IntakeStore types them as the MongoDB `Reports`)."""
    return IntakeStore(
        reports=cast(Reports, InMemoryProjectedReports()),
        users=users or FakeUsers(),
        api_keys=api_keys or FakeApiKeys(),
        units=units or FakeUnits(),
        topics=topics or FakeTopics(),
        agencies=agencies or FakeAgencies(),
        orientations=orientations or FakeOrientations(),
        surveys=surveys or FakeSurveys(),
        responses=responses or FakeResponses(),
    )
