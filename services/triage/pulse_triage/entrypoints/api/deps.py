"""Shared pieces of the routers: the context dependency, scope aliases, cursors and unit filters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from pulse_libs.auth import Principal
from pulse_libs.http.pagination import decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError
from pulse_libs.http.security import require
from pulse_libs.store import Document

from pulse_triage.context import TriageContext


def get_ctx(request: Request) -> TriageContext:
    """The triage context built in the lifespan."""
    ctx: TriageContext = request.app.state.ctx
    return ctx


Ctx = Annotated[TriageContext, Depends(get_ctx)]
TriageReader = Annotated[Principal, Depends(require("triage:read"))]
HotspotReader = Annotated[Principal, Depends(require("hotspots:read"))]
EscalationReader = Annotated[Principal, Depends(require("escalations:read"))]
Acknowledger = Annotated[Principal, Depends(require("escalations:ack"))]
PolicyReader = Annotated[Principal, Depends(require("policies:read"))]
PolicyWriter = Annotated[Principal, Depends(require("policies:write"))]
RulesReader = Annotated[Principal, Depends(require("rules:read"))]
RulesWriter = Annotated[Principal, Depends(require("rules:write"))]
SilenceReader = Annotated[Principal, Depends(require("silences:read"))]
SilenceWriter = Annotated[Principal, Depends(require("silences:write"))]


def cursor_position(cursor: str | None) -> tuple[datetime, str] | None:
    """Decode a (time, id) cursor; 400 if malformed."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw["t"])), str(raw["id"])
    except (KeyError, ValueError):
        raise ProblemError(
            400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}]
        ) from None


def next_cursor(docs: list[Document], limit: int, time_field: str) -> str | None:
    """The cursor after a page, or None on the last page (`docs` holds up to limit + 1)."""
    if len(docs) <= limit:
        return None
    last = docs[limit - 1]
    return encode_cursor({"t": last[time_field].isoformat(), "id": last["_id"]})
