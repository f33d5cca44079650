"""Failed-login counters in fixed windows, stored so every replica sees them; a sweeper expires them."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime

from pulse_libs.store import Database

from pulse_intake.adapters.store import LOGIN_FAILURES


class LoginThrottle:
    """Counts failures per username and per client IP; over the limit, logins wait for the window to end."""

    def __init__(self, db: Database, *, window_seconds: int, max_per_user: int, max_per_ip: int) -> None:
        self._col = db[LOGIN_FAILURES]
        self._window = window_seconds
        self._limits = {"user": max_per_user, "ip": max_per_ip}

    def _keys(self, username: str, ip: str) -> dict[str, str]:
        bucket = int(time.time()) // self._window
        return {"user": f"user:{username.casefold()}:{bucket}", "ip": f"ip:{ip}:{bucket}"}

    def _window_end(self) -> float:
        return (int(time.time()) // self._window + 1) * self._window

    async def retry_after(self, *, username: str, ip: str) -> int | None:
        """Seconds to wait if either counter is over its limit, else None."""
        keys = self._keys(username, ip)
        docs = await self._col.find({"_id": {"$in": list(keys.values())}}).to_list()
        counts = {doc["_id"]: int(doc.get("count", 0)) for doc in docs}
        if any(counts.get(keys[kind], 0) >= limit for kind, limit in self._limits.items()):
            return max(1, math.ceil(self._window_end() - time.time()))
        return None

    async def failed(self, *, username: str, ip: str) -> None:
        """Count one failed login for the user and the IP."""
        expires = datetime.fromtimestamp(self._window_end(), UTC)
        for key in self._keys(username, ip).values():
            await self._col.update_one(
                {"_id": key}, {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": expires}}, upsert=True
            )

    async def sweep(self) -> int:
        """Delete counters of windows that have ended; return how many."""
        result = await self._col.delete_many({"expires_at": {"$lt": datetime.now(UTC)}})
        return result.deleted_count

    async def sweep_loop(self, stopping: asyncio.Event, every: float) -> None:
        """Sweep until `stopping` is set."""
        while not stopping.is_set():
            await self.sweep()
            try:
                await asyncio.wait_for(stopping.wait(), every)
            except TimeoutError:
                pass
