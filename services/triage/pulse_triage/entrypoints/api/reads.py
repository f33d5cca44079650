"""Routes: triage results and hot spots."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pulse_libs.events.common import Urgency
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import not_found
from pulse_libs.store import Document

from pulse_triage.adapters.store import ESCALATIONS, HOTSPOTS, RESULTS
from pulse_triage.domain.hotspots import escalation_id_for
from pulse_triage.entrypoints.api.deps import Ctx, HotspotReader, TriageReader, cursor_position, next_cursor, unit_query
from pulse_triage.entrypoints.api.schemas import ERRORS, EscalationRead, HotspotRead, TriageRead

router = APIRouter(prefix="/v1", responses=ERRORS)


def escalation_read(doc: Document) -> EscalationRead:
    """API view of a stored escalation."""
    return EscalationRead.model_validate({**doc, "id": doc["_id"]})


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
    doc = await ctx.store.get(RESULTS, report_id)
    if doc is None or not principal.sees_unit(doc["unit_code"]):
        raise not_found("triage result")
    return TriageRead.model_validate({**doc, "report_id": doc["_id"]})


@router.get("/hotspots", tags=["hotspots"], summary="Hot spots, newest first")
async def list_hotspots(
    principal: HotspotReader,
    ctx: Ctx,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    unit_code: str | None = Query(default=None, max_length=64),
    topic_code: str | None = Query(default=None, max_length=64),
    urgency: Urgency | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[HotspotRead]:
    """List hot spots in the caller's units."""
    after = cursor_position(cursor)
    units = unit_query(principal, unit_code)
    if units is None:
        return Page(items=[], next_cursor=None)
    query = dict(units)
    for field, value in (("status", status), ("topic_code", topic_code), ("urgency", urgency)):
        if value is not None:
            query[field] = str(value)
    docs = await ctx.store.page(HOTSPOTS, query, time_field="first_seen", after=after, limit=limit)
    return Page(items=[hotspot_read(d) for d in docs[:limit]], next_cursor=next_cursor(docs, limit, "first_seen"))


@router.get("/hotspots/{hotspot_id}", tags=["hotspots"], summary="A hot spot with its escalation")
async def get_hotspot(hotspot_id: str, principal: HotspotReader, ctx: Ctx) -> HotspotRead:
    """Return one hot spot, its escalation embedded when there is one."""
    doc = await ctx.store.get(HOTSPOTS, hotspot_id)
    if doc is None or not principal.sees_unit(doc["unit_code"]):
        raise not_found("hot spot")
    escalation = await ctx.store.get(ESCALATIONS, escalation_id_for(doc["_id"]))
    return hotspot_read(doc, escalation)
