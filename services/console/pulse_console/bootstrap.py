"""The one wiring point of the console: settings -> API clients -> pages, through the libs service kit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from pulse_libs.app import build_app
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse_console.adapters.api import Api, ServiceDown, Unauthorized
from pulse_console.entrypoints import ack, admin, auth, content, dashboard, hotspots, reports
from pulse_console.entrypoints.common import NeedSignIn, Refused, Web, outage_notice
from pulse_console.middleware import ConsoleMiddleware
from pulse_console.session import SessionCodec
from pulse_console.settings import PACKAGE_DIR, ConsoleSettings

log = logging.getLogger(__name__)
DESCRIPTION = "The web console for people, in Vietnamese, and the one-tap acknowledgement page."
_HEADINGS = {400: "Yêu cầu không hợp lệ", 403: "Không được phép", 404: "Không tìm thấy", 405: "Không được phép"}


def bootstrap(settings: ConsoleSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the console app; API clients open in its lifespan."""
    settings = settings or ConsoleSettings()
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.api = Api(settings, transport)
        try:
            yield
        finally:
            await app.state.api.close()

    app = build_app(
        settings,
        title="Pulse console",
        description=DESCRIPTION,
        registry=registry,
        lifespan=lifespan,
        routers=[
            auth.router,
            ack.router,
            dashboard.router,
            hotspots.router,
            reports.router,
            content.router,
            admin.router,
        ],
    )

    async def assets_installed() -> bool:
        return (settings.assets_dir / "htmx.org" / "dist" / "htmx.min.js").is_file()

    # The console keeps no store and no broker; it is ready once its browser assets are installed.
    # An API that is down degrades only the panels that need it, so it is no reason to stop serving.
    app.state.readiness = {"assets": assets_installed}
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    app.mount("/assets", StaticFiles(directory=settings.assets_dir, check_dir=False), name="assets")
    app.add_middleware(
        ConsoleMiddleware,
        settings=settings,
        codec=SessionCodec(settings.session_secret, settings.session_ttl_seconds + 3600),
    )
    _install_pages_errors(app)
    return app


def _install_pages_errors(app: FastAPI) -> None:
    """Pages answer errors with Vietnamese pages (never a stack trace); health routes keep problem+json."""

    def page(request: Request, status: int, heading: str, message: str) -> Response:
        return Web(request).render("error.html", status=status, heading=heading, message=message)

    async def need_sign_in(request: Request, _exc: Exception) -> Response:
        web = Web(request)
        target = "/session-expired" if web.session.was_signed_in else f"/login?next={request.url.path}"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return Response(status_code=303, headers={"Location": target})

    async def unauthorized(request: Request, _exc: Exception) -> Response:
        web = Web(request)
        web.session = web.session.signed_out(expired=True)
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": "/session-expired"})
        return Response(status_code=303, headers={"Location": "/session-expired"})

    async def refused(request: Request, exc: Exception) -> Response:
        message = exc.message if isinstance(exc, Refused) else "Không được phép."
        return page(request, 403, "Không được phép", message)

    async def down(request: Request, exc: Exception) -> Response:
        notice = outage_notice(exc.service) if isinstance(exc, ServiceDown) else "Dịch vụ tạm thời không phản hồi."
        response = page(request, 503, "Dịch vụ tạm thời không phản hồi", notice)
        response.headers["Retry-After"] = "10"
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 400
        if request.url.path.startswith(("/healthz", "/readyz", "/metrics")):
            return Response(status_code=status)
        heading = _HEADINGS.get(status, "Không thực hiện được")
        message = "Trang này không tồn tại." if status == 404 else "Yêu cầu không thực hiện được."
        return page(request, status, heading, message)

    async def invalid(request: Request, _exc: Exception) -> Response:
        return page(request, 400, "Yêu cầu không hợp lệ", "Địa chỉ hoặc dữ liệu gửi lên không hợp lệ.")

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        if not hasattr(request.state, "session"):
            return Response("Đã có lỗi; hãy thử lại.", status_code=500, media_type="text/plain; charset=utf-8")
        return page(
            request, 500, "Đã có lỗi", "Đã có lỗi ngoài ý muốn; hãy thử lại. Nếu lỗi lặp lại, hãy báo quản trị."
        )

    handlers: dict[Any, Any] = {
        NeedSignIn: need_sign_in,
        Unauthorized: unauthorized,
        Refused: refused,
        ServiceDown: down,
        StarletteHTTPException: http_error,
        RequestValidationError: invalid,
        Exception: unexpected,
    }
    for exc_type, handler in handlers.items():
        app.add_exception_handler(exc_type, handler)
