"""Periodic loops written once: `every(name, seconds, fn)` with metrics and logged failures.

A loop calls `fn` every `seconds` until the service stops; a failure is logged with the loop's
name and counted, and the loop goes on at the next tick (it never dies silently, and never spins).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

log = logging.getLogger(__name__)

LoopFactory = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class LoopMetrics:
    """Runs, failures, duration and last success of every periodic loop of a process."""

    runs: Counter
    failures: Counter
    duration: Histogram
    last_success: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> LoopMetrics:
        """Register the loop metrics on a service's registry."""
        return cls(
            runs=Counter("pulse_loop_runs", "Passes of a periodic loop.", ["loop"], registry=registry),
            failures=Counter("pulse_loop_failures", "Failed passes of a periodic loop.", ["loop"], registry=registry),
            duration=Histogram("pulse_loop_duration_seconds", "Duration of one pass.", ["loop"], registry=registry),
            last_success=Gauge(
                "pulse_loop_last_success_timestamp_seconds", "Unix time of the last successful pass.", ["loop"],
                registry=registry,
            ),
        )  # fmt: skip


def every(
    name: str, seconds: float | Callable[[], float], fn: Callable[[], Awaitable[Any]], *, metrics: LoopMetrics
) -> LoopFactory:
    """A loop factory (for `Runtime.add_loop`) that runs `fn` every `seconds` until stopping."""

    def interval() -> float:
        return float(seconds() if callable(seconds) else seconds)

    async def loop(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            started = time.perf_counter()
            metrics.runs.labels(name).inc()
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                metrics.failures.labels(name).inc()
                log.exception("periodic loop pass failed", extra={"loop": name})
            else:
                metrics.last_success.labels(name).set(time.time())
            finally:
                metrics.duration.labels(name).observe(time.perf_counter() - started)
            try:
                await asyncio.wait_for(stopping.wait(), max(0.01, interval()))
            except TimeoutError:
                continue

    return loop
