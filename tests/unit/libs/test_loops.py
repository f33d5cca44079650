"""Periodic loops: they run on their tick, count failures, go on after one, and stop when told."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry
from pulse_libs.loops import LoopMetrics, every


async def test_a_failing_pass_is_counted_and_the_loop_goes_on() -> None:
    registry = CollectorRegistry()
    metrics = LoopMetrics.create(registry)
    calls = 0
    four = asyncio.Event()

    async def work() -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            four.set()
        if calls == 2:
            raise RuntimeError("store down for a moment")

    stopping = asyncio.Event()
    task = asyncio.create_task(every("sweeper", 0.01, work, metrics=metrics)(stopping))
    await asyncio.wait_for(four.wait(), 2.0)
    stopping.set()
    await asyncio.wait_for(task, 1.0)
    assert registry.get_sample_value("pulse_loop_failures_total", {"loop": "sweeper"}) == 1
    runs = registry.get_sample_value("pulse_loop_runs_total", {"loop": "sweeper"})
    assert runs is not None
    assert runs >= 4
    assert registry.get_sample_value("pulse_loop_last_success_timestamp_seconds", {"loop": "sweeper"})


async def test_stopping_ends_a_long_wait_at_once() -> None:
    metrics = LoopMetrics.create(CollectorRegistry())

    async def work() -> None:
        return None

    stopping = asyncio.Event()
    task = asyncio.create_task(every("daily", 86_400, work, metrics=metrics)(stopping))
    await asyncio.sleep(0.05)
    stopping.set()
    await asyncio.wait_for(task, 1.0)
