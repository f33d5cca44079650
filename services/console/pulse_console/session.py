"""The console's session: an encrypted, authenticated HttpOnly cookie (Fernet), no server-side state.

It holds the person's intake token, who they are (for menus and pages), the CSRF secret of their
forms, and when it ends. Anyone without a session still gets one (anonymous) so that the sign-in
and acknowledgement forms carry a CSRF token too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pulse_libs.auth import ROLE_SCOPES, Role

COOKIE = "pulse_session"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class User:
    """Who is signed in, as intake's `/v1/users/me` describes them."""

    id: str
    username: str
    full_name: str
    role: Role
    unit_codes: tuple[str, ...] = ()
    agency_code: str | None = None

    @property
    def scopes(self) -> frozenset[str]:
        """What the services will allow this person (the console offers only that)."""
        return ROLE_SCOPES.get(self.role, frozenset())

    def may(self, *scopes: str) -> bool:
        """True if the person holds any of `scopes`."""
        return any(s in self.scopes for s in scopes)


@dataclass(frozen=True)
class Session:
    """One browser's session; `user` and `token` are None until sign-in."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: User | None = None
    token: str | None = None
    expires_at: float = 0.0
    was_signed_in: bool = False
    """Set when a signed-in session ran out, so the next page can say so once."""

    @property
    def signed_in(self) -> bool:
        """True while the person's token is held and not past its end."""
        return self.user is not None and self.token is not None and time.time() < self.expires_at

    def csrf_ok(self, submitted: str | None) -> bool:
        """Constant-time check of a form's CSRF field."""
        return bool(submitted) and hmac.compare_digest(str(submitted), self.csrf)

    def signed_out(self, *, expired: bool = False) -> Session:
        """A fresh anonymous session (new CSRF secret), remembering whether the old one expired."""
        return Session(was_signed_in=expired)


class SessionCodec:
    """Encrypts sessions into cookie values and back; a tampered or stale cookie is no session."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(b"pulse-console-session:" + secret.encode()).digest())
        self._fernet = Fernet(key)
        self._max_age = max_age_seconds

    def dumps(self, session: Session) -> str:
        """Encrypt a session."""
        data = asdict(session)
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def loads(self, value: str | None) -> Session | None:
        """Decrypt a cookie value, or None when absent, forged, malformed or older than the longest session."""
        if not value or len(value) > 8192:
            return None
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(value.encode(), ttl=self._max_age))
            user = data.get("user")
            if user is not None:
                user = User(**{**user, "unit_codes": tuple(user.get("unit_codes") or ())})
            return replace(Session(), **{**data, "user": user})
        except (InvalidToken, ValueError, TypeError, KeyError):
            return None
