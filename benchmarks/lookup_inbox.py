"""The inbox's `seen_many` against the size of `processed_events`: one `$in` on `_id` (as it was) against
`pulse_libs.store.find_by_ids` (what `MongoInbox.seen_many` does now), at 1,000 and 50,000 recorded events.

Not part of `make bench` (no `bench_` prefix). Run under the e2e lock, on the running store:
`flock /tmp/pulse-e2e.lock .venv/bin/python -m benchmarks.lookup_inbox [--sizes 1000 50000] [--batch 100]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.kafka.inbox import INBOX_COLLECTION, MongoInbox
from pymongo import AsyncMongoClient

MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
GROUP = "pulse-reporting"
REPEATS = 7


async def _fill(col: Any, start: int, stop: int) -> None:
    at = utcnow()
    for first in range(start, stop, 1000):
        docs = [{"_id": f"{GROUP}:ev-{i}", "at": at} for i in range(first, min(stop, first + 1000))]
        await col.insert_many(docs, ordered=False)


async def _median_ms(work: Any) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def run(sizes: list[int], batch: int) -> list[tuple[int, float, float]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    name = "lookup" + uuid.uuid4().hex[:8]
    db = client[name]
    inbox = MongoInbox(db)
    await inbox.ensure_indexes()
    col = db[INBOX_COLLECTION]
    rows = []
    filled = 0
    try:
        for size in sorted(sizes):
            await _fill(col, filled, size)
            filled = size
            # Half of the batch was processed (spread over the collection), half is new.
            seen = [f"ev-{i}" for i in range(0, size, max(1, size // (batch // 2)))][: batch // 2]
            ids = seen + [f"new-{i}" for i in range(batch - len(seen))]
            keys = [f"{GROUP}:{i}" for i in ids]

            async def with_in(keys: list[str] = keys) -> None:
                await col.find({"_id": {"$in": keys}}, {"_id": 1}).to_list()

            async def by_ids(ids: list[str] = ids, seen: list[str] = seen) -> None:
                assert await inbox.seen_many(GROUP, ids) == set(seen)

            rows.append((size, await _median_ms(with_in), await _median_ms(by_ids)))
    finally:
        await client.drop_database(name)
        await client.close()
    return rows


def main() -> None:
    """Print the figures as a Markdown table."""
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    cli.add_argument("--batch", type=int, default=100)
    args = cli.parse_args()
    rows = asyncio.run(run(args.sizes, args.batch))
    print(f"`seen_many` of {args.batch} event ids (half already processed), median of {REPEATS} calls:\n")
    print("| processed_events | one `$in` on `_id` (before) | find_by_ids, 32 in flight (now) |")
    print("|---:|---:|---:|")
    for size, before, after in rows:
        print(f"| {size:,} | {before:,.1f} ms | {after:,.1f} ms |")


if __name__ == "__main__":
    main()
