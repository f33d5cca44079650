"""The repositories of triage, bundled: what the use cases and routes may ask of the store.

adapters/ is the only code that knows triage's collections and operators. Each Protocol here has its MongoDB
implementation in this folder (over `TriageStore`) and an in-memory fake for the use-case unit tests
(tests/unit/triage/fakes.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.store import Document

from pulse_triage.adapters import config
from pulse_triage.adapters.config import Silences
from pulse_triage.adapters.escalations import ApiKeys, Escalations
from pulse_triage.adapters.hotspots import ById, Hotspots, Reviews
from pulse_triage.adapters.store import RESULTS, TOPICS, TriageStore

Position = tuple[datetime, str]
"""A page cursor: the (time, id) of the last item shown."""


class EscalationRepository(Protocol):
    """Escalations: one per hot spot episode, moved by conditional updates (the state and lease guard them)."""

    async def get(self, escalation_id: str) -> Document | None: ...

    async def add(self, doc: Document) -> bool:
        """Insert a new escalation with no lease; False if its id exists (a replay)."""
        ...

    async def raise_urgency(
        self, escalation_id: str, version: int, fields: Document, entry: Document
    ) -> Document | None: ...

    async def claim_due(self, now: datetime, owner: str, lease_until: datetime) -> Document | None: ...

    async def apply_step(self, escalation_id: str, owner: str, fields: Document, entry: Document) -> Document | None:
        """Set a scheduler step's fields on a pending escalation this owner holds, releasing the lease."""
        ...

    async def close(
        self,
        escalation_id: str,
        allowed: Collection[str],
        fields: Document,
        entry: Document,
        token_id: str | None = None,
    ) -> Document | None:
        """Acknowledge or resolve one in an allowed state (a link's token id is spent with it)."""
        ...

    async def wake_silenced(self, silence_id: str, now: datetime) -> None:
        """Make the pending escalations a silence held due now."""
        ...

    async def page(
        self, *, units: Sequence[str] | None, state: str | None, after: Position | None, limit: int
    ) -> list[Document]: ...

    async def pending_by_level(self) -> dict[Any, int]: ...

    async def overdue(self, late: datetime) -> int: ...


class HotspotRepository(Protocol):
    """Hot spots (their writes are guarded by `version`)."""

    async def get(self, hotspot_id: str) -> Document | None: ...

    async def children(self, parent_id: str) -> list[Document]: ...

    async def save(self, hotspot_id: str, version: int, fields: Document) -> Document | None:
        """Set fields if the version is still `version` (and bump it); the new document, or None."""
        ...

    async def page(
        self,
        *,
        units: Sequence[str] | None,
        ids: Sequence[str] | None,
        filters: Mapping[str, str],
        after: Position | None,
        limit: int,
    ) -> list[Document]: ...

    async def open_by_urgency(self) -> dict[Any, int]: ...


class SilenceRepository(Protocol):
    """Silences of paging for a unit and/or topic."""

    async def add(self, doc: Document) -> None: ...

    async def get(self, silence_id: str) -> Document | None: ...

    async def delete(self, silence_id: str) -> None: ...

    async def active(self, unit_code: str, topic_code: str, now: datetime) -> Document | None: ...

    async def page(self, *, after: Position | None, limit: int) -> list[Document]: ...

    async def sweep(self, now: datetime) -> int: ...


class ConfigRepository(Protocol):
    """One configuration document per key (policies by urgency, the rule set)."""

    async def get(self, key: str) -> Document | None: ...

    async def put(self, key: str, doc: Document) -> None: ...


class RulesRepository(Protocol):
    """The one stored rule set (none until someone replaces the shipped defaults)."""

    async def get(self) -> Document | None: ...

    async def put(self, doc: Document) -> None: ...


class ReadRepository(Protocol):
    """Documents read by id only (triage results, mirrored registry topics)."""

    async def get(self, doc_id: str) -> Document | None: ...

    async def every(self) -> list[Document]: ...


class ReviewRepository(Protocol):
    """Officers' reviews, newest first."""

    async def page(self, *, units: Sequence[str] | None, after: Position | None, limit: int) -> list[Document]: ...


class ApiKeyRepository(Protocol):
    """The API keys mirrored from intake's registry (a source that is one is a provincial system)."""

    async def known(self, ids: Sequence[str]) -> set[str]: ...


class Outbox(Protocol):
    """Events stored for the relay before the state they announce."""

    async def emit(
        self, events: Sequence[tuple[str, CloudEvent]], now: datetime, bundle: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class TriageRepositories:
    """Every repository the routes and the escalation, admin and upkeep use cases work through."""

    escalations: EscalationRepository
    hotspots: HotspotRepository
    silences: SilenceRepository
    policies: ConfigRepository
    rules: RulesRepository
    results: ReadRepository
    topics: ReadRepository
    reviews: ReviewRepository
    api_keys: ApiKeyRepository
    outbox: Outbox


def mongo_repositories(store: TriageStore) -> TriageRepositories:
    """The MongoDB repositories over one triage store."""
    return TriageRepositories(
        escalations=Escalations(store),
        hotspots=Hotspots(store),
        silences=Silences(store),
        policies=config.policies(store),
        rules=config.StoredRules(store),
        results=ById(store, RESULTS),
        topics=ById(store, TOPICS),
        reviews=Reviews(store),
        api_keys=ApiKeys(store),
        outbox=store,
    )
