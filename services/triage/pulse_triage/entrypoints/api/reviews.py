"""Routes: officers' reviews of triage decisions (corrections, their list, the JSON-lines export, agreement)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pulse_libs.auth import Principal
from pulse_libs.events.common import Urgency
from pulse_libs.http.audit_routes import Audit
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.security import require
from pulse_libs.store import Document
from pydantic import BaseModel, Field, field_validator

from pulse_triage.entrypoints.api.deps import Ctx, cursor_position, next_cursor
from pulse_triage.entrypoints.api.schemas import ERRORS
from pulse_triage.handlers import reviews as use_cases

router = APIRouter(prefix="/v1/triage", tags=["reviews"], responses=ERRORS)
Reviewer = Annotated[Principal, Depends(require("triage:review"))]
EXPORT_MAX = 20_000
TOPIC = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")


class ReviewCreate(BaseModel):
    """An officer's correction: the level, the topics, or both, and why."""

    model_config = {"extra": "forbid"}

    urgency: Urgency | None = None
    topic_codes: list[Annotated[str, TOPIC]] | None = Field(default=None, min_length=1, max_length=5)
    comment: str = Field(min_length=1, max_length=2000)

    @field_validator("comment")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the comment must not be blank")
        return value


class ReviewRead(BaseModel):
    """A review: the machine's decision beside the officer's (the report text is the labelled example)."""

    id: str
    report_id: str
    unit_code: str
    channel: str
    text: str
    machine_urgency: Urgency
    machine_topic_codes: list[str]
    urgency: Urgency
    topic_codes: list[str]
    comment: str
    reviewer_id: str
    reviewed_at: datetime


class LevelAgreement(BaseModel):
    """Reviews of one level (by the officer's label) and how often the machine had it."""

    reviewed: int
    agreed: int
    agreement: float | None


class AgreementRead(BaseModel):
    """Machine–officer agreement per level."""

    levels: dict[str, LevelAgreement]
    reviewed: int
    agreement: float | None


def review_read(doc: Document) -> ReviewRead:
    """API view of a stored review."""
    return ReviewRead.model_validate({**doc, "id": doc["_id"]})


@router.post("/{report_id}/review", status_code=201, summary="Correct a decision (department)")
async def post_review(report_id: str, body: ReviewCreate, principal: Reviewer, ctx: Ctx, audit: Audit) -> ReviewRead:
    """The decision, its hot spot and escalation follow; `report.triaged` is emitted again with reviewed=true."""
    doc = await use_cases.review(
        ctx=ctx,
        report_id=report_id,
        principal=principal,
        urgency=body.urgency,
        topic_codes=body.topic_codes,
        comment=body.comment,
    )
    change = {"review": doc["_id"], "urgency": body.urgency, "topic_codes": body.topic_codes, "comment": body.comment}
    await audit.record(actor=principal, action="triage.review", target=report_id, details=change)
    return review_read(doc)


@router.get(
    "/reviews",
    summary="Reviews, newest first (`?format=jsonl` exports them all as JSON lines)",
    response_model=Page[ReviewRead],
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def list_reviews(
    principal: Reviewer,
    ctx: Ctx,
    format: Literal["json", "jsonl"] = "json",
    unit_code: str | None = Query(default=None, max_length=64),
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """List corrections; the JSON-lines export is what `python -m pulse_triage.calibrate --reviews` reads."""
    units = principal.unit_filter(unit_code)
    if units == []:
        return Page[ReviewRead](items=[], next_cursor=None)
    if format == "jsonl":
        docs = await ctx.repos.reviews.page(units=units, after=None, limit=EXPORT_MAX)
        lines = [review_read(d).model_dump_json() for d in docs[:EXPORT_MAX]]
        return Response("".join(line + "\n" for line in lines), media_type="application/x-ndjson")
    after = cursor_position(cursor)
    docs = await ctx.repos.reviews.page(units=units, after=after, limit=limit)
    items = [review_read(d) for d in docs[:limit]]
    return Page[ReviewRead](items=items, next_cursor=next_cursor(docs, limit, "reviewed_at"))


@router.get("/reviews/agreement", summary="Machine–officer agreement per level")
async def review_agreement(principal: Reviewer, ctx: Ctx) -> AgreementRead:
    """Per level the officer gave: reviews, and the share where the machine gave the same level."""
    units = principal.unit_filter(None)
    docs = [] if units == [] else await ctx.repos.reviews.page(units=units, after=None, limit=EXPORT_MAX)
    return AgreementRead.model_validate(use_cases.agreement(docs[:EXPORT_MAX]))
