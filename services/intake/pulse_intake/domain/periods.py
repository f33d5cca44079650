"""Orientation periods: `2026-11`, `2026-Q4`, `2026-H2`, `2026` → first and last day."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from pulse_intake.domain.errors import InvalidPeriodError

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<q>[1-4])|H(?P<h>[12])))?$")


@dataclass(frozen=True)
class Period:
    """A calendar period of an orientation."""

    label: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        """True if `day` lies in the period (both ends included)."""
        return self.start <= day <= self.end


def parse_period(label: str) -> Period:
    """Parse a period label; raise InvalidPeriodError when malformed."""
    match = _PATTERN.match(label)
    if match is None:
        raise InvalidPeriodError("use YYYY-MM, YYYY-Qn, YYYY-Hn or YYYY")
    year = int(match["year"])
    if not 2000 <= year <= 2100:
        raise InvalidPeriodError("the year must lie between 2000 and 2100")
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise InvalidPeriodError("the month must lie between 01 and 12")
        first, last = month, month
    elif match["q"]:
        q = int(match["q"])
        first, last = 3 * q - 2, 3 * q
    elif match["h"]:
        h = int(match["h"])
        first, last = 6 * h - 5, 6 * h
    else:
        first, last = 1, 12
    return Period(label, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]))
