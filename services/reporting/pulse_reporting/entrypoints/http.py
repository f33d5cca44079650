"""REST routes of the reporting service."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.http.problems import PROBLEM_JSON, ProblemError
from pulse_libs.http.security import require, require_any
from pulse_libs.periods import MAX_YEAR, MIN_YEAR, parse_period

from pulse_reporting import briefings, handlers
from pulse_reporting.adapters import exports
from pulse_reporting.adapters.queries import Queries
from pulse_reporting.domain import errors
from pulse_reporting.entrypoints.schemas import (
    Briefing,
    CloseRequest,
    PeriodClosed,
    PeriodReopened,
    PeriodWindow,
    ReopenRequest,
    Summary,
    SurveyResults,
    Trends,
)
from pulse_reporting.settings import ReportingSettings

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or bad credentials", **_PROBLEM},
    403: {"description": "Missing scope", **_PROBLEM},
    404: {"description": "Absent or outside the caller's units", **_PROBLEM},
    422: {"description": "Invalid parameters", **_PROBLEM},
    503: {"description": "Store unavailable (Retry-After)", **_PROBLEM},
}

router = APIRouter(prefix="/v1", responses=ERRORS)

StatsReader = Annotated[Principal, Depends(require("stats:read"))]
Authenticated = Annotated[Principal, Depends(require())]
"""Any signed-in caller; the route checks the role itself (reopening a period: admin only)."""
SurveyReader = Annotated[Principal, Depends(require_any("surveys:read", "stats:read"))]
PeriodText = Annotated[
    str, Path(max_length=16, description="`2026-11`, `2026-Q4`, `2026-H1`, `2026-H2`, `2026-9M` or `2026`")
]
DayParam = Annotated[
    str | None, Query(max_length=40, description="A local date `YYYY-MM-DD` or an RFC 3339 time (its local day)")
]
CodeParam = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
RollupParam = Annotated[
    Literal["none", "successor", "parent"],
    Query(
        description="`successor` (default): a merged or split unit's reports filed before the change count under "
        "its successors (a split unit's under every successor; totals count them once); `parent`: also under every "
        "unit up the parent chain, so `unit_code` of a province covers its wards and `by_unit` lists every level; "
        "`none`: as filed."
    ),
]


def _settings(request: Request) -> ReportingSettings:
    settings: ReportingSettings = request.app.state.settings
    return settings


def _queries(request: Request) -> Queries:
    queries: Queries = request.app.state.queries
    return queries


@asynccontextmanager
async def _domain_errors() -> AsyncIterator[None]:
    try:
        yield
    except (errors.InvalidPeriodError, errors.InvalidRangeError) as exc:
        field = "period" if isinstance(exc, errors.InvalidPeriodError) else "from"
        raise ProblemError(422, str(exc), errors=[{"field": field, "message": str(exc)}]) from None
    except errors.ForbiddenError as exc:
        raise ProblemError(403, str(exc)) from None
    except errors.NotFoundError as exc:
        raise ProblemError(404, f"{exc} was not found") from None
    except (errors.PeriodNotEndedError, errors.PeriodAlreadyClosedError, errors.PeriodNotClosedError) as exc:
        raise ProblemError(409, str(exc)) from None


def _day(value: str | None, field: str, tz: ZoneInfo) -> date | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            return _in_range(date.fromisoformat(value), field)
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProblemError(
            422, f"`{field}` is not a date or an RFC 3339 time", errors=[{"field": field, "message": "invalid date"}]
        ) from None
    if instant.tzinfo is None:
        raise ProblemError(422, f"`{field}` needs an offset", errors=[{"field": field, "message": "missing offset"}])
    _in_range(instant.date(), field)  # before converting: 9999-12-31 at +07:00 would overflow
    return _in_range(instant.astimezone(tz).date(), field)


def _in_range(day: date, field: str) -> date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        message = f"years {MIN_YEAR}–{MAX_YEAR} only"
        raise ProblemError(422, f"`{field}` is out of range", errors=[{"field": field, "message": message}])
    return day


def _days(settings: ReportingSettings, from_: str | None, to: str | None) -> tuple[date, date]:
    tz = ZoneInfo(settings.timezone)
    today = utcnow().astimezone(tz).date()
    return handlers.day_range(first=_day(from_, "from", tz), last=_day(to, "to", tz), today=today, settings=settings)


@router.get("/stats/summary", response_model=Summary, tags=["statistics"])
async def stats_summary(
    request: Request,
    principal: StatsReader,
    from_: Annotated[DayParam, Query(alias="from")] = None,
    to: DayParam = None,
    unit_code: CodeParam = None,
    topic_code: CodeParam = None,
    rollup: RollupParam = "successor",
) -> dict[str, Any]:
    """Totals by urgency, channel, sentiment, topic and unit; hot spots; escalations with median/p95 time to ack."""
    settings = _settings(request)
    async with _domain_errors():
        first, last = _days(settings, from_, to)
        result = await handlers.summary(
            queries=_queries(request),
            settings=settings,
            principal=principal,
            first=first,
            last=last,
            unit_code=unit_code,
            topic_code=topic_code,
            rollup=rollup,
        )
    return result


@router.get("/stats/trends", response_model=Trends, tags=["statistics"])
async def stats_trends(
    request: Request,
    principal: StatsReader,
    granularity: Literal["day", "week", "month"] = "day",
    from_: Annotated[DayParam, Query(alias="from")] = None,
    to: DayParam = None,
    unit_code: CodeParam = None,
    topic_code: CodeParam = None,
    rollup: RollupParam = "successor",
) -> dict[str, Any]:
    """Report counts per day, ISO week or reporting month (Decree 09 cut-off), empty buckets as zeros."""
    settings = _settings(request)
    async with _domain_errors():
        first, last = _days(settings, from_, to)
        return await handlers.trends(
            queries=_queries(request),
            settings=settings,
            principal=principal,
            first=first,
            last=last,
            granularity=granularity,
            unit_code=unit_code,
            topic_code=topic_code,
            rollup=rollup,
        )


@router.get("/periods/{period}", response_model=PeriodWindow, tags=["periods"])
async def get_period(request: Request, principal: StatsReader, period: PeriodText) -> dict[str, Any]:
    """The window of a reporting period on the configured cut-off day, and the period before it."""
    async with _domain_errors():
        return handlers.period_info(settings=_settings(request), period=parse_period(period))


@router.post(
    "/periods/{period}/close",
    response_model=PeriodClosed,
    status_code=201,
    tags=["periods"],
    responses={409: {"description": "The period has not ended or is already closed", **_PROBLEM}},
)
async def close_period(
    request: Request, principal: StatsReader, period: PeriodText, body: CloseRequest | None = None
) -> dict[str, Any]:
    """Freeze an ended period (chốt số liệu) and file its whole report (JSON, DOCX, XLSX with sha256); department."""
    if principal.role != "department":
        raise ProblemError(403, "Only the department closes reporting periods.")
    async with _domain_errors():
        result = await briefings.close_and_file(
            queries=_queries(request),
            settings=_settings(request),
            principal=principal,
            period_text=period,
            document_number=body.document_number if body else None,
        )
    filed = {"version": result.get("version"), "document_number": body.document_number if body else None}
    await _queries(request).audit(principal=principal, action="period.close", target=f"periods/{period}", details=filed)
    encoded: dict[str, Any] = jsonable_encoder(result)
    return encoded


@router.post(
    "/periods/{period}/reopen",
    response_model=PeriodReopened,
    tags=["periods"],
    responses={409: {"description": "The period is not closed", **_PROBLEM}},
)
async def reopen_period(request: Request, principal: Authenticated, period: PeriodText, body: ReopenRequest) -> Any:
    """Reopen a closed period (admin; audited with its reason): figures count live until it is closed again.

    The filed versions stay stored; closing again files a new version with its own late delta.
    """
    if principal.role != "admin":
        raise ProblemError(403, "Only an administrator reopens a closed period.")
    async with _domain_errors():
        result = await handlers.reopen_period(
            queries=_queries(request),
            settings=_settings(request),
            principal=principal,
            period_text=period,
            reason=body.reason,
        )
    return jsonable_encoder(result)


@router.get(
    "/periodic-reports/{period}",
    response_model=Briefing,
    tags=["periodic reports"],
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in exports.MEDIA_TYPES.values()
            },
            "description": "The briefing as JSON, or as a CSV/XLSX/DOCX attachment",
        }
    },
)
async def periodic_report(
    request: Request,
    principal: StatsReader,
    period: PeriodText,
    format: Literal["json", "csv", "xlsx", "docx"] = "json",
) -> Response:
    """The giao ban briefing of a period: totals and change, topics, hot spots, orientation coverage, surveys.

    Every download as a file (CSV, XLSX, DOCX) is audited."""
    settings = _settings(request)
    tz = ZoneInfo(settings.timezone)
    queries = _queries(request)
    async with _domain_errors():
        filed = await briefings.filed_report(queries=queries, principal=principal, period_text=period)
        report = None
        if filed is None:
            report = await briefings.periodic_report(
                queries=queries, settings=settings, principal=principal, period_text=period
            )
    if format != "json":
        download = {"format": format, "filed_version": filed[1]["version"] if filed is not None else None}
        await queries.audit(
            principal=principal, action="briefing.download", target=f"periodic-reports/{period}", details=download
        )
    if filed is not None:
        return _filed_response(*filed, fmt=format, tz=tz)
    assert report is not None
    if format == "json":
        return JSONResponse(jsonable_encoder(report))
    content = await run_in_threadpool(exports.render, report, tz, format, template=settings.briefing_template)
    return Response(
        content,
        media_type=exports.MEDIA_TYPES[format],
        headers={"Content-Disposition": exports.content_disposition(report["period"]["period"], format)},
    )


def _filed_response(report: dict[str, Any], doc: Any, *, fmt: str, tz: ZoneInfo) -> Response:
    """A closed period's filed version: the stored bytes exactly, their sha256, and the late delta count."""
    headers = {
        "X-Pulse-Filed-Version": str(doc["version"]),
        "X-Pulse-Late-Reports": str(report["late"]["reports"]),
    }
    if fmt == "json":
        return JSONResponse(report, headers=headers)
    name = report["period"]["period"]
    headers["Content-Disposition"] = exports.content_disposition(name, fmt)
    if fmt == "csv":
        return Response(exports.to_csv(report, tz), media_type=exports.MEDIA_TYPES[fmt], headers=headers)
    content = bytes(doc[fmt])
    digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
    headers["Repr-Digest"] = f"sha-256=:{digest}:"
    headers["X-Pulse-Sha256"] = doc["sha256"][fmt]
    return Response(content, media_type=exports.MEDIA_TYPES[fmt], headers=headers)


@router.get("/surveys/{survey_id}/results", response_model=SurveyResults, tags=["surveys"])
async def survey_results(
    request: Request,
    principal: SurveyReader,
    survey_id: Annotated[str, Path(max_length=64)],
    by: Annotated[
        Literal["unit", "gender", "age_group", "occupation"] | None,
        Query(description="Break the results down by unit or by a demographic of the respondents"),
    ] = None,
) -> dict[str, Any]:
    """Counts and percentages of a survey over the responses from the caller's units.

    Free-text answers are listed for the department and administrators only, without who gave them
    (each such read is audited), and never inside a breakdown.
    """
    async with _domain_errors():
        result = await handlers.survey_results_for(
            queries=_queries(request), principal=principal, survey_id=survey_id, by=by
        )
    encoded: dict[str, Any] = jsonable_encoder(result)
    return encoded


@router.get(
    "/surveys/{survey_id}/responses.xlsx",
    tags=["surveys"],
    response_class=Response,
    responses={200: {"content": {exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def survey_responses_export(
    request: Request, principal: SurveyReader, survey_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """Raw data of every response (one row each, numbered, no respondent id) for analysts; department and admin."""
    async with _domain_errors():
        data = await handlers.survey_raw_export(queries=_queries(request), principal=principal, survey_id=survey_id)
    content = await run_in_threadpool(exports.survey_responses_xlsx, data["survey"], data["sheets"], data["unit_names"])
    filename = f"khao-sat-{survey_id}.xlsx"
    return Response(
        content,
        media_type=exports.MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
