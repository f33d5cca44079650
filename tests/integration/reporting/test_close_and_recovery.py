"""Period freeze with a visible late delta; counter moves interrupted midway; unit-limited API keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pulse_libs.auth import hash_api_key, new_api_key
from pulse_libs.events import intake, topics
from pulse_libs.kafka.errors import TransientError
from pulse_reporting.adapters.cells import expand
from pulse_reporting.adapters.projection import CounterProjector, _encode
from pulse_reporting.domain.counters import Contribution, ReportFact, contribution
from pulse_reporting.settings import ReportingSettings
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from tests.integration.reporting.helpers import (
    NAM_CUONG,
    VAN_PHU,
    YEN_BAI,
    Published,
    at,
    registry_events,
    running,
    submitted,
    triaged,
    wait_until,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_a_late_report_for_a_closed_period_shows_as_late_delta(make_settings: Callable[..., Any]) -> None:
    settings: ReportingSettings = make_settings(ReportingSettings)
    first = Published()
    registry_events(first)
    submitted(first, "r1", unit=YEN_BAI, observed=at("2026-10-01"), topics_=["dat_dai"])
    triaged(first, "r1", unit=YEN_BAI, observed=at("2026-10-01"), urgency="urgent", topics_=["dat_dai"])
    late = Published()
    submitted(late, "r9", unit=VAN_PHU, observed=at("2026-10-05"), topics_=["giam_ngheo"], reporter="u-ctv-9")
    triaged(late, "r9", unit=VAN_PHU, observed=at("2026-10-05"), urgency="routine", topics_=["giam_ngheo"])
    async with running(settings) as svc:
        dept = svc.headers("department")
        await svc.publish(first.events)
        await svc.wait_projected(len(first.events))
        assert (
            await svc.client.post("/v1/periods/2026-10/close", headers=svc.headers("standing_committee"))
        ).status_code == 403
        closed = await svc.client.post("/v1/periods/2026-10/close", headers=dept)
        assert closed.status_code == 201, closed.text
        assert closed.json()["reports"] == 1
        assert (await svc.client.post("/v1/periods/2026-10/close", headers=dept)).status_code == 409
        assert (await svc.client.post("/v1/periods/2099-01/close", headers=dept)).status_code == 409

        projected = await svc.projected()
        await svc.publish(late.events)
        await svc.publish(late.events, fresh_ids=True)  # a re-emission must not count twice either
        await svc.wait_projected(projected + 2 * len(late.events))

        report = (await svc.client.get("/v1/periodic-reports/2026-10", headers=dept)).json()
        assert report["frozen"] is True
        assert report["totals"]["reports"] == 1
        assert report["totals"]["by_urgency"] == {"urgent": 1}
        assert report["late"]["reports"] == 1
        assert report["late"]["by_urgency"] == {"routine": 1}
        assert report["late"]["by_unit"] == {VAN_PHU: 1}
        live = await svc.client.get(
            "/v1/stats/summary", params={"from": "2026-09-15", "to": "2026-10-14"}, headers=dept
        )
        assert live.json()["reports"] == 2
        officer = (
            await svc.client.get("/v1/periodic-reports/2026-10", headers=svc.headers("unit_officer", [YEN_BAI]))
        ).json()
        assert officer["totals"]["reports"] == 1
        assert officer["late"]["reports"] == 0


async def test_a_unit_limited_api_key_sees_only_its_units(make_settings: Callable[..., Any]) -> None:
    settings: ReportingSettings = make_settings(ReportingSettings)
    key_id, key, key_hash = new_api_key()
    assert hash_api_key(key) == key_hash
    events = Published()
    registry_events(events)
    events.add(
        topics.INTAKE_REGISTRY,
        intake.API_KEY_ISSUED,
        intake.ApiKeyIssued(
            key_id=key_id,
            name="Cổng thông tin tỉnh",
            key_hash=key_hash,
            scopes=["stats:read"],
            unit_codes=[NAM_CUONG],
            issued_at=datetime.now(UTC),
        ),
        key_id,
    )
    submitted(events, "r1", unit=YEN_BAI, observed=at("2026-10-01"))
    submitted(events, "r2", unit=NAM_CUONG, observed=at("2026-10-02"))
    async with running(settings) as svc:
        await svc.publish(events.events)
        await svc.wait_projected(len(events.events) - 1)  # the API-key mirror is not a projection
        params = {"from": "2026-09-15", "to": "2026-10-14"}

        async def by_unit() -> Any:
            response = await svc.client.get("/v1/stats/summary", params=params, headers={"X-API-Key": key})
            return response.json().get("by_unit") if response.status_code == 200 else response.status_code

        assert await wait_until(by_unit, lambda result: result == {NAM_CUONG: 1}, timeout=30)
        assert (await svc.client.get("/v1/stats/summary", headers={"X-API-Key": key + "x"})).status_code == 401


@pytest.fixture
async def projector(make_settings: Callable[..., Any], mongo: AsyncMongoClient[dict[str, Any]]) -> CounterProjector:
    settings: ReportingSettings = make_settings(ReportingSettings)
    return CounterProjector(mongo[settings.mongo_db], tz=HCM, takeover_seconds=30)


async def counters(projector: CounterProjector) -> dict[str, tuple[int, int]]:
    docs = projector._db["counters_202610a"].find({"kind": "day"})
    rows = [row async for doc in docs for row in expand(doc)]
    return {(r["topic"], r["urgency"]): (r["reports"], r["mentions"]) for r in rows}


async def test_a_move_interrupted_halfway_is_finished_exactly_once(projector: CounterProjector) -> None:
    observed = at("2026-10-01")
    fact = ReportFact(
        report_id="r1",
        submitted=True,
        unit_code=YEN_BAI,
        channel="zalo",
        sentiment="negative",
        observed_at=observed,
        reporter_topics=("dat_dai", "gpmb"),
        reporter_id="u-1",
    )
    desired = contribution(fact, HCM)
    await projector._facts.insert_one(
        {
            "_id": "r1",
            "submitted": True,
            "unit_code": YEN_BAI,
            "channel": "zalo",
            "sentiment": "negative",
            "observed_at": observed,
            "reporter_topics": ["dat_dai", "gpmb"],
            "reporter_id": "u-1",
            "reporter_kind": "user",
            "late_periods": [],
            "seq": 1,
            "pending": {
                "op": "r1:1",
                "state": "apply",
                "at": datetime.now(UTC),
                "to": _encode(desired),
                "delta": _encode(desired),
            },
        }
    )
    # The process that wrote the move reached the day document, then died before the activity document.
    await projector._apply("r1:1", {c: v for c, v in desired.items() if c.kind == "day"})

    with pytest.raises(TransientError):
        await projector.settle("r1")  # the move is young: its owner may still be finishing it
    # Time passes and the move's owner never comes back: it is now old enough to take over.
    await projector._facts.update_one({"_id": "r1"}, {"$set": {"pending.at": datetime.now(UTC) - timedelta(minutes=5)}})
    await projector.settle("r1")
    await projector.settle("r1")
    expected = {(c.topic, c.urgency): v for c, v in desired.items() if c.kind == "day"}
    assert await counters(projector) == expected
    collab = await projector._db["counters_202610a"].find_one({"kind": "collab"})
    assert collab is not None
    assert [row["reports"] for row in expand(collab)] == [1]
    assert await projector._db["counters_202610a"].count_documents({"ops.0": {"$exists": True}}) == 0
    stored = await projector._facts.find_one({"_id": "r1"})
    assert stored is not None
    assert stored["pending"] is None


async def test_an_older_triage_decision_arriving_late_does_not_win(projector: CounterProjector) -> None:
    observed = at("2026-10-01")
    fields = {
        "unit_code": YEN_BAI,
        "channel": "zalo",
        "sentiment": None,
        "observed_at": observed,
        "reporter_topics": [],
        "reporter_id": "u-1",
        "reporter_kind": "user",
    }
    newer, older = observed + timedelta(hours=2), observed + timedelta(hours=1)
    await projector.record_triage(report_id="r1", urgency="flash", topics=["dat_dai"], decided_at=newer)
    await projector.record_submission(report_id="r1", fields=fields, observed_at=observed)
    await projector.record_triage(report_id="r1", urgency="routine", topics=["gpmb"], decided_at=older)
    await projector.record_submission(report_id="r1", fields=fields, observed_at=observed)
    assert await counters(projector) == {("dat_dai", "flash"): (1, 1)}


class _StoreFailsMidMove(CounterProjector):
    """The real projector on the real store, with the store failing after the first counter document once."""

    failed = False

    async def _apply(self, op: str, delta: Contribution) -> None:
        if self.failed:
            await super()._apply(op, delta)
            return
        first = next(iter(delta))
        await super()._apply(op, {first: delta[first]})
        self.failed = True
        raise AutoReconnect("connection reset by peer")


async def test_a_move_interrupted_by_a_store_failure_is_resumed_at_once_by_its_owner(
    make_settings: Callable[..., Any], mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    settings: ReportingSettings = make_settings(ReportingSettings)
    projector = _StoreFailsMidMove(mongo[settings.mongo_db], tz=HCM, takeover_seconds=3600)
    observed = at("2026-10-01")
    fields = {
        "unit_code": YEN_BAI,
        "channel": "zalo",
        "sentiment": "negative",
        "observed_at": observed,
        "reporter_topics": ["dat_dai"],
        "reporter_id": "u-1",
        "reporter_kind": "user",
    }
    with pytest.raises(AutoReconnect):
        await projector.record_submission(report_id="r1", fields=fields, observed_at=observed)
    # The consumer retries the event in the same process: no waiting for the takeover time.
    await projector.record_submission(report_id="r1", fields=fields, observed_at=observed)
    assert await counters(projector) == {("dat_dai", "unknown"): (1, 1)}
    collab = await projector._db["counters_202610a"].find_one({"kind": "collab"})
    assert collab is not None
    assert [row["reports"] for row in expand(collab)] == [1]
