"""MongoDB access: the async client factory, index bootstrap and a readiness ping."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from pulse_libs.settings import ServiceSettings

Document = dict[str, Any]
Database = AsyncDatabase[Document]


_BACKEND_DOWN = (
    "SQLSTATE 57P",  # admin shutdown, crash shutdown, cannot connect now (the server is starting or stopping)
    "SQLSTATE 08",  # connection exceptions
    "failed to connect",
    "connection refused",
    "terminating connection",
    "the database system is",
)


def store_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the store (or, behind FerretDB, its PostgreSQL) is down, not that a request was bad.

    MongoDB drivers raise connection errors for an unreachable server; FerretDB answers its clients while the
    PostgreSQL behind it is down or restarting, with an InternalError that carries PostgreSQL's SQLSTATE."""
    if isinstance(exc, (ServerSelectionTimeoutError, AutoReconnect, ConnectionFailure)):
        return True
    if isinstance(exc, OperationFailure) and exc.code in (1, None):
        message = str(exc)
        return any(marker in message for marker in _BACKEND_DOWN)
    return False


def unstorable_text(exc: BaseException) -> bool:
    """True when the store refused a write for a character it cannot keep (PostgreSQL's JSONB refuses NUL)."""
    if not isinstance(exc, OperationFailure):
        return False
    message = str(exc)
    return "SQLSTATE 22P05" in message or "unsupported Unicode escape sequence" in message


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


async def upsert_one(col: Any, query: Mapping[str, Any], update: Mapping[str, Any]) -> None:
    """An upsert that survives a racing insert of the same `_id`.

    Two writers upserting one new document at once: one inserts, the other's insert fails on the unique
    `_id` (MongoDB retries some of these itself, FerretDB never does). The loser then applies its update
    to the document that now exists."""
    try:
        await col.update_one(query, update, upsert=True)
    except DuplicateKeyError:
        await col.update_one(query, update)
