"""Many-key lookups on the real store: concurrent single-key equality finds, never one `$in` or `$or`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pulse_libs.store import Database, each_concurrently, find_by_ids, find_by_values
from pymongo import ASCENDING

from tests.support.store_queries import QueryWatcher, watched_db


@pytest.fixture
async def store(make_settings: Callable[..., Any]) -> AsyncIterator[tuple[Database, QueryWatcher]]:
    async with watched_db(make_settings().mongo_db) as watched:
        yield watched


def _no_set_operators(filters: list[dict[str, Any]]) -> bool:
    text = repr(filters)
    return "$in" not in text and "$or" not in text


async def test_documents_come_back_in_the_order_of_the_ids_once_each_and_missing_ones_are_absent(
    store: tuple[Database, QueryWatcher],
) -> None:
    db, watcher = store
    await db.facts.insert_many([{"_id": f"r{i:03d}", "n": i, "tên": "Phường Hà Giang 1"} for i in range(40)])
    watcher.clear()
    asked = ["r030", "r002", "missing-1", "r017", "r002", "r030", "missing-2", "r000"]

    found = await find_by_ids(db.facts, asked, {"n": 1})

    assert list(found) == ["r030", "r002", "r017", "r000"]
    assert {key: doc["n"] for key, doc in found.items()} == {"r030": 30, "r002": 2, "r017": 17, "r000": 0}
    assert all(set(doc) == {"_id", "n"} for doc in found.values())  # the projection was applied
    assert sorted(f["_id"] for f in watcher.filters) == sorted(set(asked))  # one equality find per distinct id
    assert _no_set_operators(watcher.filters)


async def test_no_ids_is_no_query_and_an_empty_answer(store: tuple[Database, QueryWatcher]) -> None:
    db, watcher = store
    assert await find_by_ids(db.facts, []) == {}
    assert await find_by_values(db.facts, "unit", []) == {}
    assert watcher.filters == []


async def test_ids_of_any_hashable_type_keep_their_type(store: tuple[Database, QueryWatcher]) -> None:
    db, _ = store
    await db.numbers.insert_many([{"_id": i, "square": i * i} for i in range(1, 6)])
    found = await find_by_ids(db.numbers, [5, 3, 9, 3])
    assert {k: v["square"] for k, v in found.items()} == {5: 25, 3: 9}
    assert list(found) == [5, 3]


async def test_many_ids_are_looked_up_in_bounded_batches(store: tuple[Database, QueryWatcher]) -> None:
    db, watcher = store
    await db.events.insert_many([{"_id": f"g:{i}"} for i in range(0, 300, 2)])  # the even ones exist
    watcher.clear()
    asked = [f"g:{i}" for i in range(300)]

    found = await find_by_ids(db.events, asked, {"_id": 1}, concurrency=8)

    assert list(found) == [f"g:{i}" for i in range(0, 300, 2)]
    assert len(watcher.filters) == 300
    assert 1 < watcher.most_in_flight <= 8  # concurrent, and never more than asked for
    assert watcher.in_flight == 0


async def test_documents_by_the_values_of_a_field_group_every_match(store: tuple[Database, QueryWatcher]) -> None:
    db, watcher = store
    await db.recipients.create_index([("user_id", ASCENDING)], name="user_id")
    await db.recipients.insert_many(
        [
            {"_id": "us_u1", "user_id": "u1", "name": "Nguyễn Thị Hà"},
            {"_id": "rc_1", "user_id": "u1", "name": "Nguyễn Thị Hà (trực ban)"},
            {"_id": "us_u2", "user_id": "u2", "name": "Trần Văn Đức"},
            {"_id": "rc_2", "name": "Phòng Dân vận"},
        ]
    )
    watcher.clear()

    found = await find_by_values(db.recipients, "user_id", ["u2", "u9", "u1", "u2"])

    assert list(found) == ["u2", "u1"]
    assert [d["_id"] for d in found["u2"]] == ["us_u2"]
    assert sorted(d["_id"] for d in found["u1"]) == ["rc_1", "us_u1"]
    assert sorted(f["user_id"] for f in watcher.filters) == ["u1", "u2", "u9"]
    assert _no_set_operators(watcher.filters)


async def test_a_dotted_or_operator_field_is_refused_before_any_query(store: tuple[Database, QueryWatcher]) -> None:
    db, watcher = store
    with pytest.raises(ValueError, match="top-level"):
        await find_by_values(db.reports, "triage.hotspot_id", ["h1"])
    with pytest.raises(ValueError, match="top-level"):
        await find_by_values(db.reports, "$where", ["1"])
    assert watcher.filters == []


async def test_each_concurrently_runs_every_item_within_the_bound_and_raises_a_failure_after_all_ended() -> None:
    running = 0
    most = 0
    done: list[int] = []

    async def work(i: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        if i == 3:
            raise RuntimeError("store down")
        done.append(i)

    with pytest.raises(RuntimeError, match="store down"):
        await each_concurrently(work, range(20), concurrency=4)
    assert sorted(done) == [i for i in range(20) if i != 3]  # a failure does not abandon the others
    assert most == 4
    with pytest.raises(ValueError, match="at least 1"):
        await each_concurrently(work, [1], concurrency=0)
