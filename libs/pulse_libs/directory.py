"""Access revocation on every service, learnt from intake's directory events (intake.directory.v1).

Why this and not short-lived tokens with refresh: every client (the console, phones, scripts,
the test harness) already holds one bearer token from `POST /v1/auth/token`; a refresh flow
would change all of them and still leave the window of the access-token lifetime. Instead each
service keeps a small mirror of the people directory in its own store (one consumer group per
service, reading the topic from the beginning) and every replica keeps an in-memory copy it
reloads every `refresh_seconds`. The token verifier consults that copy on each request (a dict
lookup), so a change made in intake is refused everywhere after Kafka delivery plus one reload:
a few seconds, well inside the 60 s of API.md.

A token carries `ver`, the user's version at sign-in. A user record carries `access_version`,
the version of the last change that cuts access (role, units, agency, password, deactivation);
a token with `ver` below it is refused, as is any token of an inactive user or one past
`term_ends_on` (a date in the service's time zone). A user the mirror has not seen yet (created
a moment ago) is accepted: only known changes revoke.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError

from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.events.topics import INTAKE_DIRECTORY
from pulse_libs.kafka.consumer import EventHandler
from pulse_libs.store import Database

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pulse_libs.runtime import Runtime

log = logging.getLogger(__name__)

ACCESS_COLLECTION = "directory_access"
DEFAULT_REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class UserAccess:
    """What decides whether a user's tokens still hold."""

    version: int
    access_version: int
    active: bool
    term_ends_on: date | None


def access_reason(access: UserAccess | None, *, token_version: int, today: date) -> str | None:
    """Why a token issued at `token_version` is refused, or None if it holds (pure logic)."""
    if access is None:
        return None
    if not access.active:
        return "the user is deactivated"
    if access.term_ends_on is not None and today > access.term_ends_on:
        return "the user's term has ended"
    if token_version < access.access_version:
        return "the user's access changed after sign-in"
    return None


class RevocationView:
    """The in-memory copy of a service's directory mirror that the token verifier consults."""

    def __init__(self, db: Database, *, timezone: str, refresh_seconds: float = DEFAULT_REFRESH_SECONDS) -> None:
        self._col = db[ACCESS_COLLECTION]
        self._tz = ZoneInfo(timezone)
        self._refresh_seconds = refresh_seconds
        self._users: dict[str, UserAccess] = {}
        self.loaded = False

    def revoked(self, *, user_id: str, token_version: int) -> str | None:
        """Why the token is no longer valid, or None (AccessRevocations protocol)."""
        today = datetime.now(self._tz).date()
        return access_reason(self._users.get(user_id), token_version=token_version, today=today)

    async def refresh(self) -> None:
        """Reload the mirror from the store."""
        users: dict[str, UserAccess] = {}
        async for doc in self._col.find({}):
            users[str(doc["_id"])] = _access(doc)
        self._users = users
        self.loaded = True

    async def loop(self, stopping: asyncio.Event) -> None:
        """Reload every `refresh_seconds` until `stopping` is set; a failed reload keeps the last copy."""
        while not stopping.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the store may be away; retry at the next tick
                log.warning("directory view reload failed", extra={"error": repr(exc)})
            try:
                await asyncio.wait_for(stopping.wait(), self._refresh_seconds)
            except TimeoutError:
                pass


def _access(doc: Mapping[str, Any]) -> UserAccess:
    term = doc.get("term_ends_on")
    return UserAccess(
        version=int(doc.get("version", 0)),
        access_version=int(doc.get("access_version", 0)),
        active=bool(doc.get("active", True)),
        term_ends_on=date.fromisoformat(term) if isinstance(term, str) else None,
    )


async def apply_user_changed(db: Database, data: intake_events.UserChanged) -> None:
    """Store the user's access facts unless a newer version is already stored (idempotent, any order)."""
    doc = {
        "version": data.version,
        "access_version": data.access_version,
        "active": data.active,
        "term_ends_on": data.term_ends_on.isoformat() if data.term_ends_on else None,
        "role": data.role,
        "unit_codes": sorted(data.unit_codes),
        "agency_code": data.agency_code,
    }
    try:
        await db[ACCESS_COLLECTION].update_one(
            {"_id": data.user_id, "version": {"$lt": data.version}}, {"$set": doc}, upsert=True
        )
    except DuplicateKeyError:
        pass  # a newer (or the same) version is stored: the upsert collided with it


def directory_access_handlers(db: Database) -> Mapping[str, EventHandler]:
    """Handlers that keep the service's access mirror in step with intake's user events."""

    async def user_changed(event: CloudEvent) -> None:
        await apply_user_changed(db, intake_events.UserChanged.model_validate(event.data))

    async def ignore(event: CloudEvent) -> None:
        return None

    return {intake_events.USER_CHANGED: user_changed, intake_events.AGENCY_CHANGED: ignore}


def attach_revocations(runtime: Runtime, app: FastAPI, *, refresh_seconds: float = DEFAULT_REFRESH_SECONDS) -> None:
    """Make `app` refuse revoked tokens: the one line each service's lifespan adds before `runtime.start`."""
    view = RevocationView(runtime.db, timezone=runtime.settings.timezone, refresh_seconds=refresh_seconds)
    runtime.add_consumer(
        f"{runtime.settings.service_name}-directory-access",
        [INTAKE_DIRECTORY],
        directory_access_handlers(runtime.db),
    )
    runtime.add_loop("directory-access-view", view.loop)
    app.state.token_verifier.revocations = view
    app.state.revocation_view = view


__all__ = [
    "ACCESS_COLLECTION",
    "RevocationView",
    "UserAccess",
    "access_reason",
    "apply_user_changed",
    "attach_revocations",
    "directory_access_handlers",
]
