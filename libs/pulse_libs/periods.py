"""The one reporting-period engine of Pulse: Decree 09/2019/NĐ-CP art. 12 cut-off windows, pure and timezone-aware.

Every service that names a period (`2026-11`, `2026-Q4`, `2026-H1`, `2026-H2`, `2026-9M`, `2026`)
uses this module, so orientations, coverage and reports agree on what `2026-11` means.

A period with cut-off day `d` (default 15, the setting `period_cutoff_day`) runs from day `d` of
the month before its first month to day `d - 1` of its last month; as a half-open window that is
[day d of (first month - 1), day d of last month). With `d == 1` the windows are plain calendar
months, quarters and years. Windows are computed at local midnight and returned in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["month", "quarter", "half_year", "nine_months", "year"]

MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_CUTOFF_DAY = 28

DEFAULT_CUTOFF_DAY = 15


class InvalidPeriodError(ValueError):
    """A period string or cut-off day that the engine cannot interpret (callers answer 422)."""


_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<part>0[1-9]|1[0-2]|Q[1-4]|H[12]|9M))?$")


@dataclass(frozen=True)
class Period:
    """A named reporting period such as `2026-11`, `2026-Q4`, `2026-H1`, `2026-9M` or `2026`."""

    year: int
    kind: PeriodKind
    index: int = 1
    """Month 1–12, quarter 1–4 or half 1–2; 1 for nine months and year."""

    @property
    def name(self) -> str:
        """The canonical period string."""
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        if self.kind == "half_year":
            return f"{self.year}-H{self.index}"
        if self.kind == "nine_months":
            return f"{self.year}-9M"
        return str(self.year)

    @property
    def months(self) -> tuple[int, int]:
        """First and last month of the period (1-based, within its year)."""
        if self.kind == "month":
            return self.index, self.index
        if self.kind == "quarter":
            return 3 * self.index - 2, 3 * self.index
        if self.kind == "half_year":
            return 6 * self.index - 5, 6 * self.index
        if self.kind == "nine_months":
            return 1, 9
        return 1, 12

    def previous(self) -> Period:
        """The period a briefing compares against: the preceding period of the same kind."""
        if self.kind in ("month", "quarter", "half_year"):
            count = {"month": 12, "quarter": 4, "half_year": 2}[self.kind]
            if self.index > 1:
                return Period(self.year, self.kind, self.index - 1)
            return Period(self.year - 1, self.kind, count)
        return Period(self.year - 1, self.kind, 1)

    def next(self) -> Period:
        """The following period of the same kind (what a forecast looks ahead to)."""
        if self.kind in ("month", "quarter", "half_year"):
            count = {"month": 12, "quarter": 4, "half_year": 2}[self.kind]
            if self.index < count:
                return Period(self.year, self.kind, self.index + 1)
            return Period(self.year + 1, self.kind, 1)
        return Period(self.year + 1, self.kind, 1)


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def contains(self, instant: datetime) -> bool:
        """True if `instant` falls inside the window."""
        return self.start <= instant < self.end


def parse_period(text: str) -> Period:
    """Parse `2026-11`, `2026-Q4`, `2026-H1`, `2026-H2`, `2026-9M` or `2026`; raise InvalidPeriodError."""
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidPeriodError(f"{text!r} is not a period (expected e.g. 2026-11, 2026-Q4, 2026-H1, 2026-9M, 2026)")
    year = int(match["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidPeriodError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    part = match["part"]
    if part is None:
        return Period(year, "year")
    if part == "9M":
        return Period(year, "nine_months")
    if part[0] == "Q":
        return Period(year, "quarter", int(part[1]))
    if part[0] == "H":
        return Period(year, "half_year", int(part[1]))
    return Period(year, "month", int(part))


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + delta
    return total // 12, total % 12 + 1


def local_bounds(period: Period, cutoff_day: int) -> tuple[date, date]:
    """First local day of the period and the first local day after it."""
    check_cutoff_day(cutoff_day)
    first, last = period.months
    back = 1 if cutoff_day > 1 else 0
    start_y, start_m = _shift_month(period.year, first, -back)
    end_y, end_m = _shift_month(period.year, last, 1 - back)
    return date(start_y, start_m, cutoff_day), date(end_y, end_m, cutoff_day)


def local_days(period: Period, cutoff_day: int) -> tuple[date, date]:
    """First and last local day of the period (both included)."""
    first, after = local_bounds(period, cutoff_day)
    return first, after - timedelta(days=1)


def window(period: Period, *, cutoff_day: int, tz: ZoneInfo) -> Window:
    """The period's [start, end) in UTC, cut at local midnight in `tz`."""
    start, end = local_bounds(period, cutoff_day)
    return Window(start=_local_midnight(start, tz), end=_local_midnight(end, tz))


def month_containing(instant: datetime, *, cutoff_day: int, tz: ZoneInfo) -> Period:
    """The monthly period an instant belongs to."""
    check_cutoff_day(cutoff_day)
    local = instant.astimezone(tz).date()
    year, month = local.year, local.month
    if cutoff_day > 1 and local.day >= cutoff_day:
        year, month = _shift_month(year, month, 1)
    return Period(year, "month", month)


def same_period_last_year(period: Period) -> Period:
    """The period a year earlier (`2026-11` → `2025-11`, `2026-Q4` → `2025-Q4`)."""
    return Period(period.year - 1, period.kind, period.index)


def check_cutoff_day(cutoff_day: int) -> None:
    """Cut-off days run 1–28 so that every month has one."""
    if not 1 <= cutoff_day <= MAX_CUTOFF_DAY:
        raise InvalidPeriodError(f"the cut-off day must be between 1 and {MAX_CUTOFF_DAY}")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
