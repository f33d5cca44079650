"""Routes: triage results and hot spots."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pulse_libs.auth import Principal
from pulse_libs.events.common import Urgency
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import not_found
from pulse_libs.http.security import require_any
from pulse_libs.store import Document

from pulse_triage.domain.hotspots import current_escalation_id
from pulse_triage.entrypoints.api.deps import Ctx, TriageReader, cursor_position, next_cursor
from pulse_triage.entrypoints.api.schemas import ERRORS, EscalationRead, HotspotBrief, HotspotRead, TriageRead
from pulse_triage.handlers import directives as directive_cases

router = APIRouter(prefix="/v1", responses=ERRORS)
HotspotViewer = Annotated[Principal, Depends(require_any("hotspots:read", "hotspots:read:assigned"))]
"""Staff read hot spots in their units; an `agency` user (`hotspots:read:assigned`) only those its directives
concern."""


def escalation_read(doc: Document) -> EscalationRead:
    """API view of a stored escalation."""
    return EscalationRead.model_validate({**doc, "id": doc["_id"]})


def hotspot_brief(doc: Document) -> HotspotBrief:
    """The agency view of a hot spot: what it is about, nothing linked to who reported."""
    return HotspotBrief.model_validate({**doc, "id": doc["_id"], "report_count": len(doc.get("report_ids", []))})


def hotspot_read(doc: Document, escalation: Document | None = None) -> HotspotRead:
    """API view of a stored hot spot (sources stay internal: only their count is shown)."""
    return HotspotRead.model_validate(
        {
            **doc,
            "id": doc["_id"],
            "merged_report_ids": doc.get("merged_ids", []),
            "escalation": escalation_read(escalation) if escalation else None,
        }
    )


@router.get("/triage/{report_id}", tags=["triage"], summary="A report's triage decision with its reasons")
async def get_triage(report_id: str, principal: TriageReader, ctx: Ctx) -> TriageRead:
    """Return the decision on one report."""
    doc = await ctx.repos.results.get(report_id)
    if doc is None or not principal.sees_unit(doc["unit_code"]):
        raise not_found("triage result")
    return TriageRead.model_validate({**doc, "report_id": doc["_id"]})


@router.get("/hotspots", tags=["hotspots"], summary="Hot spots, newest first")
async def list_hotspots(
    principal: HotspotViewer,
    ctx: Ctx,
    request: Request,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    unit_code: str | None = Query(default=None, max_length=64),
    topic_code: str | None = Query(default=None, max_length=64),
    urgency: Urgency | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[HotspotRead] | Page[HotspotBrief]:
    """List hot spots in the caller's units (an agency user: those its directives concern, as briefs)."""
    after = cursor_position(cursor)
    assigned = not principal.has("hotspots:read")
    if assigned:
        ids = await directive_cases.agency_hotspot_ids(request.app.state.directives, principal)
        units = None
        filters = {"unit_code": unit_code} if unit_code else {}
    else:
        ids, units, filters = None, principal.unit_filter(unit_code), {}
        if units == []:
            return Page(items=[], next_cursor=None)
    for field, value in (("status", status), ("topic_code", topic_code), ("urgency", urgency)):
        if value is not None:
            filters[field] = str(value)
    docs = await ctx.repos.hotspots.page(units=units, ids=ids, filters=filters, after=after, limit=limit)
    following = next_cursor(docs, limit, "first_seen")
    if assigned:
        return Page(items=[hotspot_brief(d) for d in docs[:limit]], next_cursor=following)
    return Page(items=[hotspot_read(d) for d in docs[:limit]], next_cursor=following)


@router.get("/hotspots/{hotspot_id}", tags=["hotspots"], summary="A hot spot with its escalation")
async def get_hotspot(
    hotspot_id: str, principal: HotspotViewer, ctx: Ctx, request: Request
) -> HotspotRead | HotspotBrief:
    """Return one hot spot, its escalation embedded when there is one — for a ward's hot spot under a parent, the
    parent's current one (an agency user: a brief, and only of a hot spot its directives concern)."""
    if not principal.has("hotspots:read"):
        concerned = await directive_cases.agency_reaches_hotspot(request.app.state.directives, principal, hotspot_id)
        found = await ctx.repos.hotspots.get(hotspot_id) if concerned else None
        if found is None:
            raise not_found("hot spot")
        return hotspot_brief(found)
    doc = await ctx.repos.hotspots.get(hotspot_id)
    if doc is None or not principal.sees_unit(doc["unit_code"]):
        raise not_found("hot spot")
    # A ward's hot spot under a parent escalates through it: the escalation that covers it is the parent's.
    parent = await ctx.repos.hotspots.get(doc["parent_id"]) if doc.get("parent_id") else None
    escalation = await ctx.repos.escalations.get(current_escalation_id(parent or doc))
    return hotspot_read(doc, escalation)
