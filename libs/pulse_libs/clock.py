"""Time helpers: everything is stored in UTC and compared as aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime with millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def as_utc(value: datetime) -> datetime:
    """Return `value` in UTC; naive values (as the store returns them) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def isoformat(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC with a `Z`-free `+00:00` offset."""
    return as_utc(value).isoformat(timespec="milliseconds")
