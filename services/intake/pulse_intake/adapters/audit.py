"""Append-only audit log of sensitive reads and administrative actions."""

from __future__ import annotations

from typing import Any

from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.store import Database

from pulse_intake.adapters.store import AUDIT_LOG
from pulse_intake.domain.reports import new_report_id


async def record(
    db: Database, *, actor: Principal, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Append one entry: who did what to which thing, and when."""
    await db[AUDIT_LOG].insert_one(
        {
            "_id": new_report_id(),  # time-ordered: newest first by _id
            "at": utcnow(),
            "actor_id": actor.subject,
            "actor_kind": actor.kind,
            "actor_name": actor.name,
            "actor_role": actor.role,
            "action": action,
            "target": target,
            "details": details or {},
        }
    )


async def record_system(db: Database, *, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Append an entry whose actor is not signed in (a sign-in attempt, a webhook)."""
    await db[AUDIT_LOG].insert_one(
        {
            "_id": new_report_id(),
            "at": utcnow(),
            "actor_id": "anonymous",
            "actor_kind": "anonymous",
            "actor_name": "anonymous",
            "actor_role": None,
            "action": action,
            "target": target,
            "details": details or {},
        }
    )
