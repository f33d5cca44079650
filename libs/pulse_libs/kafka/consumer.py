"""The consumer runner: services register handlers by event type; this loop does the rest.

Guarantees: offsets are committed only after the handler returned (its effects
durable); transient failures are retried with capped exponential backoff
without limit; other failures are retried a few times and then, like poison
messages, sent to `<topic>.dlq` with the error; events already processed (by
`ce_id`, per group) are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError

from pulse_libs.events.envelope import CloudEvent, InvalidEventError
from pulse_libs.events.topics import dlq
from pulse_libs.kafka.errors import PERMANENT_ERRORS, is_transient
from pulse_libs.kafka.inbox import Inbox
from pulse_libs.kafka.metrics import ConsumerMetrics
from pulse_libs.kafka.naming import TopicNamer
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.settings import ServiceSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[CloudEvent], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for failed handlers; `max_attempts` applies to non-transient errors only."""

    initial_seconds: float = 0.2
    max_seconds: float = 10.0
    max_attempts: int = 5

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given 1-based attempt."""
        cap = min(self.max_seconds, self.initial_seconds * (2 ** (attempt - 1)))
        return float(cap / 2 + random.uniform(0, cap / 2))  # noqa: S311 - jitter, not crypto


class _Stopping(Exception):
    """Raised inside the loop when shutdown interrupts a retry."""


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, group: str) -> None:
        self._group = group

    async def on_partitions_revoked(self, revoked: Any) -> None:
        log.info(
            "partitions revoked",
            extra={"group": self._group, "partitions": [str(tp) for tp in revoked]},
        )

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info(
            "partitions assigned",
            extra={"group": self._group, "partitions": [str(tp) for tp in assigned]},
        )


class ConsumerRunner:
    """Consumes logical topics as one group and dispatches events to handlers by `ce_type`."""

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        group_id: str,
        topics: list[str],
        handlers: Mapping[str, EventHandler],
        producer: EventProducer,
        metrics: ConsumerMetrics,
        inbox: Inbox | None = None,
        retry: RetryPolicy | None = None,
        max_batch: int = 200,
    ) -> None:
        self._settings = settings
        self._namer = TopicNamer(settings.kafka_topic_prefix)
        # Deployments (and test runs) sharing a broker must not share consumer groups.
        prefix = settings.kafka_topic_prefix
        self._group = group_id if not prefix or group_id.startswith(prefix) else prefix + group_id
        self._topics = topics
        self._handlers = dict(handlers)
        self._producer = producer
        self._metrics = metrics
        self._inbox = inbox
        self._retry = retry or RetryPolicy()
        self._max_batch = max_batch
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def group_id(self) -> str:
        """The consumer group id."""
        return self._group

    def start(self) -> asyncio.Task[None]:
        """Start the loop in a background task and return it."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"consumer:{self._group}")
        return self._task

    async def stop(self, timeout: float = 15.0) -> None:
        """Finish the event in hand (or abandon its retry), then leave the group."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def run(self) -> None:
        """Consume until `stop()`; reconnects while the brokers are down."""
        while not self._stopping.is_set():
            try:
                await self._connect()
                await self._loop()
            except _Stopping:
                break
            except KafkaError as exc:
                log.warning(
                    "consumer lost the brokers, reconnecting",
                    extra={"group": self._group, "error": repr(exc)},
                )
                await self._disconnect()
                await self._sleep(2.0)
            except Exception:
                log.exception("consumer loop crashed, restarting", extra={"group": self._group})
                await self._disconnect()
                await self._sleep(2.0)
        await self._disconnect()

    async def _connect(self) -> None:
        if self._consumer is not None:
            return
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=self._group,
            client_id=f"{self._settings.service_name}-{self._group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=900_000,
            session_timeout_ms=30_000,
            heartbeat_interval_ms=3_000,
        )
        consumer.subscribe([self._namer.physical(t) for t in self._topics], listener=_Listener(self._group))
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    async def _disconnect(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            try:
                await consumer.stop()
            except Exception as exc:  # noqa: BLE001 - leaving a dead cluster may fail; nothing to do then
                log.warning("consumer stop failed", extra={"group": self._group, "error": repr(exc)})

    async def _loop(self) -> None:
        assert self._consumer is not None
        while not self._stopping.is_set():
            batch = await self._consumer.getmany(timeout_ms=500, max_records=self._max_batch)
            for tp, records in batch.items():
                for record in records:
                    await self._process(tp, record)
                await self._commit(tp, records[-1].offset + 1)
            await self._update_lag()

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: offset})
        except CommitFailedError as exc:
            # The partition moved to another member during a rebalance; it will redeliver,
            # and the inbox makes that harmless.
            log.warning("commit failed after rebalance", extra={"group": self._group, "error": repr(exc)})

    async def _update_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            position = await self._consumer.position(tp)
            self._metrics.lag.labels(self._group, self._namer.logical(tp.topic), str(tp.partition)).set(
                max(0, high - position)
            )

    async def _process(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        topic = self._namer.logical(tp.topic)
        try:
            event = CloudEvent.from_kafka(record.headers, record.value, record.key)
        except InvalidEventError as exc:
            await self._dead_letter(topic, record, exc)
            return
        handler = self._handlers.get(event.type)
        if handler is None:
            return  # another consumer's event on a shared topic
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                if self._inbox is not None and await self._inbox.seen(self._group, event.id):
                    self._metrics.duplicates.labels(self._group, topic).inc()
                    return
                await handler(event)
                if self._inbox is not None:
                    await self._inbox.mark(self._group, event.id)
                self._metrics.latency.labels(self._group, topic).observe(time.perf_counter() - started)
                self._metrics.processed.labels(self._group, topic, event.type).inc()
                return
            except asyncio.CancelledError:
                raise
            except PERMANENT_ERRORS as exc:
                self._metrics.failed.labels(self._group, topic, "permanent").inc()
                await self._dead_letter(topic, record, exc)
                return
            except Exception as exc:
                transient = is_transient(exc)
                self._metrics.failed.labels(self._group, topic, "transient" if transient else "error").inc()
                if not transient and attempt >= self._retry.max_attempts:
                    log.exception(
                        "handler failed, dead-lettering",
                        extra={"group": self._group, "event_id": event.id},
                    )
                    await self._dead_letter(topic, record, exc)
                    return
                log.warning(
                    "handler failed, retrying",
                    extra={
                        "group": self._group,
                        "event_id": event.id,
                        "attempt": attempt,
                        "error": repr(exc),
                    },
                )
                await self._sleep(self._retry.delay(attempt))

    async def _dead_letter(self, topic: str, record: ConsumerRecord[bytes, bytes], exc: BaseException) -> None:
        headers = list(record.headers or ()) + [
            ("pulse_dlq_error", f"{type(exc).__name__}: {exc}"[:2000].encode()),
            ("pulse_dlq_topic", topic.encode()),
            ("pulse_dlq_partition", str(record.partition).encode()),
            ("pulse_dlq_offset", str(record.offset).encode()),
            ("pulse_dlq_group", self._group.encode()),
        ]
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._producer.send_raw(dlq(topic), value=record.value, key=record.key, headers=headers)
                break
            except Exception as send_exc:  # noqa: BLE001 - keep trying: never commit past an unrecorded poison message
                log.warning(
                    "dead-letter publish failed",
                    extra={"group": self._group, "error": repr(send_exc)},
                )
                await self._sleep(self._retry.delay(attempt))
        self._metrics.dead_lettered.labels(self._group, topic).inc()
        log.error("event dead-lettered", extra={"group": self._group, "topic": topic, "error": repr(exc)})

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return
        raise _Stopping
