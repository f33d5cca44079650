"""Routes: staff correct clustering (merge a hot spot into another, split reports out of one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pulse_libs.auth import Principal
from pulse_libs.http.audit_routes import Audit
from pulse_libs.http.security import require
from pydantic import BaseModel, ConfigDict, Field

from pulse_triage.entrypoints.api.deps import Ctx
from pulse_triage.entrypoints.api.reads import hotspot_read
from pulse_triage.entrypoints.api.schemas import ERRORS, HotspotRead, Problem
from pulse_triage.handlers import hotspot_edits as use_cases

router = APIRouter(prefix="/v1/hotspots", tags=["hotspots"], responses=ERRORS)
Editor = Annotated[Principal, Depends(require("hotspots:write"))]
CONFLICT: dict[int | str, dict[str, object]] = {409: {"model": Problem, "description": "Not allowed in this state"}}
REPORT_ID = Field(min_length=1, max_length=128)


class MergeBody(BaseModel):
    """Merge this hot spot into another of the same unit."""

    model_config = ConfigDict(extra="forbid")
    into: str = Field(min_length=1, max_length=160)


class SplitBody(BaseModel):
    """Reports to move out into a new hot spot (at least one must stay)."""

    model_config = ConfigDict(extra="forbid")
    report_ids: list[Annotated[str, REPORT_ID]] = Field(min_length=1, max_length=500)


class SplitRead(BaseModel):
    """The hot spot after the split, and the new one."""

    hotspot: HotspotRead
    split: HotspotRead


@router.post("/{hotspot_id}/merge", summary="Merge into another hot spot (department)", responses=CONFLICT)
async def merge_hotspot(hotspot_id: str, body: MergeBody, principal: Editor, ctx: Ctx, audit: Audit) -> HotspotRead:
    """The reports move to `into`, whose counts and level are recomputed; this one is resolved as merged."""
    merged = await use_cases.merge(ctx=ctx, hotspot_id=hotspot_id, into=body.into, principal=principal)
    await audit.record(actor=principal, action="hotspot.merge", target=hotspot_id, details={"into": body.into})
    return hotspot_read(merged)


@router.post("/{hotspot_id}/split", summary="Split reports out into a new hot spot (department)", responses=CONFLICT)
async def split_hotspot(hotspot_id: str, body: SplitBody, principal: Editor, ctx: Ctx, audit: Audit) -> SplitRead:
    """Both hot spots are recounted from their reports and escalate on their own."""
    out = await use_cases.split(ctx=ctx, hotspot_id=hotspot_id, report_ids=body.report_ids, principal=principal)
    moved = {"split": out["split"]["_id"], "report_ids": body.report_ids}
    await audit.record(actor=principal, action="hotspot.split", target=hotspot_id, details=moved)
    return SplitRead(hotspot=hotspot_read(out["hotspot"]), split=hotspot_read(out["split"]))
