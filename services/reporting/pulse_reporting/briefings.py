"""Use case: assemble the periodic briefing (báo cáo giao ban) of a period for one caller's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.periods import Window, local_bounds, parse_period, window

from pulse_reporting.adapters.queries import Queries
from pulse_reporting.domain import briefing as sections
from pulse_reporting.domain.errors import InvalidPeriodError
from pulse_reporting.domain.stats import change_percent, totals_from_rows
from pulse_reporting.domain.surveys import survey_results
from pulse_reporting.handlers import COLLABORATOR_KINDS, identify, names, period_info, period_totals
from pulse_reporting.settings import ReportingSettings


async def periodic_report(
    *, queries: Queries, settings: ReportingSettings, principal: Principal, period_text: str
) -> dict[str, Any]:
    """Every section of the briefing, limited to the caller's units, collaborators pseudonymous unless allowed."""
    period = parse_period(period_text)
    tz = ZoneInfo(settings.timezone)
    w = window(period, cutoff_day=settings.period_cutoff_day, tz=tz)
    units = principal.unit_filter()
    unit_names, topic_names = await names(queries)
    if units is not None:
        unit_names = {c: n for c, n in unit_names.items() if c in units}
    first, end_day = local_bounds(period, settings.period_cutoff_day)
    last_day = (end_day - timedelta(days=1)).isoformat()
    day_rows, collab_rows = await queries.window_rows(first_day=first.isoformat(), last_day=last_day, units=units)
    snapshot = await queries.snapshot(period.name)
    frozen = snapshot is not None and snapshot.get("state") == "closed"
    if frozen:
        current, _ = await period_totals(queries=queries, settings=settings, period=period, units=units)
    else:
        current = totals_from_rows(day_rows)
    previous, _ = await period_totals(queries=queries, settings=settings, period=period.previous(), units=units)
    late = None
    if frozen:
        late = totals_from_rows(await queries.late_rows(period=period.name, units=units, topic_code=None))
    hotspots = await queries.hotspots(start=w.start, end=w.end, units=units)
    escalations = await queries.escalations(start=w.start, end=w.end, units=units)
    collaborators = sections.collaborator_activity(collab_rows, identify=identify(settings, principal))
    if principal.sees_identities and collaborators:
        await queries.audit(
            {
                "at": utcnow(),
                "action": "identities:read",
                "subject": principal.subject,
                "role": principal.role,
                "resource": f"periodic-reports/{period.name}",
                "count": len(collaborators),
            }
        )
    return {
        "period": period_info(settings=settings, period=period),
        "generated_at": utcnow(),
        "scope": {"unit_codes": units},
        "frozen": frozen,
        "closed_at": snapshot.get("closed_at") if snapshot and frozen else None,
        "totals": current.as_dict(),
        "previous": {
            "period": period.previous().name,
            "reports": previous.reports,
            "change_percent": change_percent(current.reports, previous.reports),
        },
        "late": late.as_dict() if late is not None else None,
        "top_topics": sections.top_topics(current, previous),
        "hotspots": sections.hotspot_rows(hotspots, escalations),
        "escalations": sections.escalation_stats(escalations),
        "orientation_coverage": await _coverage(queries, settings, w, units, unit_names, day_rows),
        "collaborators": {
            "identities": "revealed" if principal.sees_identities else "pseudonymous",
            "active": len({c["collaborator"] for c in collaborators}),
            "items": collaborators,
        },
        "surveys": await _surveys(queries, w, units),
        "deliveries": await _deliveries(queries, w, units),
        "names": {"units": unit_names, "topics": topic_names},
    }


async def _coverage(
    queries: Queries,
    settings: ReportingSettings,
    w: Window,
    units: list[str] | None,
    unit_names: dict[str, str],
    period_rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    tz = ZoneInfo(settings.timezone)
    all_units = await queries.names("units")
    default_targets = [
        c for c, d in all_units.items() if d.get("kind") in COLLABORATOR_KINDS and not d.get("replaced_by")
    ]
    out: list[dict[str, Any]] = []
    for orientation in await queries.orientations():
        try:
            ow = window(parse_period(str(orientation.get("period", ""))), cutoff_day=settings.period_cutoff_day, tz=tz)
        except InvalidPeriodError:
            continue
        if not sections.overlaps(w.start, w.end, ow.start, ow.end):
            continue
        targets = list(orientation.get("unit_codes") or default_targets)
        if units is not None:
            targets = [u for u in targets if u in units]
        first, last = ow.start.astimezone(tz).date(), (ow.end.astimezone(tz) - timedelta(days=1)).date()
        if ow == w:  # the usual case: the orientation of this very period; its rows are already read
            rows = [r for r in period_rows if r["unit"] in set(targets)]
        else:
            rows = await queries.counter_rows(
                first_day=first.isoformat(), last_day=last.isoformat(), units=targets, topic_code=None
            )
        silent = sections.silent_units(topic_codes=orientation.get("topic_codes", []), target_units=targets, rows=rows)
        for topic, silent_codes in silent.items():
            out.append(
                {
                    "orientation_id": str(orientation["_id"]),
                    "title": orientation.get("title", ""),
                    "period": orientation.get("period"),
                    "topic_code": topic,
                    "target_units": len(targets),
                    "silent_units": [{"code": c, "name": unit_names.get(c, c)} for c in silent_codes],
                }
            )
    return out


async def _surveys(queries: Queries, w: Window, units: list[str] | None) -> list[dict[str, Any]]:
    out = []
    for survey in await queries.surveys_in(start=w.start, end=w.end):
        targets = set(survey.get("unit_codes") or [])
        if units is not None and targets and not targets & set(units):
            continue
        sheets = await queries.responses(survey_id=str(survey["_id"]), units=units)
        out.append(survey_results(survey=survey, answer_sheets=sheets))
    return out


async def _deliveries(queries: Queries, w: Window, units: list[str] | None) -> dict[str, Any] | None:
    # Deliveries carry no unit: a unit-limited caller gets none rather than city-wide figures.
    if units is not None:
        return None
    return sections.delivery_summary(await queries.deliveries(start=w.start, end=w.end))
