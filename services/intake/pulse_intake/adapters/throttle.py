"""Sign-in throttling that nobody can turn into a lockout of someone else, and that parallel attempts cannot outrun.

Failures count per (username, client address) and per client address, in a sliding window, as
one document per attempt in the store (so every replica sees them). There is deliberately no
per-username counter: five bad passwords from anywhere must not lock a named person out; a
flood from one address blocks that address only.

Race-free without atomic counters (FerretDB applies updates as read-modify-write, so `$inc`
from parallel requests can lose counts): each attempt first INSERTS its own pending document
(inserts are never lost), then counts the documents of its keys, its own included. Of N
parallel attempts facing F earlier failures, the r-th to be inserted sees at least F + r
documents, so at most `limit - F` of them go on to check the password. A successful attempt
deletes its document (and the earlier failures of that username and address); a failed one
stays until the window has passed. A sweeper deletes expired documents (no TTL indexes on
FerretDB).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pulse_libs.clock import as_utc
from pulse_libs.store import Database

from pulse_intake.adapters.store import LOGIN_FAILURES


class LoginThrottled(Exception):
    """Too many failed sign-ins from this address (for this username); retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins")
        self.retry_after = retry_after


class Attempt:
    """One sign-in attempt under the throttle; call `failed()` when the credentials were wrong."""

    def __init__(self) -> None:
        self.is_failure = False

    def failed(self) -> None:
        """Count this attempt as a failure."""
        self.is_failure = True


class LoginThrottle:
    """Sliding-window failure counts per (username, address) and per address."""

    def __init__(self, db: Database, *, window_seconds: int, max_per_user: int, max_per_ip: int) -> None:
        self._col = db[LOGIN_FAILURES]
        self._window = timedelta(seconds=window_seconds)
        self._max_per_user = max_per_user
        self._max_per_ip = max_per_ip

    @staticmethod
    def keys(username: str, ip: str) -> tuple[str, str]:
        """The (username, address) key and the address key."""
        return f"user:{username.casefold()}|{ip}", f"ip:{ip}"

    @asynccontextmanager
    async def attempt(self, *, username: str, ip: str) -> AsyncIterator[Attempt]:
        """Reserve an attempt; raise LoginThrottled (before any password check) when over a limit."""
        user_key, ip_key = self.keys(username, ip)
        now = datetime.now(UTC)
        attempt_id = uuid.uuid4().hex
        await self._col.insert_one(
            {"_id": attempt_id, "keys": [user_key, ip_key], "at": now, "expires_at": now + self._window}
        )
        try:
            for key, limit in ((user_key, self._max_per_user), (ip_key, self._max_per_ip)):
                live: dict[str, Any] = {"keys": key, "expires_at": {"$gt": now}}
                if await self._col.count_documents(live) > limit:
                    raise LoginThrottled(await self._retry_after(live, now))
        except BaseException:
            await self._col.delete_one({"_id": attempt_id})
            raise
        attempt = Attempt()
        try:
            yield attempt
        finally:
            if not attempt.is_failure:
                # A success also forgets this username's earlier failures from this address.
                await self._col.delete_many({"keys": user_key})

    async def _retry_after(self, live: dict[str, Any], now: datetime) -> int:
        oldest = await self._col.find(live).sort("expires_at", 1).limit(1).to_list()
        if not oldest:
            return 1
        expires: datetime = as_utc(oldest[0]["expires_at"])
        return max(1, math.ceil((expires - now).total_seconds()))

    async def sweep(self) -> int:
        """Delete attempts whose window has passed; return how many."""
        result = await self._col.delete_many({"expires_at": {"$lt": datetime.now(UTC)}})
        return int(result.deleted_count)

    async def sweep_loop(self, stopping: asyncio.Event, every: float) -> None:
        """Sweep until `stopping` is set."""
        while not stopping.is_set():
            await self.sweep()
            try:
                await asyncio.wait_for(stopping.wait(), every)
            except TimeoutError:
                pass
