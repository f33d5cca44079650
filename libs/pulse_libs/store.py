"""MongoDB access: the async client factory, index bootstrap and a readiness ping."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from pulse_libs.settings import ServiceSettings

Document = dict[str, Any]
Database = AsyncDatabase[Document]


def make_client(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    """Create (not connect) the client; connections open lazily in the lifespan."""
    return AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        connectTimeoutMS=settings.mongo_timeout_ms,
        appname=settings.service_name,
        uuidRepresentation="standard",
    )


async def ensure_indexes(db: Database, specs: Mapping[str, Sequence[IndexModel]]) -> None:
    """Create the indexes each collection needs (idempotent)."""
    for collection, indexes in specs.items():
        # One index per command: FerretDB 1.24 panics (connection closed) on a createIndexes
        # listing several indexes when some of them already exist, i.e. on every restart.
        for index in indexes:
            await db[collection].create_indexes([index])


async def ping(client: AsyncMongoClient[Document], timeout: float = 2.0) -> bool:
    """True if the store answers `ping` within `timeout` seconds."""
    try:
        await asyncio.wait_for(client.admin.command("ping"), timeout)
    except Exception:  # noqa: BLE001 - readiness reports the failure, it does not raise
        return False
    return True
