"""The consumer runner on the real broker: once per group, redelivery after a crash, DLQ, retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.events.topics import INTAKE_REPORTS, dlq
from pulse_libs.kafka.admin import ensure_topics
from pulse_libs.kafka.consumer import ConsumerRunner, EventHandler, RetryPolicy
from pulse_libs.kafka.dlq_replay import replay
from pulse_libs.kafka.errors import PermanentError, TransientError
from pulse_libs.kafka.inbox import MongoInbox
from pulse_libs.kafka.metrics import ConsumerMetrics
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.settings import ServiceSettings
from pulse_libs.store import make_client

from .helpers import read_topic, report_event, wait_for

FAST = RetryPolicy(initial_seconds=0.05, max_seconds=0.2, max_attempts=3)


def runner(
    settings: ServiceSettings,
    producer: EventProducer,
    handler: EventHandler,
    *,
    registry: CollectorRegistry | None = None,
    inbox: Any = None,
) -> tuple[ConsumerRunner, ConsumerMetrics]:
    metrics = ConsumerMetrics.create(registry or CollectorRegistry())
    return (
        ConsumerRunner(
            settings=settings,
            group_id="test-group",
            topics=[INTAKE_REPORTS],
            handlers={intake_events.REPORT_SUBMITTED: handler},
            producer=producer,
            metrics=metrics,
            inbox=inbox,
            retry=FAST,
        ),
        metrics,
    )


async def test_each_message_is_handled_once_by_a_group_of_two(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    await ensure_topics(settings)
    producer = EventProducer(settings)
    client = make_client(settings)
    inbox = MongoInbox(client[settings.mongo_db])
    handled: list[str] = []

    async def handle(event: CloudEvent) -> None:
        handled.append(event.data["report_id"])

    first, _ = runner(settings, producer, handle, inbox=inbox)
    second, _ = runner(settings, producer, handle, inbox=inbox)
    first.start()
    second.start()
    try:
        for i in range(30):
            await producer.publish(INTAKE_REPORTS, report_event(f"r{i}", unit=f"u{i % 7}"))
        await wait_for(lambda: len(handled) >= 30)
        await asyncio.sleep(1.0)  # anything extra would arrive now
        assert sorted(handled) == sorted(f"r{i}" for i in range(30))
    finally:
        await asyncio.gather(first.stop(), second.stop())
        await producer.stop()
        await client.close()


async def test_a_crash_before_commit_redelivers_after_restart(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    await ensure_topics(settings)
    producer = EventProducer(settings)
    started = asyncio.Event()
    deliveries: list[str] = []

    async def hang(event: CloudEvent) -> None:
        deliveries.append(event.id)
        started.set()
        await asyncio.Event().wait()  # the process "dies" inside the handler

    async def handle(event: CloudEvent) -> None:
        deliveries.append(event.id)

    crashing, _ = runner(settings, producer, hang)
    task = crashing.start()
    event = report_event("r-crash")
    await producer.publish(INTAKE_REPORTS, event)
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()  # killed: no commit happened
    await asyncio.gather(task, return_exceptions=True)
    await crashing._disconnect()

    restarted, _ = runner(settings, producer, handle)
    restarted.start()
    try:
        await wait_for(lambda: len(deliveries) >= 2)
        assert deliveries == [event.id, event.id]
    finally:
        await restarted.stop()
        await producer.stop()


async def test_poison_goes_to_the_dlq_and_the_consumer_goes_on(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    await ensure_topics(settings)
    producer = EventProducer(settings)
    handled: list[str] = []

    async def handle(event: CloudEvent) -> None:
        if event.data["report_id"] == "bad":
            raise PermanentError("report refers to a unit that cannot exist")
        handled.append(event.data["report_id"])

    consumer, metrics = runner(settings, producer, handle)
    consumer.start()
    try:
        # One record that is not a CloudEvent, one the handler refuses, then a good one, all on one partition.
        await producer.send_raw(INTAKE_REPORTS, value=b"\x00garbage", key=b"04747", headers=[])
        await producer.publish(INTAKE_REPORTS, report_event("bad"))
        await producer.publish(INTAKE_REPORTS, report_event("good"))
        await wait_for(lambda: handled == ["good"])
        letters = await read_topic(settings, dlq(INTAKE_REPORTS), expected=2)
        assert len(letters) == 2
        errors = [dict(r.headers)["pulse_dlq_error"].decode() for r in letters]
        assert any("missing header" in e for e in errors)
        assert any("cannot exist" in e for e in errors)
        assert all(dict(r.headers)["pulse_dlq_topic"] == INTAKE_REPORTS.encode() for r in letters)
        assert metrics.dead_lettered.labels(consumer.group_id, INTAKE_REPORTS)._value.get() == 2
    finally:
        await consumer.stop()

    # After the fix is deployed, replaying the DLQ hands the refused event to the consumers again.
    fixed: list[str] = []

    async def fixed_handler(event: CloudEvent) -> None:
        fixed.append(event.data["report_id"])

    replayed = await replay(settings, INTAKE_REPORTS, idle_seconds=2.0)
    assert replayed == 2
    again, _ = runner(settings, producer, fixed_handler)
    again.start()
    try:
        await wait_for(lambda: "bad" in fixed)
    finally:
        await again.stop()
        await producer.stop()


async def test_a_replay_before_the_fix_ends_with_the_letters_it_started_with(make_settings: Callable[..., Any]) -> None:
    # The cause is not fixed: every replayed event is refused again and comes back as a new letter.
    settings = make_settings()
    await ensure_topics(settings)
    producer = EventProducer(settings)

    async def still_broken(event: CloudEvent) -> None:
        raise PermanentError(f"report {event.data['report_id']} still refers to a unit that cannot exist")

    consumer, _ = runner(settings, producer, still_broken)
    consumer.start()
    try:
        for rid in ("bad-1", "bad-2"):
            await producer.publish(INTAKE_REPORTS, report_event(rid))
        await read_topic(settings, dlq(INTAKE_REPORTS), expected=2)
        replayed = await asyncio.wait_for(replay(settings, INTAKE_REPORTS, idle_seconds=2.0), timeout=60)
        assert replayed == 2
        letters = await read_topic(settings, dlq(INTAKE_REPORTS), expected=4)
        assert len(letters) == 4  # refused again: the two replays are letters of their own, not replayed yet
        assert await asyncio.wait_for(replay(settings, INTAKE_REPORTS, idle_seconds=2.0), timeout=60) == 2
    finally:
        await consumer.stop()
        await producer.stop()


async def test_transient_errors_are_retried_until_they_pass(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    await ensure_topics(settings)
    producer = EventProducer(settings)
    attempts: list[str] = []

    async def flaky(event: CloudEvent) -> None:
        attempts.append(event.id)
        if len(attempts) <= 5:  # more than max_attempts: transient errors are not counted against the budget
            raise TransientError("store briefly unavailable")

    consumer, metrics = runner(settings, producer, flaky)
    consumer.start()
    try:
        await producer.publish(INTAKE_REPORTS, report_event("r-flaky"))
        await wait_for(lambda: len(attempts) == 6)
        await asyncio.sleep(0.5)
        assert len(attempts) == 6
        assert metrics.failed.labels(consumer.group_id, INTAKE_REPORTS, "transient")._value.get() == 5
        assert metrics.dead_lettered.labels(consumer.group_id, INTAKE_REPORTS)._value.get() == 0
    finally:
        await consumer.stop()
        await producer.stop()
