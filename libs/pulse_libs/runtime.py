"""The connections and background loops of one service process, opened in the FastAPI lifespan."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient, IndexModel

from pulse_libs.claims import Lease
from pulse_libs.kafka.admin import ensure_topics
from pulse_libs.kafka.consumer import BatchHandler, ConsumerRunner, EventHandler, RetryPolicy
from pulse_libs.kafka.inbox import INBOX_COLLECTION, MongoInbox
from pulse_libs.kafka.metrics import ConsumerMetrics, OutboxMetrics
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.loops import LoopMetrics, every
from pulse_libs.observability import ReadinessCheck
from pulse_libs.outbox import OutboxRelay, ensure_outbox_index
from pulse_libs.settings import ServiceSettings
from pulse_libs.store import Database, Document, ensure_indexes, make_client, ping

log = logging.getLogger(__name__)

LoopFactory = Callable[[asyncio.Event], Awaitable[None]]


class Runtime:
    """Owns the store client, the producer, the outbox relay, consumers and periodic loops."""

    def __init__(self, settings: ServiceSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.client: AsyncMongoClient[Document] = make_client(settings)
        self.db: Database = self.client[settings.mongo_db]
        self.producer = EventProducer(settings)
        self.inbox = MongoInbox(self.db)
        self.consumer_metrics = ConsumerMetrics.create(registry)
        self.outbox_metrics = OutboxMetrics.create(registry)
        self.relay: OutboxRelay | None = None
        self.consumers: list[ConsumerRunner] = []
        self._loops: list[tuple[str, LoopFactory]] = []
        self._loop_tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._outbox_collections: list[str] = []
        self._loop_metrics: LoopMetrics | None = None
        self._leases: list[Lease] = []

    def add_outbox(self, collections: Sequence[str]) -> OutboxRelay:
        """Relay events stored in these collections' outbox fields."""
        self._outbox_collections = list(collections)
        self.relay = OutboxRelay(
            db=self.db,
            collections=collections,
            producer=self.producer,
            metrics=self.outbox_metrics,
            poll_seconds=self.settings.outbox_poll_seconds,
            settle_seconds=self.settings.outbox_settle_seconds,
        )
        return self.relay

    def add_consumer(
        self,
        group_id: str,
        topics: list[str],
        handlers: Mapping[str, EventHandler],
        *,
        retry: RetryPolicy | None = None,
        batch_handler: BatchHandler | None = None,
        batch_types: frozenset[str] = frozenset(),
        exclusive_seconds: float | None = None,
    ) -> ConsumerRunner:
        """Consume `topics` as group `group_id`, dispatching by event type (or in batches, see ConsumerRunner).

        With `exclusive_seconds`, one replica at a time consumes (a lease of that term, see ConsumerRunner).
        """
        lease = None
        if exclusive_seconds is not None:
            holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            lease = Lease(
                self.db,
                "consumer-" + group_id.replace(".", "-").replace(":", "-"),
                holder=holder,
                ttl=timedelta(seconds=exclusive_seconds),
            )
            self._leases.append(lease)
        runner = ConsumerRunner(
            settings=self.settings,
            group_id=group_id,
            topics=topics,
            handlers=handlers,
            producer=self.producer,
            metrics=self.consumer_metrics,
            inbox=self.inbox,
            retry=retry,
            batch_handler=batch_handler,
            batch_types=batch_types,
            lease=lease,
        )
        self.consumers.append(runner)
        return runner

    def add_loop(self, name: str, loop: LoopFactory) -> None:
        """Run `loop(stopping)` in the background; it must return once `stopping` is set."""
        self._loops.append((name, loop))

    def every(self, name: str, seconds: float | Callable[[], float], fn: Callable[[], Awaitable[Any]]) -> None:
        """Run `fn` every `seconds` in the background, with the loop metrics (see `pulse_libs.loops`)."""
        if self._loop_metrics is None:
            self._loop_metrics = LoopMetrics.create(self.registry)
        self.add_loop(name, every(name, seconds, fn, metrics=self._loop_metrics))

    async def start(
        self, indexes: Mapping[str, Sequence[IndexModel]] | None = None, *, wait_seconds: float = 60
    ) -> None:
        """Bootstrap indexes and topics (waiting for the store and broker), then start every loop."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                await ensure_indexes(self.db, indexes or {})
                await self.inbox.ensure_indexes()
                for lease in self._leases[:1]:
                    await lease.ensure_indexes()
                for name in self._outbox_collections:
                    await ensure_outbox_index(self.db, name)
                break
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("store not ready at start-up, waiting", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)
        await ensure_topics(self.settings, wait_seconds=max(1.0, deadline - time.monotonic()))
        if self.relay is not None:
            self.relay.start()
        for consumer in self.consumers:
            consumer.start()
        for name, loop in self._loops:
            self._loop_tasks.append(asyncio.create_task(self._supervise(name, loop), name=name))

    async def _supervise(self, name: str, loop: LoopFactory) -> None:
        while not self._stopping.is_set():
            try:
                await loop(self._stopping)
            except Exception:
                log.exception("background loop crashed, restarting", extra={"loop": name})
                try:
                    await asyncio.wait_for(self._stopping.wait(), 2.0)
                except TimeoutError:
                    continue

    async def stop(self) -> None:
        """Stop loops and consumers, flush the relay and producer, close the store."""
        self._stopping.set()
        await asyncio.gather(*(c.stop() for c in self.consumers), return_exceptions=True)
        for lease in self._leases:  # hand exclusive consumption over at once, not after the term
            try:
                await lease.release()
            except Exception as exc:  # noqa: BLE001 - the store is away: the term expires by itself
                log.warning("lease release failed", extra={"lease": lease.name, "error": repr(exc)})
        if self._loop_tasks:
            _, pending = await asyncio.wait(self._loop_tasks, timeout=10)
            for task in pending:
                task.cancel()
        if self.relay is not None:
            await self.relay.stop()
        await self.producer.stop()
        await self.client.close()

    def readiness(self) -> dict[str, ReadinessCheck]:
        """The checks behind `/readyz`."""

        async def store() -> bool:
            return await ping(self.client)

        async def broker() -> bool:
            return await self.producer.ping()

        return {"store": store, "broker": broker}


__all__ = ["INBOX_COLLECTION", "Any", "Runtime"]
