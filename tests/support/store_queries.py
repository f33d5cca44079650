"""Watch the filters a client sends to the real store, to prove a path asks only what an index answers.

FerretDB 1.24 (the local store) pushes down to PostgreSQL only top-level equalities; `$in`, `$or`,
ranges and dotted paths are filtered in Go after reading the whole collection. A filter is
"index-answerable" when one of its top-level keys is `_id` or an indexed field, compared by plain equality.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient, monitoring

MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")


class QueryWatcher(monitoring.CommandListener):
    """Records (command, filter) of every find, update, delete, count and aggregate `$match`, and the most `find`s
    in flight at once."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, dict[str, Any]]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._open: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        name = event.command_name
        if name == "find":
            self.queries.append((name, dict(command.get("filter", {}))))
            self._open.add(event.request_id)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        elif name == "update":
            self.queries += [(name, dict(u["q"])) for u in command.get("updates", [])]
        elif name == "delete":
            self.queries += [(name, dict(d["q"])) for d in command.get("deletes", [])]
        elif name == "aggregate":
            first = (command.get("pipeline") or [{}])[0]
            self.queries.append((name, dict(first.get("$match", {}))))
        elif name in ("count", "findAndModify"):
            self.queries.append((name, dict(command.get("query", {}))))

    def _ended(self, request_id: int) -> None:
        if request_id in self._open:
            self._open.discard(request_id)
            self.in_flight -= 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._ended(event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ended(event.request_id)

    @property
    def filters(self) -> list[dict[str, Any]]:
        """The filters of the finds sent."""
        return [f for name, f in self.queries if name == "find"]

    def clear(self) -> None:
        """Forget what was recorded (e.g. after the test's own setup)."""
        self.queries.clear()


def index_answerable(query: dict[str, Any], indexed: Iterable[str] = ()) -> bool:
    """True if a top-level key of `query` is `_id` or one of `indexed`, compared by plain equality."""
    keys = {"_id", *indexed}
    return any(key in keys and not _is_operator(value) for key, value in query.items())


def _is_operator(value: Any) -> bool:
    return isinstance(value, dict) and any(str(k).startswith("$") for k in value)


def scans(watcher: QueryWatcher, indexed: Iterable[str] = ()) -> list[tuple[str, dict[str, Any]]]:
    """The recorded queries that FerretDB would answer by reading the whole collection."""
    fields = list(indexed)
    return [(name, q) for name, q in watcher.queries if not index_answerable(q, fields)]


@asynccontextmanager
async def watched_db(db_name: str) -> AsyncIterator[tuple[Any, QueryWatcher]]:
    """A database handle on the real store whose commands `QueryWatcher` records."""
    watcher = QueryWatcher()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO, tz_aware=True, serverSelectionTimeoutMS=5000, event_listeners=[watcher]
    )
    try:
        yield client[db_name], watcher
    finally:
        await client.close()
