"""Report status: it only moves forward, so replayed or late events never regress it."""

from __future__ import annotations

from typing import Literal

ReportStatus = Literal["received", "triaged", "merged", "escalated", "acknowledged", "resolved"]

STATUS_RANK: dict[str, int] = {
    "received": 0,
    "triaged": 1,
    "merged": 1,
    "escalated": 2,
    "acknowledged": 3,
    "resolved": 4,
}

OPEN311_CLOSED = frozenset({"resolved"})


def rank(status: str) -> int:
    """Position of a status in the forward-only order."""
    return STATUS_RANK[status]


def advances(current: str, new: str) -> bool:
    """True if moving from `current` to `new` is a step forward."""
    return rank(new) > rank(current)
