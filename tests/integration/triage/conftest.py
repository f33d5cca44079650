"""Run triage against the real Kafka and store: produce reports, read its events, call its REST API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pulse_libs.auth import Role, issue_token
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.kafka.producer import EventProducer
from pulse_triage.bootstrap import bootstrap
from pulse_triage.settings import TriageSettings

WARD = "04747"  # Phường Yên Bái, Lào Cai
OTHER_WARD = "04750"


async def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll a sync or async predicate until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(0.1)


@dataclass
class Collector:
    """Reads every event of some topics from the beginning, in the background."""

    settings: TriageSettings
    topic_names: list[str]
    events: list[CloudEvent] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start reading."""
        consumer = AIOKafkaConsumer(
            *(self.settings.kafka_topic_prefix + t for t in self.topic_names),
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id="test-" + uuid.uuid4().hex[:8],
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )
        await consumer.start()

        async def run() -> None:
            try:
                while True:
                    batch = await consumer.getmany(timeout_ms=200)
                    for records in batch.values():
                        for r in records:
                            self.events.append(CloudEvent.from_kafka(r.headers, r.value, r.key))
            finally:
                await consumer.stop()

        self._task = asyncio.create_task(run())

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def of(self, event_type: str, **match: Any) -> list[CloudEvent]:
        """Events of a type whose data has the given values."""
        return [e for e in self.events if e.type == event_type and all(e.data.get(k) == v for k, v in match.items())]


@dataclass
class Harness:
    """One test's triage deployment: settings, a producer, a collector and helpers."""

    settings: TriageSettings
    producer: EventProducer
    collector: Collector

    async def submit(
        self,
        title: str,
        content: str,
        *,
        unit: str = WARD,
        reporter: str = "ctv-1",
        channel: str = "zalo",
        people: int | None = None,
        sentiment: str | None = "negative",
        topic_codes: list[str] | None = None,
        report_id: str | None = None,
    ) -> CloudEvent:
        """Publish a ReportSubmitted as intake would."""
        now = utcnow()
        rid = report_id or "r" + uuid.uuid4().hex[:12]
        data = intake_events.ReportSubmitted(
            report_id=rid,
            unit_code=unit,
            channel=channel,
            title=title,
            content=content,
            observed_at=now - timedelta(minutes=5),
            received_at=now,
            topic_codes=topic_codes or [],
            sentiment=sentiment,
            people_count=people,
            reporter_id=reporter,
        )
        event = new_event(intake_events.REPORT_SUBMITTED, source=intake_events.SOURCE, data=data, key=unit, subject=rid)
        await self.producer.publish(topics.INTAKE_REPORTS, event)
        return event

    def headers(self, role: Role = "department", units: list[str] | None = None) -> dict[str, str]:
        """Bearer headers for a user of `role`."""
        token, _ = issue_token(self.settings, user_id=f"u-{role}", username=role, role=role, unit_codes=units or [WARD])
        return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's real lifespan and give a client for it."""
    async with LifespanManager(app, startup_timeout=90, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def harness(make_settings: Callable[..., Any]) -> AsyncIterator[Harness]:
    """Settings with short timers, a producer and a collector of triage's output topics."""
    settings: TriageSettings = make_settings(
        TriageSettings,
        scheduler_interval_seconds=0.2,
        lease_seconds=1.5,
        metrics_refresh_seconds=0.5,
        silence_sweep_seconds=0.5,
        rules_cache_seconds=0,
    )
    producer = EventProducer(settings, client_id="test-intake")
    collector = Collector(settings, [topics.TRIAGE_DECISIONS, topics.TRIAGE_ESCALATIONS])
    try:
        yield Harness(settings, producer, collector)
    finally:
        await collector.stop()
        await producer.stop()


@pytest.fixture
def app_factory(harness: Harness) -> Callable[[], FastAPI]:
    """Build a triage app on the harness settings (call twice for two replicas)."""
    return lambda: bootstrap(harness.settings)
