"""Small helpers for the libs integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.settings import ServiceSettings


def report_event(report_id: str, unit: str = "04747") -> CloudEvent:
    """A realistic ReportSubmitted event."""
    now = utcnow()
    data = intake_events.ReportSubmitted(
        report_id=report_id,
        unit_code=unit,
        channel="zalo",
        title="Người dân phản ánh giá điện tăng",
        content="Nhiều hộ dân ở tổ 5 phản ánh hóa đơn tiền điện tháng này tăng cao bất thường.",
        observed_at=now,
        received_at=now,
        reporter_id="u-1",
    )
    return new_event(
        intake_events.REPORT_SUBMITTED, source=intake_events.SOURCE, data=data, key=unit, subject=report_id
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll until `predicate()` holds, failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def read_topic(settings: ServiceSettings, topic: str, expected: int, timeout: float = 20.0) -> list[Any]:
    """Read `expected` records from the start of a (prefixed) topic."""
    consumer = AIOKafkaConsumer(
        settings.kafka_topic_prefix + topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(records) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for rs in batch.values():
                records.extend(rs)
    finally:
        await consumer.stop()
    return records
