"""MongoDB access: the async client factory, index bootstrap, a readiness ping and lookups by key.

Lookups of many keys (`find_by_ids`, `find_by_values`) are concurrent single-key equality finds, not one
`$in`: FerretDB 1.24 pushes only top-level equality down to PostgreSQL (an index lookup), and answers `$in`
and `$or` by reading the whole collection. On MongoDB both are index lookups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
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
Collection = AsyncCollection[Document]
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

LOOKUP_CONCURRENCY = 32
"""Store calls a many-key lookup keeps in flight at once (well under the driver's pool of 100)."""


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


async def each_concurrently(
    work: Callable[[T], Awaitable[None]], items: Iterable[T], *, concurrency: int = LOOKUP_CONCURRENCY
) -> None:
    """Run `work` on every item, at most `concurrency` at a time; the first failure is raised once all have ended.

    FerretDB runs concurrent single-document writes side by side but a bulk write's one after the other
    (50 updates: 0.5 s concurrently, 2.4 s as one unordered bulk)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    gate = asyncio.Semaphore(concurrency)

    async def gated(item: T) -> None:
        async with gate:
            await work(item)

    results = await asyncio.gather(*(gated(item) for item in items), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def find_by_ids(
    collection: Collection,
    ids: Iterable[K],
    projection: Mapping[str, Any] | None = None,
    *,
    concurrency: int = LOOKUP_CONCURRENCY,
) -> dict[K, Document]:
    """The documents with these `_id`s, as {id: document} in the order the ids first appear; missing ids are absent.

    Each distinct id is one `find_one({"_id": id})` (at most `concurrency` in flight): an index lookup on
    MongoDB and on FerretDB, where `{_id: {$in: ids}}` reads the whole collection."""
    wanted = list(dict.fromkeys(ids))
    found: dict[K, Document] = {}

    async def one(key: K) -> None:
        doc = await collection.find_one({"_id": key}, projection)
        if doc is not None:
            found[key] = doc

    await each_concurrently(one, wanted, concurrency=concurrency)
    return {key: found[key] for key in wanted if key in found}


async def find_by_values(
    collection: Collection,
    field: str,
    values: Iterable[K],
    projection: Mapping[str, Any] | None = None,
    *,
    concurrency: int = LOOKUP_CONCURRENCY,
) -> dict[K, list[Document]]:
    """The documents whose top-level `field` equals each value, as {value: documents} in the order the values first
    appear; values no document holds are absent.

    One equality find per distinct value, concurrently: index it (`field` top-level, no dots: FerretDB pushes
    down neither dotted paths nor `$in`). A document matching two values (an array field) appears under both."""
    if "." in field or field.startswith("$"):
        raise ValueError(f"{field!r} is not a top-level field: FerretDB would not use an index for it")
    wanted = list(dict.fromkeys(values))
    found: dict[K, list[Document]] = {}

    async def one(value: K) -> None:
        docs = await collection.find({field: value}, projection).to_list()
        if docs:
            found[value] = docs

    await each_concurrently(one, wanted, concurrency=concurrency)
    return {value: found[value] for value in wanted if value in found}
