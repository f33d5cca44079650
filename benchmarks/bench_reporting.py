"""Reporting benchmark: events projected per second, and summary / monthly report latency over
one million reports' worth of counters, beside the raw-store and raw-Kafka baselines of the same run.

Run alone: `uv run python -m benchmarks.bench_reporting`; the projection alone, over N pre-filled reports
(2N events): `uv run python -m benchmarks.bench_reporting --projection N`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pulse_libs.events.intake as intake
import pulse_libs.events.triage as triage
from asgi_lifespan import LifespanManager
from pulse_libs.auth import issue_token
from pulse_libs.events import topics
from pulse_libs.events.envelope import new_event
from pulse_libs.kafka.admin import ensure_topics
from pulse_libs.kafka.producer import EventProducer
from pulse_reporting.adapters.cells import month_collections
from pulse_reporting.bootstrap import bootstrap
from pulse_reporting.settings import ReportingSettings
from pymongo import AsyncMongoClient

from benchmarks.baseline import raw_kafka_produce_per_second, raw_store_inserts_per_second

MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
KAFKA = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
PROJECTION_REPORTS = 60
LOAD_REPORTS = 1_000_000
SAMPLES = 2
UNITS = [f"{4000 + i:05d}" for i in range(99)]
TOPICS = [f"chu_de_{i:02d}" for i in range(12)]
URGENCY = (["routine", "urgent", "very_urgent", "flash"], [80, 13, 5, 2])
CHANNEL = (
    ["zalo", "phone", "meeting", "social_media", "written", "hotline", "press", "dialogue"],
    [35, 20, 15, 12, 8, 5, 3, 2],
)
SENTIMENT = (["neutral", "negative", "positive", "mixed"], [45, 30, 15, 10])


def settings() -> ReportingSettings:
    ns = "bench" + uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "env": "test",
        "kafka_bootstrap": KAFKA,
        "mongo_url": MONGO,
        "kafka_topic_prefix": f"{ns}.",
        "kafka_topic_partitions": 3,
        "mongo_db": f"{ns}_reporting",
        "log_json": False,
        "log_level": "WARNING",
    }
    return ReportingSettings.model_construct(**{**ReportingSettings().model_dump(), **values})


async def prefill(s: ReportingSettings, n: int) -> int:
    """Publish n ReportSubmitted and n ReportTriaged events before the service starts."""
    await ensure_topics(s, wait_seconds=60)
    producer = EventProducer(s)
    await producer.start()
    rng = random.Random(7)
    base = datetime(2024, 1, 20, 2, 0, tzinfo=UTC)  # outside the loaded year: separate collections
    try:
        for i in range(n):
            unit, when = rng.choice(UNITS), base + timedelta(minutes=i)
            report = intake.ReportSubmitted(
                report_id=f"r{i}",
                unit_code=unit,
                channel="zalo",
                title="Phản ánh",
                content="Người dân phản ánh.",
                observed_at=when,
                received_at=when,
                topic_codes=[rng.choice(TOPICS)],
                sentiment="negative",
                reporter_id=f"u{i % 300}",
            )
            decision = triage.ReportTriaged(
                report_id=f"r{i}",
                unit_code=unit,
                urgency=rng.choice(URGENCY[0]),
                topic_codes=[rng.choice(TOPICS)],
                sensitive=False,
                score=1.0,
                reasons=[],
                channel="zalo",
                observed_at=when,
                received_at=when,
                decided_at=when,
            )
            await producer.publish(
                topics.INTAKE_REPORTS, new_event(intake.REPORT_SUBMITTED, source="bench", data=report, key=unit)
            )
            await producer.publish(
                topics.TRIAGE_DECISIONS, new_event(triage.REPORT_TRIAGED, source="bench", data=decision, key=unit)
            )
    finally:
        await producer.stop()
    return 2 * n


async def projected(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("pulse_reporting_events_projected_total{")
    )


async def poll(client: httpx.AsyncClient, done: Callable[[float], bool], interval: float) -> float:
    """Poll the projected-events metric until `done` holds; return its value."""
    deadline = time.perf_counter() + 600
    value = await projected(client)
    while not done(value) and time.perf_counter() < deadline:
        await asyncio.sleep(interval)
        value = await projected(client)
    return value


async def measure_projection(client: httpx.AsyncClient, total: int) -> tuple[float, float]:
    """(events/s once the consumer is running, seconds to drain)."""
    first = await poll(client, lambda n: n > 0, 0.05)
    started = time.perf_counter()
    done = await poll(client, lambda n: n >= total, 0.1)
    elapsed = time.perf_counter() - started
    return (done - first) / elapsed, elapsed


def counter_documents(n: int) -> dict[str, list[dict[str, Any]]]:
    """n reports over the 2026 reporting year, 99 units (skewed), 12 topics, grouped as the service stores them."""
    rng = random.Random(42)
    start = date(2025, 12, 15)
    days = [(start + timedelta(days=d)).isoformat() for d in range(365)]
    unit_weights = [1.0 / (1 + i) ** 0.6 for i in range(len(UNITS))]
    draws = zip(
        rng.choices(days, k=n),
        rng.choices(UNITS, unit_weights, k=n),
        rng.choices(TOPICS, k=n),
        rng.choices(*URGENCY, k=n),
        rng.choices(*CHANNEL, k=n),
        rng.choices(*SENTIMENT, k=n),
        strict=True,
    )
    docs: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, unit, topic, urgency, channel, sentiment in draws:
        docs[(day, unit)][f"{topic}|{urgency}|{channel}|{sentiment}"] += 1
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (day, unit), cells in docs.items():
        out[month_collections(date.fromisoformat(day), date.fromisoformat(day))[0]].append(
            {"_id": f"day|{day}|{unit}", "kind": "day", "bucket": day, "unit": unit, "r": dict(cells)}
        )
    return out


async def load(s: ReportingSettings, docs: dict[str, list[dict[str, Any]]]) -> tuple[int, float]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(s.mongo_url)
    db = client[s.mongo_db]
    count = 0
    started = time.perf_counter()
    for name, batch in docs.items():
        for i in range(0, len(batch), 2000):
            await db[name].insert_many(batch[i : i + 2000], ordered=False)
        count += len(batch)
    elapsed = time.perf_counter() - started
    await db["units"].insert_many([{"_id": u, "name": f"Phường {u}", "kind": "ward"} for u in UNITS])
    await db["topics"].insert_many([{"_id": t, "name": f"Chủ đề {t[-2:]}"} for t in TOPICS])
    await client.close()
    return count, elapsed


async def timed(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict[str, str] | None = None
) -> float:
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        response = await client.get(url, headers=headers, params=params, timeout=600)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return statistics.median(samples)


async def raw_window_scan(s: ReportingSettings) -> float:
    """Documents per second read raw (no filter) from the collections of the 2026-11 window."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(s.mongo_url)
    started = time.perf_counter()
    n = 0
    for name in month_collections(date(2026, 10, 15), date(2026, 11, 14)):
        n += len([d async for d in client[s.mongo_db][name].find({})])
    elapsed = time.perf_counter() - started
    await client.close()
    return n / elapsed


def note(message: str) -> None:
    """Progress on stderr (the section goes to stdout)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run() -> dict[str, Any]:
    s = settings()
    figures: dict[str, Any] = {"raw_store": await raw_store_inserts_per_second(1000)}
    figures["raw_kafka"] = await raw_kafka_produce_per_second(3000)
    note('figures["events"]')
    figures["events"] = await prefill(s, PROJECTION_REPORTS)
    app = bootstrap(s)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                note('figures["projection_rate"], figures["projection_seconds"]')
                figures["projection_rate"], figures["projection_seconds"] = await measure_projection(
                    client, figures["events"]
                )
                note("docs")
                docs = counter_documents(LOAD_REPORTS)
                figures["window_docs"] = sum(
                    1 for batch in docs.values() for d in batch if "2026-10-15" <= d["bucket"] <= "2026-11-14"
                )
                note('figures["docs"], figures["load_seconds"]')
                figures["docs"], figures["load_seconds"] = await load(s, docs)
                figures["raw_scan"] = await raw_window_scan(s)
                token, _ = issue_token(s, user_id="u-bench", username="bench", role="standing_committee", unit_codes=[])
                headers = {"Authorization": f"Bearer {token}"}
                month = {"from": "2026-10-15", "to": "2026-11-14"}
                note('figures["summary_month"]')
                figures["summary_month"] = await timed(client, "/v1/stats/summary", headers, month)
                figures["summary_unit"] = await timed(
                    client, "/v1/stats/summary", headers, {**month, "unit_code": UNITS[0]}
                )
                topic = {**month, "topic_code": TOPICS[3]}
                figures["summary_topic"] = await timed(client, "/v1/stats/summary", headers, topic)
                figures["report_json"] = await timed(client, "/v1/periodic-reports/2026-11", headers)
                figures["report_docx"] = await timed(
                    client, "/v1/periodic-reports/2026-11", headers, {"format": "docx"}
                )
                figures["report_xlsx"] = await timed(
                    client, "/v1/periodic-reports/2026-11", headers, {"format": "xlsx"}
                )
                note('figures["close_and_file"]')
                dept, _ = issue_token(s, user_id="u-bench-dept", username="dept", role="department", unit_codes=[])
                started = time.perf_counter()
                closed = await client.post(
                    "/v1/periods/2026-11/close", headers={"Authorization": f"Bearer {dept}"}, timeout=600
                )
                figures["close_and_file"] = time.perf_counter() - started
                assert closed.status_code == 201, closed.text
                figures["filed_docx"] = await timed(client, "/v1/periodic-reports/2026-11", headers, {"format": "docx"})
    finally:
        client_: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(s.mongo_url)
        await client_.drop_database(s.mongo_db)
        await client_.close()
    return figures


def main() -> str:
    """Run the benchmark and return its Markdown section."""
    f = asyncio.run(run())
    per_doc = LOAD_REPORTS / f["docs"]
    loaded = f["docs"] / f["load_seconds"]
    raw_window = f["window_docs"] / f["raw_scan"]
    return (
        "## Reporting: projection and read latency\n\n"
        f"Projection: {f['events']:,} events ({PROJECTION_REPORTS} ReportSubmitted + {PROJECTION_REPORTS} "
        "ReportTriaged) pre-filled on Kafka, consumed by the real service (exactly-once counter moves, real store), "
        "timed from the first projected event to the last. Read latency: one million reports spread over the 2026 "
        "reporting year "
        f"(99 units with a skewed share, 12 topics, realistic urgency/channel/sentiment mix) written directly as the "
        f"counter documents the service keeps: {f['docs']:,} documents (one per day × unit, {per_doc:.0f} reports each "
        f"on average, in half-month collections); each endpoint timed as the median of {SAMPLES} calls through the "
        f"ASGI app. The month window holds {f['window_docs']:,} counter documents; reading them raw takes "
        f"{raw_window * 1000:,.0f} ms at the raw read rate below, so the summary costs "
        f"{f['summary_month'] / raw_window:.2f} × a raw read of its documents.\n\n"
        "| what | figure | vs raw baseline of this run |\n|---|---|---|\n"
        f"| raw store: single-document inserts/s | {f['raw_store']:,.0f} | 1.00 |\n"
        f"| raw Kafka: records/s produced (acks=all) | {f['raw_kafka']:,.0f} | 1.00 |\n"
        f"| events projected/s | {f['projection_rate']:,.0f} | {f['projection_rate'] / f['raw_store']:.2f} × raw "
        f"store inserts/s; {f['projection_rate'] / f['raw_kafka']:.3f} × raw Kafka produce/s |\n"
        f"| counter documents bulk-loaded/s | {loaded:,.0f} | {loaded / f['raw_store']:.1f} × raw store inserts/s |\n"
        f"| raw store: counter documents read/s (2026-11 window, unfiltered) | {f['raw_scan']:,.0f} | — |\n"
        f"| GET /v1/stats/summary, one reporting month (2026-11) | {f['summary_month'] * 1000:,.0f} ms | |\n"
        f"| GET /v1/stats/summary, one month, one unit | {f['summary_unit'] * 1000:,.0f} ms | |\n"
        f"| GET /v1/stats/summary, one month, one topic | {f['summary_topic'] * 1000:,.0f} ms | |\n"
        f"| GET /v1/periodic-reports/2026-11 (JSON) | {f['report_json'] * 1000:,.0f} ms | |\n"
        f"| GET /v1/periodic-reports/2026-11?format=docx (charts rendered) | {f['report_docx'] * 1000:,.0f} ms | |\n"
        f"| GET /v1/periodic-reports/2026-11?format=xlsx | {f['report_xlsx'] * 1000:,.0f} ms | |\n"
        f"| POST /v1/periods/2026-11/close (freeze and file) | {f['close_and_file'] * 1000:,.0f} ms | |\n"
        f"| GET /v1/periodic-reports/2026-11?format=docx once filed (stored bytes) | {f['filed_docx'] * 1000:,.0f} ms "
        "| |\n\n"
        "Command: `uv run python -m benchmarks.bench_reporting`\n"
    )


async def projection_only(reports: int) -> dict[str, Any]:
    """The projection figure alone: `reports` ReportSubmitted + ReportTriaged pre-filled, then drained."""
    s = settings()
    figures: dict[str, Any] = {"raw_store": await raw_store_inserts_per_second(1000)}
    figures["events"] = await prefill(s, reports)
    try:
        async with LifespanManager(bootstrap(s), startup_timeout=120, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                figures["projection_rate"], figures["projection_seconds"] = await measure_projection(
                    client, figures["events"]
                )
    finally:
        client_: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(s.mongo_url)
        await client_.drop_database(s.mongo_db)
        await client_.close()
    return figures


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--projection", type=int, metavar="N", help="only the projection figure, over N reports")
    args = cli.parse_args()
    if args.projection is None:
        print(main())
    else:
        f = asyncio.run(projection_only(args.projection))
        print(
            f"events projected/s: {f['projection_rate']:,.1f} "
            f"({f['events']:,} events in {f['projection_seconds']:.1f} s);"
            f" raw store inserts/s {f['raw_store']:,.0f}; ratio {f['projection_rate'] / f['raw_store']:.2f}"
        )
