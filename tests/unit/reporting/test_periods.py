"""The Decree 09 period engine over dated cases: cut-offs, year boundaries, month lengths, leap years."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pulse_libs.periods import local_bounds, month_containing, parse_period, window
from pulse_reporting.domain.errors import InvalidPeriodError

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("period", "cutoff", "start", "end"),
    [
        ("2026-11", 15, date(2026, 10, 15), date(2026, 11, 15)),
        ("2026-01", 15, date(2025, 12, 15), date(2026, 1, 15)),
        ("2026-12", 15, date(2026, 11, 15), date(2026, 12, 15)),
        ("2026-02", 15, date(2026, 1, 15), date(2026, 2, 15)),
        ("2026-03", 15, date(2026, 2, 15), date(2026, 3, 15)),
        ("2024-03", 15, date(2024, 2, 15), date(2024, 3, 15)),
        ("2026-08", 15, date(2026, 7, 15), date(2026, 8, 15)),
        ("2026-Q1", 15, date(2025, 12, 15), date(2026, 3, 15)),
        ("2026-Q2", 15, date(2026, 3, 15), date(2026, 6, 15)),
        ("2026-Q3", 15, date(2026, 6, 15), date(2026, 9, 15)),
        ("2026-Q4", 15, date(2026, 9, 15), date(2026, 12, 15)),
        ("2026-H1", 15, date(2025, 12, 15), date(2026, 6, 15)),
        ("2026-H2", 15, date(2026, 6, 15), date(2026, 12, 15)),
        ("2026-9M", 15, date(2025, 12, 15), date(2026, 9, 15)),
        ("2026", 15, date(2025, 12, 15), date(2026, 12, 15)),
        ("2000-01", 15, date(1999, 12, 15), date(2000, 1, 15)),
        ("2026-11", 1, date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-12", 1, date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-Q1", 1, date(2026, 1, 1), date(2026, 4, 1)),
        ("2026-H2", 1, date(2026, 7, 1), date(2027, 1, 1)),
        ("2026", 1, date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-01", 20, date(2025, 12, 20), date(2026, 1, 20)),
        ("2024-03", 28, date(2024, 2, 28), date(2024, 3, 28)),
        ("2026-9M", 10, date(2025, 12, 10), date(2026, 9, 10)),
    ],
)
def test_local_bounds(period: str, cutoff: int, start: date, end: date) -> None:
    assert local_bounds(parse_period(period), cutoff) == (start, end)


@pytest.mark.parametrize(
    ("period", "days"),
    [
        ("2026-08", 31),  # 15 Jul – 14 Aug: July has 31 days
        ("2026-01", 31),  # 15 Dec – 14 Jan across the year boundary
        ("2026-03", 28),  # February 2026
        ("2024-03", 29),  # February of a leap year
        ("2028-03", 29),
        ("2100-03", 28),  # 2100 is not a leap year
        ("2024", 366),  # 15 Dec 2023 – 14 Dec 2024 contains 29 Feb
        ("2025", 365),
        ("2024-Q1", 91),
        ("2026-H1", 182),
        ("2026-H2", 183),
    ],
)
def test_window_lengths(period: str, days: int) -> None:
    w = window(parse_period(period), cutoff_day=15, tz=HCM)
    assert (w.end - w.start).days == days


def test_window_is_local_midnight_in_utc() -> None:
    w = window(parse_period("2026-11"), cutoff_day=15, tz=HCM)
    assert w.start == datetime(2026, 10, 14, 17, 0, tzinfo=UTC)
    assert w.end == datetime(2026, 11, 14, 17, 0, tzinfo=UTC)
    assert w.contains(datetime(2026, 11, 14, 16, 59, 59, tzinfo=UTC))
    assert not w.contains(w.end)


@pytest.mark.parametrize(
    ("instant", "cutoff", "expected"),
    [
        (datetime(2026, 11, 14, 16, 59, 59, tzinfo=UTC), 15, "2026-11"),  # 23:59:59 on 14 Nov, Hà Nội time
        (datetime(2026, 11, 14, 17, 0, 0, tzinfo=UTC), 15, "2026-12"),  # 00:00 on 15 Nov
        (datetime(2026, 12, 20, 3, 0, tzinfo=UTC), 15, "2027-01"),
        (datetime(2026, 12, 14, 3, 0, tzinfo=UTC), 15, "2026-12"),
        (datetime(2026, 12, 31, 18, 0, tzinfo=UTC), 1, "2027-01"),  # already 1 Jan locally
        (datetime(2024, 2, 29, 5, 0, tzinfo=UTC), 15, "2024-03"),
    ],
)
def test_month_containing(instant: datetime, cutoff: int, expected: str) -> None:
    assert month_containing(instant, cutoff_day=cutoff, tz=HCM).name == expected


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        ("2026-01", "2025-12"),
        ("2026-11", "2026-10"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q3", "2026-Q2"),
        ("2026-H1", "2025-H2"),
        ("2026-H2", "2026-H1"),
        ("2026-9M", "2025-9M"),
        ("2026", "2025"),
    ],
)
def test_previous(period: str, previous: str) -> None:
    assert parse_period(period).previous().name == previous


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-H3", "26-11", "2026-8M", "", "2026-1", "1999"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(InvalidPeriodError):
        parse_period(text)


@pytest.mark.parametrize("cutoff", [0, 29, 31])
def test_bad_cutoff_days_are_refused(cutoff: int) -> None:
    with pytest.raises(InvalidPeriodError):
        local_bounds(parse_period("2026-11"), cutoff)
