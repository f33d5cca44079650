"""REST routes for reports: submit (single, batch), read, list."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.events.common import Channel, Urgency
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require, require_any
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from pulse_intake.adapters import audit
from pulse_intake.context import Ctx, IntakeContext
from pulse_intake.entrypoints.common import cursor_value, next_cursor, problems
from pulse_intake.entrypoints.schemas import BatchIn, BatchItemResult, BatchOut, ReportCreate, ReportOut
from pulse_intake.handlers import reports

router = APIRouter(tags=["reports"])
Writer = Annotated[Principal, Depends(require("reports:write"))]
Reader = Annotated[Principal, Depends(require_any("reports:read", "reports:read:own"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Same key + same body → same answer"),
]
Status = Annotated[
    str | None,
    Query(pattern="^(received|triaged|merged|escalated|acknowledged|resolved)$", description="Report status"),
]
_item = TypeAdapter(ReportCreate)


def _skew(ctx: IntakeContext) -> timedelta:
    return timedelta(seconds=ctx.settings.clock_skew_seconds)


@router.post("/v1/reports", status_code=201, response_model=ReportOut, responses=problems(409, 413, 422))
async def submit_report(
    ctx: Ctx, request: Request, response: Response, body: ReportCreate, principal: Writer, idem: IdempotencyKey = None
) -> dict[str, Any]:
    """Submit one report; 201 only once it (and its event) is durably stored."""
    data = body.model_dump()
    try:
        await reports.check_report(registry=ctx.registry, principal=principal, body=data, now=utcnow(), skew=_skew(ctx))
        result = await reports.submit(
            reports=ctx.store.reports,
            principal=principal,
            body=data,
            raw=await request.json() if idem else data,
            idem=idem,
        )
    except reports.ReportRejected as exc:
        ctx.metrics.rejected.labels(exc.reason).inc()
        raise ProblemError(422, "The report is not acceptable; see errors.", errors=exc.errors) from None
    except reports.ReportConflict as exc:
        ctx.metrics.rejected.labels(exc.reason).inc()
        if exc.reason == "idempotency_conflict":
            raise ProblemError(409, "This Idempotency-Key was used with a different body.") from None
        raise ProblemError(
            409, "A report with this external_ref/client_id was already submitted.", extra={"id": exc.existing_id}
        ) from None
    if not result.replayed:
        ctx.metrics.accepted.labels(data["channel"]).inc()
        ctx.kick()
    response.headers["Location"] = f"/v1/reports/{result.report['_id']}"
    return reports.report_view(result.report, identities=principal.sees_identities, viewer=principal)


@router.post("/v1/reports:batch", response_model=BatchOut, responses=problems(413, 422))
async def submit_batch(ctx: Ctx, body: BatchIn, principal: Writer) -> BatchOut:
    """Submit up to 500 reports; each item is idempotent by its external_ref (or client_id)."""
    results: dict[int, BatchItemResult] = {}
    docs: list[dict[str, Any]] = []
    positions: list[int] = []
    now = utcnow()
    for index, raw in enumerate(body.reports):
        try:
            item = _item.validate_python(raw).model_dump()
            await reports.check_report(registry=ctx.registry, principal=principal, body=item, now=now, skew=_skew(ctx))
        except ValidationError as exc:
            ctx.metrics.rejected.labels("validation").inc()
            errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            results[index] = BatchItemResult(index=index, status=422, errors=errors)
            continue
        except reports.ReportRejected as exc:
            ctx.metrics.rejected.labels(exc.reason).inc()
            results[index] = BatchItemResult(index=index, status=422, errors=exc.errors)
            continue
        docs.append(reports.build_report(principal=principal, body=item, idem=None, fingerprint="", now=now))
        positions.append(index)
    duplicates = await reports.insert_batch(reports=ctx.store.reports, docs=docs)
    for pos, index in enumerate(positions):
        if pos in duplicates:
            ctx.metrics.rejected.labels("duplicate").inc()
            results[index] = BatchItemResult(index=index, status=409, id=duplicates[pos])
        else:
            ctx.metrics.accepted.labels(docs[pos]["channel"]).inc()
            results[index] = BatchItemResult(index=index, status=201, id=docs[pos]["_id"])
    if len(duplicates) < len(docs):
        ctx.kick()
    return BatchOut(results=[results[i] for i in sorted(results)])


@router.get("/v1/reports/{report_id}", response_model=ReportOut, responses=problems(404))
async def get_report(ctx: Ctx, report_id: str, principal: Reader) -> dict[str, Any]:
    """One report with its status and triage; 404 if absent or outside the caller's scope."""
    doc = await reports.get_report(reports=ctx.store.reports, principal=principal, report_id=report_id)
    if doc is None:
        raise not_found("Report")
    if principal.sees_identities:
        await audit.record(ctx.db, actor=principal, action="report.identity_read", target=report_id)
    return reports.report_view(doc, identities=principal.sees_identities, viewer=principal)


@router.get("/v1/reports", response_model=Page[ReportOut], responses=problems(400, 422))
async def list_reports(
    ctx: Ctx,
    principal: Reader,
    unit_code: Annotated[str | None, Query(max_length=64)] = None,
    topic_code: Annotated[str | None, Query(max_length=64)] = None,
    status: Status = None,
    urgency: Urgency | None = None,
    channel: Channel | None = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from", description="Received at or after (RFC 3339)")] = None,
    to: Annotated[AwareDatetime | None, Query(description="Received before (RFC 3339)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words to find, diacritics ignored")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Reports newest first, within the caller's scope; `q` ignores diacritics ('dat dai' finds 'đất đai')."""
    filters = {
        "unit_code": unit_code,
        "topic_code": topic_code,
        "status": status,
        "urgency": urgency.value if urgency else None,
        "channel": channel.value if channel else None,
        "from": from_,
        "to": to,
        "q": q,
    }
    docs = await reports.list_reports(
        reports=ctx.store.reports,
        principal=principal,
        filters=filters,
        before=cursor_value(cursor, "before"),
        limit=limit,
    )
    items = [reports.report_view(d, identities=principal.sees_identities, viewer=principal) for d in docs]
    if principal.sees_identities and items:
        await audit.record(
            ctx.db,
            actor=principal,
            action="report.identity_read",
            target="reports",
            details={"ids": [i["id"] for i in items]},
        )
    return {"items": items, "next_cursor": next_cursor(items, limit, "id", "before")}
