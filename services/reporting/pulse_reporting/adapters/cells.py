"""How counter cells are laid out in the store: few, small documents, partitioned by month.

FerretDB on SQLite scans a whole collection for every query (no index pushdown), so the
number of documents a query touches is what makes it fast or slow. Cells are therefore
grouped: one document per kind × local day × unit, holding maps of counts keyed by the
remaining dimensions (`topic|urgency|channel|sentiment`, or the reporter for activity),
and day documents live in one collection per half calendar month (`counters_202611a` for
days 1–14, `counters_202611b` from the 15th), so a Decree 09 month (15th–14th) reads exactly
two whole collections and a calendar month two others. Late
cells (per closed period) live in `counters_late`. On MongoDB the same layout is simply small.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

from pulse_reporting.domain.counters import Cell, Contribution

LATE_COLLECTION = "counters_late"
PREFIX = "counters_"
HALF_START = 15
"""Collections split each calendar month at the Decree 09 cut-off, so a reporting month reads two, whole."""


def collection_for(cell: Cell) -> str:
    """The collection a cell's document lives in: its calendar half-month (days 1–14 `a`, 15–end `b`)."""
    if cell.kind == "late":
        return LATE_COLLECTION
    return _half(date.fromisoformat(cell.bucket))


def _half(day: date) -> str:
    return f"{PREFIX}{day.year:04d}{day.month:02d}{'a' if day.day < HALF_START else 'b'}"


def month_collections(first: date, last: date) -> list[str]:
    """The day-cell collections covering local days first..last (a Decree 09 month is exactly two)."""
    names: list[str] = []
    day = first
    while day <= last:
        names.append(_half(day))
        day = day.replace(day=HALF_START) if day.day < HALF_START else _next_month(day)
    return names


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def document_id(cell: Cell) -> str:
    """The id of the document holding a cell."""
    return f"{cell.kind}|{cell.bucket}|{cell.unit}"


def combo(cell: Cell) -> str:
    """The map key of a cell inside its document (safe as a field name: no '.', no leading '$')."""
    parts = [cell.reporter] if cell.kind == "collab" else [cell.topic, cell.urgency, cell.channel, cell.sentiment]
    return "|".join(quote(p, safe="") for p in parts)


def grouped(delta: Contribution) -> dict[tuple[str, str], list[tuple[Cell, tuple[int, int]]]]:
    """Cells of a move grouped by (collection, document id): one store update per document."""
    out: dict[tuple[str, str], list[tuple[Cell, tuple[int, int]]]] = defaultdict(list)
    for cell, amount in delta.items():
        out[(collection_for(cell), document_id(cell))].append((cell, amount))
    return out


def increments(cells: Iterable[tuple[Cell, tuple[int, int]]]) -> dict[str, int]:
    """The `$inc` of one document update: `r.<key>` reports, `x.<key>` extra topic mentions (mentions − reports)."""
    inc: dict[str, int] = {}
    for cell, (reports, mentions) in cells:
        key = combo(cell)
        if reports:
            inc[f"r.{key}"] = reports
        if mentions - reports:
            inc[f"x.{key}"] = mentions - reports
    return inc


def expand(doc: Mapping[str, Any], *, topic_code: str | None = None) -> Iterator[dict[str, Any]]:
    """The non-zero rows of a counter document, in the flat form the statistics code sums."""
    reports: Mapping[str, int] = doc.get("r") or {}
    extra: Mapping[str, int] = doc.get("x") or {}
    for key in set(reports) | set(extra):
        r = int(reports.get(key, 0))
        m = r + int(extra.get(key, 0))
        if not r and not m:
            continue
        parts = [unquote(p) for p in key.split("|")]
        row: dict[str, Any] = {"bucket": doc["bucket"], "unit": doc["unit"], "reports": r, "mentions": m}
        if doc["kind"] == "collab":
            row["reporter"] = parts[0]
        else:
            row |= dict(zip(("topic", "urgency", "channel", "sentiment"), parts, strict=True))
            if topic_code is not None and row["topic"] != topic_code:
                continue
        yield row
