"""Vietnamese wording of numbers, changes and dates for the briefing (1.234; 12,5%; ngày 15/11/2026)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

LOCALE = "vi_VN"


def number(value: float | int | None) -> str:
    """`1234` → `1.234`, `12.5` → `12,5` (at most one decimal)."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.#", locale=LOCALE)


def percent(value: float | None) -> str:
    """A percentage already in percent units: `12.5` → `12,5%`."""
    if value is None:
        return "–"
    return number(round(value, 1)) + "%"


def share(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, one decimal; None when `whole` is 0."""
    return None if whole == 0 else round(part * 100.0 / whole, 1)


def change(current: int, previous: int, *, what: str) -> str:
    """`tăng 12,5% so với <what> (1.097)`, `giảm …`, `bằng …`, or `<what> không có phản ánh`."""
    if previous == 0:
        return f"{what} không có phản ánh" if current else f"bằng {what}"
    if current == previous:
        return f"bằng {what} ({number(previous)})"
    delta = (current - previous) * 100.0 / previous
    verb = "tăng" if delta > 0 else "giảm"
    return f"{verb} {percent(abs(delta))} so với {what} ({number(previous)})"


def day(value: date) -> str:
    """`15/11/2026`."""
    return value.strftime("%d/%m/%Y")


def long_day(value: date) -> str:
    """`ngày 15 tháng 11 năm 2026` (day and month without leading zero except as usage prefers: `ngày 05`)."""
    return f"ngày {value.day:02d} tháng {value.month:02d} năm {value.year}"


def moment(value: datetime | None, tz: ZoneInfo) -> str:
    """`10:30 ngày 01/10/2026` in local time; `–` when unknown."""
    if value is None:
        return "–"
    local = value.astimezone(tz)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def duration(seconds: float | None) -> str:
    """`45 phút`, `3 giờ 20 phút`, `2 ngày 4 giờ`; `–` when unknown."""
    if seconds is None:
        return "–"
    minutes = max(0, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} phút"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    days, hours = divmod(hours, 24)
    return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"


def listing(items: list[str], *, limit: int = 5) -> str:
    """`A, B và C`; beyond `limit` items: `A, B, … và 3 đơn vị khác` is left to the caller's noun."""
    shown = items[:limit]
    rest = len(items) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" và {number(rest)} nơi khác"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " và " + shown[-1]
