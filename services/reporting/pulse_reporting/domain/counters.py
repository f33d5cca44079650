"""What one report contributes to the counters, and how a change of its facts moves them.

A report is counted once per day × unit × topic × urgency × channel × sentiment cell. A
report with several topics appears in one cell per topic: `mentions` is 1 in each, `reports`
is 1 only in the first, so summing `reports` counts reports and summing `mentions` per topic
counts reports on that topic. Until triage decides, the urgency is `unknown`; a late report
(observed inside an already closed period) also counts in that period's `late` cells; a
collaborator's report counts in their activity cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast
from zoneinfo import ZoneInfo

UNKNOWN = "unknown"
UNCLASSIFIED = "unclassified"

CellKind = Literal["day", "late", "collab"]


@dataclass(frozen=True, order=True)
class Cell:
    """One counter document's identity."""

    kind: CellKind
    bucket: str
    """Local day (`2026-11-20`) for day and collab cells, the period name for late cells."""
    unit: str
    topic: str = ""
    urgency: str = ""
    channel: str = ""
    sentiment: str = ""
    reporter: str = ""

    @property
    def key(self) -> str:
        """The counter document id."""
        parts = (self.kind, self.bucket, self.unit, self.topic, self.urgency, self.channel, self.sentiment)
        return "|".join(parts) + (f"|{self.reporter}" if self.reporter else "")

    def fields(self) -> dict[str, str]:
        """The dimension fields stored in the counter document."""
        out = {"kind": self.kind, "bucket": self.bucket, "unit": self.unit}
        if self.kind == "collab":
            out["reporter"] = self.reporter
        else:
            out |= {"topic": self.topic, "urgency": self.urgency, "channel": self.channel, "sentiment": self.sentiment}
        return out

    @classmethod
    def from_fields(cls, doc: Mapping[str, str]) -> Cell:
        """Rebuild a cell from its stored fields."""
        kind = doc["kind"]
        if kind not in ("day", "late", "collab"):
            raise ValueError(f"unknown cell kind {kind!r}")
        return cls(
            kind=cast(CellKind, kind),
            bucket=doc["bucket"],
            unit=doc["unit"],
            topic=doc.get("topic", ""),
            urgency=doc.get("urgency", ""),
            channel=doc.get("channel", ""),
            sentiment=doc.get("sentiment", ""),
            reporter=doc.get("reporter", ""),
        )


Amount = tuple[int, int]
"""(reports, mentions) added to a cell."""

Contribution = dict[Cell, Amount]


@dataclass(frozen=True)
class ReportFact:
    """Everything reporting knows about one report, merged from its submission and its triage."""

    report_id: str
    submitted: bool = False
    unit_code: str = ""
    channel: str = ""
    sentiment: str | None = None
    observed_at: datetime | None = None
    reporter_topics: tuple[str, ...] = ()
    reporter_id: str = ""
    reporter_kind: str = "user"
    urgency: str | None = None
    triage_topics: tuple[str, ...] | None = None
    late_periods: tuple[str, ...] = field(default_factory=tuple)


def contribution(fact: ReportFact, tz: ZoneInfo) -> Contribution:
    """The cells a report counts in now; nothing until its submission is known."""
    if not fact.submitted or fact.observed_at is None:
        return {}
    topics = fact.triage_topics if fact.triage_topics is not None else fact.reporter_topics
    ordered = sorted(set(topics)) or [UNCLASSIFIED]
    day = fact.observed_at.astimezone(tz).date().isoformat()
    urgency = fact.urgency or UNKNOWN
    sentiment = fact.sentiment or UNKNOWN
    out: Contribution = {}
    buckets: list[tuple[CellKind, str]] = [("day", day)]
    buckets.extend(("late", period) for period in fact.late_periods)
    for kind, bucket in buckets:
        for i, topic in enumerate(ordered):
            out[Cell(kind, bucket, fact.unit_code, topic, urgency, fact.channel, sentiment)] = (1 if i == 0 else 0, 1)
    if fact.reporter_kind == "user" and fact.reporter_id:
        out[Cell("collab", day, fact.unit_code, reporter=fact.reporter_id)] = (1, 0)
    return out


def difference(applied: Contribution, desired: Contribution) -> Contribution:
    """The increments that turn the applied contribution into the desired one (no zero entries)."""
    out: Contribution = {}
    for cell in sorted(set(applied) | set(desired)):
        old = applied.get(cell, (0, 0))
        new = desired.get(cell, (0, 0))
        delta = (new[0] - old[0], new[1] - old[1])
        if delta != (0, 0):
            out[cell] = delta
    return out
