"""REST routes for orientations and surveys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response
from pulse_libs.auth import Principal, pseudonym
from pulse_libs.clock import utcnow
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require, require_any
from pulse_libs.periods import InvalidPeriodError, parse_period

from pulse_intake.context import Ctx, IntakeContext
from pulse_intake.domain.errors import InvalidAnswerError
from pulse_intake.domain.surveys import Question, questionnaire_problems, validate_answers
from pulse_intake.entrypoints.campaign_schemas import (
    CurrentOrientations,
    OrientationCreate,
    OrientationOut,
    ResponseCreate,
    ResponseOut,
    SurveyCreate,
    SurveyOut,
)
from pulse_intake.entrypoints.common import cursor_value, field_error, next_cursor, problems
from pulse_intake.handlers import campaigns

router = APIRouter(tags=["campaigns"])
OrientationsRead = Annotated[Principal, Depends(require("orientations:read"))]
OrientationsWrite = Annotated[Principal, Depends(require("orientations:write"))]
SurveysRead = Annotated[Principal, Depends(require_any("surveys:read", "surveys:respond"))]
SurveysWrite = Annotated[Principal, Depends(require("surveys:write"))]
Respondent = Annotated[Principal, Depends(require("surveys:respond"))]


def _units(principal: Principal) -> list[str] | None:
    return None if principal.unit_codes is None else sorted(principal.unit_codes)


async def _check_codes(ctx: IntakeContext, *, topics: list[str], units: list[str]) -> None:
    errors = []
    missing_topics = await ctx.registry.missing_topics(topics)
    if missing_topics:
        errors.append({"field": "topic_codes", "message": "unknown topic(s): " + ", ".join(missing_topics)})
    missing_units = await ctx.registry.missing_units(units)
    if missing_units:
        errors.append({"field": "unit_codes", "message": "unknown unit(s): " + ", ".join(missing_units)})
    if errors:
        raise ProblemError(422, "Unknown codes; see errors.", errors=errors)


@router.post("/v1/orientations", status_code=201, response_model=OrientationOut, responses=problems(422))
async def publish_orientation(
    ctx: Ctx, body: OrientationCreate, principal: OrientationsWrite, response: Response
) -> dict[str, Any]:
    """Publish the orientation for a reporting month, quarter, half-year, nine months or year (department).

    The period means the same Decree 09 window as in reporting (`2026-11` = 15 Oct – 14 Nov with the
    default cut-off day 15); collaborators are told.
    """
    try:
        period = parse_period(body.period)
    except InvalidPeriodError as exc:
        raise field_error(422, "period", str(exc)) from None
    await _check_codes(ctx, topics=body.topic_codes, units=body.unit_codes)
    doc = await campaigns.publish_orientation(
        store=ctx.store,
        period=period,
        cutoff_day=ctx.settings.period_cutoff_day,
        body=body.model_dump(),
        by=principal.subject,
    )
    ctx.kick()
    response.headers["Location"] = f"/v1/orientations/{doc['id']}"
    return doc


@router.get("/v1/orientations", response_model=Page[OrientationOut], responses=problems(400))
async def list_orientations(
    ctx: Ctx, principal: OrientationsRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    """Orientations newest first, those targeting the caller's units."""
    items = await campaigns.list_orientations(
        store=ctx.store, units=_units(principal), day=None, before=cursor_value(cursor, "before"), limit=limit
    )
    return {"items": items, "next_cursor": next_cursor(items, limit, "id", "before")}


@router.get("/v1/orientations/current", response_model=CurrentOrientations, responses=problems(422))
async def current_orientations(
    ctx: Ctx,
    principal: OrientationsRead,
    on: Annotated[date | None, Query(description="A local day `YYYY-MM-DD` (default: today)")] = None,
) -> dict[str, Any]:
    """Orientations in force on a local day (default today, service time zone) for the caller's units (at most 100)."""
    today = on or datetime.now(ZoneInfo(ctx.settings.timezone)).date()
    if not 2000 <= today.year <= 2100:
        raise field_error(422, "on", "years 2000–2100 only")
    items = await campaigns.list_orientations(
        store=ctx.store, units=_units(principal), day=today, before=None, limit=100
    )
    return {"date": today, "timezone": ctx.settings.timezone, "items": items}


@router.post("/v1/surveys", status_code=201, response_model=SurveyOut, responses=problems(422))
async def publish_survey(ctx: Ctx, body: SurveyCreate, principal: SurveysWrite, response: Response) -> dict[str, Any]:
    """Publish a survey (department): typed questions, target units (none = all), open and close times."""
    questions = [Question(**q.model_dump()) for q in body.questions]
    errors = [{"field": f, "message": m} for f, m in questionnaire_problems(questions)]
    if body.closes_at <= body.opens_at:
        errors.append({"field": "closes_at", "message": "must come after opens_at"})
    if body.closes_at <= utcnow():
        errors.append({"field": "closes_at", "message": "must lie in the future"})
    if errors:
        raise ProblemError(422, "The survey is not valid; see errors.", errors=errors)
    await _check_codes(ctx, topics=[], units=body.unit_codes)
    doc = await campaigns.publish_survey(store=ctx.store, body=body.model_dump())
    ctx.kick()
    response.headers["Location"] = f"/v1/surveys/{doc['id']}"
    return doc


@router.get("/v1/surveys", response_model=Page[SurveyOut], responses=problems(400))
async def list_surveys(
    ctx: Ctx, principal: SurveysRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    """Surveys newest first, those targeting the caller's units."""
    docs = await campaigns.list_surveys(
        store=ctx.store, units=_units(principal), before=cursor_value(cursor, "before"), limit=limit
    )
    now = utcnow()
    items = [campaigns.survey_view(d, now) for d in docs]
    return {"items": items, "next_cursor": next_cursor(items, limit, "id", "before")}


@router.get("/v1/surveys/{survey_id}", response_model=SurveyOut, responses=problems(404))
async def get_survey(ctx: Ctx, survey_id: str, principal: SurveysRead) -> dict[str, Any]:
    """One survey; 404 if absent or not targeting the caller's units."""
    doc = await campaigns.get_survey(store=ctx.store, survey_id=survey_id, units=_units(principal))
    if doc is None:
        raise not_found("Survey")
    return campaigns.survey_view(doc, utcnow())


@router.post(
    "/v1/surveys/{survey_id}/responses", status_code=201, response_model=ResponseOut, responses=problems(404, 409, 422)
)
async def respond(ctx: Ctx, survey_id: str, body: ResponseCreate, principal: Respondent) -> dict[str, Any]:
    """Answer a survey while it is open (collaborator of a target unit).

    One response for themself; with `respondent` (optional demographics, never a name) as many
    interviews of citizens as the collaborator records.
    """
    doc = await campaigns.get_survey(store=ctx.store, survey_id=survey_id, units=_units(principal))
    if doc is None:
        raise not_found("Survey")
    if campaigns.survey_state(doc, utcnow()) != "open":
        raise ProblemError(409, "The survey is not open for answers.")
    unit = _respondent_unit(principal, doc["unit_codes"], body.unit_code)
    try:
        answers = validate_answers([Question(**q) for q in doc["questions"]], body.answers)
    except InvalidAnswerError as exc:
        raise field_error(422, exc.field, exc.message) from None
    try:
        out = await campaigns.record_response(
            store=ctx.store,
            survey_id=survey_id,
            unit_code=unit,
            collaborator=pseudonym(ctx.settings, principal.subject),
            answers=answers,
            demographics=None if body.respondent is None else body.respondent.model_dump(),
        )
    except campaigns.AlreadyAnswered:
        raise ProblemError(
            409, "You have already answered this survey for yourself; record interviews with `respondent`."
        ) from None
    ctx.kick()
    return out


def _respondent_unit(principal: Principal, targets: list[str], requested: str | None) -> str:
    mine = sorted(principal.unit_codes or [])
    eligible = [u for u in mine if not targets or u in targets]
    if requested is not None:
        if requested not in eligible:
            raise field_error(422, "unit_code", "unknown or outside your units")
        return requested
    if len(eligible) != 1:
        raise field_error(422, "unit_code", "say for which of your units you answer")
    return eligible[0]


@router.get("/v1/orientations/{orientation_id}", response_model=OrientationOut, responses=problems(404))
async def get_orientation(ctx: Ctx, orientation_id: str, principal: OrientationsRead) -> dict[str, Any]:
    """One orientation; 404 if absent or not targeting the caller's units."""
    doc = await campaigns.get_orientation(store=ctx.store, orientation_id=orientation_id, units=_units(principal))
    if doc is None:
        raise not_found("Orientation")
    return doc
