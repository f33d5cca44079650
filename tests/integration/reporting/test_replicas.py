"""Two reporting replicas: one projects at a time, the other stands by and takes over.

The counters are shared documents (one unit-day document takes every report of that unit, from
the reports and the triage topics alike), and FerretDB applies every update as a read-modify-write
of the whole document. Two replicas splitting the partitions both write those documents at once and
lose increments or count a report twice; here they must not.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from pulse_reporting.settings import ReportingSettings

from tests.integration.reporting.helpers import (
    AU_LAU,
    NAM_CUONG,
    VAN_PHU,
    YEN_BAI,
    Published,
    Reporting,
    at,
    registry_events,
    running,
    submitted,
    triaged,
    wait_until,
)

UNITS = [YEN_BAI, VAN_PHU, NAM_CUONG, AU_LAU]
WINDOW = {"from": "2026-09-15", "to": "2026-10-14"}


def reports(out: Published, first: int, count: int) -> None:
    for n in range(first, first + count):
        unit, observed = UNITS[n % len(UNITS)], at("2026-10-01", hour=8 + n % 9)
        urgency = ("routine", "urgent", "very_urgent")[n % 3]
        submitted(out, f"r{n}", unit=unit, observed=observed, topics_=["dat_dai"], reporter=f"u-ctv-{n % 5}")
        triaged(out, f"r{n}", unit=unit, observed=observed, urgency=urgency, topics_=["dat_dai"])


def expected_urgencies(count: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in range(count):
        level = ("routine", "urgent", "very_urgent")[n % 3]
        out[level] = out.get(level, 0) + 1
    return out


async def summary(svc: Reporting) -> Any:
    response = await svc.client.get("/v1/stats/summary", params=WINDOW, headers=svc.headers("department"))
    return response.json() if response.status_code == 200 else response.status_code


def settled(count: int) -> Callable[[Any], bool]:
    return lambda s: isinstance(s, dict) and s["reports"] == count and s["by_urgency"] == expected_urgencies(count)


async def test_one_replica_projects_and_the_other_takes_over_when_it_stops(make_settings: Callable[..., Any]) -> None:
    # A 15 s lease (trusted ~11 s) leaves room on a loaded machine; a 4 s one lapsed and let the standby in.
    settings: ReportingSettings = make_settings(ReportingSettings, projection_lease_seconds=15.0)
    first = Published()
    registry_events(first)
    reports(first, 0, 90)
    stacks = {"a": AsyncExitStack(), "b": AsyncExitStack()}
    try:
        a = await stacks["a"].enter_async_context(running(settings))
        b = await stacks["b"].enter_async_context(running(settings))
        await a.publish(first.events)
        await wait_until(lambda: summary(a), settled(90), timeout=180)
        await wait_until(lambda: summary(b), settled(90), timeout=30)
        projected = {"a": await a.projected(), "b": await b.projected()}
        assert min(projected.values()) == 0, f"both replicas projected: {projected}"
        leader = max(projected, key=lambda name: projected[name])
        standby = b if leader == "a" else a
        # The leader stops (a rolling update): the standby takes over and projects what comes next.
        await stacks[leader].aclose()
        second = Published()
        reports(second, 90, 30)
        await standby.publish(second.events)
        # Only the standby runs now, so the figures settling at 120 prove it took the projection over.
        await wait_until(lambda: summary(standby), settled(120), timeout=180)
    finally:
        for stack in stacks.values():
            await stack.aclose()
