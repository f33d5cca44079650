"""Routes: directives (chỉ đạo xử lý) on hot spots, their progress and completion."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pulse_libs.auth import Principal
from pulse_libs.http.audit_routes import Audit
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, encode_cursor
from pulse_libs.http.problems import ProblemError
from pulse_libs.http.security import require
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pulse_triage.domain.directive import (
    MAX_INSTRUCTION_CHARS,
    MAX_NOTE_CHARS,
    MAX_RESULT_CHARS,
    Change,
    Directive,
    DirectiveInvalid,
)
from pulse_triage.entrypoints.api.deps import cursor_position
from pulse_triage.entrypoints.api.schemas import ERRORS, Problem
from pulse_triage.handlers import directives as use_cases
from pulse_triage.handlers.directives import DirectiveService

router = APIRouter(prefix="/v1", tags=["directives"], responses=ERRORS)
CONFLICT: dict[int | str, dict[str, object]] = {409: {"model": Problem, "description": "Not in a state that allows it"}}

DirectiveWriter = Annotated[Principal, Depends(require("directives:write"))]
DirectiveReader = Annotated[Principal, Depends(require("directives:read"))]
DirectiveUpdater = Annotated[Principal, Depends(require("directives:update"))]


def get_directives(request: Request) -> DirectiveService:
    """The directive service built in the lifespan."""
    svc: DirectiveService = request.app.state.directives
    return svc


Svc = Annotated[DirectiveService, Depends(get_directives)]


class DirectiveCreate(BaseModel):
    """Direct an agency to act on the hot spot by a due time."""

    model_config = ConfigDict(extra="forbid")

    assignee: str = Field(min_length=1, max_length=64, description="The agency code (from intake's agencies)")
    instruction: str = Field(max_length=MAX_INSTRUCTION_CHARS, description="What to do; not empty")
    due_at: AwareDatetime = Field(description="RFC 3339 with offset; in the future")


class DirectiveUpdate(BaseModel):
    """Progress (a note) or completion (`done: true` with a `result`)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS, description="Required unless done")
    done: bool = False
    result: str | None = Field(default=None, max_length=MAX_RESULT_CHARS, description="Required when done")


class DirectiveChangeRead(BaseModel):
    """One change of a directive: who, when, what."""

    at: datetime
    change: Literal["updated", "done", "overdue"]
    state: Literal["open", "overdue", "done"]
    by: str = Field(description='User id, or "system" for the overdue transition')
    by_name: str | None = None
    by_role: str | None = None
    note: str | None = None
    result: str | None = None


class DirectiveRead(BaseModel):
    """A directive, its state now and its history."""

    id: str
    hotspot_id: str
    unit_code: str
    topic_code: str
    assignee: str
    instruction: str
    due_at: datetime
    state: Literal["open", "overdue", "done"]
    created_at: datetime
    created_by: str
    created_by_name: str | None = None
    remind_before_seconds: int
    done_at: datetime | None = None
    result: str | None = None
    late: bool = Field(description="Done after the due time")
    history: list[DirectiveChangeRead]


def directive_read(directive: Directive, now: datetime) -> DirectiveRead:
    """API view of a directive at `now`."""
    return DirectiveRead(
        id=directive.id,
        hotspot_id=directive.hotspot_id,
        unit_code=directive.unit_code,
        topic_code=directive.topic_code,
        assignee=directive.assignee,
        instruction=directive.instruction,
        due_at=directive.due_at,
        state=directive.state(now),
        created_at=directive.created_at,
        created_by=directive.created_by,
        created_by_name=directive.created_by_name,
        remind_before_seconds=directive.remind_before_seconds,
        done_at=directive.done_at,
        result=directive.result,
        late=directive.late,
        history=[_change(c) for c in directive.timeline(now)],
    )


def _change(change: Change) -> DirectiveChangeRead:
    return DirectiveChangeRead.model_validate(change.__dict__)


def _invalid(exc: DirectiveInvalid) -> ProblemError:
    return ProblemError(
        422, "The directive is not valid; see errors.", errors=[{"field": exc.field, "message": exc.message}]
    )


@router.post(
    "/hotspots/{hotspot_id}/directives",
    status_code=201,
    summary="Direct an agency to act on a hot spot",
    responses=CONFLICT,
)
async def create_directive(
    hotspot_id: str, body: DirectiveCreate, principal: DirectiveWriter, svc: Svc, audit: Audit, response: Response
) -> DirectiveRead:
    """Standing Committee or department: the assignee must be a known active agency, the instruction not
    empty, the due time ahead (422 otherwise, nothing stored); 409 on a resolved hot spot."""
    try:
        directive = await use_cases.create_directive(
            svc,
            hotspot_id=hotspot_id,
            principal=principal,
            assignee=body.assignee,
            instruction=body.instruction,
            due_at=body.due_at,
        )
    except DirectiveInvalid as exc:
        raise _invalid(exc) from None
    order = {"hotspot_id": hotspot_id, "assignee": body.assignee, "due_at": body.due_at}
    await audit.record(actor=principal, action="directive.create", target=directive.id, details=order)
    response.headers["Location"] = f"/v1/directives/{directive.id}"
    return directive_read(directive, svc.now())


@router.get("/directives", summary="Directives, newest first")
async def list_directives(
    principal: DirectiveReader,
    svc: Svc,
    state: Literal["open", "overdue", "done"] | None = None,
    assignee: str | None = Query(default=None, min_length=1, max_length=64),
    hotspot_id: str | None = Query(default=None, min_length=1, max_length=128),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DirectiveRead]:
    """Directives in the caller's reach (an agency user: its agency's only)."""
    after = cursor_position(cursor)
    found = await use_cases.list_directives(
        svc, principal, state=state, assignee=assignee, hotspot_id=hotspot_id, after=after, limit=limit
    )
    now = svc.now()
    next_cursor = None
    if len(found) > limit:
        last = found[limit - 1]
        next_cursor = encode_cursor({"t": last.created_at.isoformat(), "id": last.id})
    return Page(items=[directive_read(d, now) for d in found[:limit]], next_cursor=next_cursor)


@router.get("/directives/{directive_id}", summary="A directive with its history")
async def get_directive(directive_id: str, principal: DirectiveReader, svc: Svc) -> DirectiveRead:
    """One directive (404 outside the caller's reach)."""
    return directive_read(await use_cases.visible_directive(svc, directive_id, principal), svc.now())


@router.post("/directives/{directive_id}/updates", summary="Record progress or completion", responses=CONFLICT)
async def update_directive(
    directive_id: str, body: DirectiveUpdate, principal: DirectiveUpdater, svc: Svc, audit: Audit
) -> DirectiveRead:
    """The assignee's agency users or the department: a note, or `done` with its result (409 once done)."""
    try:
        directive, _ = await use_cases.record_update(
            svc,
            directive_id=directive_id,
            principal=principal,
            note=body.note,
            done=body.done,
            result=body.result,
        )
    except DirectiveInvalid as exc:
        raise _invalid(exc) from None
    await audit.record(actor=principal, action="directive.update", target=directive_id, details={"done": body.done})
    return directive_read(directive, svc.now())
