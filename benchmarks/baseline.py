"""Raw-store and raw-Kafka baselines, measured in the same run as each pipeline figure.

FerretDB (on PostgreSQL here) is far slower than MongoDB, so a pipeline figure means
little alone; each benchmark reports it beside these as a ratio.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
KAFKA = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


async def raw_store_inserts_per_second(n: int = 2000) -> float:
    """Single-document inserts per second (one at a time, acknowledged), like a request path."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGO)
    db_name = "bench_raw_" + uuid.uuid4().hex[:8]
    col = client[db_name]["docs"]
    try:
        await col.insert_one({"_id": "warm"})
        started = time.perf_counter()
        for i in range(n):
            await col.insert_one({"_id": i, "unit_code": "04747", "title": "Người dân phản ánh", "n": i})
        elapsed = time.perf_counter() - started
    finally:
        await client.drop_database(db_name)
        await client.close()
    return n / elapsed


async def raw_kafka_produce_per_second(n: int = 5000, value_size: int = 600) -> float:
    """Records per second produced with acks=all and idempotence, awaiting each batch of 100."""
    topic = "bench.raw." + uuid.uuid4().hex[:8]
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    value = b"x" * value_size
    try:
        await producer.send_and_wait(topic, value)
        started = time.perf_counter()
        for start in range(0, n, 100):
            futures = [
                await producer.send(topic, value, key=str(i % 99).encode()) for i in range(start, min(n, start + 100))
            ]
            await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()
    return n / elapsed


def main() -> str:
    """Measure both baselines and return a Markdown section."""
    store = asyncio.run(raw_store_inserts_per_second())
    kafka = asyncio.run(raw_kafka_produce_per_second())
    return (
        "## Raw baselines\n\n"
        "| what | figure |\n|---|---|\n"
        f"| store: single-document inserts/s (FerretDB 1.24 on PostgreSQL) | {store:,.0f} |\n"
        f"| Kafka: records/s produced, acks=all, idempotent, 600 B | {kafka:,.0f} |\n\n"
        "Command: `uv run python -m benchmarks.baseline`\n"
    )


if __name__ == "__main__":
    print(main())
