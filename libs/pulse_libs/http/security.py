"""FastAPI dependencies for authentication, scopes and units, as `Annotated` aliases."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from pulse_libs.auth import AuthError, Principal, TokenVerifier
from pulse_libs.http.problems import ProblemError, problem_response


class ApiKeyVerifier(Protocol):
    """Anything that turns an API key into a principal."""

    async def verify(self, key: str) -> Principal:
        """Return the principal of a valid key; raise AuthError otherwise."""
        ...


_bearer = HTTPBearer(auto_error=False, description="JWT from POST /v1/auth/token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Key issued by POST /v1/api-keys")


async def get_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """Authenticate the caller by bearer token or API key; 401 if neither is valid."""
    tokens: TokenVerifier = request.app.state.token_verifier
    keys: ApiKeyVerifier | None = getattr(request.app.state, "api_key_verifier", None)
    if bearer is not None:
        principal = await tokens.verify(bearer.credentials)
    elif api_key is not None and keys is not None:
        principal = await keys.verify(api_key)
    else:
        raise AuthError("authentication is required (Authorization: Bearer or X-API-Key)")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller must hold every scope (403 otherwise)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        missing = [s for s in scopes if not principal.has(s)]
        if missing:
            raise ProblemError(403, f"This action needs the scope(s): {', '.join(missing)}.")
        return principal

    return check


def require_any(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller must hold at least one of the scopes."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not any(principal.has(s) for s in scopes):
            raise ProblemError(403, f"This action needs one of the scopes: {', '.join(scopes)}.")
        return principal

    return check


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[IpNetwork, ...]:
    """Parse addresses or CIDR ranges ('10.0.0.0/8', '::1'); ValueError on a bad one."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _in(address: str, networks: Sequence[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, trusted_proxies: Sequence[IpNetwork]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the right-most
    `X-Forwarded-For` hop that is not itself a trusted proxy (hops to its left are client-written)."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _in(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted_proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: do not trust anything left of it
    return hops[0] if hops else peer


_BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # acknowledgement links carry their token in the path
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
_JSON_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """Pure ASGI: security headers on every answer (a header the app set itself wins); in production,
    the interactive docs are gone and `/metrics` answers only scrapers (see `metrics_allowed`)."""

    def __init__(
        self,
        app: Any,
        *,
        production: bool,
        metrics_networks: Sequence[IpNetwork] = (),
        metrics_token: str | None = None,
    ) -> None:
        self.app = app
        self.production = production
        self.metrics_networks = tuple(metrics_networks)
        self.metrics_token = metrics_token

    def metrics_allowed(self, scope: Any) -> bool:
        """In production: the scrape token when one is configured; otherwise a direct (unproxied) peer
        inside the metrics networks."""
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        if self.metrics_token:
            presented = headers.get(b"authorization", b"").decode("latin-1")
            return hmac.compare_digest(presented.encode(), f"Bearer {self.metrics_token}".encode())
        if b"x-forwarded-for" in headers or b"forwarded" in headers:
            return False  # came through the ingress: not a scraper on the private network
        client = scope.get("client")
        return bool(client) and _in(str(client[0]), self.metrics_networks)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if self.production and (
            path.startswith(_DOCS_PATHS) or (path == "/metrics" and not self.metrics_allowed(scope))
        ):
            response = problem_response(404, "Not found.", instance=path)
            await response(scope, receive, self._wrap(send))
            return
        await self.app(scope, receive, self._wrap(send))

    def _wrap(self, send: Any) -> Any:
        production = self.production

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                extra = list(_BASE_HEADERS)
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if b"json" in content_type:
                    extra.append(_JSON_CSP)
                if production:
                    extra.append(_HSTS)
                headers.extend((n, v) for n, v in extra if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


__all__ = [
    "AuthError",
    "CurrentPrincipal",
    "IpNetwork",
    "SecurityHeadersMiddleware",
    "client_address",
    "get_principal",
    "parse_networks",
    "require",
    "require_any",
]
