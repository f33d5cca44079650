"""`GET /v1/audit` for every service, and the `Audit` dependency routes append entries through.

Each service includes `router` and keeps `app.state.runtime` (its store) and `app.state.settings`
(its `service_name`, which names its chains); nothing else is wired per service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel

from pulse_libs.audit import ENTRIES, AuditTrail
from pulse_libs.auth import Principal
from pulse_libs.clock import as_utc
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, encode_cursor
from pulse_libs.http.problems import PROBLEM_JSON, ProblemError
from pulse_libs.http.security import require


def audit_trail(request: Request) -> AuditTrail:
    """This service's audit trail (its store, chains named after its `service_name`)."""
    return AuditTrail(request.app.state.runtime.db, service=request.app.state.settings.service_name)


Audit = Annotated[AuditTrail, Depends(audit_trail)]
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


_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
router = APIRouter(tags=["audit"])


def _after(cursor: str | None) -> dict[str, Any] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        at, last_id = datetime.fromisoformat(str(position["at"])), str(position["id"])
    except (KeyError, ValueError):
        raise ProblemError(
            400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}]
        ) from None
    return {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]}


@router.get(
    "/v1/audit",
    response_model=Page[AuditEntry],
    responses={
        400: {"description": "Bad cursor", **_PROBLEM},
        401: {"description": "No or bad credentials", **_PROBLEM},
        403: {"description": "Administrators only (scope audit:read)", **_PROBLEM},
        422: {"description": "Invalid filters", **_PROBLEM},
    },
)
async def list_audit(
    principal: Auditor,
    audit: Audit,
    action: Annotated[str | None, Query(max_length=100, description="Only this action, e.g. rules.replace.")] = None,
    actor_id: Annotated[str | None, Query(max_length=100, description="Only entries by this user or key.")] = None,
    target: Annotated[str | None, Query(max_length=200, description="Only entries about this thing.")] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from", description="At or after (RFC 3339).")] = None,
    to: Annotated[AwareDatetime | None, Query(description="Before (RFC 3339).")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """This service's audit log, newest first (admin); `python -m pulse_libs.audit verify` checks its chains."""
    clauses: list[dict[str, Any]] = [{"chain": {"$exists": True}}]  # records from before the chains are not entries
    clauses += [
        {name: value} for name, value in (("action", action), ("actor_id", actor_id), ("target", target)) if value
    ]
    if from_ is not None:
        clauses.append({"at": {"$gte": from_}})
    if to is not None:
        clauses.append({"at": {"$lt": to}})
    after = _after(cursor)
    if after is not None:
        clauses.append(after)
    found = audit.db[ENTRIES].find({"$and": clauses}).sort([("at", -1), ("_id", -1)]).limit(limit + 1)
    docs = await found.to_list()
    items = [{**d, "id": d["_id"], "at": as_utc(d["at"]).isoformat(timespec="milliseconds")} for d in docs[:limit]]
    following = encode_cursor({"at": items[-1]["at"], "id": items[-1]["id"]}) if len(docs) > limit else None
    return {"items": items, "next_cursor": following}


__all__ = ["Audit", "AuditEntry", "audit_trail", "router"]
