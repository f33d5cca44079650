"""Verified claims and leases on a store whose updates are not atomic.

FerretDB (on SQLite and on PostgreSQL alike) applies an update as a read-modify-write of the
whole document, so two writers racing on one document can both "win" a conditional update or a
`find_one_and_update`. A unique-key insert is different: the backend's unique index decides, so
exactly one of any number of concurrent inserts of one `_id` succeeds, on FerretDB as on MongoDB.
Every claim here is therefore decided by an insert, never by an update:

- `ClaimLocks.take(resource, generation)` — one winner per (resource, generation). A caller that
  bumps a generation counter on the resource with a conditional update and then takes the lock of
  the new generation has a verified claim even when two callers' updates both "matched".
- `Lease` — one holder at a time of a named role (a scheduler, a token refresher). Each term is a
  document of its own, inserted by the one contender that wins it; only that holder ever writes to
  it (to renew). A holder trusts its lease only until `renewed_at + ttl - margin`, while others
  take over only after `renewed_at + ttl`, so two holders' trusted intervals never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from pulse_libs.clock import as_utc, utcnow

CLAIM_LOCKS = "claim_locks"
LEASES = "leases"


class ClaimLocks:
    """One winner per (resource, generation), decided by a unique insert."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], collection: str = CLAIM_LOCKS) -> None:
        self._col = db[collection]

    async def ensure_indexes(self) -> None:
        """Index the age used by the sweeper."""
        await self._col.create_index([("at", ASCENDING)], name="at")

    async def take(self, resource: str, generation: int | str, *, now: datetime | None = None) -> bool:
        """True for exactly one caller per (resource, generation)."""
        try:
            await self._col.insert_one({"_id": f"{resource}:{generation}", "at": now or utcnow()})
        except DuplicateKeyError:
            return False
        return True

    async def sweep(self, older_than: datetime) -> int:
        """Forget locks older than any claim could still be contested."""
        return (await self._col.delete_many({"at": {"$lt": older_than}})).deleted_count


@dataclass(frozen=True)
class LeaseTerm:
    """A term of a lease as held by this process."""

    name: str
    term: int
    holder: str
    trusted_until: datetime


class Lease:
    """A named role held by one process at a time (see the module docstring for why it holds)."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        name: str,
        *,
        holder: str,
        ttl: timedelta,
        margin: timedelta | None = None,
        collection: str = LEASES,
    ) -> None:
        if "." in name or ":" in name:
            raise ValueError("a lease name cannot contain '.' or ':'")
        self._col = db[collection]
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self._ttl = ttl
        self._margin = margin if margin is not None else ttl / 4
        self._held: LeaseTerm | None = None

    async def ensure_indexes(self) -> None:
        """Index terms by lease name."""
        await self._col.create_index([("name", ASCENDING), ("term", DESCENDING)], name="name_term")

    def held(self, now: datetime | None = None) -> LeaseTerm | None:
        """The term this process may act under right now, if any."""
        if self._held is not None and (now or utcnow()) < self._held.trusted_until:
            return self._held
        return None

    async def acquire(self, now: datetime | None = None) -> LeaseTerm | None:
        """Renew the term we hold, or win the next one if the current term expired; None if another holds it."""
        now = now or utcnow()
        latest = await self._col.find_one({"name": self.name}, sort=[("term", DESCENDING)])
        mine = latest is not None and self._held is not None and self._held.term == latest["term"]
        if mine and latest is not None and latest["holder"] == self.holder and self.held(now) is not None:
            return await self._renew(latest["term"], now)
        if latest is not None and as_utc(latest["expires_at"]) > now:
            self._held = None
            return None
        term = int(latest["term"]) + 1 if latest is not None else 1
        try:
            await self._col.insert_one(
                {
                    "_id": f"{self.name}:{term}",
                    "name": self.name,
                    "term": term,
                    "holder": self.holder,
                    "expires_at": now + self._ttl,
                    "renewed_at": now,
                }
            )
        except DuplicateKeyError:
            self._held = None
            return None
        self._held = LeaseTerm(self.name, term, self.holder, now + self._ttl - self._margin)
        return self._held

    async def _renew(self, term: int, now: datetime) -> LeaseTerm | None:
        assert self._held is not None
        old_expiry = self._held.trusted_until + self._margin
        # Only this holder ever writes this term's document, so the update has no concurrent writer.
        result = await self._col.update_one(
            {"_id": f"{self.name}:{term}", "holder": self.holder},
            {"$set": {"expires_at": now + self._ttl, "renewed_at": now}},
        )
        # A renewal that landed after the old expiry may have lost a takeover race: never trust it.
        if result.matched_count != 1 or utcnow() >= old_expiry:
            self._held = None
            return None
        self._held = LeaseTerm(self.name, term, self.holder, now + self._ttl - self._margin)
        return self._held

    async def release(self) -> None:
        """Give the role up now (expire our term) so another process can take it at once."""
        if self._held is not None:
            await self._col.update_one(
                {"_id": f"{self.name}:{self._held.term}", "holder": self.holder},
                {"$set": {"expires_at": utcnow()}},
            )
            self._held = None

    async def sweep(self, keep_terms: int = 10) -> int:
        """Delete old terms of this lease, keeping the latest few."""
        latest = await self._col.find_one({"name": self.name}, sort=[("term", DESCENDING)])
        if latest is None:
            return 0
        cutoff = int(latest["term"]) - keep_terms
        return (await self._col.delete_many({"name": self.name, "term": {"$lt": cutoff}})).deleted_count
