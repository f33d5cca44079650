"""REST routes for agencies: the bodies that receive directives (admin manages them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pulse_libs.auth import Principal
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import not_found
from pulse_libs.http.security import require

from pulse_intake.adapters import audit
from pulse_intake.context import Ctx
from pulse_intake.entrypoints.common import cursor_value, field_error, next_cursor, problems
from pulse_intake.entrypoints.schemas import AgencyIn, AgencyKind, AgencyOut, AgencyPatch
from pulse_intake.handlers import agencies

router = APIRouter(tags=["agencies"])


@router.get("/v1/agencies", response_model=Page[AgencyOut], responses=problems(400, 422))
async def list_agencies(
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require("agencies:read"))],
    kind: Annotated[AgencyKind | None, Query(description="Only agencies of this kind.")] = None,
    unit_code: Annotated[str | None, Query(max_length=64, description="Only agencies of this unit.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Agencies by code (admin, department, Standing Committee)."""
    items = await agencies.list_agencies(
        store=ctx.store, after=cursor_value(cursor), limit=limit, kind=kind, unit_code=unit_code
    )
    return {"items": items, "next_cursor": next_cursor(items, limit, "code")}


@router.post("/v1/agencies", status_code=201, response_model=AgencyOut, responses=problems(409, 422))
async def create_agency(
    ctx: Ctx, body: AgencyIn, principal: Annotated[Principal, Depends(require("agencies:write"))], response: Response
) -> dict[str, Any]:
    """Register an agency (admin); other services learn it from `pulse.agency.changed.v1`."""
    if body.unit_code is not None and not await ctx.registry.unit_exists(body.unit_code):
        raise field_error(422, "unit_code", f"unknown unit {body.unit_code}")
    try:
        agency = await agencies.create_agency(store=ctx.store, **body.model_dump())
    except agencies.AgencyExists:
        raise field_error(409, "code", "already taken", "An agency with this code exists.") from None
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="agency.create", target=body.code)
    response.headers["Location"] = f"/v1/agencies/{body.code}"
    return agency


@router.get("/v1/agencies/{agency_id}", response_model=AgencyOut, responses=problems(404))
async def get_agency(
    ctx: Ctx, agency_id: str, principal: Annotated[Principal, Depends(require("agencies:read"))]
) -> dict[str, Any]:
    """One agency."""
    agency = await agencies.get_agency(store=ctx.store, code=agency_id)
    if agency is None:
        raise not_found("Agency")
    return agency


@router.patch("/v1/agencies/{agency_id}", response_model=AgencyOut, responses=problems(404, 422))
async def patch_agency(
    ctx: Ctx, agency_id: str, body: AgencyPatch, principal: Annotated[Principal, Depends(require("agencies:write"))]
) -> dict[str, Any]:
    """Change an agency (admin); `active: false` retires it (its users can no longer be given it)."""
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "kind", "active"):
        if field in changes and changes[field] is None:
            raise field_error(422, field, "may not be null")
    if changes.get("unit_code") is not None and not await ctx.registry.unit_exists(changes["unit_code"]):
        raise field_error(422, "unit_code", f"unknown unit {changes['unit_code']}")
    agency = await agencies.update_agency(store=ctx.store, code=agency_id, changes=changes)
    if agency is None:
        raise not_found("Agency")
    ctx.kick()
    await audit.record(
        ctx.db, actor=principal, action="agency.update", target=agency_id, details={"fields": sorted(changes)}
    )
    return agency
