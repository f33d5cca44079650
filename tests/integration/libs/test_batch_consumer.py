"""Batch consumption on the real broker and store: one handler call per poll, poison isolated, no repeats."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.events.topics import INTAKE_REPORTS, dlq
from pulse_libs.kafka.admin import ensure_topics
from pulse_libs.kafka.consumer import BatchHandler, ConsumerRunner, RetryPolicy
from pulse_libs.kafka.inbox import MongoInbox
from pulse_libs.kafka.metrics import ConsumerMetrics
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.settings import ServiceSettings
from pulse_libs.store import make_client

from .helpers import read_topic, report_event, wait_for

FAST = RetryPolicy(initial_seconds=0.05, max_seconds=0.2, max_attempts=2)


def batch_runner(
    settings: ServiceSettings, producer: EventProducer, handler: BatchHandler, inbox: Any
) -> ConsumerRunner:
    return ConsumerRunner(
        settings=settings,
        group_id="batch-group",
        topics=[INTAKE_REPORTS],
        handlers={},
        batch_handler=handler,
        batch_types=frozenset({intake_events.REPORT_SUBMITTED}),
        producer=producer,
        metrics=ConsumerMetrics.create(CollectorRegistry()),
        inbox=inbox,
        retry=FAST,
    )


async def test_a_backlog_arrives_in_few_calls_each_event_once(make_settings: Callable[..., Any]) -> None:
    settings = make_settings(kafka_topic_partitions=1)
    await ensure_topics(settings)
    producer = EventProducer(settings)
    client = make_client(settings)
    inbox = MongoInbox(client[settings.mongo_db])
    calls: list[list[str]] = []

    async def handle(events: list[CloudEvent]) -> None:
        calls.append([e.data["report_id"] for e in events])

    events = [report_event(f"r{i}") for i in range(120)]
    for event in events:
        await producer.publish(INTAKE_REPORTS, event)
    await producer.publish(INTAKE_REPORTS, events[3])  # a relay republishing: must not be handled again
    consumer = batch_runner(settings, producer, handle, inbox)
    consumer.start()
    try:
        await wait_for(lambda: sum(len(c) for c in calls) >= 120)
        await asyncio.sleep(1.0)
        handled = [r for c in calls for r in c]
        assert handled == [f"r{i}" for i in range(120)]  # partition order, each once
        assert len(calls) < 20, f"{len(calls)} calls for 120 events: not batched"
        assert await inbox.seen_many(consumer.group_id, [e.id for e in events]) == {e.id for e in events}
    finally:
        await consumer.stop()
        await producer.stop()
        await client.close()


async def test_a_poison_event_is_dead_lettered_alone(make_settings: Callable[..., Any]) -> None:
    settings = make_settings(kafka_topic_partitions=1)
    await ensure_topics(settings)
    producer = EventProducer(settings)
    client = make_client(settings)
    inbox = MongoInbox(client[settings.mongo_db])
    done: list[str] = []

    async def handle(events: list[CloudEvent]) -> None:
        if any(e.data["report_id"] == "bad" for e in events):
            raise ValueError("cannot project this report")
        done.extend(e.data["report_id"] for e in events)

    for rid in ("a", "b", "bad", "c", "d"):
        await producer.publish(INTAKE_REPORTS, report_event(rid))
    consumer = batch_runner(settings, producer, handle, inbox)
    consumer.start()
    try:
        await wait_for(lambda: len(done) >= 4)
        dead = await read_topic(settings, dlq(INTAKE_REPORTS), expected=1)
        assert len(dead) == 1
        assert b"cannot project this report" in dict(dead[0].headers)["pulse_dlq_error"]
        assert sorted(done) == ["a", "b", "c", "d"]
    finally:
        await consumer.stop()
        await producer.stop()
        await client.close()
