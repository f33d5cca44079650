"""Escalation policies and the pure state machine the scheduler drives (deadlines are data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pulse_libs.events.common import EscalationTarget, Urgency


@dataclass(frozen=True)
class PolicyLevel:
    """One level of a policy: who is paged and how long they have to acknowledge."""

    level: int
    target: EscalationTarget
    ack_timeout_seconds: int


@dataclass(frozen=True)
class Policy:
    """How an urgency escalates; no levels means it is not escalated."""

    urgency: Urgency
    levels: tuple[PolicyLevel, ...]
    repeat_seconds: int | None = None

    @property
    def escalates(self) -> bool:
        """True if this urgency pages anyone."""
        return bool(self.levels)

    def at(self, level: int) -> PolicyLevel:
        """The policy level `level` (1-based), clipped to the last level."""
        return self.levels[min(level, len(self.levels)) - 1]


_TARGETS = (EscalationTarget.DUTY_OFFICER, EscalationTarget.DEPARTMENT_HEAD, EscalationTarget.STANDING_COMMITTEE)


def _three(urgency: Urgency, seconds: int) -> Policy:
    return Policy(urgency, tuple(PolicyLevel(i + 1, t, seconds) for i, t in enumerate(_TARGETS)))


DEFAULT_POLICIES: dict[Urgency, Policy] = {
    Urgency.FLASH: _three(Urgency.FLASH, 15 * 60),
    Urgency.VERY_URGENT: _three(Urgency.VERY_URGENT, 60 * 60),
    Urgency.URGENT: _three(Urgency.URGENT, 4 * 60 * 60),
    Urgency.ROUTINE: Policy(Urgency.ROUTINE, ()),
}


@dataclass(frozen=True)
class Timer:
    """Where an escalation stands: its level, when that level was paged, and the next due action."""

    level: int
    level_started_at: datetime
    ack_deadline: datetime | None
    next_action_at: datetime | None
    reminder_seq: int = 0


@dataclass(frozen=True)
class Step:
    """What the scheduler does when an escalation is due: `kind` is escalated, reminded or exhausted."""

    kind: str
    timer: Timer


def start(policy: Policy, now: datetime) -> Timer:
    """Timer of a new escalation paging level 1 now."""
    return _paged(policy, 1, now)


def _paged(policy: Policy, level: int, now: datetime) -> Timer:
    deadline = now + timedelta(seconds=policy.at(level).ack_timeout_seconds)
    return Timer(level, now, deadline, _next(policy, deadline, now))


def _next(policy: Policy, deadline: datetime | None, now: datetime) -> datetime | None:
    if policy.repeat_seconds is None:
        return deadline
    reminder = now + timedelta(seconds=policy.repeat_seconds)
    return reminder if deadline is None or reminder < deadline else deadline


def step(policy: Policy, timer: Timer, now: datetime) -> Step:
    """Decide the due action: the next level when the deadline passed, else a reminder; exhausted at the top."""
    deadline_passed = timer.ack_deadline is not None and now >= timer.ack_deadline
    if deadline_passed and timer.level < len(policy.levels):
        return Step("escalated", _paged(policy, timer.level + 1, now))
    if deadline_passed and policy.repeat_seconds is None:
        return Step(
            "exhausted", Timer(timer.level, timer.level_started_at, timer.ack_deadline, None, timer.reminder_seq)
        )
    deadline = None if deadline_passed else timer.ack_deadline
    reminded = Timer(timer.level, timer.level_started_at, timer.ack_deadline, None, timer.reminder_seq + 1)
    return Step("reminded", Timer(**{**reminded.__dict__, "next_action_at": _next(policy, deadline, now)}))


def reevaluate(policy: Policy, timer: Timer, now: datetime) -> Timer:
    """Apply a (stricter) policy after the urgency rose: the current level's deadline may only come sooner."""
    if not policy.escalates:
        return timer
    level = min(timer.level, len(policy.levels))
    deadline = timer.level_started_at + timedelta(seconds=policy.at(level).ack_timeout_seconds)
    if timer.ack_deadline is not None and timer.ack_deadline <= deadline:
        return timer
    next_action = deadline if timer.next_action_at is None or deadline < timer.next_action_at else timer.next_action_at
    return Timer(level, timer.level_started_at, deadline, max(next_action, now), timer.reminder_seq)
