"""Use cases of people and systems: sign-in, users, API keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pulse_libs.auth import API_KEY_SCOPES, Role, issue_token, new_api_key
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_REGISTRY
from pulse_libs.outbox import outbox_update, with_outbox
from pulse_libs.store import Database
from pymongo.errors import DuplicateKeyError

from pulse_intake.adapters.passwords import hash_password, verify_password
from pulse_intake.adapters.store import API_KEYS, USERS
from pulse_intake.adapters.throttle import LoginThrottle
from pulse_intake.settings import IntakeSettings

USER_FIELDS = ("username", "full_name", "role", "unit_codes", "phone", "email", "created_at")
KEY_FIELDS = ("name", "scopes", "unit_codes", "revoked", "issued_at")


class LoginThrottled(Exception):
    """Too many failed sign-ins; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins")
        self.retry_after = retry_after


class UsernameTaken(Exception):
    """A user of that name exists."""


def user_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A user for the API: never the password hash."""
    return {"id": doc["_id"], **{f: doc.get(f) for f in USER_FIELDS}, "unit_codes": doc.get("unit_codes") or []}


async def sign_in(
    *, db: Database, settings: IntakeSettings, throttle: LoginThrottle, username: str, password: str, ip: str
) -> tuple[str, int] | None:
    """Return (token, expires_in) for good credentials, None for bad ones; raise LoginThrottled when throttled."""
    wait = await throttle.retry_after(username=username, ip=ip)
    if wait is not None:
        raise LoginThrottled(wait)
    user = await db[USERS].find_one({"username": username})
    ok = await verify_password(user["password_hash"] if user else None, password)
    if not ok or user is None or user.get("disabled"):
        await throttle.failed(username=username, ip=ip)
        return None
    return issue_token(
        settings,
        user_id=user["_id"],
        username=user["username"],
        role=user["role"],
        unit_codes=user.get("unit_codes", []),
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )


async def create_user(
    *,
    db: Database,
    username: str,
    password: str,
    full_name: str,
    role: Role,
    unit_codes: Sequence[str],
    phone: str | None,
    email: str | None,
) -> dict[str, Any]:
    """Create a user with an argon2 hash; raise UsernameTaken if the name is in use."""
    doc = {
        "_id": uuid.uuid4().hex,
        "username": username,
        "password_hash": await hash_password(password),
        "full_name": full_name,
        "role": role,
        "unit_codes": sorted(set(unit_codes)),
        "phone": phone,
        "email": email,
        "created_at": utcnow(),
    }
    try:
        await db[USERS].insert_one(doc)
    except DuplicateKeyError:
        raise UsernameTaken(username) from None
    return user_view(doc)


async def get_user(*, db: Database, user_id: str) -> dict[str, Any] | None:
    """One user by id, or None."""
    doc = await db[USERS].find_one({"_id": user_id})
    return None if doc is None else user_view(doc)


async def list_users(*, db: Database, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Users ordered by username, after the cursor position."""
    query: dict[str, Any] = {"username": {"$gt": after}} if after is not None else {}
    docs = await db[USERS].find(query).sort("username", 1).limit(limit).to_list()
    return [user_view(d) for d in docs]


def unknown_scopes(scopes: Sequence[str]) -> list[str]:
    """Scopes an API key may not hold."""
    return [s for s in scopes if s not in API_KEY_SCOPES]


async def issue_api_key(
    *, db: Database, name: str, scopes: Sequence[str], unit_codes: Sequence[str] | None
) -> tuple[str, str]:
    """Store a new key's hash (with its ApiKeyIssued event for the other services); return (id, key)."""
    key_id, key, key_hash = new_api_key()
    now = utcnow()
    units = sorted(set(unit_codes)) if unit_codes else None
    record = {"name": name, "key_hash": key_hash, "scopes": sorted(set(scopes)), "unit_codes": units, "issued_at": now}
    event = new_event(
        ev.API_KEY_ISSUED,
        source=ev.SOURCE,
        data=ev.ApiKeyIssued(key_id=key_id, **record),
        key=key_id,
        event_id=f"apikey-issued-{key_id}",
    )
    await db[API_KEYS].insert_one(with_outbox({"_id": key_id, **record, "revoked": False}, [(INTAKE_REGISTRY, event)]))
    return key_id, key


async def revoke_api_key(*, db: Database, key_id: str) -> bool:
    """Revoke a key (idempotent) and announce it; False if no such key."""
    doc = await db[API_KEYS].find_one({"_id": key_id})
    if doc is None:
        return False
    if doc.get("revoked"):
        return True
    now = utcnow()
    event = new_event(
        ev.API_KEY_REVOKED,
        source=ev.SOURCE,
        data=ev.ApiKeyRevoked(key_id=key_id, revoked_at=now),
        key=key_id,
        event_id=f"apikey-revoked-{key_id}",
    )
    await db[API_KEYS].update_one(
        {"_id": key_id}, outbox_update([(INTAKE_REGISTRY, event)], {"$set": {"revoked": True, "revoked_at": now}})
    )
    return True


async def get_api_key(*, db: Database, key_id: str) -> dict[str, Any] | None:
    """One key without its hash, or None."""
    doc = await db[API_KEYS].find_one({"_id": key_id})
    return None if doc is None else {"id": doc["_id"], **{f: doc.get(f) for f in KEY_FIELDS}}


async def list_api_keys(*, db: Database, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Keys without their hashes, ordered by id."""
    query: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
    docs = await db[API_KEYS].find(query).sort("_id", 1).limit(limit).to_list()
    return [{"id": d["_id"], **{f: d.get(f) for f in KEY_FIELDS}} for d in docs]
