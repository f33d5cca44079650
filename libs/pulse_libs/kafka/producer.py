"""Event producer: acks=all, idempotence on, and a timeout around every send."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer

from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.naming import TopicNamer
from pulse_libs.settings import ServiceSettings

log = logging.getLogger(__name__)


class EventProducer:
    """Publishes CloudEvents to logical topics; `publish` returns only once the broker has them."""

    def __init__(self, settings: ServiceSettings, *, client_id: str | None = None) -> None:
        self._settings = settings
        self._namer = TopicNamer(settings.kafka_topic_prefix)
        self._client_id = client_id or settings.service_name
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect to the brokers; retried by `publish` if the brokers are down now."""
        async with self._lock:
            if self._producer is not None:
                return
            producer = AIOKafkaProducer(
                **self._settings.kafka_client_options(),
                client_id=self._client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                request_timeout_ms=int(self._settings.kafka_send_timeout_seconds * 1000),
                retry_backoff_ms=200,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer

    async def stop(self) -> None:
        """Flush and disconnect."""
        async with self._lock:
            if self._producer is not None:
                producer, self._producer = self._producer, None
                await producer.stop()

    async def publish(self, topic: str, event: CloudEvent) -> None:
        """Send one event and wait for acks=all; raise on timeout or broker error."""
        if self._producer is None:
            await asyncio.wait_for(self.start(), self._settings.kafka_send_timeout_seconds)
        assert self._producer is not None
        await asyncio.wait_for(
            self._producer.send_and_wait(
                self._namer.physical(topic),
                value=event.body(),
                key=event.key.encode() if event.key is not None else None,
                headers=event.to_headers(),
            ),
            timeout=self._settings.kafka_send_timeout_seconds,
        )

    async def publish_many(self, items: list[tuple[str, CloudEvent]]) -> None:
        """Send events in order, pipelined, and wait until all are acknowledged (acks=all).

        The idempotent producer keeps the order of each partition even with several requests in flight,
        so the events of one key arrive in the order given; one round of acknowledgements covers them all."""
        if not items:
            return
        if self._producer is None:
            await asyncio.wait_for(self.start(), self._settings.kafka_send_timeout_seconds)
        assert self._producer is not None
        futures = []
        for topic, event in items:
            futures.append(
                await self._producer.send(
                    self._namer.physical(topic),
                    value=event.body(),
                    key=event.key.encode() if event.key is not None else None,
                    headers=event.to_headers(),
                )
            )
        await asyncio.wait_for(asyncio.gather(*futures), timeout=self._settings.kafka_send_timeout_seconds)

    async def send_raw(
        self,
        topic: str,
        *,
        value: bytes | None,
        key: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        """Send a raw record (used for dead letters, which keep the original bytes)."""
        if self._producer is None:
            await asyncio.wait_for(self.start(), self._settings.kafka_send_timeout_seconds)
        assert self._producer is not None
        await asyncio.wait_for(
            self._producer.send_and_wait(self._namer.physical(topic), value=value, key=key, headers=headers),
            timeout=self._settings.kafka_send_timeout_seconds,
        )

    async def ping(self, timeout: float = 2.0) -> bool:
        """True if a broker answers a metadata request within `timeout` seconds."""
        if self._producer is None:
            try:
                await asyncio.wait_for(self.start(), timeout)
            except Exception:  # noqa: BLE001 - readiness reports the failure, it does not raise
                return False
        assert self._producer is not None
        try:
            return bool(await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout))
        except Exception:  # noqa: BLE001
            return False
