"""REST routes for the registries: administrative units (with bulk import) and topics."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require
from pydantic import TypeAdapter, ValidationError

from pulse_intake.adapters import audit
from pulse_intake.context import Ctx
from pulse_intake.entrypoints.common import cursor_value, next_cursor, problems
from pulse_intake.entrypoints.schemas import (
    ImportOut,
    TopicIn,
    TopicOut,
    TopicPatch,
    UnitIn,
    UnitKind,
    UnitOut,
    UnitPatch,
)
from pulse_intake.handlers import registry

router = APIRouter(tags=["registries"])
UnitsRead = Annotated[Principal, Depends(require("units:read"))]
UnitsWrite = Annotated[Principal, Depends(require("units:write"))]
TopicsRead = Annotated[Principal, Depends(require("topics:read"))]
TopicsWrite = Annotated[Principal, Depends(require("topics:write"))]
MAX_IMPORT = 5000
_units_adapter = TypeAdapter(list[UnitIn])


async def _save_unit(ctx: Ctx, principal: Principal, unit: dict[str, Any]) -> str:
    errors = await _link_problems(ctx, [unit])
    if errors:
        raise ProblemError(422, "The unit's links are not valid.", errors=errors)
    outcome = await registry.upsert_unit(store=ctx.store, unit=unit)
    ctx.registry.unit_added(unit["code"])
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action=f"unit.{outcome}", target=unit["code"])
    return outcome


async def _link_problems(ctx: Ctx, units: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Unknown parents and successors, self-links, cycles and implausible successor dates."""
    links = [c for unit in units for c in registry.link_codes(unit)]
    missing = set(await ctx.registry.missing_units(links))
    stored = await registry.unit_links(store=ctx.store)
    return registry.unit_link_problems(units, set(links) - missing, links=stored, today=utcnow().date())


@router.get("/v1/units", response_model=Page[UnitOut], responses=problems(400, 422))
async def list_units(
    ctx: Ctx,
    principal: UnitsRead,
    kind: Annotated[UnitKind | None, Query()] = None,
    parent_code: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Administrative units by code; filter by kind or parent."""
    items = await registry.list_units(
        store=ctx.store, kind=kind, parent_code=parent_code, after=cursor_value(cursor), limit=limit
    )
    return {"items": items, "next_cursor": next_cursor(items, limit, "code")}


@router.post("/v1/units", status_code=201, response_model=UnitOut, responses=problems(409, 422))
async def create_unit(ctx: Ctx, body: UnitIn, principal: UnitsWrite, response: Response) -> dict[str, Any]:
    """Register a unit (admin); 409 if the code exists (use PUT or PATCH to change it)."""
    if await registry.get_unit(store=ctx.store, code=body.code) is not None:
        raise ProblemError(409, f"Unit {body.code} exists; use PUT or PATCH to change it.")
    await _save_unit(ctx, principal, body.model_dump())
    response.headers["Location"] = f"/v1/units/{body.code}"
    return body.model_dump()


@router.post("/v1/units:import", response_model=ImportOut, responses=problems(400, 413, 415, 422))
async def import_units(ctx: Ctx, request: Request, principal: UnitsWrite) -> ImportOut:
    """Bulk import (admin): a JSON array of units, or CSV with header code,name,kind,parent_code,replaced_by.

    In CSV, `replaced_by` lists successors as `code@YYYY-MM-DD` separated by `;` (`04252@2025-07-01;04279@2025-07-01`).
    All rows are checked first; any error rejects the whole import and changes nothing.
    """
    rows = _parse_import(request.headers.get("content-type", ""), await request.body())
    try:
        units = [u.model_dump() for u in _units_adapter.validate_python(rows)]
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise ProblemError(422, "Some rows are not valid; nothing was imported.", errors=errors) from None
    codes = [u["code"] for u in units]
    if len(set(codes)) != len(codes):
        raise ProblemError(
            422, "A code appears twice; nothing was imported.", errors=[{"field": "code", "message": "duplicate"}]
        )
    errors = await _link_problems(ctx, units)
    if errors:
        raise ProblemError(422, "Some rows have links that are not valid; nothing was imported.", errors=errors)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for unit in units:
        counts[await registry.upsert_unit(store=ctx.store, unit=unit)] += 1
        ctx.registry.unit_added(unit["code"])
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action="unit.import", target="units", details=counts)
    return ImportOut(**counts)


def _parse_import(content_type: str, raw: bytes) -> list[Any]:
    media = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProblemError(400, "The body is not UTF-8.") from None
    if media == "application/json":
        try:
            rows = json.loads(text)
        except ValueError:
            raise ProblemError(400, "The body is not valid JSON.") from None
        if not isinstance(rows, list):
            raise ProblemError(
                422, "Send a JSON array of units.", errors=[{"field": "body", "message": "not an array"}]
            )
    elif media in ("text/csv", "application/csv"):
        rows = [_csv_row(row) for row in csv.DictReader(io.StringIO(text))]
    else:
        raise ProblemError(415, "Send application/json or text/csv.")
    if not rows or len(rows) > MAX_IMPORT:
        raise ProblemError(
            422, f"Send 1 to {MAX_IMPORT} units.", errors=[{"field": "body", "message": "bad row count"}]
        )
    return rows


def _csv_row(row: dict[str | None, str | None]) -> dict[str, Any]:
    """A CSV row as the JSON form: empty cells absent, `replaced_by` `code@since;...` as a list of links."""
    values: dict[str, Any] = {k: v for k, v in row.items() if k is not None and v}
    if isinstance(values.get("replaced_by"), str):
        links = [part.strip() for part in values["replaced_by"].split(";") if part.strip()]
        values["replaced_by"] = [dict(zip(("code", "since"), link.split("@", 1), strict=False)) for link in links]
    return values


@router.get("/v1/units/{code}", response_model=UnitOut, responses=problems(404))
async def get_unit(ctx: Ctx, code: str, principal: UnitsRead) -> dict[str, Any]:
    """One unit by code."""
    unit = await registry.get_unit(store=ctx.store, code=code)
    if unit is None:
        raise not_found("Unit")
    return unit


@router.put("/v1/units/{code}", response_model=UnitOut, responses=problems(422))
async def put_unit(ctx: Ctx, code: str, body: UnitIn, principal: UnitsWrite) -> dict[str, Any]:
    """Create or replace a unit (admin); the body's code must match the path."""
    if body.code != code:
        raise ProblemError(
            422,
            "The code in the body differs from the path.",
            errors=[{"field": "code", "message": "must equal the path"}],
        )
    await _save_unit(ctx, principal, body.model_dump())
    return body.model_dump()


@router.patch("/v1/units/{code}", response_model=UnitOut, responses=problems(404, 422))
async def patch_unit(ctx: Ctx, code: str, body: UnitPatch, principal: UnitsWrite) -> dict[str, Any]:
    """Change some fields of a unit (admin), e.g. set `replaced_by` `[{code, since}]` after a merger."""
    unit = await registry.get_unit(store=ctx.store, code=code)
    if unit is None:
        raise not_found("Unit")
    unit.update(body.model_dump(exclude_unset=True))
    if unit["name"] is None or unit["kind"] is None:
        raise ProblemError(422, "name and kind cannot be removed.", errors=[{"field": "name", "message": "required"}])
    await _save_unit(ctx, principal, unit)
    return unit


@router.get("/v1/topics", response_model=Page[TopicOut], responses=problems(400))
async def list_topics(
    ctx: Ctx, principal: TopicsRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    """The topic taxonomy by code."""
    items = await registry.list_topics(store=ctx.store, after=cursor_value(cursor), limit=limit)
    return {"items": items, "next_cursor": next_cursor(items, limit, "code")}


async def _save_topic(ctx: Ctx, principal: Principal, topic: dict[str, Any]) -> None:
    outcome = await registry.upsert_topic(store=ctx.store, topic=topic)
    ctx.registry.topic_added(topic["code"])
    ctx.kick()
    await audit.record(ctx.db, actor=principal, action=f"topic.{outcome}", target=topic["code"])


@router.post("/v1/topics", status_code=201, response_model=TopicOut, responses=problems(409, 422))
async def create_topic(ctx: Ctx, body: TopicIn, principal: TopicsWrite, response: Response) -> dict[str, Any]:
    """Add a topic (department, admin); 409 if the code exists."""
    if await registry.get_topic(store=ctx.store, code=body.code) is not None:
        raise ProblemError(409, f"Topic {body.code} exists; use PUT or PATCH to change it.")
    await _save_topic(ctx, principal, body.model_dump())
    response.headers["Location"] = f"/v1/topics/{body.code}"
    return body.model_dump()


@router.get("/v1/topics/{code}", response_model=TopicOut, responses=problems(404))
async def get_topic(ctx: Ctx, code: str, principal: TopicsRead) -> dict[str, Any]:
    """One topic by code."""
    topic = await registry.get_topic(store=ctx.store, code=code)
    if topic is None:
        raise not_found("Topic")
    return topic


@router.put("/v1/topics/{code}", response_model=TopicOut, responses=problems(422))
async def put_topic(ctx: Ctx, code: str, body: TopicIn, principal: TopicsWrite) -> dict[str, Any]:
    """Create or replace a topic; the body's code must match the path."""
    if body.code != code:
        raise ProblemError(
            422,
            "The code in the body differs from the path.",
            errors=[{"field": "code", "message": "must equal the path"}],
        )
    await _save_topic(ctx, principal, body.model_dump())
    return body.model_dump()


@router.patch("/v1/topics/{code}", response_model=TopicOut, responses=problems(404, 422))
async def patch_topic(ctx: Ctx, code: str, body: TopicPatch, principal: TopicsWrite) -> dict[str, Any]:
    """Change some fields of a topic (keywords, sensitive flag, name)."""
    topic = await registry.get_topic(store=ctx.store, code=code)
    if topic is None:
        raise not_found("Topic")
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    topic.update(changes)
    await _save_topic(ctx, principal, topic)
    return topic
