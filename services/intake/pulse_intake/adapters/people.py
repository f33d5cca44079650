"""The users and API keys collections."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.outbox import outbox_update
from pulse_libs.store import Document

from pulse_intake.adapters.collection import Collection
from pulse_intake.adapters.store import API_KEYS, USERS

Events = Sequence[tuple[str, CloudEvent]]


class Users(Collection):
    """Repository of users (people who sign in)."""

    name = USERS

    async def by_username(self, username: str) -> Document | None:
        """The user of that name, or None."""
        return await self.col.find_one({"username": username})

    async def by_zalo_id(self, zalo_user_id: str) -> Document | None:
        """The user linked to that Zalo follower, or None."""
        return await self.col.find_one({"zalo_user_id": zalo_user_id})

    async def write_version(self, user_id: str, version: int | None, sets: Mapping[str, Any], events: Events) -> bool:
        """Set `sets` with `events` if the user is still at `version` (None: a record without one); False if not."""
        filt: dict[str, Any] = {"_id": user_id, "version": version if version is not None else {"$exists": False}}
        result = await self.col.update_one(filt, outbox_update(events, {"$set": dict(sets)}))
        return bool(result.matched_count == 1)

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
        """Users by username after the cursor, of a role, of a unit, (in)active, whose names hold every term."""
        query: dict[str, Any] = {"username": {"$gt": after}} if after is not None else {}
        if role is not None:
            query["role"] = role
        if unit_code is not None:
            query["unit_codes"] = unit_code
        clauses: list[dict[str, Any]] = []
        # Older records say `disabled` instead of `active`.
        if active is True:
            clauses.append({"$or": [{"active": True}, {"active": {"$exists": False}, "disabled": {"$ne": True}}]})
        elif active is False:
            clauses.append({"$or": [{"active": False}, {"active": {"$exists": False}, "disabled": True}]})
        clauses += [{"search": {"$regex": re.escape(term)}} for term in terms]
        if clauses:
            query["$and"] = clauses
        return await self.page(query, limit=limit, key="username")


class ApiKeys(Collection):
    """Repository of API keys (their hashes, never the keys)."""

    name = API_KEYS

    async def revoke(self, key_id: str, at: datetime, events: Events) -> None:
        """Mark the key revoked at `at`, with the events announcing it."""
        await self.col.update_one({"_id": key_id}, outbox_update(events, {"$set": {"revoked": True, "revoked_at": at}}))

    async def after(self, after: str | None, limit: int) -> list[Document]:
        """Keys by id after the cursor."""
        return await self.page({}, limit=limit, after=after)
