"""The projection of triage's decisions onto reports asks the store only what an index answers (real store).

Each ReportTriaged advances one report and each hot-spot change advances and resolves its reports: with
`$in` / `$or` / `triage.hotspot_id` filters every such event read the whole reports collection on FerretDB.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pulse_intake.adapters.reports import Reports
from pulse_intake.adapters.store import INDEXES, REPORTS
from pulse_intake.domain.status import rank
from pulse_libs.clock import utcnow
from pulse_libs.store import ensure_indexes
from pymongo import AsyncMongoClient

from tests.support.store_queries import MONGO, QueryWatcher, scans, watched_db


@pytest.fixture
async def reports(infra: None) -> AsyncIterator[tuple[Reports, QueryWatcher]]:
    name = "t" + uuid.uuid4().hex[:10] + "_intake_queries"
    async with watched_db(name) as (db, watcher):
        await ensure_indexes(db, {REPORTS: INDEXES[REPORTS]})
        try:
            yield Reports(db), watcher
        finally:
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
            await client.drop_database(name)
            await client.close()


def _triage(hotspot_id: str | None, minutes: int) -> dict[str, Any]:
    return {
        "urgency": "urgent",
        "topic_codes": ["gia-ca"],
        "sensitive": False,
        "hotspot_id": hotspot_id,
        "reasons": ["cụm từ báo động: tụ tập đông người"],
        "decided_at": utcnow() + timedelta(minutes=minutes),
    }


async def test_hot_spot_changes_reach_their_reports_by_equalities_on_indexed_fields(
    reports: tuple[Reports, QueryWatcher],
) -> None:
    repo, watcher = reports
    for i in range(1, 6):
        await repo.insert({"_id": f"r{i}", "status": "received", "status_rank": 0, "triage": None})
    watcher.clear()

    for report_id, hotspot in (("r1", "hs-7"), ("r2", "hs-7"), ("r3", "hs-8")):
        decision = _triage(hotspot, 0)
        await repo.record_triage(report_id, decision, decision["decided_at"])
    later = _triage("hs-7", 5)
    await repo.record_triage("r3", later, later["decided_at"])  # a newer decision moves r3 into hs-7
    older = _triage("hs-8", -5)
    await repo.record_triage("r2", older, older["decided_at"])  # an older one changes nothing
    await repo.advance(["r1", "r2", "r3", "r1"], "triaged", rank("triaged"))
    await repo.set_outcome(["r4"], "hs-7", "Đã giải quyết: UBND phường đối thoại với người dân", None)
    await repo.advance(["r4"], "resolved", rank("resolved"))
    await repo.advance_hotspot("hs-7", "resolved", rank("resolved"))
    await repo.advance(["r1"], "escalated", rank("escalated"))  # never backwards
    assert len([q for name, q in watcher.queries if name == "update"]) >= 10
    assert scans(watcher, ["hotspot_id"]) == []

    docs = {d["_id"]: d for d in await repo.col.find({}).to_list()}
    assert {k: d["status"] for k, d in docs.items()} == {
        "r1": "resolved",
        "r2": "resolved",
        "r3": "resolved",
        "r4": "resolved",
        "r5": "received",
    }
    assert {k: d.get("hotspot_id") for k, d in docs.items()} == {
        "r1": "hs-7",
        "r2": "hs-7",
        "r3": "hs-7",
        "r4": None,
        "r5": None,
    }
    assert docs["r2"]["triage"]["hotspot_id"] == "hs-7"
    with_outcome = sorted(k for k, d in docs.items() if d.get("outcome"))
    assert with_outcome == ["r1", "r2", "r3", "r4"]


async def test_reports_triaged_before_the_top_level_hotspot_id_get_it_once(
    reports: tuple[Reports, QueryWatcher],
) -> None:
    repo, watcher = reports
    legacy = _triage("hs-3", 0)
    await repo.col.insert_many(
        [
            {"_id": "old-1", "status": "triaged", "status_rank": 1, "triage": legacy},
            {"_id": "old-2", "status": "received", "status_rank": 0, "triage": None},
            {"_id": "old-3", "status": "triaged", "status_rank": 1, "triage": _triage(None, 0)},
        ]
    )

    assert await repo.backfill_hotspot_ids() == 2
    await repo.advance_hotspot("hs-3", "resolved", rank("resolved"))
    watcher.clear()
    assert await repo.backfill_hotspot_ids() == 0  # the marker says it ran
    assert watcher.queries == [("find", {"_id": "reports.hotspot_id"})]

    docs = {d["_id"]: d for d in await repo.col.find({}).to_list()}
    assert {k: (d.get("hotspot_id", "absent"), d["status"]) for k, d in docs.items()} == {
        "old-1": ("hs-3", "resolved"),
        "old-2": ("absent", "received"),
        "old-3": (None, "triaged"),
    }


@pytest.mark.parametrize("order", ["placed_last", "placed_first"])
async def test_a_decision_and_its_hot_spot_at_one_time_land_in_either_order(
    reports: tuple[Reports, QueryWatcher], order: str
) -> None:
    """A review that opens a hot spot emits the decision twice with one `decided_at`: without the hot spot, then
    with it. Whatever order they arrive in, the report ends naming the hot spot (seen in the e2e suite: the
    second one first, then the first one put `None` back)."""
    repo, watcher = reports
    await repo.insert({"_id": "r1", "status": "received", "status_rank": 0, "triage": None})
    bare = _triage(None, 0)
    placed = {**bare, "hotspot_id": "hs-r1", "reasons": [*bare["reasons"], "Cán bộ hiệu chỉnh: mức thượng khẩn"]}
    first, second = (bare, placed) if order == "placed_last" else (placed, bare)
    watcher.clear()
    for decision in (first, second):
        await repo.record_triage("r1", decision, bare["decided_at"])
    assert scans(watcher, ["hotspot_id"]) == []

    doc = await repo.col.find_one({"_id": "r1"})
    assert doc is not None
    assert (doc["hotspot_id"], doc["triage"]["hotspot_id"]) == ("hs-r1", "hs-r1")
    assert doc["triage"]["reasons"] == placed["reasons"]
    # A later decision without a hot spot (the report was split out of it) still replaces it.
    later = _triage(None, 5)
    await repo.record_triage("r1", later, later["decided_at"])
    doc = await repo.col.find_one({"_id": "r1"})
    assert doc is not None
    assert doc["hotspot_id"] is None


async def test_two_replicas_starting_together_both_finish_the_backfill(reports: tuple[Reports, QueryWatcher]) -> None:
    """Both find no marker, both backfill, both record it: the second must not fail its start (seen in the fault
    suite: intake@2 exited on the marker's duplicate key)."""
    repo, _ = reports
    await repo.col.insert_one({"_id": "old-1", "status": "triaged", "status_rank": 1, "triage": _triage("hs-9", 0)})
    done = await asyncio.gather(repo.backfill_hotspot_ids(), repo.backfill_hotspot_ids())
    assert sorted(done) in ([0, 1], [1, 1])
    assert (await repo.col.find_one({"_id": "old-1"}) or {}).get("hotspot_id") == "hs-9"
    assert await repo.backfill_hotspot_ids() == 0
