"""REST: /v1/audit — notify's tamper-evident audit log (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pulse_libs.audit import ENTRIES
from pulse_libs.auth import Principal
from pulse_libs.clock import as_utc
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError
from pulse_libs.http.security import require
from pydantic import AwareDatetime, BaseModel

from pulse_notify.entrypoints.deps import ERRORS, NotifyServices

router = APIRouter(tags=["audit"])
Auditor = Annotated[Principal, Depends(require("audit:read"))]


class AuditEntry(BaseModel):
    """One audit entry, with its place in its hash chain."""

    id: str
    at: str
    actor_id: str
    actor_kind: str
    actor_name: str
    actor_role: str | None = None
    action: str
    target: str
    details: dict[str, Any]
    chain: str | None = None
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


@router.get("/v1/audit", response_model=Page[AuditEntry], responses={**ERRORS, 400: {"description": "Bad cursor"}})
async def list_audit(
    principal: Auditor,
    services: NotifyServices,
    action: Annotated[str | None, Query(max_length=100, description="Only this action, e.g. deliveries.read.")] = None,
    actor_id: Annotated[str | None, Query(max_length=100, description="Only entries by this user or key.")] = None,
    target: Annotated[str | None, Query(max_length=200, description="Only entries about this thing.")] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from", description="At or after (RFC 3339).")] = None,
    to: Annotated[AwareDatetime | None, Query(description="Before (RFC 3339).")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The audit log, newest first (admin); `python -m pulse_libs.audit verify --db <notify db>` checks its chains."""
    clauses: list[dict[str, Any]] = []
    for name, value in (("action", action), ("actor_id", actor_id), ("target", target)):
        if value is not None:
            clauses.append({name: value})
    if from_ is not None:
        clauses.append({"at": {"$gte": from_}})
    if to is not None:
        clauses.append({"at": {"$lt": to}})
    position = decode_cursor(cursor)
    if position is not None:
        try:
            at, last_id = datetime.fromisoformat(str(position["at"])), str(position["id"])
        except (KeyError, ValueError):
            raise ProblemError(
                400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}]
            ) from None
        clauses.append({"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]})
    query: dict[str, Any] = {"$and": clauses} if clauses else {}
    docs = await services.db[ENTRIES].find(query).sort([("at", -1), ("_id", -1)]).limit(limit).to_list()
    items = [{**d, "id": d["_id"], "at": as_utc(d["at"]).isoformat(timespec="milliseconds")} for d in docs]
    more = len(docs) == limit
    following = encode_cursor({"at": items[-1]["at"], "id": items[-1]["id"]}) if more and items else None
    return {"items": items, "next_cursor": following}
