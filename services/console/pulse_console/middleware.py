"""Session cookie and security headers on every console response."""

from __future__ import annotations

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from pulse_console.session import COOKIE, Session, SessionCodec
from pulse_console.settings import ConsoleSettings

# No inline script or style anywhere: every script and stylesheet is a file the console serves.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_NO_SESSION = ("/static/", "/assets/", "/docs", "/redoc", "/healthz", "/readyz", "/metrics", "/openapi.json")
_CACHEABLE = ("/static/", "/assets/", "/docs-assets/")


class ConsoleMiddleware(BaseHTTPMiddleware):
    """Loads the session from its encrypted cookie, writes it back when it changed, adds security headers."""

    def __init__(self, app: object, settings: ConsoleSettings, codec: SessionCodec) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self._settings = settings
        self._codec = codec

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Wrap one request."""
        path = request.url.path
        if path.startswith(_NO_SESSION):
            response = await call_next(request)
            if path in ("/docs", "/redoc"):
                return response  # Swagger UI and ReDoc start from an inline script; they show no personal data
            return self._headers(response, cacheable=path.startswith(_CACHEABLE))
        loaded = self._codec.loads(request.cookies.get(COOKIE))
        session = loaded or Session()
        if session.user is not None and not session.signed_in:
            session = session.signed_out(expired=True)
        request.state.session = session
        response = await call_next(request)
        current: Session = request.state.session
        if loaded is None or current is not loaded:
            response.set_cookie(
                COOKIE,
                self._codec.dumps(current),
                max_age=self._settings.session_ttl_seconds,
                path="/",
                httponly=True,
                samesite="lax",
                secure=self._settings.secure_cookies,
            )
        return self._headers(response, cacheable=False)

    @staticmethod
    def _headers(response: Response, *, cacheable: bool) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The acknowledgement link's token is in the URL: never send it onward in a Referer.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "public, max-age=3600" if cacheable else "no-store"
        return response
