"""Statistics computed in Python from counter rows: totals, percentiles, trend buckets."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

Granularity = Literal["day", "week", "month"]


@dataclass
class Totals:
    """Report counts by each dimension over some window."""

    reports: int = 0
    by_urgency: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_sentiment: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    by_unit: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "reports": self.reports,
            "by_urgency": self.by_urgency,
            "by_channel": self.by_channel,
            "by_sentiment": self.by_sentiment,
            "by_topic": self.by_topic,
            "by_unit": self.by_unit,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Totals:
        """Inverse of `as_dict`."""
        return cls(
            reports=int(doc.get("reports", 0)),
            by_urgency=dict(doc.get("by_urgency", {})),
            by_channel=dict(doc.get("by_channel", {})),
            by_sentiment=dict(doc.get("by_sentiment", {})),
            by_topic=dict(doc.get("by_topic", {})),
            by_unit=dict(doc.get("by_unit", {})),
        )


def totals_from_rows(rows: Iterable[Mapping[str, Any]], *, topic_code: str | None = None) -> Totals:
    """Sum counter rows; with a topic filter a report counts once per matching topic row (its mentions).

    A rolled row (domain.rollup) counts once in every total and under each of its `units` in `by_unit`.
    """
    urgency: Counter[str] = Counter()
    channel: Counter[str] = Counter()
    sentiment: Counter[str] = Counter()
    topic: Counter[str] = Counter()
    unit: Counter[str] = Counter()
    total = 0
    for row in rows:
        if topic_code is not None and row["topic"] != topic_code:
            continue
        mentions = int(row.get("mentions", 0))
        count = mentions if topic_code is not None else int(row.get("reports", 0))
        total += count
        urgency[row["urgency"]] += count
        channel[row["channel"]] += count
        sentiment[row["sentiment"]] += count
        for code in row.get("units") or [row["unit"]]:  # rolled rows count under each unit they belong to
            unit[code] += count
        topic[row["topic"]] += mentions
    return Totals(
        reports=total,
        by_urgency=_nonzero(urgency),
        by_channel=_nonzero(channel),
        by_sentiment=_nonzero(sentiment),
        by_topic=_nonzero(topic),
        by_unit=_nonzero(unit),
    )


def _nonzero(counter: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])) if v}


def subtract(current: Totals, frozen: Totals) -> Totals:
    """`current - frozen`, dimension by dimension (what changed after a freeze)."""

    def diff(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        return {k: a.get(k, 0) - b.get(k, 0) for k in sorted(set(a) | set(b)) if a.get(k, 0) != b.get(k, 0)}

    return Totals(
        reports=current.reports - frozen.reports,
        by_urgency=diff(current.by_urgency, frozen.by_urgency),
        by_channel=diff(current.by_channel, frozen.by_channel),
        by_sentiment=diff(current.by_sentiment, frozen.by_sentiment),
        by_topic=diff(current.by_topic, frozen.by_topic),
        by_unit=diff(current.by_unit, frozen.by_unit),
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def change_percent(current: int, previous: int) -> float | None:
    """Relative change in percent, None when there is nothing to compare against."""
    if previous == 0:
        return None
    return round((current - previous) * 100.0 / previous, 1)


def trend_bucket(day: date, granularity: Granularity, *, cutoff_day: int) -> str:
    """The label of the bucket a local day falls in: the day, its ISO week or its reporting month."""
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    year, month = day.year, day.month
    if cutoff_day > 1 and day.day >= cutoff_day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year}-{month:02d}"


def trend_series(
    rows: Iterable[Mapping[str, Any]],
    *,
    start: date,
    end: date,
    granularity: Granularity,
    cutoff_day: int,
    topic_code: str | None = None,
) -> list[dict[str, Any]]:
    """Counts per bucket over [start, end] (local days, both included), empty buckets kept as zeros."""
    buckets: dict[str, dict[str, Any]] = {}
    day = start
    while day <= end:
        label = trend_bucket(day, granularity, cutoff_day=cutoff_day)
        buckets.setdefault(label, {"bucket": label, "start": day.isoformat(), "reports": 0, "by_urgency": Counter()})
        day += timedelta(days=1)
    for row in rows:
        label = trend_bucket(date.fromisoformat(row["bucket"]), granularity, cutoff_day=cutoff_day)
        if label not in buckets:
            continue
        count = int(row.get("mentions", 0)) if topic_code is not None else int(row.get("reports", 0))
        buckets[label]["reports"] += count
        buckets[label]["by_urgency"][row["urgency"]] += count
    return [{**b, "by_urgency": _nonzero(b["by_urgency"])} for b in buckets.values()]
