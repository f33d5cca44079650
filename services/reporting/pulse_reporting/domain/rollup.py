"""Unit history in the figures: a merged or split unit's reports counted under its successors, and on request
under every unit up the parent chain.

A report filed against a legacy unit before a successor link's `since` day counts under that successor (links
are followed through later mergers, and a link of unknown date always applies); one filed on or after that day
stays under the code it was filed against. A split unit's report counts under EVERY successor it names (which
part of the old area it concerned is not recorded): each successor's figure includes it, while the totals count
it once. With `parent`, a report also counts under each ancestor of those units, so `by_unit` lists every level
(the levels overlap by design) and a filter by a province or district covers everything below it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Rollup = Literal["none", "successor", "parent"]


def _links(value: Any) -> list[tuple[str, date | None]]:
    """Successor links from any mirrored form: null, a bare code (older events: date unknown) or `[{code, since}]`."""
    if not value:
        return []
    if isinstance(value, str):
        return [(value, None)]
    out: list[tuple[str, date | None]] = []
    for link in value:
        since = link.get("since")
        out.append((str(link["code"]), _day(since) if isinstance(since, str) else since))
    return out


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:  # never written by intake; read as a link of unknown date rather than fail a statistic
        return None


@dataclass(frozen=True)
class UnitTree:
    """Successor links and parents of the mirrored units."""

    successors: Mapping[str, Sequence[tuple[str, date | None]]] = field(default_factory=dict)
    parents: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_units(cls, units: Mapping[str, Mapping[str, Any]]) -> UnitTree:
        """Build from the units mirror (code → document with `parent_code`, `replaced_by`)."""
        return cls(
            successors={c: links for c, d in units.items() if (links := _links(d.get("replaced_by")))},
            parents={c: str(d["parent_code"]) for c, d in units.items() if d.get("parent_code")},
        )

    def current(self, code: str, day: date | None) -> list[str]:
        """The units a report filed against `code` on local `day` belongs to now (unknown day: every link)."""
        out: list[str] = []
        stack, seen = [code], set[str]()
        while stack:
            unit = stack.pop()
            if unit in seen:
                continue  # a cycle slipped into the registry: stop rather than loop
            seen.add(unit)
            nxt = [s for s, since in self.successors.get(unit, ()) if since is None or day is None or day < since]
            if nxt:
                stack.extend(reversed(nxt))
            elif unit not in out:
                out.append(unit)
        return out

    def ancestors(self, code: str) -> list[str]:
        """The parent chain of a unit, nearest first."""
        chain: list[str] = []
        parent = self.parents.get(code)
        while parent is not None and parent not in chain and parent != code:
            chain.append(parent)
            parent = self.parents.get(parent)
        return chain

    def targets(self, code: str, day: date | None, rollup: Rollup) -> list[str]:
        """Every unit a report filed against `code` on `day` counts under."""
        if rollup == "none":
            return [code]
        units = self.current(code, day)
        if rollup == "parent":
            units += [a for u in list(units) for a in self.ancestors(u)]
        return list(dict.fromkeys(units))

    def sources(self, wanted: Iterable[str], rollup: Rollup) -> set[str]:
        """Every code whose reports may count under one of `wanted` (the store filter before rolling)."""
        found = set(wanted)
        if rollup == "none":
            return found
        edges: dict[str, set[str]] = {}
        for legacy, links in self.successors.items():
            for successor, _ in links:
                edges.setdefault(successor, set()).add(legacy)
        if rollup == "parent":
            for child, parent in self.parents.items():
                edges.setdefault(parent, set()).add(child)
        stack = list(found)
        while stack:
            for source in edges.get(stack.pop(), ()):
                if source not in found:
                    found.add(source)
                    stack.append(source)
        return found

    def covers(self, unit: str, wanted: set[str], rollup: Rollup) -> bool:
        """True if figures asked for `wanted` show `unit` (with `parent`: the units below them too)."""
        return unit in wanted or (rollup == "parent" and any(a in wanted for a in self.ancestors(unit)))


def row_day(row: Mapping[str, Any], default: date | None) -> date | None:
    """The local day of a counter row (its bucket), or `default` for rows merged over a period."""
    bucket = row.get("bucket")
    if isinstance(bucket, str) and len(bucket) == 10:
        try:
            return date.fromisoformat(bucket)
        except ValueError:
            return default
    return default


def _kept(tree: UnitTree, code: str, day: date | None, rollup: Rollup, keep: set[str] | None) -> list[str]:
    units = tree.targets(code, day, rollup)
    return units if keep is None else [u for u in units if tree.covers(u, keep, rollup)]


def roll_rows(
    rows: Iterable[Mapping[str, Any]],
    tree: UnitTree,
    rollup: Rollup,
    *,
    wanted: Sequence[str] | None,
    default_day: date | None = None,
) -> list[dict[str, Any]]:
    """Counter rows with `unit` set to the first unit they count under and `units` to all of them, limited to the
    units `wanted` covers (None: all); rows that count under none of them are dropped."""
    keep = None if wanted is None else set(wanted)
    out: list[dict[str, Any]] = []
    for row in rows:
        units = _kept(tree, str(row["unit"]), row_day(row, default_day), rollup, keep)
        if units:
            out.append({**row, "unit": units[0], "units": units})
    return out


def roll_docs(
    docs: Iterable[Mapping[str, Any]],
    tree: UnitTree,
    rollup: Rollup,
    *,
    wanted: Sequence[str] | None,
    day_of: Callable[[Mapping[str, Any]], date | None],
) -> list[dict[str, Any]]:
    """Hot spots or escalations (field `unit_code`) kept if their unit counts under one of `wanted`."""
    keep = None if wanted is None else set(wanted)
    return [dict(doc) for doc in docs if _kept(tree, str(doc.get("unit_code")), day_of(doc), rollup, keep)]


def each_unit(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One copy of each rolled row per unit it counts under (for presence checks such as silent units)."""
    return [{**row, "unit": unit} for row in rows for unit in (row.get("units") or [row["unit"]])]
