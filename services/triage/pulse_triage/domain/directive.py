"""Directives (chỉ đạo xử lý): what a body that acts is told to do about a hot spot, by when, and what it did.

A `Directive` is a plain aggregate: its rules are its methods and it does no I/O. It is `open` until its
assignee (or the department on its behalf) records it `done` with a result; past `due_at` and not done it
is shown as `overdue`. The history keeps every change with who and when; the overdue transition is part of
the timeline at `due_at` (it is a fact of time, not anyone's write), and its event is emitted exactly once
by the overdue timer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pulse_libs.clock import as_utc

from pulse_triage.domain.errors import ConflictError, TriageError

DirectiveState = Literal["open", "overdue", "done"]
StoredState = Literal["open", "done"]
ChangeKind = Literal["updated", "done", "overdue"]

MAX_INSTRUCTION_CHARS = 4000
MAX_NOTE_CHARS = 4000
MAX_RESULT_CHARS = 4000
MAX_LEAD_DAYS = 366
"""A due time further away than a year is a typing mistake, not a directive."""
SYSTEM = "system"


class DirectiveInvalid(TriageError):
    """Bad input for a directive (422 with a field error); nothing changes."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class DirectiveClosed(ConflictError):
    """The directive is done; it takes no further updates (409)."""


@dataclass(frozen=True)
class Change:
    """One entry of a directive's history."""

    at: datetime
    change: ChangeKind
    state: DirectiveState
    by: str
    by_name: str | None = None
    by_role: str | None = None
    note: str | None = None
    result: str | None = None

    def to_doc(self) -> dict[str, Any]:
        """The stored form (None fields left out)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Change:
        """Rebuild from the stored form."""
        return cls(**{**doc, "at": as_utc(doc["at"])})


def _text(field_name: str, value: str | None, limit: int, *, required: bool) -> str | None:
    if value is None or not value.strip():
        if required:
            raise DirectiveInvalid(field_name, "must not be empty")
        return None
    if len(value) > limit:
        raise DirectiveInvalid(field_name, f"must be at most {limit} characters")
    return value.strip()


def remind_before(lead: timedelta, cap_seconds: float) -> int:
    """How long before the due time the assignee is reminded: half the lead time, at most `cap_seconds`."""
    return max(0, int(min(cap_seconds, lead.total_seconds() / 2)))


@dataclass
class Directive:
    """A directive on a hot spot to one agency."""

    id: str
    hotspot_id: str
    unit_code: str
    topic_code: str
    assignee: str
    instruction: str
    due_at: datetime
    created_at: datetime
    created_by: str
    remind_before_seconds: int
    created_by_name: str | None = None
    stored_state: StoredState = "open"
    done_at: datetime | None = None
    result: str | None = None
    history: list[Change] = field(default_factory=list)
    version: int = 1

    @classmethod
    def create(
        cls,
        *,
        directive_id: str,
        hotspot_id: str,
        unit_code: str,
        topic_code: str,
        assignee: str,
        instruction: str,
        due_at: datetime,
        by: str,
        by_name: str | None,
        now: datetime,
        remind_cap_seconds: float,
    ) -> Directive:
        """A new open directive; raises DirectiveInvalid for an empty or long instruction or a due time not ahead."""
        text = _text("instruction", instruction, MAX_INSTRUCTION_CHARS, required=True)
        assert text is not None
        if due_at.tzinfo is None:
            raise DirectiveInvalid("due_at", "must carry a time-zone offset")
        due = as_utc(due_at)
        if due <= now:
            raise DirectiveInvalid("due_at", "must be in the future")
        if due - now > timedelta(days=MAX_LEAD_DAYS):
            raise DirectiveInvalid("due_at", f"must be within {MAX_LEAD_DAYS} days")
        return cls(
            id=directive_id,
            hotspot_id=hotspot_id,
            unit_code=unit_code,
            topic_code=topic_code,
            assignee=assignee,
            instruction=text,
            due_at=due,
            created_at=now,
            created_by=by,
            created_by_name=by_name,
            remind_before_seconds=remind_before(due - now, remind_cap_seconds),
        )

    @property
    def done(self) -> bool:
        """True once the result is recorded."""
        return self.stored_state == "done"

    def is_overdue(self, now: datetime) -> bool:
        """Past the due time and not done."""
        return not self.done and now >= self.due_at

    def state(self, now: datetime) -> DirectiveState:
        """`done`, else `overdue` past the due time, else `open`."""
        if self.done:
            return "done"
        return "overdue" if self.is_overdue(now) else "open"

    @property
    def late(self) -> bool:
        """Done after the due time."""
        return self.done_at is not None and self.done_at > self.due_at

    def record(
        self,
        *,
        by: str,
        by_name: str | None,
        by_role: str | None,
        note: str | None,
        done: bool,
        result: str | None,
        now: datetime,
    ) -> Change:
        """Record progress (a note) or completion (done with a result); return the change appended to history.

        Raises DirectiveClosed once done, DirectiveInvalid for an empty note without completion, completion
        without a result, or a result without completion."""
        if self.done:
            raise DirectiveClosed("the directive is already done")
        note_text = _text("note", note, MAX_NOTE_CHARS, required=not done)
        result_text = _text("result", result, MAX_RESULT_CHARS, required=done)
        if result_text is not None and not done:
            raise DirectiveInvalid("result", "is recorded only with done: true")
        if done:
            self.stored_state, self.done_at, self.result = "done", now, result_text
        entry = Change(
            at=now,
            change="done" if done else "updated",
            state=self.state(now),
            by=by,
            by_name=by_name,
            by_role=by_role,
            note=note_text,
            result=result_text,
        )
        self.history.append(entry)
        self.version += 1
        return entry

    def overdue_change(self) -> Change:
        """The system's overdue transition, at the due time."""
        return Change(at=self.due_at, change="overdue", state="overdue", by=SYSTEM)

    def timeline(self, now: datetime) -> list[Change]:
        """Every change in time order, with the overdue transition once the due time passed undone."""
        became_overdue = self.is_overdue(now) or self.late
        entries = [*self.history, self.overdue_change()] if became_overdue else list(self.history)
        return sorted(entries, key=lambda c: c.at)

    def copy(self) -> Directive:
        """An independent copy (for repositories that hand out objects)."""
        return replace(self, history=list(self.history))

    def to_doc(self) -> dict[str, Any]:
        """The stored form."""
        doc = {k: v for k, v in self.__dict__.items() if k not in ("id", "history", "stored_state")}
        return doc | {"_id": self.id, "state": self.stored_state, "history": [c.to_doc() for c in self.history]}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Directive:
        """Rebuild from the stored form."""
        fields = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__ and k not in ("id", "history")}
        for name in ("due_at", "created_at", "done_at"):
            if fields.get(name) is not None:
                fields[name] = as_utc(fields[name])
        return cls(
            id=doc["_id"],
            stored_state=doc["state"],
            history=[Change.from_doc(c) for c in doc.get("history", [])],
            **fields,
        )
