"""Cursor pagination: `?limit=&cursor=` in, `{"items", "next_cursor"}` out."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from pulse_libs.http.problems import ProblemError

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1–500).")]
Cursor = Annotated[str | None, Query(max_length=512, description="Opaque cursor from `next_cursor`.")]
DEFAULT_LIMIT = 50


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(position: dict[str, Any]) -> str:
    """Encode the sort position after the last item of a page."""
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """Decode a cursor; a malformed one is a 400 problem."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ProblemError(
            400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}]
        ) from None
    if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
        raise ProblemError(400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}])
    return value
