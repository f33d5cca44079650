"""Use cases of people and systems: sign-in, the user lifecycle, API keys."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pulse_libs.auth import API_KEY_SCOPES, UNIT_LIMITED_ROLES, Role, issue_token, new_api_key
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_DIRECTORY, INTAKE_REGISTRY
from pulse_libs.outbox import with_outbox

from pulse_intake.adapters.passwords import hash_password, verify_password
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.throttle import LoginThrottle, LoginThrottled
from pulse_intake.domain.text import fold, search_terms
from pulse_intake.settings import IntakeSettings

__all__ = ["LoginThrottled"]

USER_FIELDS = ("username", "full_name", "role", "phone", "email", "agency_code", "zalo_user_id", "created_at")
ACCESS_FIELDS = frozenset({"role", "unit_codes", "agency_code"})
"""A change of any of these (or a deactivation, or a password change) refuses older tokens everywhere."""
KEY_FIELDS = ("name", "scopes", "unit_codes", "revoked", "issued_at")


class UsernameTaken(Exception):
    """A user of that name exists."""


class UserConflict(Exception):
    """A field clashes with the rules or with another user; `field` names it."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


class WrongPassword(Exception):
    """The current password given to a password change is wrong."""


def user_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A user for the API: never the password hash."""
    return {
        "id": doc["_id"],
        **{f: doc.get(f) for f in USER_FIELDS},
        "unit_codes": doc.get("unit_codes") or [],
        "active": is_active(doc),
        "term_ends_on": doc.get("term_ends_on"),
        "version": int(doc.get("version", 0)),
        "password_change_required": bool(doc.get("must_change_password")),
        "updated_at": doc.get("updated_at") or doc.get("created_at"),
    }


def is_active(doc: Mapping[str, Any]) -> bool:
    """A user is active unless deactivated (older records say `disabled`)."""
    return bool(doc.get("active", not doc.get("disabled", False)))


def term_over(doc: Mapping[str, Any], timezone: str) -> bool:
    """True once the day after `term_ends_on` has begun in the service's time zone."""
    term = doc.get("term_ends_on")
    return isinstance(term, str) and datetime.now(ZoneInfo(timezone)).date() > date.fromisoformat(term)


def user_event(doc: Mapping[str, Any]) -> tuple[str, Any]:
    """The `pulse.user.changed.v1` event of a user record at its current version (deterministic id)."""
    version = int(doc.get("version", 0))
    term = doc.get("term_ends_on")
    data = ev.UserChanged(
        user_id=doc["_id"],
        username=doc["username"],
        full_name=doc.get("full_name") or doc["username"],
        role=doc["role"],
        unit_codes=list(doc.get("unit_codes") or []),
        agency_code=doc.get("agency_code"),
        phone=doc.get("phone"),
        email=doc.get("email"),
        zalo_user_id=doc.get("zalo_user_id"),
        active=is_active(doc),
        version=version,
        access_version=int(doc.get("access_version", 0)),
        term_ends_on=date.fromisoformat(term) if isinstance(term, str) else None,
        changed_at=doc.get("updated_at") or doc.get("created_at") or utcnow(),
    )
    event = new_event(
        ev.USER_CHANGED, source=ev.SOURCE, data=data, key=doc["_id"], event_id=f"user-{doc['_id']}-v{version}"
    )
    return INTAKE_DIRECTORY, event


async def sign_in(
    *, store: IntakeStore, settings: IntakeSettings, throttle: LoginThrottle, username: str, password: str, ip: str
) -> tuple[str, int, bool] | None:
    """Return (token, expires_in, password change required) for good credentials, None for bad ones.

    Raises LoginThrottled when throttled. Deactivated users and users past their term cannot sign in.
    """
    async with throttle.attempt(username=username, ip=ip) as attempt:
        user = await store.users.by_username(username)
        ok = await verify_password(user["password_hash"] if user else None, password)
        if not ok or user is None or not is_active(user) or term_over(user, settings.timezone):
            attempt.failed()
            return None
    must_change = bool(user.get("must_change_password"))
    token, expires_in = issue_token(
        settings,
        user_id=user["_id"],
        username=user["username"],
        role=user["role"],
        unit_codes=user.get("unit_codes", []),
        agency_code=user.get("agency_code"),
        version=int(user.get("version", 0)),
        password_change_required=must_change,
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )
    return token, expires_in, must_change


async def _check_agency(store: IntakeStore, role: str, agency_code: str | None) -> None:
    if role == "agency":
        if not agency_code:
            raise UserConflict("agency_code", "an agency user needs the code of its agency")
        agency = await store.agencies.get(agency_code)
        if agency is None or not agency.get("active", True):
            raise UserConflict("agency_code", f"unknown or inactive agency {agency_code}")
    elif agency_code:
        raise UserConflict("agency_code", "only agency users carry an agency_code")


async def _check_zalo(store: IntakeStore, zalo_user_id: str | None, user_id: str | None) -> None:
    if zalo_user_id:
        other = await store.users.by_zalo_id(zalo_user_id)
        if other is not None and other["_id"] != user_id:
            raise UserConflict("zalo_user_id", "already linked to another user", 409)


async def create_user(
    *,
    store: IntakeStore,
    username: str,
    password: str,
    full_name: str,
    role: Role,
    unit_codes: Sequence[str],
    phone: str | None,
    email: str | None,
    agency_code: str | None = None,
    zalo_user_id: str | None = None,
    term_ends_on: date | None = None,
) -> dict[str, Any]:
    """Create a user with an argon2 hash and its directory event; raise UsernameTaken or UserConflict."""
    await _check_agency(store, role, agency_code)
    await _check_zalo(store, zalo_user_id, None)
    now = utcnow()
    doc: dict[str, Any] = {
        "_id": uuid.uuid4().hex,
        "username": username,
        "password_hash": await hash_password(password),
        "full_name": full_name,
        "role": role,
        "unit_codes": sorted(set(unit_codes)),
        "agency_code": agency_code if role == "agency" else None,
        "phone": phone,
        "email": email,
        "zalo_user_id": zalo_user_id,
        "active": True,
        "term_ends_on": term_ends_on.isoformat() if term_ends_on else None,
        "version": 1,
        "access_version": 0,
        "must_change_password": False,
        "search": fold(f"{username} {full_name}"),
        "created_at": now,
        "updated_at": now,
    }
    if not await store.users.insert(with_outbox(doc, [user_event(doc)])):
        raise UsernameTaken(username)
    return user_view(doc)


async def get_user(*, store: IntakeStore, user_id: str) -> dict[str, Any] | None:
    """One user by id, or None."""
    doc = await store.users.get(user_id)
    return None if doc is None else user_view(doc)


async def list_users(
    *,
    store: IntakeStore,
    after: str | None,
    limit: int,
    role: str | None = None,
    unit_code: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[dict[str, Any]]:
    """Users ordered by username after the cursor position, filtered by role, unit, activity and text."""
    docs = await store.users.search(
        after=after, limit=limit, role=role, unit_code=unit_code, active=active, terms=search_terms(q or "")
    )
    return [user_view(d) for d in docs]


async def _write_user(
    store: IntakeStore, doc: dict[str, Any], changes: dict[str, Any], *, cut_access: bool
) -> dict[str, Any]:
    """Apply `changes` to the user at its current version with the directory event; UserConflict on a race."""
    old_version = int(doc.get("version", 0))
    new = {**doc, **changes, "version": old_version + 1, "updated_at": utcnow()}
    if cut_access:
        new["access_version"] = new["version"]
    new["search"] = fold(f"{new['username']} {new.get('full_name') or ''}")
    sets = {k: new[k] for k in (*changes, "version", "updated_at", "search", "access_version") if k in new}
    version = old_version if "version" in doc else None
    if not await store.users.write_version(doc["_id"], version, sets, [user_event(new)]):
        raise UserConflict("version", "the user changed meanwhile; read it again and retry", 409)
    return new


async def update_user(*, store: IntakeStore, user_id: str, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """PATCH a user (only the fields given); None if no such user. Access-changing edits revoke old tokens."""
    doc = await store.users.get(user_id)
    if doc is None:
        return None
    wanted = dict(changes)
    if "unit_codes" in wanted and wanted["unit_codes"] is not None:
        wanted["unit_codes"] = sorted(set(wanted["unit_codes"]))
    if isinstance(wanted.get("term_ends_on"), date):
        wanted["term_ends_on"] = wanted["term_ends_on"].isoformat()
    for field in ("full_name", "role", "unit_codes", "active"):
        if field in wanted and wanted[field] is None:
            raise UserConflict(field, "may not be null")
    role = str(wanted.get("role") or doc["role"])
    if role != "agency" and "agency_code" not in wanted and doc.get("agency_code"):
        wanted["agency_code"] = None
    agency_code = wanted.get("agency_code", doc.get("agency_code"))
    await _check_agency(store, role, agency_code)
    units = wanted.get("unit_codes", doc.get("unit_codes") or [])
    if role in UNIT_LIMITED_ROLES and not units:
        raise UserConflict("unit_codes", "collaborators and unit officers need at least one unit")
    if "zalo_user_id" in wanted:
        await _check_zalo(store, wanted["zalo_user_id"], user_id)
    current = {**doc, "active": is_active(doc)}
    diff = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not diff:
        return user_view(doc)
    cut = bool(ACCESS_FIELDS & diff.keys()) or diff.get("active") is False
    return user_view(await _write_user(store, doc, diff, cut_access=cut))


async def change_password(
    *, store: IntakeStore, user_id: str, current_password: str, new_password: str
) -> dict[str, Any]:
    """Change one's own password (revokes every older token of the user); raise WrongPassword."""
    doc = await store.users.get(user_id)
    if doc is None or not await verify_password(doc.get("password_hash"), current_password):
        raise WrongPassword()
    if current_password == new_password:
        raise UserConflict("new_password", "must differ from the current password")
    changes = {"password_hash": await hash_password(new_password), "must_change_password": False}
    return await _write_user(store, doc, changes, cut_access=True)


async def reset_password(*, store: IntakeStore, user_id: str) -> tuple[dict[str, Any], str] | None:
    """Give the user a one-time password that must be changed at the next sign-in; None if no such user."""
    doc = await store.users.get(user_id)
    if doc is None:
        return None
    one_time = secrets.token_urlsafe(12)
    changes = {"password_hash": await hash_password(one_time), "must_change_password": True}
    return user_view(await _write_user(store, doc, changes, cut_access=True)), one_time


def session_token(settings: IntakeSettings, doc: Mapping[str, Any]) -> tuple[str, int]:
    """A fresh token for a user record (after a password change)."""
    return issue_token(
        settings,
        user_id=doc["_id"],
        username=doc["username"],
        role=doc["role"],
        unit_codes=doc.get("unit_codes", []),
        agency_code=doc.get("agency_code"),
        version=int(doc.get("version", 0)),
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )


def unknown_scopes(scopes: Sequence[str]) -> list[str]:
    """Scopes an API key may not hold."""
    return [s for s in scopes if s not in API_KEY_SCOPES]


async def issue_api_key(
    *, store: IntakeStore, name: str, scopes: Sequence[str], unit_codes: Sequence[str] | None
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
    stored = with_outbox({"_id": key_id, **record, "revoked": False}, [(INTAKE_REGISTRY, event)])
    await store.api_keys.create(stored)
    return key_id, key


async def revoke_api_key(*, store: IntakeStore, key_id: str) -> bool:
    """Revoke a key (idempotent) and announce it; False if no such key."""
    doc = await store.api_keys.get(key_id)
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
    await store.api_keys.revoke(key_id, now, [(INTAKE_REGISTRY, event)])
    return True


async def get_api_key(*, store: IntakeStore, key_id: str) -> dict[str, Any] | None:
    """One key without its hash, or None."""
    doc = await store.api_keys.get(key_id)
    return None if doc is None else {"id": doc["_id"], **{f: doc.get(f) for f in KEY_FIELDS}}


async def list_api_keys(*, store: IntakeStore, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Keys without their hashes, ordered by id."""
    docs = await store.api_keys.after(after, limit)
    return [{"id": d["_id"], **{f: d.get(f) for f in KEY_FIELDS}} for d in docs]
