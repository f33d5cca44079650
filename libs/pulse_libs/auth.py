"""Who is calling: JWT and API-key verification, roles mapped to scopes, unit scoping."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, Protocol

import jwt

from pulse_libs.clock import utcnow
from pulse_libs.settings import ServiceSettings

Role = Literal["collaborator", "unit_officer", "department", "standing_committee", "admin", "agency"]
ROLES: tuple[Role, ...] = (
    "collaborator",
    "unit_officer",
    "department",
    "standing_committee",
    "admin",
    "agency",
)

_COLLABORATOR = frozenset(
    {
        "reports:write",
        "reports:read:own",
        "surveys:respond",
        "orientations:read",
        "units:read",
        "topics:read",
    }
)
ROLE_SCOPES: Mapping[Role, frozenset[str]] = {
    "collaborator": _COLLABORATOR,
    "unit_officer": _COLLABORATOR | {"reports:read", "surveys:read", "stats:read"},
    "department": frozenset(
        {
            "reports:read",
            "reports:write",
            "units:read",
            "topics:read",
            "topics:write",
            "orientations:read",
            "orientations:write",
            "surveys:read",
            "surveys:write",
            "hotspots:read",
            "escalations:read",
            "escalations:ack",
            "silences:read",
            "silences:write",
            "stats:read",
            "bulletins:write",
            "deliveries:read",
            "identities:read",
            "triage:read",
            "triage:review",
            "hotspots:write",
            "agencies:read",
            "directives:read",
            "directives:write",
            "directives:update",
        }
    ),
    "standing_committee": frozenset(
        {
            "hotspots:read",
            "escalations:read",
            "escalations:ack",
            "stats:read",
            "units:read",
            "topics:read",
            "orientations:read",
            "triage:read",
            "agencies:read",
            "directives:read",
            "directives:write",
        }
    ),
    "admin": frozenset(
        {
            "users:read",
            "users:write",
            "apikeys:write",
            "units:read",
            "units:write",
            "topics:read",
            "topics:write",
            "policies:read",
            "policies:write",
            "rules:read",
            "rules:write",
            "recipients:read",
            "recipients:write",
            "webhooks:read",
            "webhooks:write",
            "identities:read",
            "deliveries:read",
            "audit:read",
            "silences:read",
            "silences:write",
            "agencies:read",
            "agencies:write",
        }
    ),
    # An officer of a body that handles directives: only the directives assigned to its agency
    # (`agency_code` on the principal) and the hot spots they concern, never who reported.
    "agency": frozenset(
        {
            "directives:read",
            "directives:update",
            "hotspots:read:assigned",
            "units:read",
            "topics:read",
        }
    ),
}
UNIT_LIMITED_ROLES: frozenset[str] = frozenset({"collaborator", "unit_officer"})

API_KEY_SCOPES: frozenset[str] = frozenset(
    {
        "reports:write",
        "reports:read",
        "stats:read",
        "hotspots:read",
        "escalations:read",
        "units:read",
        "topics:read",
        "orientations:read",
        "surveys:read",
        "triage:read",
    }
)
"""Scopes a provincial system may hold; identities and administration are never delegated to keys."""


class AuthError(Exception):
    """Credentials missing, malformed, expired or unknown (401)."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a person (JWT) or a system (API key)."""

    subject: str
    kind: Literal["user", "api_key"]
    name: str
    scopes: frozenset[str]
    role: Role | None = None
    unit_codes: frozenset[str] | None = None
    """Units the caller is limited to; None means every unit."""
    agency_code: str | None = None
    """The agency an `agency` user acts for (None for every other caller)."""
    password_change_required: bool = False
    """Signed in with a one-time password: no scope until the password is changed."""

    def has(self, scope: str) -> bool:
        """True if the caller holds `scope`."""
        return scope in self.scopes

    def sees_unit(self, unit_code: str) -> bool:
        """True if `unit_code` is inside the caller's scope."""
        return self.unit_codes is None or unit_code in self.unit_codes

    def unit_filter(self, requested: str | None = None) -> list[str] | None:
        """Units a list query may cover: None for all, else the allowed subset (maybe empty)."""
        if requested is not None:
            return [requested] if self.sees_unit(requested) else []
        return None if self.unit_codes is None else sorted(self.unit_codes)

    @property
    def sees_identities(self) -> bool:
        """True if the caller may see who reported (department, admin)."""
        return "identities:read" in self.scopes


def principal_for_user(
    *,
    user_id: str,
    username: str,
    role: Role,
    unit_codes: Iterable[str],
    agency_code: str | None = None,
) -> Principal:
    """Build the principal of a person from their role and units (and agency, for `agency` users).

    An `agency` user sees no unit by default (its view is its agency's directives), so any
    unit-scoped route that forgets the agency case denies rather than leaks.
    """
    units = frozenset(unit_codes) if role in UNIT_LIMITED_ROLES else None
    if role == "agency":
        units = frozenset()
    return Principal(
        subject=user_id,
        kind="user",
        name=username,
        scopes=ROLE_SCOPES[role],
        role=role,
        unit_codes=units,
        agency_code=agency_code if role == "agency" else None,
    )


def issue_token(
    settings: ServiceSettings,
    *,
    user_id: str,
    username: str,
    role: Role,
    unit_codes: Iterable[str],
    ttl: timedelta = timedelta(hours=8),
    agency_code: str | None = None,
    version: int = 0,
    password_change_required: bool = False,
) -> tuple[str, int]:
    """Sign an access token (HS256 with the shared secret); return (token, expires_in seconds).

    `version` is the user's version at sign-in (claim `ver`): every service refuses the token once
    intake's directory says the user's access changed after it (see `AccessRevocations`).
    `password_change_required` (claim `pwc`) marks a sign-in with a one-time password.
    """
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": user_id,
        "name": username,
        "role": role,
        "units": sorted(unit_codes),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": int(version),
    }
    if password_change_required:
        claims["pwc"] = True
    if role == "agency" and agency_code:
        claims["agency_code"] = agency_code
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256"), int(ttl.total_seconds())


class AccessRevocations(Protocol):
    """What a service knows about users whose access changed (fed by intake's directory events)."""

    def revoked(self, *, user_id: str, token_version: int) -> str | None:
        """Why a token of `user_id` issued at `token_version` is no longer valid, or None if it is."""
        ...


class TokenVerifier:
    """Verifies bearer tokens: the shared secret in development, a JWKS URL in production.

    `revocations`, when set (pulse_libs.directory does it), is consulted after the signature:
    a deactivated user, one past their term, or one whose role, units or password changed after
    the token was issued is refused on every service.
    """

    revocations: AccessRevocations | None = None

    JWKS_REFRESH_SECONDS = 300.0
    """An unknown `kid` refetches the JWKS at most this often (otherwise each forged token costs a fetch)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        self._jwks_refreshed_at = float("-inf")

    def _signing_key(self, token: str) -> Any:
        """The JWKS key for the token's `kid`; an unknown kid refreshes the set only once per interval."""
        assert self._jwks is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise jwt.InvalidTokenError("the token names no key")

        def find(keys: Sequence[Any]) -> Any:
            return next((k for k in keys if k.key_id == kid), None)

        key = find(self._jwks.get_signing_keys())
        now = time.monotonic()
        if key is None and now - self._jwks_refreshed_at >= self.JWKS_REFRESH_SECONDS:
            self._jwks_refreshed_at = now
            key = find(self._jwks.get_signing_keys(refresh=True))
        if key is None:
            raise jwt.InvalidTokenError("unknown signing key")
        return key.key

    def _previous_secret(self) -> str | None:
        """The previous secret while it may still verify, else None."""
        previous = self._settings.jwt_previous_secret
        until = self._settings.jwt_previous_secret_until
        if previous is None or (until is not None and utcnow() >= until):
            return None
        return previous

    def _decode(self, token: str, key: Any, algorithms: Sequence[str]) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=self._settings.jwt_audience,
            issuer=self._settings.jwt_issuer,
            options={"require": ["exp", "sub", "role", "iss", "aud"]},
        )
        return claims

    async def verify(self, token: str) -> Principal:
        """Return the principal of a valid token; raise AuthError otherwise."""
        try:
            if self._jwks is not None:
                key: Any = await asyncio.to_thread(self._signing_key, token)
                algorithms = [self._settings.jwt_algorithm]
            else:
                key, algorithms = self._settings.jwt_secret, ["HS256"]
            try:
                claims = self._decode(token, key, algorithms)
            except jwt.InvalidSignatureError:
                previous = self._previous_secret()
                if self._jwks is not None or previous is None:
                    raise
                claims = self._decode(token, previous, algorithms)
        except jwt.ExpiredSignatureError:
            raise AuthError("the access token has expired") from None
        except (jwt.PyJWTError, ValueError):
            raise AuthError("the access token is invalid") from None
        role = claims.get("role")
        units = claims.get("units", [])
        if role not in ROLES or not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            raise AuthError("the access token carries an unknown role or bad units")
        agency_code = claims.get("agency_code")
        if role == "agency" and (not isinstance(agency_code, str) or not agency_code):
            raise AuthError("an agency token must carry its agency_code")
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise AuthError("the access token carries a bad version")
        if self.revocations is not None:
            reason = self.revocations.revoked(user_id=str(claims["sub"]), token_version=version)
            if reason is not None:
                raise AuthError(f"the access token is no longer valid: {reason}")
        principal = principal_for_user(
            user_id=str(claims["sub"]),
            username=str(claims.get("name", claims["sub"])),
            role=role,
            unit_codes=units,
            agency_code=agency_code if role == "agency" else None,
        )
        if claims.get("pwc") is True:
            # A one-time password: the holder may only change it (and read who they are).
            return replace(principal, scopes=frozenset(), unit_codes=frozenset(), password_change_required=True)
        return principal


API_KEY_PREFIX = "pk_"


def new_api_key() -> tuple[str, str, str]:
    """Create an API key; return (key id, the secret key shown once, its SHA-256 hash)."""
    key_id = uuid.uuid4().hex[:16]
    key = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    """SHA-256 of a key: keys are 256-bit random, so a fast hash is safe to store."""
    return hashlib.sha256(key.encode()).hexdigest()


def parse_api_key(key: str) -> str | None:
    """Return the key id encoded in a key, or None if it is not one of ours."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    key_id, sep, _ = key[len(API_KEY_PREFIX) :].partition("_")
    return key_id if sep and key_id.isalnum() else None


def check_api_key(key: str, record: Mapping[str, Any]) -> Principal:
    """Compare a presented key with its stored record; raise AuthError on mismatch or revocation."""
    if record.get("revoked") or not hmac.compare_digest(hash_api_key(key), str(record.get("key_hash", ""))):
        raise AuthError("the API key is invalid or revoked")
    units = record.get("unit_codes")
    return Principal(
        subject=str(record["_id"]),
        kind="api_key",
        name=str(record.get("name", record["_id"])),
        scopes=frozenset(record.get("scopes", [])) & API_KEY_SCOPES,
        # An empty list limits the key to no unit (fail closed); only a missing list means every unit.
        unit_codes=frozenset(units) if units is not None else None,
    )


def pseudonym(settings: ServiceSettings, subject: str) -> str:
    """A stable pseudonymous id for a collaborator, keyed so it cannot be reversed by guessing."""
    digest = hmac.new(settings.pseudonym_key.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return "ctv-" + digest[:12]
