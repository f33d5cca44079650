"""Routes: escalation policies, silences and rules."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pulse_libs.events.common import Urgency
from pulse_libs.http.audit_routes import Audit
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import ProblemError
from pulse_libs.store import Document

from pulse_triage.entrypoints.api.deps import (
    Ctx,
    PolicyReader,
    PolicyWriter,
    RulesReader,
    RulesWriter,
    SilenceReader,
    SilenceWriter,
    cursor_position,
    next_cursor,
)
from pulse_triage.entrypoints.api.schemas import ERRORS, PolicyRead, PolicyWrite, SilenceCreate, SilenceRead
from pulse_triage.handlers import admin
from pulse_triage.rules_schema import RulesDoc

router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/policies/{urgency}", tags=["policies"], summary="The escalation policy of an urgency")
async def get_policy(urgency: Urgency, principal: PolicyReader, ctx: Ctx) -> PolicyRead:
    """Return the stored policy, or the default."""
    return PolicyRead.model_validate(admin.policy_doc(await ctx.policy(urgency)))


@router.put("/policies/{urgency}", tags=["policies"], summary="Replace the escalation policy of an urgency")
async def put_policy(
    urgency: Urgency, body: PolicyWrite, principal: PolicyWriter, ctx: Ctx, audit: Audit
) -> PolicyRead:
    """Replace a policy; no levels means the urgency is not escalated. The audit entry keeps the old version."""
    levels = [lv.model_dump(mode="json") for lv in body.levels]
    ctx.forget_policies()  # the version in force, not this replica's cached copy
    previous = admin.policy_doc(await ctx.policy(urgency))
    doc = await admin.put_policy(
        ctx=ctx, urgency=urgency, levels=levels, repeat_seconds=body.repeat_seconds, actor=principal.subject
    )
    await audit.record(
        actor=principal, action="policy.replace", target=urgency.value, details={"previous": previous, "policy": doc}
    )
    return PolicyRead.model_validate(doc)


@router.get("/rules", tags=["rules"], summary="The keyword, sensitivity and scoring rules")
async def get_rules(principal: RulesReader, ctx: Ctx) -> RulesDoc:
    """Return the rule set in force."""
    return await ctx.rules_doc()


@router.put("/rules", tags=["rules"], summary="Replace the rules (validated; a bad set is refused with errors)")
async def put_rules(body: RulesDoc, principal: RulesWriter, ctx: Ctx, audit: Audit) -> RulesDoc:
    """Replace the rule set; it applies to reports triaged from now on. The audit entry keeps the old version."""
    previous = (await ctx.rules_doc()).model_dump(mode="json")
    rules = await admin.put_rules(ctx=ctx, rules=body, actor=principal.subject)
    await audit.record(actor=principal, action="rules.replace", target="rules", details={"previous": previous})
    return rules


def silence_read(doc: Document, now: object) -> SilenceRead:
    """API view of a silence."""
    return SilenceRead.model_validate({**doc, "id": doc["_id"], "active": doc["until"] > now})


@router.post("/silences", tags=["silences"], status_code=201, summary="Silence paging for a unit and/or topic")
async def create_silence(
    body: SilenceCreate, principal: SilenceWriter, ctx: Ctx, audit: Audit, response: Response
) -> SilenceRead:
    """Create a silence; escalations it covers are held (not paged) until it ends."""
    if body.unit_code is None and body.topic_code is None:
        raise ProblemError(
            422, "A silence needs a unit, a topic or both.", errors=[{"field": "unit_code", "message": "required"}]
        )
    if body.until.tzinfo is None:
        raise ProblemError(422, "until needs a UTC offset.", errors=[{"field": "until", "message": "no offset"}])
    now = ctx.now()
    if body.until <= now:
        raise ProblemError(422, "until must be in the future.", errors=[{"field": "until", "message": "in the past"}])
    if body.unit_code is not None and not principal.sees_unit(body.unit_code):
        raise ProblemError(403, "The unit is outside your scope.")
    doc = await admin.create_silence(
        ctx=ctx,
        unit_code=body.unit_code,
        topic_code=body.topic_code,
        until=body.until,
        reason=body.reason,
        principal=principal,
    )
    scope = {"unit_code": body.unit_code, "topic_code": body.topic_code, "until": body.until, "reason": body.reason}
    await audit.record(actor=principal, action="silence.create", target=doc["_id"], details=scope)
    response.headers["Location"] = f"/v1/silences/{doc['_id']}"
    return silence_read(doc, now)


@router.get("/silences", tags=["silences"], summary="Silences, latest ending first")
async def list_silences(
    principal: SilenceReader, ctx: Ctx, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[SilenceRead]:
    """List silences not yet swept (expired ones show `active: false`)."""
    after = cursor_position(cursor)
    docs = await ctx.repos.silences.page(after=after, limit=limit)
    now = ctx.now()
    return Page(items=[silence_read(d, now) for d in docs[:limit]], next_cursor=next_cursor(docs, limit, "until"))


@router.delete("/silences/{silence_id}", tags=["silences"], status_code=204, summary="End a silence now")
async def delete_silence(silence_id: str, principal: SilenceWriter, ctx: Ctx, audit: Audit) -> Response:
    """Delete a silence; escalations it held are paged at the scheduler's next pass."""
    await admin.delete_silence(ctx=ctx, silence_id=silence_id, principal=principal)
    await audit.record(actor=principal, action="silence.delete", target=silence_id)
    return Response(status_code=204)
