"""Batch moves of the counter projection on the real store: one journalled move per poll, exactly once.

The batch path must give the counters and facts the one-by-one path gives (it is that path's fast form,
and that path is its fallback), count nothing twice on replays, and finish a move a crash interrupted
exactly once, whoever finishes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pulse_libs.kafka.errors import TransientError
from pulse_reporting.adapters.cells import LATE_COLLECTION, expand
from pulse_reporting.adapters.projection import (
    JOURNAL,
    CounterProjector,
    FactChange,
    Submission,
    Triage,
    _encode,
)
from pulse_reporting.domain.counters import ReportFact, contribution
from pulse_reporting.settings import ReportingSettings
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from tests.integration.reporting.helpers import (
    NAM_CUONG,
    VAN_PHU,
    YEN_BAI,
    Published,
    Reporting,
    at,
    registry_events,
    running,
    submitted,
    triaged,
    wait_until,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
COLLECTIONS = ["counters_202610a", "counters_202610b", LATE_COLLECTION]


def submission(report_id: str, unit: str, observed: datetime, topics: Sequence[str], reporter: str) -> Submission:
    fields = {
        "unit_code": unit,
        "channel": "zalo",
        "sentiment": "negative",
        "observed_at": observed,
        "reporter_topics": sorted(set(topics)),
        "reporter_id": reporter,
        "reporter_kind": "user",
        "received_at": observed + timedelta(minutes=30),
    }
    return Submission(report_id=report_id, fields=fields, observed_at=observed)


def decision(report_id: str, urgency: str, topics: Sequence[str], decided: datetime) -> Triage:
    return Triage(report_id=report_id, urgency=urgency, topics=list(topics), decided_at=decided)


D1, D2, D3 = at("2026-10-01"), at("2026-10-05", 14), at("2026-10-20", 8)
CHANGES: list[FactChange] = [
    # r1: submitted, then triaged to two topics, in the same batch.
    submission("r1", YEN_BAI, D1, ["dat_dai"], "u-ctv-1"),
    decision("r1", "urgent", ["dat_dai", "gpmb"], D1 + timedelta(hours=1)),
    # r2: triage before the submission (the decisions topic ran ahead); counted once, as very urgent.
    decision("r2", "very_urgent", ["giam_ngheo"], D2 + timedelta(hours=1)),
    submission("r2", VAN_PHU, D2, ["giam_ngheo"], "u-ctv-2"),
    # r3: submitted twice (a re-emission with a fresh id reaches the handler as a second change).
    submission("r3", NAM_CUONG, D3, [], "u-ctv-3"),
    submission("r3", NAM_CUONG, D3, [], "u-ctv-3"),
    # r4: a newer decision, then an older one arriving late (it must not win), then re-triaged newer still.
    submission("r4", YEN_BAI, D3, ["gpmb"], "u-ctv-1"),
    decision("r4", "routine", ["gpmb"], D3 + timedelta(hours=2)),
    decision("r4", "flash", ["dat_dai"], D3 + timedelta(hours=1)),
    decision("r4", "urgent", ["gpmb"], D3 + timedelta(hours=3)),
    # r5: a triage decision only (never submitted): no count.
    decision("r5", "flash", ["dat_dai"], D1),
]
EXPECTED_DAY = {
    ("2026-10-01", YEN_BAI, "dat_dai", "urgent"): (1, 1),
    ("2026-10-01", YEN_BAI, "gpmb", "urgent"): (0, 1),
    ("2026-10-05", VAN_PHU, "giam_ngheo", "very_urgent"): (1, 1),
    ("2026-10-20", NAM_CUONG, "unclassified", "unknown"): (1, 1),
    ("2026-10-20", YEN_BAI, "gpmb", "urgent"): (1, 1),
}
EXPECTED_COLLAB = {
    ("2026-10-01", YEN_BAI, "u-ctv-1"): 1,
    ("2026-10-05", VAN_PHU, "u-ctv-2"): 1,
    ("2026-10-20", NAM_CUONG, "u-ctv-3"): 1,
    ("2026-10-20", YEN_BAI, "u-ctv-1"): 1,
}


async def cells(projector: CounterProjector) -> dict[str, dict[tuple[str, ...], Any]]:
    """Every non-zero counter of the test window, by kind, in a comparable form."""
    out: dict[str, dict[tuple[str, ...], Any]] = {"day": {}, "late": {}, "collab": {}}
    for name in COLLECTIONS:
        async for doc in projector._db[name].find({}):
            for row in expand(doc):
                if doc["kind"] == "collab":
                    out["collab"][(row["bucket"], row["unit"], row["reporter"])] = row["reports"]
                else:
                    key = (row["bucket"], row["unit"], row["topic"], row["urgency"])
                    out[doc["kind"]][key] = (row["reports"], row["mentions"])
    return out


async def leftovers(projector: CounterProjector) -> tuple[int, int, int]:
    """(counter documents still carrying op markers, journals, facts with a pending move): all 0 when settled."""
    marked = 0
    for name in COLLECTIONS:
        marked += await projector._db[name].count_documents({"ops.0": {"$exists": True}})
    journals = await projector._db[JOURNAL].count_documents({})
    pending = await projector._facts.count_documents({"pending": {"$ne": None}})
    return marked, journals, pending


async def counted_once(projector: CounterProjector) -> None:
    """The expected day and activity counters, nothing late, and no move left unfinished."""
    counted = await cells(projector)
    assert counted["day"] == EXPECTED_DAY
    assert counted["collab"] == EXPECTED_COLLAB
    assert counted["late"] == {}
    assert await leftovers(projector) == (0, 0, 0)


async def facts(projector: CounterProjector) -> dict[str, dict[str, Any]]:
    """The facts as the counting sees them (merged fields and applied contribution, not the move bookkeeping)."""
    out = {}
    async for doc in projector._facts.find({}):
        kept = {k: v for k, v in doc.items() if k not in ("seq", "pending", "applied", "_id")}
        kept["applied"] = sorted(tuple(sorted(item.items())) for item in doc.get("applied", []))
        out[str(doc["_id"])] = kept
    return out


@pytest.fixture
def make_projector(
    make_settings: Callable[..., Any], namespace: str, mongo: AsyncMongoClient[dict[str, Any]]
) -> Callable[..., CounterProjector]:
    """A projector on a database of its own (several per test compare the two paths), dropped after the test."""
    count = 0

    def build(cls: type[CounterProjector] = CounterProjector, takeover_seconds: float = 3600) -> CounterProjector:
        nonlocal count
        count += 1
        settings: ReportingSettings = make_settings(ReportingSettings, mongo_db=f"{namespace}_projector{count}")
        return cls(mongo[settings.mongo_db], tz=HCM, takeover_seconds=takeover_seconds)

    return build


async def test_a_batch_with_submissions_and_triage_of_the_same_reports_counts_each_once(
    make_projector: Callable[..., CounterProjector],
) -> None:
    batch = make_projector()
    await batch.record_batch(CHANGES)
    await counted_once(batch)
    counted = await cells(batch)
    # The one-by-one path (the batch's fallback) on its own database gives the same counters and facts.
    single = make_projector()
    for change in CHANGES:
        await single.record(change)
    assert await cells(single) == counted
    assert await facts(single) == await facts(batch)


async def test_replaying_a_batch_whole_or_one_by_one_changes_nothing(
    make_projector: Callable[..., CounterProjector],
) -> None:
    projector = make_projector()
    await projector.record_batch(CHANGES)
    counted = await cells(projector)
    seqs = {doc["_id"]: doc["seq"] async for doc in projector._facts.find({})}
    await projector.record_batch(CHANGES)  # the inbox lost its records: the same events again
    await projector.record_batch(list(reversed(CHANGES)))  # re-emitted, in another order
    for change in CHANGES:  # and through the one-by-one path
        await projector.record(change)
    assert await cells(projector) == counted
    # A replayed batch finds nothing new and writes no fact.
    assert {doc["_id"]: doc["seq"] async for doc in projector._facts.find({})} == seqs
    assert await leftovers(projector) == (0, 0, 0)


async def test_a_batch_after_a_one_by_one_path_moves_only_the_difference(
    make_projector: Callable[..., CounterProjector],
) -> None:
    projector = make_projector()
    for change in CHANGES[:4]:
        await projector.record(change)
    await projector.record_batch(CHANGES[2:])
    await projector.record(CHANGES[-2])
    await counted_once(projector)


async def test_a_batch_marks_late_reports_of_a_closed_period(make_projector: Callable[..., CounterProjector]) -> None:
    projector = make_projector()
    await projector._snapshots.insert_one(
        {
            "_id": "2026-10",
            "start": at("2026-09-15", 0),
            "end": at("2026-10-15", 0),
            "state": "closed",
            "version": 2,
            "late_bucket": "2026-10#v2",
        }
    )
    await projector._snapshots.insert_one(
        {"_id": "2026-11", "start": at("2026-10-15", 0), "end": at("2026-11-15", 0), "state": "open"}
    )
    await projector.record_batch(CHANGES)
    late = (await cells(projector))["late"]
    # Reports observed inside the closed period (r1, r2) count late in its current closing's bucket; r3 and r4
    # fall in the open period.
    assert late == {
        ("2026-10#v2", YEN_BAI, "dat_dai", "urgent"): (1, 1),
        ("2026-10#v2", YEN_BAI, "gpmb", "urgent"): (0, 1),
        ("2026-10#v2", VAN_PHU, "giam_ngheo", "very_urgent"): (1, 1),
    }
    assert (await cells(projector))["day"] == EXPECTED_DAY
    # A period closed after a report was first seen does not make it late on a replay.
    await projector._snapshots.update_one({"_id": "2026-11"}, {"$set": {"state": "closed"}})
    await projector.record_batch(CHANGES)
    assert (await cells(projector))["late"] == late


async def test_a_replay_after_a_close_does_not_make_an_on_time_report_late(
    make_projector: Callable[..., CounterProjector],
) -> None:
    # FerretDB drops `late_periods: []` from a `$setOnInsert`; lateness must still be fixed by the first submission.
    window = {"start": at("2026-09-15", 0), "end": at("2026-10-15", 0), "state": "closed", "late_bucket": "2026-10"}
    for path in ("one_by_one", "batch"):
        projector = make_projector()
        if path == "one_by_one":
            await projector.record(CHANGES[0])
        else:
            await projector.record_batch(CHANGES[:1])
        stored = await projector._facts.find_one({"_id": "r1"})
        assert stored is not None
        assert stored["late_periods"] == [], path
        await projector._snapshots.insert_one({"_id": "2026-10", **window})
        await projector.record(CHANGES[0])  # redelivered after the close, one by one
        await projector.record_batch(CHANGES[:1])  # and in a batch
        counted = await cells(projector)
        assert counted["late"] == {}, path
        assert counted["day"] == {("2026-10-01", YEN_BAI, "dat_dai", "unknown"): (1, 1)}, path


async def test_a_batch_finishes_an_interrupted_one_by_one_move_first(
    make_projector: Callable[..., CounterProjector],
) -> None:
    projector = make_projector()
    first = CHANGES[0]
    assert isinstance(first, Submission)
    fact = ReportFact(
        report_id="r1",
        submitted=True,
        unit_code=YEN_BAI,
        channel="zalo",
        sentiment="negative",
        observed_at=D1,
        reporter_topics=("dat_dai",),
        reporter_id="u-ctv-1",
    )
    desired = contribution(fact, HCM)
    # A one-by-one move written and applied to the day document, then the process died.
    await projector._facts.insert_one(
        {
            "_id": "r1",
            **first.fields,
            "submitted": True,
            "late_periods": [],
            "seq": 1,
            "pending": {"op": "r1:1", "state": "apply", "at": datetime.now(UTC), "to": _encode(desired)}
            | {"delta": _encode(desired)},
        }
    )
    await projector._apply("r1:1", {c: v for c, v in desired.items() if c.kind == "day"})
    projector._mine.add("r1:1")  # its own move (a store failure, not another process): resumed at once
    await projector.record_batch(CHANGES)
    await counted_once(projector)


class _CrashesInBatchMove(CounterProjector):
    """The real projector on the real store; the store fails once at the chosen point of a batch move."""

    stage = "before_counters"
    crashed = False

    async def _apply_counters(self, op: str, counters: Sequence[Any]) -> None:
        if not self.crashed and self.stage == "before_counters":
            self.crashed = True
            raise AutoReconnect("connection reset by peer")
        if not self.crashed and self.stage == "halfway_through_counters":
            self.crashed = True
            await super()._apply_counters(op, counters[: len(counters) // 2])
            raise AutoReconnect("connection reset by peer")
        await super()._apply_counters(op, counters)

    async def _write_facts(self, facts: Sequence[Any]) -> None:
        if not self.crashed and self.stage == "before_facts":
            self.crashed = True
            raise AutoReconnect("connection reset by peer")
        await super()._write_facts(facts)


STAGES = ["before_counters", "halfway_through_counters", "before_facts"]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("finisher", ["next_batch", "one_by_one"])
async def test_a_batch_move_interrupted_by_a_store_failure_is_finished_exactly_once_by_its_owner(
    make_projector: Callable[..., CounterProjector], stage: str, finisher: str
) -> None:
    projector = make_projector(_CrashesInBatchMove)
    assert isinstance(projector, _CrashesInBatchMove)
    projector.stage = stage
    with pytest.raises(AutoReconnect):
        await projector.record_batch(CHANGES)
    assert await projector._db[JOURNAL].count_documents({}) == 1
    if finisher == "next_batch":  # the consumer retried the batch
        await projector.record_batch(CHANGES)
    else:  # the consumer replays the poll event by event (the batch's fallback)
        for change in CHANGES:
            await projector.record(change)
    await counted_once(projector)


@pytest.mark.parametrize("stage", STAGES)
async def test_a_batch_move_left_by_a_dead_process_is_finished_once_by_the_next(
    make_projector: Callable[..., CounterProjector], stage: str
) -> None:
    crashed = make_projector(_CrashesInBatchMove)
    assert isinstance(crashed, _CrashesInBatchMove)
    crashed.stage = stage
    with pytest.raises(AutoReconnect):
        await crashed.record_batch(CHANGES)
    # The next process (the replica that took the lease over) works on the same database.
    successor = CounterProjector(crashed._db, tz=HCM, takeover_seconds=30)
    with pytest.raises(TransientError):
        await successor.record_batch(CHANGES[:1])  # the journal is young: its writer may still be finishing it
    with pytest.raises(TransientError):
        await successor.record(CHANGES[0])  # the one-by-one path waits for it as well
    await successor._db[JOURNAL].update_many({}, {"$set": {"at": datetime.now(UTC) - timedelta(minutes=5)}})
    await successor.record_batch(CHANGES)  # redelivered: the events were never committed
    await counted_once(successor)


def many_reports(count: int) -> Published:
    out = Published()
    registry_events(out)
    units = [YEN_BAI, VAN_PHU, NAM_CUONG]
    for n in range(count):
        unit, observed = units[n % 3], at("2026-10-01", hour=8 + n % 10)
        submitted(out, f"r{n}", unit=unit, observed=observed, topics_=["dat_dai"], reporter=f"u-ctv-{n % 4}")
        urgency = ("routine", "urgent", "flash")[n % 3]
        triaged(out, f"r{n}", unit=unit, observed=observed, urgency=urgency, topics_=["dat_dai", "gpmb"])
    return out


async def summary(svc: Reporting) -> Any:
    params = {"from": "2026-09-15", "to": "2026-10-14"}
    response = await svc.client.get("/v1/stats/summary", params=params, headers=svc.headers("department"))
    return response.json() if response.status_code == 200 else response.status_code


async def test_the_service_projects_polls_as_batches_and_replays_count_nothing_twice(
    make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    real = CounterProjector.record_batch

    async def spied(self: CounterProjector, changes: Sequence[FactChange]) -> None:
        sizes.append(len(changes))
        await real(self, changes)

    monkeypatch.setattr(CounterProjector, "record_batch", spied)  # the real method runs; its batch sizes are kept
    settings: ReportingSettings = make_settings(ReportingSettings)
    events = many_reports(60)
    async with running(settings) as svc:
        await svc.publish(events.events)
        await svc.wait_projected(len(events.events))
        first = await summary(svc)
        assert first["reports"] == 60
        assert first["by_urgency"] == {"routine": 20, "urgent": 20, "flash": 20}
        assert first["by_topic"] == {"dat_dai": 60, "gpmb": 60}
        assert max(sizes, default=0) > 1, f"no poll went through the batch path: {sizes}"
        metrics = (await svc.client.get("/metrics")).text
        assert 'reason="batch"' not in metrics, "a batch failed and was replayed one by one"
        # Redelivered with the inbox records lost (same ids), and re-emitted with fresh ids.
        projected = await svc.projected()
        await svc.db["processed_events"].delete_many({})
        await svc.publish(events.events)
        await svc.publish(events.events, fresh_ids=True)
        await svc.wait_projected(projected + 2 * len(events.events))
        assert await wait_until(lambda: summary(svc), lambda s: s == first, timeout=30) == first
        for name in await svc.db.list_collection_names():
            assert await svc.db[name].count_documents({"ops.0": {"$exists": True}}) == 0
        assert await svc.db[JOURNAL].count_documents({}) == 0
