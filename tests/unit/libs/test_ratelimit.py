"""The in-process GCRA behind the write rate limit: a burst of `limit`, then one per interval; refusals not counted."""

from __future__ import annotations

import pytest
from pulse_libs.http.ratelimit import RateLimiter
from pulse_libs.settings import ServiceSettings
from pydantic import ValidationError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_limit_then_one_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=4, period=60, clock=clock)
    assert [limiter.hit("a") for _ in range(4)] == [0.0] * 4
    wait = limiter.hit("a")
    assert wait == pytest.approx(15.0)  # the next slot frees a quarter of the period later
    assert limiter.hit("b") == 0.0  # keys are independent
    clock.now += 14.9
    assert limiter.hit("a") > 0
    clock.now += 0.2
    assert limiter.hit("a") == 0.0
    assert limiter.hit("a") > 0  # refusals did not spend budget, but the freed slot was used


def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=2, period=10, clock=clock)
    for key in ("a", "b", "c"):
        limiter.hit(key)
    clock.now += 11
    limiter.hit("d")
    assert set(limiter._arrivals) == {"d"}


def test_on_by_default_in_production_only_and_proxies_validated() -> None:
    assert ServiceSettings().rate_limited is False
    assert ServiceSettings(rate_limit=True).rate_limited is True
    with pytest.raises(ValidationError, match="trusted_proxies"):
        ServiceSettings(trusted_proxies=["not-a-network"])
