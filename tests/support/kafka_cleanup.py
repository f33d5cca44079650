"""Delete a test's namespaced topics when it ends.

Every test (and every e2e system) creates its own prefixed copy of each topic and DLQ. A broker keeps
file handles open per partition, so without clean-up a full run leaves thousands of partitions behind
and the shared broker eventually dies of "Too many open files" (seen here at 20,000 descriptors).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging

from aiokafka.admin import AIOKafkaAdminClient

log = logging.getLogger(__name__)


async def delete_topics_with_prefix(bootstrap: str, prefix: str) -> int:
    """Delete every topic whose name starts with `prefix`; return how many were deleted."""
    if not prefix:
        raise ValueError("refusing to delete topics without a namespace prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="pulse-test-cleanup")
    try:
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names, timeout_ms=30_000)
        return len(names)
    except Exception as exc:  # noqa: BLE001 - clean-up must never fail the test it follows
        log.warning("could not delete test topics", extra={"prefix": prefix, "error": repr(exc)})
        return 0
    finally:
        await admin.close()


def delete_topics_with_prefix_sync(bootstrap: str, prefix: str) -> int:
    """`delete_topics_with_prefix` for synchronous code, safe to call while an event loop runs in this thread.

    It runs on its own loop in a worker thread: calling `asyncio.run` from inside a running loop (an async
    fixture calling a synchronous clean-up) would fail and leave that loop unusable for later tests."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, delete_topics_with_prefix(bootstrap, prefix)).result(timeout=60)
