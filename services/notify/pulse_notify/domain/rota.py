"""The duty officers' on-call rota: who is on duty at a given moment (pure, no I/O).

A rota is a list of shifts and a list of overrides, each naming one person (a recipient id or an
intake user id) from `starts_at` to `ends_at` (end excluded). Times without an offset are read in the
rota's time zone (Asia/Ho_Chi_Minh by default). At any moment the overrides covering it win over the
shifts; when neither covers it the rota has a gap (notify then pages every duty officer and raises
`pulse_duty_rota_gap`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Shift:
    """One person on duty over [starts_at, ends_at)."""

    starts_at: datetime
    ends_at: datetime
    recipient_id: str | None = None
    user_id: str | None = None

    def covers(self, at: datetime) -> bool:
        """True if `at` falls within the shift."""
        return self.starts_at <= at < self.ends_at

    def person(self) -> tuple[str, str]:
        """("recipient", id) or ("user", id)."""
        return ("recipient", self.recipient_id) if self.recipient_id else ("user", str(self.user_id))


@dataclass(frozen=True)
class Rota:
    """Shifts and overrides of the duty officers."""

    timezone: str
    shifts: tuple[Shift, ...]
    overrides: tuple[Shift, ...] = ()

    def on_duty(self, at: datetime) -> list[Shift]:
        """The shifts of the people on duty at `at`: covering overrides if any, else covering shifts."""
        chosen = [s for s in self.overrides if s.covers(at)]
        return chosen or [s for s in self.shifts if s.covers(at)]

    def gaps(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The periods of [start, end) that nobody covers."""
        spans = sorted(
            (max(s.starts_at, start), min(s.ends_at, end))
            for s in (*self.shifts, *self.overrides)
            if s.ends_at > start and s.starts_at < end
        )
        out: list[tuple[datetime, datetime]] = []
        cursor = start
        for a, b in spans:
            if a > cursor:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < end:
            out.append((cursor, end))
        return out


def localize(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive time read in `tz`; an aware one kept as is."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def shift_from(doc: Mapping[str, Any], tz: ZoneInfo) -> Shift:
    """A shift from its stored or submitted form."""
    return Shift(
        starts_at=localize(_dt(doc["starts_at"]), tz),
        ends_at=localize(_dt(doc["ends_at"]), tz),
        recipient_id=doc.get("recipient_id"),
        user_id=doc.get("user_id"),
    )


def rota_from(doc: Mapping[str, Any]) -> Rota:
    """A rota from its stored document."""
    tz = ZoneInfo(str(doc.get("timezone") or "Asia/Ho_Chi_Minh"))
    return Rota(
        timezone=str(doc.get("timezone") or "Asia/Ho_Chi_Minh"),
        shifts=tuple(shift_from(s, tz) for s in doc.get("shifts") or ()),
        overrides=tuple(shift_from(s, tz) for s in doc.get("overrides") or ()),
    )


def pick(on_duty: Sequence[Shift], candidates: Iterable[Any]) -> list[Any]:
    """The candidate recipients (with `.id` and `.user_id`) named by the on-duty shifts."""
    ids = {s.recipient_id for s in on_duty if s.recipient_id}
    users = {s.user_id for s in on_duty if s.user_id}
    return [r for r in candidates if r.id in ids or (r.user_id is not None and r.user_id in users)]


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
