"""Token bucket per channel: a sustained rate with a burst allowance."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Hands out tokens at `rate` per second up to `burst`; `take()` says how long to wait if none is left."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._at = clock()

    def take(self) -> float:
        """Take one token; return 0 when granted, else the seconds until one is available (nothing taken)."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate
