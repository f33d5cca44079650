"""How a failed attempt is judged: transient (retry with backoff) or permanent (dead at once)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Outcome = Literal["ok", "transient", "permanent"]


class DeliveryFailed(Exception):
    """A channel could not deliver; `transient` says whether retrying may help."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


def transient(reason: str, retry_after: float | None = None) -> DeliveryFailed:
    """A failure that may pass (5xx, timeout, connection refused, 429)."""
    return DeliveryFailed(reason, transient=True, retry_after=retry_after)


def permanent(reason: str) -> DeliveryFailed:
    """A failure retrying cannot fix (4xx, refused address, bad recipient)."""
    return DeliveryFailed(reason, transient=False)


def classify_http(status: int) -> Outcome:
    """Outcome of an HTTP status: 2xx ok; 408, 425, 429 and 5xx transient; other 4xx (and 3xx) permanent."""
    if 200 <= status < 300:
        return "ok"
    if status in (408, 425, 429) or status >= 500:
        return "transient"
    return "permanent"


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, capped; Retry-After wins when longer (up to its own cap)."""

    initial_seconds: float
    max_seconds: float
    retry_after_max_seconds: float
    max_attempts: int

    def delay(self, attempts: int, retry_after: float | None = None, *, rng: random.Random | None = None) -> float:
        """Seconds before the next attempt after `attempts` failed ones (1-based)."""
        cap = min(self.max_seconds, self.initial_seconds * 2 ** max(0, attempts - 1))
        jittered = cap / 2 + (rng or random).uniform(0, cap / 2)
        if retry_after is not None:
            return float(max(jittered, min(retry_after, self.retry_after_max_seconds)))
        return float(jittered)

    def exhausted(self, attempts: int) -> bool:
        """True once the retry budget is spent."""
        return attempts >= self.max_attempts

    def next_attempt_at(self, now: datetime, attempts: int, retry_after: float | None = None) -> datetime:
        """When the next attempt is due."""
        return now + timedelta(seconds=self.delay(attempts, retry_after))
