"""Use case: assemble the periodic briefing (báo cáo giao ban) of a period for one caller's scope."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.encoders import jsonable_encoder
from pulse_libs.auth import Principal, pseudonym
from pulse_libs.clock import utcnow
from pulse_libs.periods import Window, local_bounds, local_days, parse_period, same_period_last_year, window

from pulse_reporting import handlers
from pulse_reporting.adapters.exports import to_docx, to_xlsx
from pulse_reporting.adapters.queries import Queries
from pulse_reporting.domain import briefing as sections
from pulse_reporting.domain import directives as directive_figures
from pulse_reporting.domain.errors import InvalidPeriodError
from pulse_reporting.domain.forecast import forecast, proposals
from pulse_reporting.domain.rollup import UnitTree, each_unit, roll_rows
from pulse_reporting.domain.stats import Granularity, Totals, change_percent, totals_from_rows, trend_series
from pulse_reporting.domain.surveys import survey_results
from pulse_reporting.handlers import COLLABORATOR_KINDS, identify, names, period_info, period_rows
from pulse_reporting.settings import ReportingSettings


async def periodic_report(
    *,
    queries: Queries,
    settings: ReportingSettings,
    principal: Principal,
    period_text: str,
    pseudonymous: bool = False,
) -> dict[str, Any]:
    """Every section of the briefing, limited to the caller's units, collaborators pseudonymous unless allowed.

    `pseudonymous` forces pseudonyms even for callers who may see identities (the filed version).
    """
    period = parse_period(period_text)
    tz = ZoneInfo(settings.timezone)
    w = window(period, cutoff_day=settings.period_cutoff_day, tz=tz)
    units = principal.unit_filter()
    unit_names, topic_names = await names(queries)
    if units is not None:
        unit_names = {c: n for c, n in unit_names.items() if c in units}
    first, end_day = local_bounds(period, settings.period_cutoff_day)
    last_day = (end_day - timedelta(days=1)).isoformat()
    # A legacy unit's reports count under its successors in every section built from counter rows.
    tree = await handlers.unit_tree(queries)
    sources = None if units is None else sorted(tree.sources(units, "successor"))
    day_rows, collab_rows = (
        roll_rows(rows, tree, "successor", wanted=units)
        for rows in await queries.window_rows(first_day=first.isoformat(), last_day=last_day, units=sources)
    )
    snapshot = await queries.snapshot(period.name)
    frozen = snapshot is not None and snapshot.get("state") == "closed"
    if frozen:
        current_rows, _ = await period_rows(queries=queries, settings=settings, period=period, units=units, tree=tree)
    else:
        current_rows = day_rows
    current = totals_from_rows(current_rows)
    previous_rows, _ = await period_rows(
        queries=queries, settings=settings, period=period.previous(), units=units, tree=tree
    )
    previous = totals_from_rows(previous_rows)
    last_year = same_period_last_year(period)
    a_year_ago, _ = await period_rows(queries=queries, settings=settings, period=last_year, units=units, tree=tree)
    year_ago = totals_from_rows(a_year_ago)
    late = None
    if frozen:
        late = await _late(queries, snapshot, units, tree, first)
    now = utcnow()
    hotspots = await queries.hotspots(start=w.start, end=w.end, units=units)
    escalations = await queries.escalations(start=w.start, end=w.end, units=units)
    agency_names = await queries.agency_names()
    all_directives = await queries.directives(end=w.end, units=units)
    spot_ids = {str(h["_id"]) for h in hotspots}
    per_spot = directive_figures.hotspot_directives(
        [d for d in all_directives if str(d.get("hotspot_id")) in spot_ids],
        until=min(w.end, now),
        agency_names=agency_names,
    )
    reveal = principal.sees_identities and not pseudonymous
    collaborators = sections.collaborator_activity(
        collab_rows, identify=identify(settings, principal) if reveal else lambda s: pseudonym(settings, s)
    )
    if reveal and collaborators:
        await queries.audit(
            principal=principal,
            action="identities.read",
            target=f"periodic-reports/{period.name}",
            details={"count": len(collaborators)},
        )
    next_first, next_last = local_days(period.next(), settings.period_cutoff_day)
    report: dict[str, Any] = {
        "period": period_info(settings=settings, period=period),
        "generated_at": now,
        "scope": {"unit_codes": units},
        "frozen": frozen,
        "closed_at": snapshot.get("closed_at") if snapshot and frozen else None,
        "document": _document(settings, snapshot if frozen else None),
        "totals": current.as_dict(),
        "previous": _comparison(period.previous().name, current, previous),
        "same_period_last_year": _comparison(last_year.name, current, year_ago),
        "late": late.as_dict() if late is not None else None,
        "trend": _trend(day_rows, period.kind, first, end_day, settings),
        "top_topics": sections.top_topics(current, previous),
        "hotspots": sections.hotspot_rows(hotspots, escalations, per_spot),
        "escalations": sections.escalation_stats(escalations),
        "directives": directive_figures.directive_stats(
            all_directives, start=w.start, end=w.end, now=now, agency_names=agency_names
        ),
        "orientation_coverage": await _coverage(queries, settings, w, units, unit_names, day_rows, tree),
        "collaborators": {
            "identities": "revealed" if reveal else "pseudonymous",
            "active": len({c["collaborator"] for c in collaborators}),
            "items": collaborators,
        },
        "surveys": await _surveys(queries, w, units),
        "deliveries": await _deliveries(queries, w, units),
        "forecast": forecast(
            current_rows=day_rows,
            previous_rows=previous_rows,
            current_by_topic=current.by_topic,
            previous_by_topic=previous.by_topic,
            first=first,
            last=end_day - timedelta(days=1),
            next_days=(next_last - next_first).days + 1,
        ),
        "names": {"units": unit_names, "topics": topic_names, "agencies": agency_names},
    }
    report["proposals"] = proposals(report)
    return report


async def _late(
    queries: Queries,
    snapshot: Mapping[str, Any] | None,
    units: list[str] | None,
    tree: UnitTree | None = None,
    first: date | None = None,
) -> Totals:
    """The late delta of a closed period: reports for its window that arrived after this closing.

    Its rows are dated by the period's `first` day for the unit history (unknown: every successor link applies).
    """
    if snapshot is None:
        return Totals()
    bucket = str(snapshot.get("late_bucket") or snapshot["_id"])
    tree = tree or await handlers.unit_tree(queries)
    sources = None if units is None else sorted(tree.sources(units, "successor"))
    rows = await queries.late_rows(period=bucket, units=sources, topic_code=None)
    return totals_from_rows(roll_rows(rows, tree, "successor", wanted=units, default_day=first))


async def close_and_file(
    *,
    queries: Queries,
    settings: ReportingSettings,
    principal: Principal,
    period_text: str,
    document_number: str | None,
) -> dict[str, Any]:
    """Close a period and file its whole report: every section as JSON, the DOCX and XLSX bytes with their sha256.

    A close interrupted after the freeze but before the filing is finished by closing again.
    """
    period = parse_period(period_text)
    snapshot = await queries.snapshot(period.name)
    version = int((snapshot or {}).get("version", 1))
    if (
        snapshot is not None
        and snapshot.get("state") == "closed"
        and await queries.filed(period=period.name, version=version) is None
    ):
        result = {**period_info(settings=settings, period=period), "closed_at": snapshot["closed_at"]}
        result |= {"version": version, "reports": -1}
    else:
        result = await handlers.close_period(
            queries=queries,
            settings=settings,
            principal=principal,
            period_text=period_text,
            document_number=document_number,
        )
    report = await periodic_report(
        queries=queries, settings=settings, principal=principal, period_text=period.name, pseudonymous=True
    )
    result["reports"] = report["totals"]["reports"]
    tz = ZoneInfo(settings.timezone)
    docx = await asyncio.to_thread(to_docx, report, tz, template=settings.briefing_template)
    xlsx = await asyncio.to_thread(to_xlsx, report, tz)
    digests = {"docx": hashlib.sha256(docx).hexdigest(), "xlsx": hashlib.sha256(xlsx).hexdigest()}
    await queries.save_filed(
        {
            "_id": f"{period.name}@v{result['version']}",
            "period": period.name,
            "version": result["version"],
            "filed_at": report["generated_at"],
            "filed_by": principal.subject,
            "document_number": report["document"]["number"],
            "report_json": json.dumps(jsonable_encoder(report), ensure_ascii=False),
            "docx": docx,
            "xlsx": xlsx,
            "sha256": digests,
        }
    )
    filed = await queries.filed(period=period.name, version=result["version"])
    assert filed is not None
    return {**result, "filed": _filed_info(filed)}


def _filed_info(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": int(doc["version"]),
        "filed_at": doc["filed_at"],
        "document_number": doc.get("document_number"),
        "sha256": dict(doc["sha256"]),
    }


async def filed_report(
    *, queries: Queries, principal: Principal, period_text: str
) -> tuple[dict[str, Any], Mapping[str, Any]] | None:
    """The filed version of a closed period with the live late delta beside it; None if not filed.

    Only callers who see every unit get the filed version (it covers every unit); a unit-limited
    caller's briefing of a closed period is built from the frozen figures of its units instead.
    """
    if principal.unit_filter() is not None:
        return None
    period = parse_period(period_text)
    snapshot = await queries.snapshot(period.name)
    if snapshot is None or snapshot.get("state") != "closed":
        return None
    doc = await queries.filed(period=period.name, version=int(snapshot.get("version", 1)))
    if doc is None:
        return None
    report: dict[str, Any] = json.loads(doc["report_json"])
    report["late"] = (await _late(queries, snapshot, None)).as_dict()
    report["filed"] = jsonable_encoder(_filed_info(doc))
    return report, doc


def _comparison(name: str, current: Totals, other: Totals) -> dict[str, Any]:
    return {"period": name, "reports": other.reports, "change_percent": change_percent(current.reports, other.reports)}


def _trend(
    rows: list[dict[str, Any]], kind: str, first: date, end_day: date, settings: ReportingSettings
) -> dict[str, Any]:
    granularity: Granularity = "day" if kind == "month" else "month"
    items = trend_series(
        rows,
        start=first,
        end=end_day - timedelta(days=1),
        granularity=granularity,
        cutoff_day=settings.period_cutoff_day,
    )
    return {"granularity": granularity, "items": [{"bucket": i["bucket"], "reports": i["reports"]} for i in items]}


def _document(settings: ReportingSettings, snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """The particulars of the document: who issues it, where, its number and date (filed once closed)."""
    tz = ZoneInfo(settings.timezone)
    issued = (snapshot or {}).get("closed_at") or utcnow()
    return {
        "committee": settings.briefing_committee,
        "department": settings.briefing_department,
        "department_prose": settings.briefing_department_prose,
        "number": (snapshot or {}).get("document_number"),
        "symbol": settings.briefing_symbol,
        "place": settings.briefing_place,
        "issued_on": issued.astimezone(tz).date().isoformat(),
        "signing_for": settings.briefing_signing_for,
        "signatory_title": settings.briefing_signatory_title,
        "signatory_name": settings.briefing_signatory_name,
        "recipients": list(settings.briefing_recipients),
    }


async def _coverage(
    queries: Queries,
    settings: ReportingSettings,
    w: Window,
    units: list[str] | None,
    unit_names: dict[str, str],
    period_rows: list[dict[str, Any]],
    tree: UnitTree,
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
            rows = [r for r in each_unit(period_rows) if r["unit"] in set(targets)]
        else:
            rows = each_unit(
                await handlers.rolled_rows(
                    queries, first=first, last=last, units=targets, topic_code=None, rollup="successor", tree=tree
                )
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
