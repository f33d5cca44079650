"""Notify: deliveries per second to a local webhook receiver, and escalation event → delivered latency.

Runs the real notify app (store, Kafka consumers, delivery worker, outbox relay) against the
local Kafka and FerretDB, with a local HTTP receiver that verifies every Standard Webhooks
signature. Figures are given beside the raw store and raw Kafka baselines of the same run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import time
import uuid
from typing import Any

import httpx
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as triage_events
import uvicorn
from asgi_lifespan import LifespanManager
from pulse_libs.auth import issue_token
from pulse_libs.clock import utcnow
from pulse_libs.events.common import Channel, EscalationTarget, Urgency
from pulse_libs.events.envelope import new_event
from pulse_libs.kafka.producer import EventProducer
from pulse_notify.bootstrap import bootstrap
from pulse_notify.domain import signing
from pulse_notify.settings import NotifySettings
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.baseline import raw_kafka_produce_per_second, raw_store_inserts_per_second

MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
KAFKA = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
RECIPIENTS = 25
EVENTS = 6
LATENCY_EVENTS = 15


class Receiver:
    """A webhook receiver that checks signatures and records arrival times by escalation."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.arrivals: list[tuple[float, str]] = []
        self.bad = 0

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        h = request.headers
        secret = self.secrets.get(request.url.path.rsplit("/", 1)[-1], "")
        if not signing.verify(
            secret, h["webhook-id"], int(h["webhook-timestamp"]), body, h.get("webhook-signature", "")
        ):
            self.bad += 1
            return Response(status_code=401)
        escalation_id = body.split(b'"escalation_id":"', 1)[1].split(b'"', 1)[0].decode()
        self.arrivals.append((time.time(), escalation_id))
        return Response(status_code=204)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _escalation(escalation_id: str, target: EscalationTarget = EscalationTarget.DUTY_OFFICER) -> Any:
    now = utcnow()
    data = triage_events.EscalationChanged(
        escalation_id=escalation_id,
        hotspot_id="hs-" + escalation_id,
        unit_code="04252",
        topic_code="dat-dai",
        urgency=Urgency.FLASH,
        level=1,
        target=target,
        state="pending",
        raised_at=now,
        ack_deadline=now,
        report_ids=["r-1"],
        report_count=1,
        source_count=1,
        channels=[Channel.HOTLINE],
        first_seen=now,
        last_seen=now,
        changed_at=now,
    )
    return new_event(triage_events.ESCALATION_RAISED, source=triage_events.SOURCE, data=data, key=data.hotspot_id)


async def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not complete in time")
        await asyncio.sleep(0.02)


async def measure() -> dict[str, float]:
    """Run both measurements against one notify instance."""
    namespace = "bench" + uuid.uuid4().hex[:8]
    settings = NotifySettings.model_construct(
        **{
            **NotifySettings().model_dump(),
            "env": "test",
            "mongo_url": MONGO,
            "kafka_bootstrap": KAFKA,
            "kafka_topic_prefix": namespace + ".",
            "kafka_topic_partitions": 3,
            "mongo_db": namespace + "_notify",
            "outbox_poll_seconds": 0.1,
            "log_json": False,
            "webhook_allow_private": True,
            "worker_poll_seconds": 0.05,
            "worker_concurrency": 16,
            "rate_webhook_per_second": 100_000.0,
            "rate_burst": 1000,
        }
    )
    receiver = Receiver()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hook/{name}", receiver.handle, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    server_task = asyncio.create_task(server.serve())
    token, _ = issue_token(settings, user_id="bench", username="bench", role="admin", unit_codes=[])
    admin = {"Authorization": f"Bearer {token}"}
    producer = EventProducer(settings, client_id="bench-notify")
    app = bootstrap(settings)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for i in range(RECIPIENTS):
                    answer = await client.post(
                        "/v1/recipients",
                        json={
                            "name": f"Cán bộ trực số {i}",
                            "targets": ["duty_officer"],
                            "channels": {"webhook_url": f"http://127.0.0.1:{port}/hook/r{i}"},
                        },
                        headers=admin,
                    )
                    answer.raise_for_status()
                    receiver.secrets[f"r{i}"] = answer.json()["webhook_secret"]
                # warm-up: consumers joined, one full fan-out
                await producer.publish(topics.TRIAGE_ESCALATIONS, _escalation("warm"))
                await _wait(lambda: len(receiver.arrivals) >= RECIPIENTS, 120)

                receiver.arrivals.clear()
                started = time.perf_counter()
                for e in range(EVENTS):
                    await producer.publish(topics.TRIAGE_ESCALATIONS, _escalation(f"tp-{e}"))
                await _wait(lambda: len(receiver.arrivals) >= EVENTS * RECIPIENTS, 300)
                throughput = EVENTS * RECIPIENTS / (time.perf_counter() - started)

                # latency: one standing-committee member, one escalation at a time
                answer = await client.post(
                    "/v1/recipients",
                    json={
                        "name": "Ủy viên Ban Thường vụ",
                        "targets": ["standing_committee"],
                        "channels": {"webhook_url": f"http://127.0.0.1:{port}/hook/btv"},
                    },
                    headers=admin,
                )
                receiver.secrets["btv"] = answer.raise_for_status().json()["webhook_secret"]
                receiver.arrivals.clear()
                produced: dict[str, float] = {}
                for e in range(LATENCY_EVENTS):
                    escalation_id = f"lat-{e}"
                    produced[escalation_id] = time.time()
                    event = _escalation(escalation_id, EscalationTarget.STANDING_COMMITTEE)
                    await producer.publish(topics.TRIAGE_ESCALATIONS, event)
                    await _wait(lambda n=e: len(receiver.arrivals) >= n + 1, 60)
                latencies = sorted(at - produced[esc] for at, esc in receiver.arrivals)
    finally:
        await producer.stop()
        server.should_exit = True
        await server_task
        client_db: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
        await client_db.drop_database(namespace + "_notify")
        await client_db.close()
    if receiver.bad:
        raise AssertionError(f"{receiver.bad} webhook signatures failed verification")
    return {
        "throughput": throughput,
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "max": latencies[-1],
    }


def main() -> str:
    """Measure and return the Markdown section."""
    figures = asyncio.run(measure())
    store = asyncio.run(raw_store_inserts_per_second(500))
    kafka = asyncio.run(raw_kafka_produce_per_second())
    return (
        "## notify: deliveries\n\n"
        f"The real notify app (Kafka consumer, delivery worker with 16 senders, outbox relay) delivering escalation "
        f"notices to a local webhook receiver that verifies every Standard Webhooks signature. Throughput: "
        f"{EVENTS} escalations fanned out to {RECIPIENTS} webhook recipients ({EVENTS * RECIPIENTS} deliveries), "
        f"from the first event produced to the last delivery received. Latency: {LATENCY_EVENTS} escalations "
        "one at a time to one recipient, from just before the event is produced to Kafka to its arrival at the "
        "receiver. Each delivery costs about eight store operations on FerretDB (record message and delivery, claim "
        "and claim lock, message read, finish with its outcome event, relay scan and clean-up).\n\n"
        "| what | figure | vs raw baseline (same run) |\n|---|---|---|\n"
        f"| deliveries/s to a local webhook receiver | {figures['throughput']:,.0f} | "
        f"{figures['throughput'] / store:.1%} of raw store inserts/s ({store:,.0f}) |\n"
        f"| escalation event → delivered, p50 | {figures['p50'] * 1000:,.0f} ms | |\n"
        f"| escalation event → delivered, p95 | {figures['p95'] * 1000:,.0f} ms | |\n"
        f"| escalation event → delivered, max | {figures['max'] * 1000:,.0f} ms | |\n"
        f"| raw Kafka records/s produced (acks=all) | {kafka:,.0f} | "
        f"deliveries/s = {figures['throughput'] / kafka:.2%} of it |\n\n"
        "Command: `uv run python -m benchmarks.bench_notify`\n"
    )


if __name__ == "__main__":
    print(main())
