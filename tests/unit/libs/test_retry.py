"""Backoff stays within its bounds and grows."""

from __future__ import annotations

from pulse_libs.kafka.consumer import RetryPolicy
from pulse_libs.kafka.errors import PermanentError, TransientError, is_transient


def test_backoff_is_bounded_and_grows() -> None:
    policy = RetryPolicy(initial_seconds=0.2, max_seconds=5.0)
    for attempt in range(1, 20):
        cap = min(5.0, 0.2 * 2 ** (attempt - 1))
        for _ in range(20):
            assert cap / 2 <= policy.delay(attempt) <= cap
    assert policy.delay(10) > policy.delay(1)


def test_error_classification() -> None:
    assert is_transient(TransientError())
    assert is_transient(TimeoutError())
    assert not is_transient(PermanentError())
    assert not is_transient(ValueError())
