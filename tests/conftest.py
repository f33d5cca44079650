"""Fixtures shared by every test suite.

Integration tests run against the real Kafka and FerretDB started by
`make infra-up` (`.ci/run` and `make test` start them). Each test gets its own
topic prefix and database, so tests never see each other's events or documents.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest
from pulse_libs.settings import ServiceSettings
from pymongo import AsyncMongoClient

from tests.support.kafka_cleanup import delete_topics_with_prefix

S = TypeVar("S", bound=ServiceSettings)

KAFKA = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")


def _reachable(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def infra() -> None:
    """Fail (never skip) when the real Kafka or store is not running."""
    mongo_hostport = MONGO.split("://", 1)[-1].split("/", 1)[0]
    missing = [name for name, hp in (("Kafka", KAFKA), ("FerretDB/MongoDB", mongo_hostport)) if not _reachable(hp)]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not reachable: run `make infra-up` first", pytrace=False)


@pytest.fixture
def namespace(infra: None) -> str:
    """A fresh namespace for one test: used as topic prefix and database name suffix."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
async def make_settings(namespace: str) -> AsyncIterator[Callable[..., Any]]:
    """Build service settings isolated to this test (topic prefix, database); drops the databases after."""
    databases: list[str] = []

    def build(cls: type[S] = ServiceSettings, **overrides: Any) -> S:  # type: ignore[assignment]
        db = overrides.pop("mongo_db", None) or f"{namespace}_{cls.__name__.lower()[:12]}"
        databases.append(db)
        values: dict[str, Any] = {
            "env": "test",
            "kafka_bootstrap": KAFKA,
            "mongo_url": MONGO,
            "kafka_topic_prefix": f"{namespace}.",
            "kafka_topic_partitions": 3,
            "outbox_poll_seconds": 0.1,
            "outbox_settle_seconds": 0.5,
            "log_json": False,
        }
        values.update(overrides)
        return cls.model_construct(**{**cls().model_dump(), **values, "mongo_db": db})

    yield build
    await delete_topics_with_prefix(KAFKA, f"{namespace}.")
    if databases:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, serverSelectionTimeoutMS=3000)
        try:
            for name in set(databases):
                await client.drop_database(name)
        finally:
            await client.close()


@pytest.fixture
async def mongo(infra: None) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """A client for the real store."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True, serverSelectionTimeoutMS=5000)
    try:
        yield client
    finally:
        await client.close()
