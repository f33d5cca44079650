"""notify's own timers: the reminder before a directive's due time.

A timer document per (directive, due time) is inserted when the directive is created or its due time
changes, and cancelled when it is done or overdue. The loop fires due timers by recording the
reminder deliveries, whose ids are deterministic: a timer fired twice (two replicas, or a crash
between recording and marking it fired) records nothing new, so no claim is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pulse_libs.clock import isoformat, utcnow
from pulse_libs.events.triage import DirectiveChanged
from pulse_libs.store import Database
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

log = logging.getLogger(__name__)

COLLECTION = "directive_timers"
INDEXES = {
    COLLECTION: [
        IndexModel([("state", ASCENDING), ("remind_at", ASCENDING)], name="due"),
        IndexModel([("directive_id", ASCENDING)], name="directive"),
    ]
}

Fire = Callable[[dict[str, Any], str], Awaitable[int]]


class DirectiveTimers:
    """Reminder timers of directives in notify's store."""

    def __init__(self, db: Database) -> None:
        self._col = db[COLLECTION]

    async def schedule(self, data: DirectiveChanged, raw: dict[str, Any]) -> None:
        """Set the reminder of this due time (and cancel reminders of an earlier due time)."""
        due_key = isoformat(data.due_at)
        await self._col.update_many(
            {"directive_id": data.directive_id, "state": "pending", "due_key": {"$ne": due_key}},
            {"$set": {"state": "cancelled"}},
        )
        remind_at = data.due_at - timedelta(seconds=data.remind_before_seconds)
        if data.remind_before_seconds <= 0 or remind_at <= data.at:
            return  # no reminder asked, or the due time is nearer than the reminder: the notice itself says it
        try:
            await self._col.insert_one(
                {
                    "_id": f"{data.directive_id}:{due_key}",
                    "directive_id": data.directive_id,
                    "due_key": due_key,
                    "remind_at": remind_at,
                    "state": "pending",
                    "directive": raw,
                }
            )
        except DuplicateKeyError:
            return  # a redelivered event: the timer exists (pending, fired or cancelled)

    async def cancel(self, directive_id: str) -> None:
        """No reminder for a directive that is done or overdue."""
        await self._col.update_many(
            {"directive_id": directive_id, "state": "pending"}, {"$set": {"state": "cancelled"}}
        )

    async def fire_due(self, fire: Fire) -> int:
        """Fire every pending timer whose time has come; return how many."""
        now = utcnow()
        due = await self._col.find({"state": "pending", "remind_at": {"$lte": now}}).to_list()
        for timer in due:
            await fire(dict(timer["directive"]), str(timer["due_key"]))
            await self._col.update_one({"_id": timer["_id"], "state": "pending"}, {"$set": {"state": "fired"}})
        return len(due)
