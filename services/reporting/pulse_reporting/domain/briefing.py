"""Sections of the periodic briefing (báo cáo giao ban) built from read-model rows, in plain Python."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from pulse_libs.clock import as_utc

from pulse_reporting.domain.stats import Totals, change_percent, percentile

TOP_TOPICS = 10


def escalation_stats(escalations: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts, and median / 95th percentile time to acknowledge overall and by the level that acknowledged."""
    raised = acknowledged = resolved = 0
    overall: list[float] = []
    per_level: dict[int, list[float]] = defaultdict(list)
    for esc in escalations:
        raised += 1
        resolved += 1 if esc.get("resolved_at") else 0
        ack_at = esc.get("acknowledged_at")
        if ack_at is None or esc.get("raised_at") is None:
            continue
        acknowledged += 1
        overall.append((as_utc(ack_at) - as_utc(esc["raised_at"])).total_seconds())
        level = int(esc.get("ack_level") or esc.get("level") or 1)
        paged = (esc.get("levels") or {}).get(str(level)) or esc["raised_at"]
        per_level[level].append((as_utc(ack_at) - as_utc(paged)).total_seconds())
    return {
        "raised": raised,
        "acknowledged": acknowledged,
        "resolved": resolved,
        "time_to_ack_seconds": _spread(overall),
        "by_level": [{"level": lvl, "acknowledged": len(v), **_spread(v)} for lvl, v in sorted(per_level.items())],
    }


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"median": percentile(values, 50), "p95": percentile(values, 95)}


def hotspot_status(doc: Mapping[str, Any]) -> str:
    """Open, acknowledged or resolved, from the milestones seen (robust to events out of order)."""
    if doc.get("resolved_at"):
        return "resolved"
    if doc.get("acknowledged_at"):
        return "acknowledged"
    return str(doc.get("status") or "open")


def hotspot_rows(
    hotspots: Iterable[Mapping[str, Any]],
    escalations: Iterable[Mapping[str, Any]],
    directives: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """One row per hot spot: where, what, sources, its escalation, time to acknowledge, directives and outcome."""
    latest: dict[str, Mapping[str, Any]] = {}
    for item in sorted(escalations, key=lambda e: (str(e.get("raised_at")), str(e["_id"]))):
        if item.get("hotspot_id"):
            latest[str(item["hotspot_id"])] = item
    rows = []
    for doc in hotspots:
        esc = latest.get(str(doc["_id"]))
        ack_seconds = None
        if esc is not None and esc.get("acknowledged_at") and esc.get("raised_at"):
            ack_seconds = (as_utc(esc["acknowledged_at"]) - as_utc(esc["raised_at"])).total_seconds()
        rows.append(
            {
                "id": str(doc["_id"]),
                "unit_code": doc.get("unit_code", ""),
                "topic_code": doc.get("topic_code", ""),
                "urgency": doc.get("urgency", "unknown"),
                "status": hotspot_status(doc),
                "report_count": int(doc.get("report_count", 0)),
                "source_count": int(doc.get("source_count", 0)),
                "channels": list(doc.get("channels") or []),
                "first_seen": doc.get("first_seen"),
                "last_seen": doc.get("last_seen"),
                "opened_at": doc.get("opened_at"),
                "acknowledged_at": doc.get("acknowledged_at"),
                "resolved_at": doc.get("resolved_at"),
                "time_to_ack_seconds": ack_seconds,
                "escalation": None
                if esc is None
                else {
                    "id": str(esc["_id"]),
                    "level": int(esc.get("max_level") or esc.get("level") or 1),
                    "acknowledged_level": esc.get("ack_level"),
                    "state": esc.get("state", "pending"),
                },
                "outcome": None if esc is None else esc.get("outcome"),
                "directives": list((directives or {}).get(str(doc["_id"]), [])),
            }
        )
    return rows


def top_topics(current: Totals, previous: Totals, limit: int = TOP_TOPICS) -> list[dict[str, Any]]:
    """The topics with most reports, with their change against the previous period."""
    ranked = sorted(current.by_topic.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [
        {
            "topic_code": code,
            "reports": n,
            "previous": previous.by_topic.get(code, 0),
            "change_percent": change_percent(n, previous.by_topic.get(code, 0)),
        }
        for code, n in ranked
    ]


def silent_units(
    *, topic_codes: Iterable[str], target_units: Iterable[str], rows: Iterable[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """For each orientation topic, the target units that sent no report on it (from day counter rows)."""
    spoke: set[tuple[str, str]] = {(r["unit"], r["topic"]) for r in rows if int(r.get("mentions", 0)) > 0}
    targets = sorted(set(target_units))
    return {topic: [u for u in targets if (u, topic) not in spoke] for topic in topic_codes}


def collaborator_activity(rows: Iterable[Mapping[str, Any]], *, identify: Callable[[str], str]) -> list[dict[str, Any]]:
    """Reports per collaborator and unit, most active first; `identify` pseudonymises unless allowed."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in rows:
        counts[(row["reporter"], row["unit"])] += int(row.get("reports", 0))
    items = [
        {"collaborator": identify(reporter), "unit_code": unit, "reports": n}
        for (reporter, unit), n in counts.items()
        if n > 0
    ]
    return sorted(items, key=lambda i: (-i["reports"], i["unit_code"], i["collaborator"]))


def delivery_summary(deliveries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Delivery outcomes by status and channel."""
    by_status: Counter[str] = Counter()
    by_channel: dict[str, Counter[str]] = defaultdict(Counter)
    for d in deliveries:
        by_status[d.get("status", "")] += 1
        by_channel[d.get("channel", "")][d.get("status", "")] += 1
    return {
        "sent": by_status.get("sent", 0),
        "dead": by_status.get("dead", 0),
        "by_channel": {ch: dict(c) for ch, c in sorted(by_channel.items())},
    }


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """True if [start, end) and [other_start, other_end) share an instant."""
    return start < other_end and other_start < end
