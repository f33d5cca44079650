"""Directive figures of a period ("Kết quả chỉ đạo, xử lý"): opened, done, overdue, time to complete, on time/late."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pulse_libs.clock import as_utc

from pulse_reporting.domain.stats import percentile


def _at(doc: Mapping[str, Any], field: str) -> datetime | None:
    value = doc.get(field)
    return None if value is None else as_utc(value)


def _inside(instant: datetime | None, start: datetime, end: datetime) -> bool:
    return instant is not None and start <= instant < end


def outcome(doc: Mapping[str, Any], *, until: datetime) -> str:
    """`on_time`, `late` (done after its due time), `overdue` (not done, due before `until`) or `in_progress`."""
    due, done = _at(doc, "due_at"), _at(doc, "done_at")
    if done is not None and (doc.get("state") == "done" or done < until):
        return "on_time" if due is None or done <= due else "late"
    if (due is not None and due < until) or doc.get("overdue_at") is not None:
        return "overdue"
    return "in_progress"


def relevant(directives: Iterable[Mapping[str, Any]], start: datetime, end: datetime) -> list[Mapping[str, Any]]:
    """Directives that were opened, completed or became overdue in [start, end)."""
    return [
        d
        for d in directives
        if _inside(_at(d, "created_at"), start, end)
        or _inside(_at(d, "done_at"), start, end)
        or _inside(_at(d, "overdue_at"), start, end)
    ]


def _figures(docs: list[Mapping[str, Any]], start: datetime, end: datetime, until: datetime) -> dict[str, Any]:
    outcomes = [outcome(d, until=until) for d in docs]
    completion = [
        (done - created).total_seconds()
        for d in docs
        if (done := _at(d, "done_at")) is not None
        and (created := _at(d, "created_at")) is not None
        and _inside(done, start, end)
    ]
    return {
        "opened": sum(1 for d in docs if _inside(_at(d, "created_at"), start, end)),
        "done": len(completion),
        "overdue": outcomes.count("overdue"),
        "on_time": outcomes.count("on_time"),
        "late": outcomes.count("late"),
        "in_progress": outcomes.count("in_progress"),
        "median_completion_seconds": percentile(completion, 50),
    }


def directive_stats(
    directives: Iterable[Mapping[str, Any]],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    agency_names: Mapping[str, str],
) -> dict[str, Any]:
    """Totals, per agency and per unit, of the directives relevant to [start, end)."""
    until = min(end, now)
    docs = relevant(directives, start, end)
    by_agency: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_unit: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for d in docs:
        by_agency[str(d.get("assignee", ""))].append(d)
        by_unit[str(d.get("unit_code", ""))].append(d)
    return {
        **_figures(docs, start, end, until),
        "by_agency": [
            {"agency_code": code, "name": agency_names.get(code, code), **_figures(items, start, end, until)}
            for code, items in sorted(by_agency.items())
        ],
        "by_unit": [
            {"unit_code": code, **_figures(items, start, end, until)} for code, items in sorted(by_unit.items())
        ],
    }


def hotspot_directives(
    directives: Iterable[Mapping[str, Any]], *, until: datetime, agency_names: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Each hot spot's directives, oldest first, with their outcome."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in sorted(directives, key=lambda d: (str(d.get("created_at")), str(d["_id"]))):
        assignee = str(d.get("assignee", ""))
        out[str(d.get("hotspot_id", ""))].append(
            {
                "directive_id": str(d["_id"]),
                "assignee": assignee,
                "assignee_name": agency_names.get(assignee, assignee),
                "instruction": d.get("instruction", ""),
                "due_at": d.get("due_at"),
                "state": d.get("state", "open"),
                "outcome": outcome(d, until=until),
                "done_at": d.get("done_at"),
                "result": d.get("result"),
            }
        )
    return dict(out)
