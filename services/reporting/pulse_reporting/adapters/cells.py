"""How counter cells are laid out in the store: few, small documents, partitioned by month.

FerretDB on SQLite scans a whole collection for every query (no index pushdown), so the
number of documents a query touches is what makes it fast or slow. Cells are therefore
grouped: one document per kind × local day × unit, holding maps of counts keyed by the
remaining dimensions (`topic|urgency|channel|sentiment`, or the reporter for activity),
and day documents live in one collection per calendar month (`counters_202611`). Late
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


def collection_for(cell: Cell) -> str:
    """The collection a cell's document lives in."""
    if cell.kind == "late":
        return LATE_COLLECTION
    return PREFIX + cell.bucket[:4] + cell.bucket[5:7]


def month_collections(first: date, last: date) -> list[str]:
    """The day-cell collections covering local days first..last."""
    names = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        names.append(f"{PREFIX}{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return names


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
