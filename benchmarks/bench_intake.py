"""Intake benchmark: reports accepted per second through the ASGI app (real store, real Kafka relay).

32 concurrent clients submit reports, one per request (`POST /v1/reports`) and
in batches of 100 (`POST /v1/reports:batch`), against FerretDB; the outbox
relay publishes every ReportSubmitted event to Kafka in the same process while
the clients run. The raw-store baselines (sequential and 32-way concurrent
single-document inserts with the same driver) are measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pulse_intake.bootstrap import bootstrap
from pulse_intake.settings import IntakeSettings
from pulse_libs.auth import issue_token
from pulse_libs.clock import utcnow
from pymongo import AsyncMongoClient

from benchmarks.baseline import KAFKA, MONGO, raw_store_inserts_per_second

CLIENTS = 32
SINGLE_PER_CLIENT = int(os.environ.get("BENCH_INTAKE_SINGLE", "40"))
BATCHES_PER_CLIENT = int(os.environ.get("BENCH_INTAKE_BATCHES", "2"))
BATCH_SIZE = 100
UNITS = ["04252", "04279", "04273", "04543"]


def _report(i: int) -> dict[str, Any]:
    return {
        "unit_code": UNITS[i % len(UNITS)],
        "channel": "zalo",
        "title": f"Người dân phản ánh giá điện tăng cao (tổ {i % 40})",
        "content": "Nhiều hộ dân phản ánh hóa đơn tiền điện tháng này tăng gần gấp đôi, đề nghị ngành điện kiểm tra, "
        "công khai cách tính giá bậc thang để bà con yên tâm.",
        "observed_at": (utcnow() - timedelta(hours=1)).isoformat(),
        "topic_codes": ["gia-ca"],
        "sentiment": "negative",
        "people_count": 15,
    }


async def _raw_concurrent(n_per_client: int) -> float:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
    name = "bench_rawc_" + uuid.uuid4().hex[:8]
    col = client[name]["docs"]
    try:
        await col.insert_one({"_id": "warm"})

        async def worker(w: int) -> None:
            for i in range(n_per_client):
                await col.insert_one({"_id": f"{w}-{i}", **_report(i)})

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    finally:
        await client.drop_database(name)
        await client.close()
    return CLIENTS * n_per_client / elapsed


async def _run(client: httpx.AsyncClient, headers: dict[str, str], batch: bool) -> dict[str, float]:
    latencies: list[float] = []
    accepted = 0

    async def worker(w: int) -> None:
        nonlocal accepted
        for i in range(BATCHES_PER_CLIENT if batch else SINGLE_PER_CLIENT):
            t = time.perf_counter()
            if batch:
                items = [_report(w * 1000 + i * BATCH_SIZE + k) for k in range(BATCH_SIZE)]
                response = await client.post("/v1/reports:batch", json={"reports": items}, headers=headers)
                ok = sum(r["status"] == 201 for r in response.json()["results"])
            else:
                response = await client.post("/v1/reports", json=_report(w * 1000 + i), headers=headers)
                ok = int(response.status_code == 201)
            latencies.append(time.perf_counter() - t)
            accepted += ok

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CLIENTS)))
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    return {
        "accepted": accepted,
        "per_second": accepted / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu_ms": cpu_used * 1000 / max(accepted, 1),
    }


async def measure() -> dict[str, Any]:
    """Run the raw baselines and both submission modes; return the figures."""
    ns = "bench" + uuid.uuid4().hex[:8]
    settings = IntakeSettings.model_construct(
        **{**IntakeSettings().model_dump(), "env": "test", "mongo_url": MONGO, "kafka_bootstrap": KAFKA,
           "mongo_db": f"{ns}_intake", "kafka_topic_prefix": f"{ns}.", "kafka_topic_partitions": 3, "log_json": False}
    )  # fmt: skip
    raw_sequential = await raw_store_inserts_per_second(2000)
    raw_concurrent = await _raw_concurrent(40)
    token, _ = issue_token(settings, user_id="bench", username="bench", role="department", unit_codes=[])
    headers = {"Authorization": f"Bearer {token}"}
    app = bootstrap(settings)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
                await client.post("/v1/reports", json=_report(0), headers=headers)  # warm caches and pools
                single = await _run(client, headers, batch=False)
                batch = await _run(client, headers, batch=True)
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
        await mongo.drop_database(settings.mongo_db)
        await mongo.close()
    return {"raw_sequential": raw_sequential, "raw_concurrent": raw_concurrent, "single": single, "batch": batch}


def main() -> str:
    """Measure and return the Markdown section."""
    f = asyncio.run(measure())
    raw_seq, raw_con = f["raw_sequential"], f["raw_concurrent"]
    rows = []
    for name, label in (
        ("single", "`POST /v1/reports`, 1 report/request"),
        ("batch", "`POST /v1/reports:batch`, 100/request"),
    ):
        m = f[name]
        rows.append(
            f"| {label} | {m['accepted']:,.0f} | {m['per_second']:,.0f} | {m['p50_ms']:,.1f} | {m['p99_ms']:,.1f} "
            f"| {m['cpu_ms']:.2f} | {m['per_second'] / raw_seq:.2f} | {m['per_second'] / raw_con:.2f} |"
        )
    return (
        "## Intake: reports accepted per second\n\n"
        f"{CLIENTS} concurrent clients drive the intake ASGI app in-process (httpx ASGITransport, JWT auth, full "
        "validation) against FerretDB; each accepted report is one durable document carrying its ReportSubmitted "
        "event, which the outbox relay publishes to Kafka during the run (its store writes compete with the clients). "
        "Latency is per request; CPU is process CPU time (server, relay and the in-process clients) "
        "per accepted report.\n\n"
        "| mode | accepted | reports/s | p50 ms | p99 ms | CPU ms/report "
        "| ratio to raw sequential | ratio to raw 32-way |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Raw store, same driver, same run: {raw_seq:,.0f} single-document inserts/s sequential "
        f"(`benchmarks.baseline`), {raw_con:,.0f}/s with {CLIENTS} concurrent inserters.\n\n"
        "Command: `uv run python -m benchmarks.bench_intake`\n"
    )


if __name__ == "__main__":
    print(main())
