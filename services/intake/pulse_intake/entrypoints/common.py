"""Shared bits of the intake routers: problem responses for OpenAPI, pagination helpers."""

from __future__ import annotations

from typing import Any

from pulse_libs.http.pagination import decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError
from pydantic import BaseModel


class Problem(BaseModel):
    """RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


_DESCRIPTIONS = {
    400: "Malformed request or cursor",
    401: "No or bad credentials",
    403: "The caller lacks the scope",
    404: "Absent or outside the caller's scope",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Validation failed (see `errors`)",
    429: "Too many requests (see Retry-After)",
    503: "The store is unavailable (see Retry-After)",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given problem statuses (401, 403 and 503 always)."""
    wanted = sorted({401, 403, 503, *codes})
    return {
        c: {"model": Problem, "description": _DESCRIPTIONS[c], "content": {"application/problem+json": {}}}
        for c in wanted
    }


def cursor_value(cursor: str | None, key: str = "after") -> str | None:
    """The position a cursor encodes, or None for the first page."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    value = position.get(key)
    if not isinstance(value, str):
        raise ProblemError(400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}])
    return value


def next_cursor(items: list[dict[str, Any]], limit: int, field: str, key: str = "after") -> str | None:
    """A cursor after the last item when the page is full."""
    if len(items) < limit or not items:
        return None
    return encode_cursor({key: str(items[-1][field])})


def field_error(status: int, field: str, message: str, detail: str | None = None) -> ProblemError:
    """A problem naming one bad field."""
    return ProblemError(status, detail or f"{field}: {message}", errors=[{"field": field, "message": message}])
