"""Use cases of the reporting service: statistics, periods and their freeze, briefings, survey results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pulse_libs.auth import Principal, pseudonym
from pulse_libs.clock import as_utc, utcnow
from pulse_libs.periods import Period, Window, local_bounds, parse_period, window

from pulse_reporting.adapters.queries import Queries
from pulse_reporting.adapters.readmodels import TOPICS, UNITS
from pulse_reporting.domain import briefing as sections
from pulse_reporting.domain.errors import (
    ForbiddenError,
    InvalidRangeError,
    NotFoundError,
    PeriodAlreadyClosedError,
    PeriodNotClosedError,
    PeriodNotEndedError,
)
from pulse_reporting.domain.rollup import Rollup, UnitTree, roll_docs, roll_rows
from pulse_reporting.domain.stats import Granularity, Totals, totals_from_rows, trend_series
from pulse_reporting.domain.surveys import Breakdown, survey_results
from pulse_reporting.settings import ReportingSettings

COLLABORATOR_KINDS = ("ward", "commune", "town")


def scoped_units(principal: Principal, unit_code: str | None) -> list[str] | None:
    """Units a statistics request covers; a unit outside the caller's scope is absent (404)."""
    units = principal.unit_filter(unit_code)
    if units == [] and unit_code is not None:
        raise NotFoundError(f"unit {unit_code}")
    return units


async def unit_tree(queries: Queries) -> UnitTree:
    """Successor links and parents from the units mirror (a few thousand units at most)."""
    return UnitTree.from_units(await queries.names(UNITS))


async def rolled_rows(
    queries: Queries,
    *,
    first: date,
    last: date,
    units: list[str] | None,
    topic_code: str | None,
    rollup: Rollup,
    tree: UnitTree | None = None,
) -> list[dict[str, Any]]:
    """Daily counter rows of first..last with a legacy unit's reports under its successors (domain.rollup)."""
    tree = tree or await unit_tree(queries)
    sources = None if units is None else sorted(tree.sources(units, rollup))
    rows = await queries.counter_rows(
        first_day=first.isoformat(), last_day=last.isoformat(), units=sources, topic_code=topic_code
    )
    return roll_rows(rows, tree, rollup, wanted=units)


def day_range(*, first: date | None, last: date | None, today: date, settings: ReportingSettings) -> tuple[date, date]:
    """Resolve a local-day range (both ends included); default: the current reporting month so far."""
    last = last or today
    if first is None:
        cutoff = settings.period_cutoff_day
        first = (
            last.replace(day=cutoff)
            if last.day >= cutoff
            else (last.replace(day=1) - timedelta(days=1)).replace(day=cutoff)
        )
        if cutoff == 1:
            first = last.replace(day=1)
    if first > last:
        raise InvalidRangeError("`from` is after `to`")
    if (last - first).days + 1 > settings.max_range_days:
        raise InvalidRangeError(f"the range covers more than {settings.max_range_days} days")
    return first, last


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Start of a local day as an aware UTC datetime."""
    return as_utc(datetime(day.year, day.month, day.day, tzinfo=tz))


async def summary(
    *,
    queries: Queries,
    settings: ReportingSettings,
    principal: Principal,
    first: date,
    last: date,
    unit_code: str | None,
    topic_code: str | None,
    rollup: Rollup = "successor",
) -> dict[str, Any]:
    """Totals by urgency, channel, sentiment, topic and unit; hot spots opened; escalations and time to ack.

    `rollup`: `successor` (default) counts a legacy unit's reports under its successors, `parent` also under
    every unit up the parent chain, `none` as filed (domain.rollup says how).
    """
    tz = ZoneInfo(settings.timezone)
    units = scoped_units(principal, unit_code)
    tree = await unit_tree(queries)
    rows = await rolled_rows(
        queries, first=first, last=last, units=units, topic_code=topic_code, rollup=rollup, tree=tree
    )
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    sources = None if units is None else sorted(tree.sources(units, rollup))

    def rolled(docs: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
        def day_of(doc: Mapping[str, Any]) -> date | None:
            return as_utc(doc[field]).astimezone(tz).date() if doc.get(field) else None

        return _topic_filter(roll_docs(docs, tree, rollup, wanted=units, day_of=day_of), topic_code)

    hotspots = rolled(await queries.hotspots(start=start, end=end, units=sources), "opened_at")
    escalations = rolled(await queries.escalations(start=start, end=end, units=sources), "raised_at")
    by_status: dict[str, int] = {}
    for doc in hotspots:
        status = sections.hotspot_status(doc)
        by_status[status] = by_status.get(status, 0) + 1
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "unit_code": unit_code,
        "topic_code": topic_code,
        "rollup": rollup,
        **totals_from_rows(rows, topic_code=topic_code).as_dict(),
        "hotspots": {"opened": len(hotspots), "by_status": by_status},
        "escalations": sections.escalation_stats(escalations),
    }


def _topic_filter(docs: list[dict[str, Any]], topic_code: str | None) -> list[dict[str, Any]]:
    return docs if topic_code is None else [d for d in docs if d.get("topic_code") == topic_code]


async def trends(
    *,
    queries: Queries,
    settings: ReportingSettings,
    principal: Principal,
    first: date,
    last: date,
    granularity: Granularity,
    unit_code: str | None,
    topic_code: str | None,
    rollup: Rollup = "successor",
) -> dict[str, Any]:
    """Report counts per day, ISO week or reporting month, zeros included; `rollup` as in `summary`."""
    units = scoped_units(principal, unit_code)
    rows = await rolled_rows(queries, first=first, last=last, units=units, topic_code=topic_code, rollup=rollup)
    series = trend_series(
        rows,
        start=first,
        end=last,
        granularity=granularity,
        cutoff_day=settings.period_cutoff_day,
        topic_code=topic_code,
    )
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "granularity": granularity,
        "unit_code": unit_code,
        "topic_code": topic_code,
        "rollup": rollup,
        "items": series,
    }


def period_info(*, settings: ReportingSettings, period: Period) -> dict[str, Any]:
    """The window of a period, in local time with its offset, and the period before it."""
    tz = ZoneInfo(settings.timezone)
    w = window(period, cutoff_day=settings.period_cutoff_day, tz=tz)
    return {
        "period": period.name,
        "kind": period.kind,
        "start": w.start.astimezone(tz).isoformat(),
        "end": w.end.astimezone(tz).isoformat(),
        "cutoff_day": settings.period_cutoff_day,
        "previous": period.previous().name,
    }


async def close_period(
    *,
    queries: Queries,
    settings: ReportingSettings,
    principal: Principal,
    period_text: str,
    document_number: str | None = None,
) -> dict[str, Any]:
    """Freeze a period's figures (chốt số liệu); later reports for it count as a visible late delta."""
    period = parse_period(period_text)
    w = _window(settings, period)
    now = utcnow()
    if now < w.end:
        raise PeriodNotEndedError(f"period {period.name} ends at {w.end.isoformat()}; it cannot be closed yet")
    snapshot = await queries.begin_snapshot(
        period=period.name, start=w.start, end=w.end, by=principal.subject, at=now, document_number=document_number
    )
    if snapshot is None:
        raise PeriodAlreadyClosedError(f"period {period.name} is already closed")
    first, last = local_bounds(period, settings.period_cutoff_day)
    rows = await queries.counter_rows(
        first_day=first.isoformat(), last_day=(last - timedelta(days=1)).isoformat(), units=None, topic_code=None
    )
    frozen = _merge_days(rows)
    await queries.finish_snapshot(period=period.name, rows=frozen)
    totals = totals_from_rows(frozen)
    return {
        **period_info(settings=settings, period=period),
        "closed_at": snapshot["closed_at"],
        "version": int(snapshot.get("version", 1)),
        "reports": totals.reports,
    }


async def reopen_period(
    *, queries: Queries, settings: ReportingSettings, principal: Principal, period_text: str, reason: str
) -> dict[str, Any]:
    """Reopen a closed period (admin): figures count live again until it is closed (and filed) anew; audited."""
    period = parse_period(period_text)
    now = utcnow()
    snapshot = await queries.reopen_snapshot(period=period.name, by=principal.subject, at=now, reason=reason)
    if snapshot is None:
        raise PeriodNotClosedError(f"period {period.name} is not closed")
    await queries.audit(
        principal=principal,
        action="period.reopen",
        target=f"periods/{period.name}",
        details={"filed_version": int(snapshot.get("version", 1)), "reason": reason},
    )
    return {
        **period_info(settings=settings, period=period),
        "state": "reopened",
        "reopened_at": now,
        "reopened_by": principal.subject,
        "filed_version": int(snapshot.get("version", 1)),
        "reason": reason,
    }


FROZEN_KEY = ("bucket", "unit", "topic", "urgency", "channel", "sentiment")
"""A frozen row per local day too: a legacy unit's reports roll up by the day they were filed (domain.rollup)."""


def _merge_days(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(str(row[k]) for k in FROZEN_KEY)
        slot = merged.setdefault(key, dict(zip(FROZEN_KEY, key, strict=True)))
        slot["reports"] = slot.get("reports", 0) + int(row.get("reports", 0))
        slot["mentions"] = slot.get("mentions", 0) + int(row.get("mentions", 0))
    return [row for row in merged.values() if row["reports"] or row["mentions"]]


def _window(settings: ReportingSettings, period: Period) -> Window:
    return window(period, cutoff_day=settings.period_cutoff_day, tz=ZoneInfo(settings.timezone))


async def period_totals(
    *, queries: Queries, settings: ReportingSettings, period: Period, units: list[str] | None
) -> tuple[Totals, dict[str, Any] | None]:
    """A period's totals: the frozen figures once closed, else live; with the freeze record if any."""
    rows, snapshot = await period_rows(queries=queries, settings=settings, period=period, units=units)
    return totals_from_rows(rows), snapshot


async def period_rows(
    *,
    queries: Queries,
    settings: ReportingSettings,
    period: Period,
    units: list[str] | None,
    tree: UnitTree | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A period's counter rows (unit × topic × urgency × channel × sentiment): frozen once closed, else live.

    A legacy unit's reports count under its successors (domain.rollup). Frozen rows are kept as filed (per day)
    and rolled with the registry of today; rows frozen before they kept their day are dated by the period's
    first day.
    """
    tree = tree or await unit_tree(queries)
    sources = None if units is None else sorted(tree.sources(units, "successor"))
    first, last = local_bounds(period, settings.period_cutoff_day)
    snapshot = await queries.snapshot(period.name)
    if snapshot is not None and snapshot.get("state") == "closed":
        frozen = await queries.snapshot_rows(period=period.name, units=sources, topic_code=None)
        return roll_rows(frozen, tree, "successor", wanted=units, default_day=first), snapshot
    rows = await rolled_rows(
        queries, first=first, last=last - timedelta(days=1), units=units, topic_code=None, rollup="successor", tree=tree
    )
    return rows, None


TEXT_READERS = ("department", "admin")
"""Roles that read free-text survey answers (API.md), without who gave them."""


async def _survey_in_scope(queries: Queries, principal: Principal, survey_id: str) -> dict[str, Any]:
    survey = await queries.survey(survey_id)
    if survey is None:
        raise NotFoundError(f"survey {survey_id}")
    targets = set(survey.get("unit_codes") or [])
    if principal.unit_codes is not None and targets and not (targets & principal.unit_codes):
        raise NotFoundError(f"survey {survey_id}")
    return survey


async def survey_results_for(
    *, queries: Queries, principal: Principal, survey_id: str, by: Breakdown | None = None
) -> dict[str, Any]:
    """Results of one survey over the responses from the caller's units; free text for department and admin."""
    survey = await _survey_in_scope(queries, principal, survey_id)
    units = None if principal.unit_codes is None else sorted(principal.unit_codes)
    sheets = await queries.responses(survey_id=survey_id, units=units)
    show_text = principal.kind == "user" and principal.role in TEXT_READERS
    unit_names, _ = await names(queries)
    result = survey_results(
        survey=survey, answer_sheets=sheets, show_text=show_text, by=by, unit_name=lambda c: unit_names.get(c, c)
    )
    texts = sum(len(q.get("answers", [])) for q in result["questions"])
    if show_text and texts:
        await queries.audit(
            principal=principal,
            action="survey_text.read",
            target=f"surveys/{survey_id}/results",
            details={"count": texts},
        )
    return result


async def survey_raw_export(*, queries: Queries, principal: Principal, survey_id: str) -> dict[str, Any]:
    """Every response of a survey as raw data for the province's analysts (department, admin); audited."""
    if principal.kind != "user" or principal.role not in TEXT_READERS:
        raise ForbiddenError("Only the department and administrators export survey responses.")
    survey = await _survey_in_scope(queries, principal, survey_id)
    sheets = await queries.responses(survey_id=survey_id, units=None)
    unit_names, _ = await names(queries)
    await queries.audit(
        principal=principal,
        action="survey_responses.export",
        target=f"surveys/{survey_id}/responses",
        details={"count": len(sheets)},
    )
    return {"survey": survey, "sheets": sheets, "unit_names": unit_names}


async def names(queries: Queries) -> tuple[dict[str, str], dict[str, str]]:
    """Unit and topic names by code, from the registry mirror."""
    units = await queries.names(UNITS)
    topics = await queries.names(TOPICS)
    return ({c: str(d.get("name", c)) for c, d in units.items()}, {c: str(d.get("name", c)) for c, d in topics.items()})


def identify(settings: ReportingSettings, principal: Principal) -> Any:
    """How collaborators appear to this caller: raw ids for department/admin, pseudonyms otherwise."""
    if principal.sees_identities:
        return lambda subject: subject
    return lambda subject: pseudonym(settings, subject)
