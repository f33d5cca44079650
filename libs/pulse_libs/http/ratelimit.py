"""A general rate limit on write requests, per credential and per client address, in each replica's memory.

Writes (POST, PUT, PATCH, DELETE) are counted twice: per credential (the bearer token or API key a
request presents, hashed: a caller can only spend the budget of credentials it holds, so nobody can
exhaust someone else's) and per client address (the peer, or the right-most `X-Forwarded-For` hop
that is not a trusted proxy, as the sign-in throttle reads it; a trusted proxy's own call that forwards
no client, such as the console acting for a signed-in person, counts per credential only). Over either
budget the answer is a problem+json 429 with `Retry-After`, before the application sees the request:
nothing changes.

The counters live in the process (GCRA: one "theoretical arrival time" per key, no store round trip
on the hot write path). With N replicas behind a load balancer a caller gets at most N times the
budget; the limit is a flood guard, not a quota. Sign-in failures have their own store-backed,
cross-replica throttle in intake.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from pulse_libs.http.problems import problem_response
from pulse_libs.http.security import IpNetwork, client_address

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RateLimiter:
    """GCRA per key: `limit` requests at once, then one every `period / limit` seconds."""

    def __init__(self, *, limit: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self._interval = period / limit
        self._clock = clock
        self._arrivals: dict[str, float] = {}
        self._next_prune = clock() + period

    def hit(self, key: str) -> float:
        """Count one request of `key`: 0 if allowed, else the seconds to wait (the request is not counted)."""
        now = self._clock()
        if now >= self._next_prune:
            self._prune(now)
        arrival = max(self._arrivals.get(key, now), now) + self._interval
        wait = arrival - now - self.period
        if wait > 0:
            return wait
        self._arrivals[key] = arrival
        return 0.0

    def _prune(self, now: float) -> None:
        """Forget keys whose budget is whole again (keeps memory bounded by recent callers)."""
        self._arrivals = {k: t for k, t in self._arrivals.items() if t > now}
        self._next_prune = now + self.period


def _credential(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name in (b"authorization", b"x-api-key") and value:
            return hashlib.sha256(name + b":" + value).hexdigest()[:32]
    return None


class RateLimitMiddleware:
    """Pure ASGI: 429 (problem+json, `Retry-After`) for writes over the credential or the address budget."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_credential: RateLimiter,
        per_address: RateLimiter,
        trusted_proxies: Sequence[IpNetwork] = (),
    ) -> None:
        self.app = app
        self.per_credential = per_credential
        self.per_address = per_address
        self.trusted_proxies = tuple(trusted_proxies)

    def _own_call(self, request: Request) -> bool:
        """A trusted proxy's own request, forwarding no client (the console calling for a signed-in person):
        its address stands for everyone behind it, so only the credential's budget applies."""
        if not self.trusted_proxies or "x-forwarded-for" in request.headers or request.client is None:
            return False
        try:
            peer = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(peer in net for net in self.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        wait = 0.0
        if not self._own_call(request):
            wait = self.per_address.hit(f"ip:{client_address(request, self.trusted_proxies)}")
        credential = _credential(scope)
        if not wait and credential is not None:
            wait = self.per_credential.hit(f"cred:{credential}")
        if wait:
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            response = problem_response(
                429, "Too many write requests; try again later.", instance=scope["path"], headers=headers
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
