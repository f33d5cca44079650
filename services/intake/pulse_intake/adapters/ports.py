"""What intake's use cases may ask of each repository: the Protocols the MongoDB repositories of this folder
implement and the in-memory fakes of the use-case unit tests (tests/unit/intake/fakes.py) implement too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.store import Document

Events = Sequence[tuple[str, CloudEvent]]


class Entries(Protocol):
    """The writes and reads every repository shares (adapters/collection.py)."""

    async def insert(self, doc: Mapping[str, Any]) -> bool: ...

    async def create(self, doc: Mapping[str, Any]) -> None: ...

    async def insert_many(self, docs: Sequence[Mapping[str, Any]]) -> list[int]: ...

    async def get(self, doc_id: str, *, outbox: bool = True) -> Document | None: ...


class UserRepository(Entries, Protocol):
    """People who sign in (adapters/people.py Users)."""

    async def by_username(self, username: str) -> Document | None: ...

    async def by_zalo_id(self, zalo_user_id: str) -> Document | None: ...

    async def write_version(self, user_id: str, version: int | None, sets: Mapping[str, Any], events: Events) -> bool:
        """Set `sets` with `events` if the user is still at `version`; False if not."""
        ...

    async def search(
        self,
        *,
        after: str | None,
        limit: int,
        role: str | None,
        unit_code: str | None,
        active: bool | None,
        terms: Sequence[str],
    ) -> list[Document]: ...


class ApiKeyRepository(Entries, Protocol):
    """API keys (adapters/people.py ApiKeys)."""

    async def revoke(self, key_id: str, at: datetime, events: Events) -> None: ...

    async def after(self, after: str | None, limit: int) -> list[Document]: ...


class RegistryEntries(Entries, Protocol):
    """A registry keyed by code (adapters/registry.py)."""

    async def put(self, code: str, data: Mapping[str, Any], events: Events, now: datetime) -> None: ...


class UnitRepository(RegistryEntries, Protocol):
    """Administrative units."""

    async def after(
        self, *, kind: str | None, parent_code: str | None, after: str | None, limit: int
    ) -> list[Document]: ...

    async def links(self) -> dict[str, dict[str, Any]]: ...

    async def current_with_committee(self, codes: Sequence[str] | None = None) -> list[Document]: ...


class TopicRepository(RegistryEntries, Protocol):
    """The topic taxonomy."""

    async def after(self, after: str | None, limit: int) -> list[Document]: ...

    async def every(self) -> list[Document]: ...

    async def names(self) -> dict[str, str]: ...


class AgencyRepository(Entries, Protocol):
    """Agencies (adapters/agencies.py)."""

    async def after(
        self, *, after: str | None, limit: int, kind: str | None, unit_code: str | None
    ) -> list[Document]: ...

    async def update(self, code: str, sets: Mapping[str, Any], events: Events) -> None: ...

    async def codes(self) -> set[str]: ...


class OrientationRepository(Entries, Protocol):
    """The department's orientations (adapters/campaigns.py)."""

    async def visible(
        self, *, units: Sequence[str] | None, day: date | None, before: str | None, limit: int
    ) -> list[Document]: ...

    async def visible_one(self, orientation_id: str, units: Sequence[str] | None) -> Document | None: ...


class SurveyRepository(Entries, Protocol):
    """Surveys (adapters/campaigns.py)."""

    async def visible(self, *, units: Sequence[str] | None, before: str | None, limit: int) -> list[Document]: ...

    async def visible_one(self, survey_id: str, units: Sequence[str] | None) -> Document | None: ...


class ResponseRepository(Entries, Protocol):
    """Survey responses, one per respondent and survey."""
