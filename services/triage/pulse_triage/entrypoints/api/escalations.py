"""Routes: escalations, acknowledgement and resolution."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pulse_libs.http.audit_routes import Audit
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page

from pulse_triage.entrypoints.api.deps import (
    Acknowledger,
    Ctx,
    EscalationReader,
    cursor_position,
    next_cursor,
)
from pulse_triage.entrypoints.api.reads import escalation_read
from pulse_triage.entrypoints.api.schemas import ERRORS, AckBody, EscalationRead, Problem, ResolveBody
from pulse_triage.handlers import escalations as use_cases

router = APIRouter(prefix="/v1/escalations", tags=["escalations"], responses=ERRORS)
CONFLICT: dict[int | str, dict[str, object]] = {409: {"model": Problem, "description": "Not in a state that allows it"}}


@router.get("", summary="Escalations, newest first")
async def list_escalations(
    principal: EscalationReader,
    ctx: Ctx,
    state: Literal["pending", "acknowledged", "resolved"] | None = None,
    unit_code: str | None = Query(default=None, max_length=64),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EscalationRead]:
    """List escalations in the caller's units."""
    after = cursor_position(cursor)
    units = principal.unit_filter(unit_code)
    if units == []:
        return Page(items=[], next_cursor=None)
    docs = await ctx.repos.escalations.page(units=units, state=state, after=after, limit=limit)
    return Page(items=[escalation_read(d) for d in docs[:limit]], next_cursor=next_cursor(docs, limit, "raised_at"))


@router.get("/{escalation_id}", summary="An escalation with its history")
async def get_escalation(escalation_id: str, principal: EscalationReader, ctx: Ctx) -> EscalationRead:
    """Return one escalation."""
    return escalation_read(await use_cases.visible_escalation(ctx, escalation_id, principal))


@router.post("/{escalation_id}/ack", summary="Acknowledge: stops further levels and reminders", responses=CONFLICT)
async def ack_escalation(
    escalation_id: str, principal: Acknowledger, ctx: Ctx, audit: Audit, body: AckBody | None = None
) -> EscalationRead:
    """Acknowledge a pending escalation (department or Standing Committee), with an optional comment."""
    comment = body.comment if body else None
    doc = await use_cases.acknowledge(ctx=ctx, escalation_id=escalation_id, principal=principal, comment=comment)
    await audit.record(
        actor=principal, action="escalation.acknowledge", target=escalation_id, details={"comment": comment}
    )
    return escalation_read(doc)


@router.post("/{escalation_id}/resolve", summary="Resolve with a comment", responses=CONFLICT)
async def resolve_escalation(
    escalation_id: str, body: ResolveBody, principal: Acknowledger, ctx: Ctx, audit: Audit
) -> EscalationRead:
    """Resolve a pending or acknowledged escalation; the comment is required. With `notify_reporters: true`
    the collaborators whose reports formed the hot spot receive the comment as the outcome."""
    doc = await use_cases.resolve(
        ctx=ctx,
        escalation_id=escalation_id,
        principal=principal,
        comment=body.comment,
        notify_reporters=body.notify_reporters,
    )
    outcome = {"comment": body.comment, "notify_reporters": body.notify_reporters}
    await audit.record(actor=principal, action="escalation.resolve", target=escalation_id, details=outcome)
    return escalation_read(doc)
