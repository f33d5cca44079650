"""Background upkeep: store-derived gauges and the silence sweeper."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pulse_libs.events.common import Urgency

from pulse_triage.context import TriageContext


async def refresh_gauges(ctx: TriageContext) -> None:
    """Set the open hot spot, pending escalation and overdue gauges from the store."""
    by_urgency = await ctx.repos.hotspots.open_by_urgency()
    for urgency in Urgency:
        ctx.metrics.hotspots_open.labels(urgency.value).set(by_urgency.get(urgency.value, 0))
    by_level = await ctx.repos.escalations.pending_by_level()
    for level in {1, 2, 3, *by_level}:
        ctx.metrics.escalations_pending.labels(str(level)).set(by_level.get(level, 0))
    late = ctx.now() - timedelta(seconds=ctx.settings.overdue_grace_seconds)
    overdue = await ctx.repos.escalations.overdue(late)
    ctx.metrics.escalations_overdue.set(overdue)


async def _every(seconds: float, stopping: asyncio.Event) -> bool:
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return True
    return False


async def gauges_loop(ctx: TriageContext, stopping: asyncio.Event) -> None:
    """Refresh the gauges every `metrics_refresh_seconds`."""
    while True:
        await refresh_gauges(ctx)
        if not await _every(ctx.settings.metrics_refresh_seconds, stopping):
            return


async def silence_sweeper(ctx: TriageContext, stopping: asyncio.Event) -> None:
    """Delete expired silences and old published events every `silence_sweep_seconds` (FerretDB has no TTL)."""
    while True:
        await ctx.repos.silences.sweep(ctx.now())
        await ctx.store.sweep_events(ctx.now() - timedelta(seconds=ctx.settings.event_retention_seconds))
        await ctx.store.sweep_claims(ctx.now() - timedelta(days=1))
        if not await _every(ctx.settings.silence_sweep_seconds, stopping):
            return
