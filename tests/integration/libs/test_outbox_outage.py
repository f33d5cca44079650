"""An outbox entry written while Kafka is down is published once Kafka is back.

Runs its own single-node Kafka on other ports (so the shared broker other
tests use is never stopped), kills it with SIGKILL, writes, restarts it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.events.topics import INTAKE_REPORTS
from pulse_libs.outbox import with_outbox
from pulse_libs.runtime import Runtime

from .helpers import report_event, wait_for

ROOT = Path(__file__).resolve().parents[3]
PORT = 19092


@pytest.fixture
def own_kafka(tmp_path: Path, infra: None) -> Iterator[Callable[[str], None]]:
    """Control a private Kafka: `own_kafka("kafka-up" | "kafka-kill")`."""
    env = {
        **os.environ,
        "PULSE_VAR_DIR": str(tmp_path / "var"),
        "PULSE_KAFKA_PORT": str(PORT),
        "PULSE_KAFKA_CONTROLLER_PORT": str(PORT + 1),
        "PULSE_KAFKA_HEAP": "-Xms128m -Xmx384m",
    }

    def control(command: str) -> None:
        subprocess.run([str(ROOT / "scripts" / "infra.sh"), command], env=env, check=True, timeout=120)

    control("kafka-up")
    try:
        yield control
    finally:
        control("kafka-down")


async def test_outbox_survives_a_broker_outage(
    make_settings: Callable[..., Any], own_kafka: Callable[[str], None]
) -> None:
    settings = make_settings(kafka_bootstrap=f"127.0.0.1:{PORT}", kafka_send_timeout_seconds=3.0)
    seen: list[CloudEvent] = []

    async def handle(event: CloudEvent) -> None:
        seen.append(event)

    runtime = Runtime(settings, CollectorRegistry())
    relay = runtime.add_outbox(["reports"])
    runtime.add_consumer("outage", [INTAKE_REPORTS], {intake_events.REPORT_SUBMITTED: handle})
    await runtime.start()
    try:
        before = report_event("r-before")
        await runtime.db.reports.insert_one(with_outbox({"_id": "r-before"}, [(INTAKE_REPORTS, before)]))
        relay.kick()
        await wait_for(lambda: len(seen) == 1)

        await asyncio.to_thread(own_kafka, "kafka-kill")
        during = report_event("r-during")
        await runtime.db.reports.insert_one(with_outbox({"_id": "r-during"}, [(INTAKE_REPORTS, during)]))
        relay.kick()
        await asyncio.sleep(4.0)  # the relay tries and fails while the broker is dead
        assert runtime.outbox_metrics.errors._value.get() >= 1
        pending = await runtime.db.reports.find_one({"_id": "r-during"})
        assert pending is not None
        assert pending["_outbox_pending"] is True

        await asyncio.to_thread(own_kafka, "kafka-up")
        await wait_for(lambda: len(seen) >= 2, timeout=90)
        assert [e.id for e in seen] == [before.id, during.id]
        for _ in range(100):
            doc = await runtime.db.reports.find_one({"_id": "r-during"})
            if doc is not None and not doc["_outbox_pending"]:
                break
            await asyncio.sleep(0.1)
        assert doc is not None
        assert doc["_outbox"] == {}
    finally:
        await runtime.stop()
