"""Unit history in the figures (pure logic): successors by date, chains, splits, parents, cycles."""

from __future__ import annotations

from datetime import date

from pulse_reporting.domain.rollup import UnitTree, each_unit, roll_rows
from pulse_reporting.domain.stats import totals_from_rows

SPLIT = date(2025, 7, 1)
TREE = UnitTree.from_units(
    {
        "15": {"parent_code": None},
        "w1": {"parent_code": "15"},
        "w2": {"parent_code": "15"},
        "city": {"parent_code": "15", "replaced_by": [{"code": "w1", "since": "2025-07-01"},
                                                      {"code": "w2", "since": "2025-07-01"}]},
        "old": {"parent_code": "city", "replaced_by": "city"},  # an older event's bare code: no date
        "loop-a": {"replaced_by": [{"code": "loop-b", "since": None}]},
        "loop-b": {"replaced_by": [{"code": "loop-a", "since": None}]},
    }
)  # fmt: skip


def _row(unit: str, day: str, reports: int = 1) -> dict[str, object]:
    return {"bucket": day, "unit": unit, "topic": "_", "urgency": "routine", "channel": "zalo",
            "sentiment": "neutral", "reports": reports, "mentions": 0}  # fmt: skip


def test_successors_apply_before_their_day_only() -> None:
    assert TREE.targets("city", date(2025, 6, 30), "successor") == ["w1", "w2"]
    assert TREE.targets("city", SPLIT, "successor") == ["city"]
    assert TREE.targets("city", None, "successor") == ["w1", "w2"]  # day unknown: every link
    assert TREE.targets("old", date(2026, 1, 1), "successor") == ["city"]  # undated link, then the split's day
    assert TREE.targets("old", date(2020, 1, 1), "successor") == ["w1", "w2"]
    assert TREE.targets("city", date(2025, 6, 30), "none") == ["city"]
    assert TREE.targets("city", date(2025, 6, 30), "parent") == ["w1", "w2", "15"]
    assert TREE.targets("loop-a", None, "successor") == []  # a cycle ends instead of looping


def test_sources_find_every_code_that_may_count_under_a_unit() -> None:
    assert TREE.sources(["w1"], "successor") == {"w1", "city", "old"}
    assert TREE.sources(["15"], "successor") == {"15"}
    assert TREE.sources(["15"], "parent") == {"15", "w1", "w2", "city", "old"}
    assert TREE.sources(["w1"], "none") == {"w1"}


def test_a_split_counts_once_in_totals_and_under_each_successor() -> None:
    rows = [_row("city", "2025-06-20", 2), _row("city", "2025-07-10"), _row("w1", "2025-07-02")]
    rolled = roll_rows(rows, TREE, "successor", wanted=None)
    totals = totals_from_rows(rolled)
    assert totals.reports == 4
    assert totals.by_unit == {"w1": 3, "w2": 2, "city": 1}
    only_w2 = roll_rows(rows, TREE, "successor", wanted=["w2"])
    assert totals_from_rows(only_w2).by_unit == {"w2": 2}
    up = totals_from_rows(roll_rows(rows, TREE, "parent", wanted=["15"]))
    assert (up.reports, up.by_unit) == (4, {"15": 4, "w1": 3, "w2": 2, "city": 1})
    assert sorted(r["unit"] for r in each_unit(roll_rows(rows[:1], TREE, "successor", wanted=None))) == ["w1", "w2"]


def test_a_malformed_mirrored_date_reads_as_unknown() -> None:
    tree = UnitTree.from_units({"x": {"replaced_by": [{"code": "y", "since": "2025-13-45"}]}})
    assert tree.targets("x", date(2030, 1, 1), "successor") == ["y"]


def test_rows_without_a_day_use_the_default() -> None:
    merged = [{**_row("city", ""), "bucket": "2025-07"}]
    assert roll_rows(merged, TREE, "successor", wanted=None, default_day=SPLIT)[0]["units"] == ["city"]
    assert roll_rows(merged, TREE, "successor", wanted=None, default_day=date(2025, 6, 15))[0]["units"] == ["w1", "w2"]
