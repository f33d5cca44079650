"""Pure pieces of the briefing: Vietnamese numbers, the forecast, directive figures, the period engine's helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pulse_libs.periods import local_days, month_containing, parse_period, same_period_last_year, window
from pulse_reporting.adapters.safe import clean_text, csv_cell, defuse, xlsx_cell
from pulse_reporting.domain import vn
from pulse_reporting.domain.directives import directive_stats, outcome
from pulse_reporting.domain.forecast import growing_negative_units, projection, rising_topics

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("value", "text"), [(1234, "1.234"), (1234567, "1.234.567"), (12.5, "12,5"), (0, "0"), (3.0, "3"), (None, "–")]
)
def test_vietnamese_numbers(value: float | None, text: str) -> None:
    assert vn.number(value) == text


def test_vietnamese_changes_and_durations() -> None:
    assert vn.percent(12.5) == "12,5%"
    assert vn.change(1234, 1097, what="kỳ trước") == "tăng 12,5% so với kỳ trước (1.097)"
    assert vn.change(90, 100, what="cùng kỳ năm trước") == "giảm 10% so với cùng kỳ năm trước (100)"
    assert vn.change(5, 0, what="kỳ trước") == "kỳ trước không có phản ánh"
    assert vn.duration(45 * 60) == "45 phút"
    assert vn.duration(3 * 3600 + 20 * 60) == "3 giờ 20 phút"
    assert vn.duration(342_000) == "3 ngày 23 giờ"
    assert vn.long_day(date(2026, 11, 5)) == "ngày 05 tháng 11 năm 2026"
    assert vn.listing(["A", "B", "C"]) == "A, B và C"


def test_export_text_is_never_a_formula_and_never_breaks_xml() -> None:
    assert csv_cell("\rx") == "\nx"  # a carriage return becomes a newline, which starts no formula
    for attack in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx"):
        assert csv_cell(attack).startswith("'")
        value, as_text = xlsx_cell(attack)
        assert as_text or value != attack
    assert defuse("Phường Yên Bái") == "Phường Yên Bái"
    assert csv_cell(-5) == -5  # numbers stay numbers
    assert clean_text("a\x00b\x07c\x1bd\ud800e\uffff") == "abcde"
    assert clean_text("Nghe\u0302\u0323 An") == "Nghệ An"  # NFC


def test_projection_extrapolates_the_least_squares_line() -> None:
    rising = projection([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], next_days=10)
    assert rising["direction"] == "rising"
    assert rising["slope_per_day"] == 1.0
    assert rising["expected_next_period"] == sum(range(11, 21))
    assert projection([4] * 30, next_days=31) == {
        "slope_per_day": 0.0,
        "expected_next_period": 124,
        "direction": "stable",
    }
    assert projection([0] * 30, next_days=31)["expected_next_period"] == 0


def test_rising_topics_and_negative_units() -> None:
    assert [t["topic_code"] for t in rising_topics({"a": 10, "b": 4, "c": 2}, {"a": 3, "b": 4})] == ["a"]
    rows_now = [
        {"unit": "u1", "sentiment": "negative", "reports": 3},
        {"unit": "u1", "sentiment": "neutral", "reports": 1},
        {"unit": "u2", "sentiment": "negative", "reports": 1},
    ]
    rows_before = [
        {"unit": "u1", "sentiment": "negative", "reports": 1},
        {"unit": "u1", "sentiment": "neutral", "reports": 3},
    ]
    (u1,) = growing_negative_units(rows_now, rows_before)
    assert (u1["unit_code"], u1["negative_percent"], u1["previous_negative_percent"]) == ("u1", 75.0, 25.0)


def _t(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def test_directive_outcomes_and_figures() -> None:
    def doc(i: str, assignee: str, unit: str, created: int, due: int, **more: object) -> dict[str, object]:
        return {"_id": i, "assignee": assignee, "unit_code": unit, "created_at": _t(created), "due_at": _t(due), **more}

    docs = [
        doc("d1", "a", "u", 1, 5, done_at=_t(4), state="done"),
        doc("d2", "b", "u", 1, 3, done_at=_t(6), state="done"),
        doc("d3", "a", "v", 2, 20, state="open"),
        doc("d4", "a", "v", 2, 3, overdue_at=_t(3), state="overdue"),
    ]
    assert [outcome(d, until=_t(10)) for d in docs] == ["on_time", "late", "in_progress", "overdue"]
    stats = directive_stats(docs, start=_t(1, 0), end=_t(14), now=_t(10), agency_names={"a": "UBND"})
    assert (stats["opened"], stats["done"], stats["on_time"], stats["late"], stats["overdue"]) == (4, 2, 1, 1, 1)
    assert stats["median_completion_seconds"] == (3 * 86400 + 5 * 86400) / 2
    assert [(a["agency_code"], a["name"], a["opened"]) for a in stats["by_agency"]] == [("a", "UBND", 3), ("b", "b", 1)]
    outside = directive_stats(docs, start=_t(20), end=_t(25), now=_t(25), agency_names={})
    assert outside["opened"] == 0


def test_the_20th_of_a_month_belongs_to_the_next_reporting_month() -> None:
    instant = datetime(2026, 11, 20, 10, tzinfo=HCM)
    period = month_containing(instant, cutoff_day=15, tz=HCM)
    assert period.name == "2026-12"
    assert local_days(period, 15) == (date(2026, 11, 15), date(2026, 12, 14))
    assert window(period, cutoff_day=15, tz=HCM).contains(instant)
    assert not window(parse_period("2026-11"), cutoff_day=15, tz=HCM).contains(instant)
    assert local_days(parse_period("2026-11"), 1) == (date(2026, 11, 1), date(2026, 11, 30))
    assert window(period, cutoff_day=15, tz=HCM).end - window(period, cutoff_day=15, tz=HCM).start == timedelta(days=30)


@pytest.mark.parametrize(
    ("text", "following", "year_ago"),
    [("2026-12", "2027-01", "2025-12"), ("2026-Q4", "2027-Q1", "2025-Q4"), ("2026-H1", "2026-H2", "2025-H1"),
     ("2026-9M", "2027-9M", "2025-9M"), ("2026", "2027", "2025")],
)  # fmt: skip
def test_next_and_same_period_last_year(text: str, following: str, year_ago: str) -> None:
    period = parse_period(text)
    assert period.next().name == following
    assert same_period_last_year(period).name == year_ago
