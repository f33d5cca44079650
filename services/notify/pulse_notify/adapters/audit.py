"""Audit entries of notify, appended to this process's tamper-evident chain (pulse_libs.audit)."""

from __future__ import annotations

from typing import Any

from pulse_libs.audit import AUDIT_INDEXES, audit_log_for
from pulse_libs.audit import ENTRIES as COLLECTION
from pulse_libs.auth import Principal
from pulse_libs.store import Database

SERVICE = "notify"
INDEXES = {COLLECTION: AUDIT_INDEXES[COLLECTION]}


async def record(
    db: Database, *, actor: Principal, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Append one entry: who did what to which thing (or read what), and when."""
    await audit_log_for(db, service=SERVICE).append(
        action=action,
        target=target,
        actor_id=actor.subject,
        actor_kind=actor.kind,
        actor_name=actor.name,
        actor_role=actor.role,
        details=details,
    )
