"""Known unit and topic codes, cached briefly; a miss always asks the store (new codes are never refused)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from pulse_libs.store import Database

from pulse_intake.adapters.store import TOPICS, UNITS


class RegistryCache:
    """Answers 'does this unit/topic exist?' on the report path without a store read per request."""

    def __init__(self, db: Database, *, ttl_seconds: float) -> None:
        self._db = db
        self._ttl = ttl_seconds
        self._codes: dict[str, set[str]] = {UNITS: set(), TOPICS: set()}
        self._loaded_at: dict[str, float] = {UNITS: 0.0, TOPICS: 0.0}

    async def _refresh(self, collection: str) -> None:
        docs = await self._db[collection].find({}, {"_id": 1}).to_list()
        self._codes[collection] = {str(d["_id"]) for d in docs}
        self._loaded_at[collection] = time.monotonic()

    async def _missing(self, collection: str, codes: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(codes))
        if time.monotonic() - self._loaded_at[collection] > self._ttl:
            await self._refresh(collection)
        missing = [c for c in wanted if c not in self._codes[collection]]
        if missing:
            await self._refresh(collection)
            missing = [c for c in wanted if c not in self._codes[collection]]
        return missing

    async def unit_exists(self, code: str) -> bool:
        """True if the unit code is registered."""
        return not await self._missing(UNITS, [code])

    async def missing_units(self, codes: Iterable[str]) -> list[str]:
        """The unit codes among `codes` that are not registered."""
        return await self._missing(UNITS, codes)

    async def missing_topics(self, codes: Iterable[str]) -> list[str]:
        """The topic codes among `codes` that are not registered."""
        return await self._missing(TOPICS, codes)

    def unit_added(self, code: str) -> None:
        """Note a unit code this replica just wrote."""
        self._codes[UNITS].add(code)

    def topic_added(self, code: str) -> None:
        """Note a topic code this replica just wrote."""
        self._codes[TOPICS].add(code)
