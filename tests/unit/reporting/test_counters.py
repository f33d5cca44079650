"""A report's contribution to the counters, and the moves between contributions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pulse_reporting.domain.counters import Cell, ReportFact, contribution, difference
from pulse_reporting.domain.stats import percentile, totals_from_rows, trend_bucket

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SUBMITTED = ReportFact(
    report_id="r1",
    submitted=True,
    unit_code="04747",
    channel="zalo",
    sentiment="negative",
    observed_at=datetime(2026, 10, 31, 18, 30, tzinfo=UTC),  # 01:30 on 1 Nov in Hà Nội
    reporter_topics=("dat_dai",),
    reporter_id="u-1",
)


def test_nothing_counts_before_the_submission_is_known() -> None:
    assert contribution(ReportFact(report_id="r1", urgency="flash", triage_topics=("x",)), HCM) == {}


def test_a_submitted_report_counts_on_its_local_day_with_unknown_urgency() -> None:
    cells = contribution(SUBMITTED, HCM)
    day = Cell("day", "2026-11-01", "04747", "dat_dai", "unknown", "zalo", "negative")
    assert cells == {day: (1, 1), Cell("collab", "2026-11-01", "04747", reporter="u-1"): (1, 0)}


def test_triage_moves_the_report_from_unknown_to_its_urgency_once() -> None:
    before = contribution(SUBMITTED, HCM)
    after = contribution(replace(SUBMITTED, urgency="urgent", triage_topics=("dat_dai", "giai_phong_mat_bang")), HCM)
    delta = difference(before, after)
    assert delta == {
        Cell("day", "2026-11-01", "04747", "dat_dai", "unknown", "zalo", "negative"): (-1, -1),
        Cell("day", "2026-11-01", "04747", "dat_dai", "urgent", "zalo", "negative"): (1, 1),
        Cell("day", "2026-11-01", "04747", "giai_phong_mat_bang", "urgent", "zalo", "negative"): (0, 1),
    }
    assert difference(after, after) == {}
    rows = [{**c.fields(), "reports": r, "mentions": m} for c, (r, m) in after.items() if c.kind == "day"]
    totals = totals_from_rows(rows)
    assert totals.reports == 1
    assert totals.by_topic == {"dat_dai": 1, "giai_phong_mat_bang": 1}
    assert totals_from_rows(rows, topic_code="giai_phong_mat_bang").reports == 1


def test_a_late_report_also_counts_in_the_closed_period() -> None:
    cells = contribution(replace(SUBMITTED, late_periods=("2026-11",), reporter_kind="api_key"), HCM)
    assert Cell("late", "2026-11", "04747", "dat_dai", "unknown", "zalo", "negative") in cells
    assert not any(c.kind == "collab" for c in cells)


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([60.0], 95) == 60.0
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert percentile(list(range(1, 101)), 95) == 95.05


def test_trend_buckets() -> None:
    day = datetime(2026, 11, 20).date()
    assert trend_bucket(day, "day", cutoff_day=15) == "2026-11-20"
    assert trend_bucket(day, "week", cutoff_day=15) == "2026-W47"
    assert trend_bucket(day, "month", cutoff_day=15) == "2026-12"
    assert trend_bucket(datetime(2026, 12, 15).date(), "month", cutoff_day=15) == "2027-01"
    assert trend_bucket(day, "month", cutoff_day=1) == "2026-11"


def test_counter_collections_split_months_at_the_cut_off() -> None:
    from pulse_reporting.adapters.cells import collection_for, month_collections

    assert month_collections(datetime(2026, 10, 15).date(), datetime(2026, 11, 14).date()) == [
        "counters_202610b",
        "counters_202611a",
    ]
    assert month_collections(datetime(2026, 12, 20).date(), datetime(2027, 1, 3).date()) == [
        "counters_202612b",
        "counters_202701a",
    ]
    assert collection_for(Cell("day", "2026-11-14", "04747")) == "counters_202611a"
    assert collection_for(Cell("late", "2026-11", "04747")) == "counters_late"
