"""RFC 9457 problem+json for every error a service answers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import AutoReconnect, ConnectionFailure, OperationFailure, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse_libs.auth import AuthError
from pulse_libs.store import store_unavailable, unstorable_text

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://pulse.example.vn/problems/"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.type = type_ or PROBLEM_BASE + self.title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def not_found(what: str) -> ProblemError:
    """404 for something absent *or* outside the caller's scope (no existence leak)."""
    return ProblemError(404, f"{what} was not found")


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """Build a problem+json response."""
    title = title or _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": type_ or PROBLEM_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Flatten pydantic errors into `{"field", "message"}` pairs with dotted field paths."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        field = ".".join(loc) if loc else "body"
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        out.append({"field": field, "message": message})
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error through problem+json; store outages become 503 with Retry-After."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            type_=exc.type,
            errors=exc.errors,
            headers=exc.headers,
            instance=request.url.path,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            "The request is not valid; see errors.",
            errors=validation_errors(exc),
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}), instance=request.url.path)

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> JSONResponse:
        return problem_response(401, str(exc), headers={"WWW-Authenticate": "Bearer"}, instance=request.url.path)

    async def _store_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("store unavailable", extra={"error": repr(exc)})
        return problem_response(
            503,
            "The data store is unavailable; try again shortly.",
            headers={"Retry-After": "5"},
            instance=request.url.path,
        )

    for exc_type in (ServerSelectionTimeoutError, AutoReconnect, ConnectionFailure):
        app.add_exception_handler(exc_type, _store_down)

    @app.exception_handler(OperationFailure)
    async def _operation_failure(request: Request, exc: OperationFailure) -> JSONResponse:
        if store_unavailable(exc):  # FerretDB up, its PostgreSQL down or restarting
            return await _store_down(request, exc)
        if unstorable_text(exc):  # the write was refused as a whole: nothing changed
            return problem_response(
                422,
                "A text field contains a character that cannot be stored (such as NUL, U+0000).",
                instance=request.url.path,
            )
        log.exception("store operation failed", extra={"path": request.url.path})
        return problem_response(500, "An unexpected error occurred.", instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(500, "An unexpected error occurred.", instance=request.url.path)
