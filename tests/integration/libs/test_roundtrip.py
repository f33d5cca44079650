"""The plumbing is real: outbox → Kafka → consumer runner → idempotent handler, on the real broker and store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.events.topics import INTAKE_REPORTS
from pulse_libs.outbox import with_outbox
from pulse_libs.runtime import Runtime

from .helpers import report_event, wait_for


async def test_outbox_event_reaches_consumer_once(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    seen: list[CloudEvent] = []

    async def handle(event: CloudEvent) -> None:
        seen.append(event)

    runtime = Runtime(settings, CollectorRegistry())
    runtime.add_outbox(["reports"])
    runtime.add_consumer("roundtrip", [INTAKE_REPORTS], {intake_events.REPORT_SUBMITTED: handle})
    await runtime.start()
    try:
        event = report_event("r-1")
        await runtime.db["reports"].insert_one(with_outbox({"_id": "r-1", "title": "x"}, [(INTAKE_REPORTS, event)]))
        assert runtime.relay is not None
        runtime.relay.kick()
        await wait_for(lambda: len(seen) >= 1)
        assert seen[0].id == event.id
        assert seen[0].data["unit_code"] == "04747"
        assert seen[0].key == "04747"
        for _ in range(100):
            doc = await runtime.db["reports"].find_one({"_id": "r-1"})
            if doc is not None and not doc["_outbox_pending"]:
                break
            await asyncio.sleep(0.05)
        assert doc is not None
        assert doc["_outbox"] == {}
        assert doc["_outbox_pending"] is False
        # The same event published again (a relay crash after publish) is not handled twice.
        await runtime.producer.publish(INTAKE_REPORTS, event)
        await asyncio.sleep(2.0)
        assert len(seen) == 1
    finally:
        await runtime.stop()
