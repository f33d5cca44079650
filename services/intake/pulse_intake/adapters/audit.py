"""Audit entries of intake, appended to this process's tamper-evident chain (pulse_libs.audit)."""

from __future__ import annotations

from typing import Any

from pulse_libs.audit import AuditTrail
from pulse_libs.auth import Principal
from pulse_libs.store import Database

SERVICE = "intake"


async def record(
    db: Database, *, actor: Principal, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Append one entry: who did what to which thing, and when."""
    await AuditTrail(db, service=SERVICE).record(actor=actor, action=action, target=target, details=details)


async def record_system(db: Database, *, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Append an entry whose actor is not signed in (a sign-in attempt, a webhook)."""
    await AuditTrail(db, service=SERVICE).record_system(action=action, target=target, details=details)
