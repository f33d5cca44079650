"""Audit entries of notify, appended to this process's tamper-evident chain (pulse_libs.audit)."""

from __future__ import annotations

from typing import Any

from pulse_libs.audit import AUDIT_INDEXES, AuditTrail
from pulse_libs.audit import ENTRIES as COLLECTION
from pulse_libs.auth import Principal
from pulse_libs.store import Database

SERVICE = "notify"
INDEXES = {COLLECTION: AUDIT_INDEXES[COLLECTION]}


async def record(
    db: Database, *, actor: Principal, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Append one entry: who did what to which thing (or read what), and when."""
    await AuditTrail(db, service=SERVICE).record(actor=actor, action=action, target=target, details=details)
