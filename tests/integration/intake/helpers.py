"""Helpers of the intake integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.settings import ServiceSettings

YEN_BAI = "04252"
VAN_PHU = "04279"
NAM_CUONG = "04273"
AU_LAU = "04543"


def report_body(unit: str = YEN_BAI, **changes: Any) -> dict[str, Any]:
    """A realistic report as a collaborator's phone sends it."""
    body: dict[str, Any] = {
        "unit_code": unit,
        "channel": "zalo",
        "title": "Người dân phản ánh giá điện tăng cao",
        "content": "Nhiều hộ dân ở tổ 5 phản ánh hóa đơn tiền điện tháng này tăng gần gấp đôi, đề nghị kiểm tra.",
        "observed_at": (utcnow() - timedelta(hours=2)).isoformat(),
        "topic_codes": ["gia-ca"],
        "sentiment": "negative",
        "people_count": 12,
    }
    body.update(changes)
    return body


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll an async condition until it holds, failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def read_events(
    settings: ServiceSettings, topic: str, until: Callable[[list[CloudEvent]], bool], timeout: float = 20.0
) -> list[CloudEvent]:
    """Read CloudEvents from the start of a (prefixed) topic until `until(events)` holds."""
    consumer = AIOKafkaConsumer(
        settings.kafka_topic_prefix + topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    events: list[CloudEvent] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not until(events):
            if loop.time() > deadline:
                raise AssertionError(f"expected events did not arrive on {topic}; got {[e.type for e in events]}")
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                events.extend(CloudEvent.from_kafka(r.headers, r.value, r.key) for r in records)
    finally:
        await consumer.stop()
    return events


async def count(db: Any, collection: str, query: dict[str, Any] | None = None) -> int:
    """How many documents a collection holds."""
    return int(await db[collection].count_documents(query or {}))


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a problem+json of `status`, naming `field` when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        assert any(e["field"] == field for e in body.get("errors") or []), body
    return body
