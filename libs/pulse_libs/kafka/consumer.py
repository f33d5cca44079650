"""The consumer runner: services register handlers by event type; this loop does the rest.

Guarantees: offsets are committed only after the handler returned (its effects
durable); transient failures are retried with capped exponential backoff
without limit; other failures are retried a few times and then, like poison
messages, sent to `<topic>.dlq` with the error; events already processed (by
`ce_id`, per group) are skipped.

Throughput: what one poll (`getmany`) returns for a partition is handled as a batch. The inbox
is asked once for the whole batch and marked once after it, and a service that registers a
batch handler gets the batch's events in partition order in one call (so it can write their
effects with one bulk write per collection). If a batch handler fails, the batch is replayed
event by event through the ordinary path, so a poison event is isolated, retried and
dead-lettered alone while the rest go through.

Exclusive consumers: a projection whose documents are shared by events of many partitions
(reporting's counters: one unit-day document takes every report of that unit, from the reports
and the triage topics alike) cannot have two replicas writing at once on a store whose updates
are read-modify-writes of the whole document (FerretDB: a concurrent `$inc` is lost, a stale write
resurrects an applied move). Given a `Lease`, the runner consumes only while it holds the lease:
the other replicas stand by (serving reads) and take over once the holder's term expires. The
lease is renewed before each batch and before each attempt of a handler, and the runner stops
writing the moment it cannot renew; events it had not committed are redelivered to the next
holder, and the inbox and idempotent handlers make that harmless.
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

from pulse_libs.claims import Lease
from pulse_libs.clock import utcnow
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
BatchHandler = Callable[[list[CloudEvent]], Awaitable[None]]
"""Handles the events of one poll of one partition, in order; must be idempotent like any handler."""


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


class _LeaseLost(Exception):
    """Raised inside the loop when an exclusive consumer can no longer renew its lease."""


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
        batch_handler: BatchHandler | None = None,
        batch_types: frozenset[str] = frozenset(),
        lease: Lease | None = None,
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
        self._batch_handler = batch_handler
        self._batch_types = batch_types if batch_handler is not None else frozenset()
        self._lease = lease
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
                if self._lease is not None and await self._lease.acquire() is None:
                    await self._disconnect()  # another replica holds it: stand by
                    await self._sleep(self._standby_seconds())
                    continue
                await self._connect()
                await self._loop()
            except _Stopping:
                break
            except _LeaseLost:
                log.warning("exclusive consumer lost its lease, standing by", extra={"group": self._group})
                await self._disconnect()
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
            **self._settings.kafka_client_options(),
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
            await self._keep_lease()
            batch = await self._consumer.getmany(timeout_ms=500, max_records=self._max_batch)
            for tp, records in batch.items():
                await self._keep_lease()
                await self._process_partition(tp, records)
                await self._commit(tp, records[-1].offset + 1)
            await self._update_lag()

    def _standby_seconds(self) -> float:
        assert self._lease is not None
        return max(0.5, self._lease.ttl.total_seconds() / 3)

    async def _keep_lease(self) -> None:
        """Renew the lease of an exclusive consumer once half its trusted term has passed; stop if we cannot."""
        if self._lease is None:
            return
        term = self._lease.held()
        if term is not None and (term.trusted_until - utcnow()) > self._lease.ttl / 2:
            return
        try:
            renewed = await self._lease.acquire()
        except Exception as exc:
            raise _LeaseLost from exc
        if renewed is None:
            raise _LeaseLost

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

    def _handler_for(self, event_type: str) -> EventHandler | None:
        handler = self._handlers.get(event_type)
        if handler is None and event_type in self._batch_types and self._batch_handler is not None:
            batch_handler = self._batch_handler

            async def single(event: CloudEvent) -> None:
                await batch_handler([event])

            return single
        return handler

    async def _process_partition(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Decode, dedupe and handle one poll of one partition, then mark it in the inbox once."""
        topic = self._namer.logical(tp.topic)
        todo: dict[str, tuple[ConsumerRecord[bytes, bytes], CloudEvent]] = {}
        for record in records:
            try:
                event = CloudEvent.from_kafka(record.headers, record.value, record.key)
            except InvalidEventError as exc:
                await self._dead_letter(topic, record, exc)
                continue
            if event.type not in self._handlers and event.type not in self._batch_types:
                continue  # another consumer's event on a shared topic
            if event.id in todo:  # the relay may publish an event twice: once is enough
                self._metrics.duplicates.labels(self._group, topic).inc()
                continue
            todo[event.id] = (record, event)
        if not todo:
            return
        if self._inbox is not None:
            seen = await self._with_store_retry(lambda: self._seen(list(todo)))
            for event_id in seen:
                del todo[event_id]
                self._metrics.duplicates.labels(self._group, topic).inc()
        handled: list[str] = []
        batchable = [event for _, event in todo.values() if event.type in self._batch_types]
        if len(batchable) == len(todo) and len(todo) > 1 and await self._try_batch(topic, batchable):
            handled = list(todo)
        else:
            for event_id, (record, event) in todo.items():
                if await self._process(topic, record, event):
                    handled.append(event_id)
        if self._inbox is not None and handled:
            inbox = self._inbox
            await self._with_store_retry(lambda: inbox.mark_many(self._group, handled))

    async def _seen(self, event_ids: list[str]) -> set[str]:
        assert self._inbox is not None
        return await self._inbox.seen_many(self._group, event_ids)

    async def _with_store_retry(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Inbox bookkeeping waits out a store outage instead of dropping the batch."""
        attempt = 0
        while True:
            attempt += 1
            await self._keep_lease()
            try:
                return await call()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the store is down: wait, never skip the bookkeeping
                log.warning("inbox unavailable, retrying", extra={"group": self._group, "error": repr(exc)})
                await self._sleep(self._retry.delay(attempt))

    async def _try_batch(self, topic: str, events: list[CloudEvent]) -> bool:
        """Run the batch handler once; False sends the batch through the one-by-one path."""
        assert self._batch_handler is not None
        started = time.perf_counter()
        try:
            await self._batch_handler(events)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - replayed one by one, where errors are classified
            self._metrics.failed.labels(self._group, topic, "batch").inc()
            log.warning(
                "batch handler failed, replaying the batch event by event",
                extra={"group": self._group, "events": len(events), "error": repr(exc)},
            )
            return False
        elapsed = (time.perf_counter() - started) / len(events)
        for event in events:
            self._metrics.latency.labels(self._group, topic).observe(elapsed)
            self._metrics.processed.labels(self._group, topic, event.type).inc()
        return True

    async def _process(self, topic: str, record: ConsumerRecord[bytes, bytes], event: CloudEvent) -> bool:
        """Handle one event with retries; True once handled, False if it was dead-lettered."""
        handler = self._handler_for(event.type)
        if handler is None:
            return False
        attempt = 0
        while True:
            attempt += 1
            await self._keep_lease()
            started = time.perf_counter()
            try:
                await handler(event)
                self._metrics.latency.labels(self._group, topic).observe(time.perf_counter() - started)
                self._metrics.processed.labels(self._group, topic, event.type).inc()
                return True
            except asyncio.CancelledError:
                raise
            except PERMANENT_ERRORS as exc:
                self._metrics.failed.labels(self._group, topic, "permanent").inc()
                await self._dead_letter(topic, record, exc)
                return False
            except Exception as exc:
                transient = is_transient(exc)
                self._metrics.failed.labels(self._group, topic, "transient" if transient else "error").inc()
                if not transient and attempt >= self._retry.max_attempts:
                    log.exception(
                        "handler failed, dead-lettering",
                        extra={"group": self._group, "event_id": event.id},
                    )
                    await self._dead_letter(topic, record, exc)
                    return False
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
