"""Use cases of the escalation engine (raise, due scan, re-page, acknowledge, resolve, silences) run against
the in-memory repositories: the real handlers and domain rules, the store replaced by fakes that keep its
write conditions (tests/integration/triage/test_escalation.py runs the same engine against the store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pulse_libs.events.triage as ev
import pytest
from prometheus_client import CollectorRegistry
from pulse_libs.auth import principal_for_user
from pulse_libs.events.common import Urgency
from pulse_triage.adapters.store import TriageStore
from pulse_triage.context import TriageContext
from pulse_triage.domain.errors import ConflictError, NotFoundError
from pulse_triage.handlers import admin, upkeep
from pulse_triage.handlers.escalations import acknowledge, acknowledge_by_link, ensure_escalation, resolve, run_due
from pulse_triage.metrics import TriageMetrics
from pulse_triage.settings import TriageSettings

from tests.unit.triage.fakes import EPOCH, Fakes

WARD = "04747"
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
OFFICER = principal_for_user(user_id="u-tuan", username="ct.tuan", role="department", unit_codes=[WARD])
ELSEWHERE = principal_for_user(user_id="u-ha", username="cb.ha", role="unit_officer", unit_codes=["00001"])


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def hotspot(urgency: str = "flash", **changes: Any) -> dict[str, Any]:
    """A stored open hot spot of the ward."""
    return {
        "_id": "hs-r1",
        "unit_code": WARD,
        "topic_code": "an-ninh",
        "urgency": urgency,
        "status": "open",
        "report_ids": ["r1", "r2"],
        "sources": ["u-lan", "key-tinh", "u-minh"],
        "source_count": 3,
        "channels": ["zalo"],
        "first_seen": START - timedelta(minutes=5),
        "last_seen": START,
        "version": 1,
        **changes,
    }


def context(fakes: Fakes, clock: Clock, owner: str = "replica-a") -> TriageContext:
    """A context whose use cases reach only the fakes (no store: any store access fails the test)."""
    return TriageContext(
        settings=TriageSettings(),
        store=cast(TriageStore, None),
        metrics=TriageMetrics.create(CollectorRegistry()),
        now=clock,
        owner=owner,
        repositories=fakes.repositories(),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fakes() -> Fakes:
    f = Fakes()
    f.hotspots.docs["hs-r1"] = hotspot()
    return f


async def test_an_open_flash_hot_spot_pages_level_one_once(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    await ensure_escalation(ctx=ctx, hotspot=hotspot())  # the same report replayed
    esc = fakes.escalations.docs["esc-r1"]
    assert (esc["state"], esc["level"], esc["target"]) == ("pending", 1, "duty_officer")
    assert esc["ack_deadline"] == esc["next_action_at"] == START + timedelta(minutes=15)
    assert (esc["lease_until"], esc["lease_owner"]) == (EPOCH, None)
    assert fakes.outbox.types() == [ev.ESCALATION_RAISED]
    assert [h["action"] for h in esc["history"]] == ["raised"]


async def test_a_routine_hot_spot_is_not_escalated(fakes: Fakes, clock: Clock) -> None:
    await ensure_escalation(ctx=context(fakes, clock), hotspot=hotspot("routine"))
    assert fakes.escalations.docs == {}
    assert fakes.outbox.events == []


async def test_the_due_scan_escalates_level_by_level_when_deadlines_pass(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    clock.advance(minutes=14, seconds=59)
    assert await run_due(ctx) == 0  # not due yet
    clock.advance(seconds=1)
    assert await run_due(ctx) == 1
    esc = fakes.escalations.docs["esc-r1"]
    assert (esc["level"], esc["target"], esc["lease_owner"]) == (2, "department_head", None)
    assert esc["ack_deadline"] == clock.at + timedelta(minutes=15)
    assert await run_due(ctx) == 0  # the lease is released and nothing else is due
    clock.advance(minutes=15)
    assert await run_due(ctx) == 1
    assert (fakes.escalations.docs["esc-r1"]["level"], fakes.escalations.docs["esc-r1"]["target"]) == (
        3,
        "standing_committee",
    )
    assert fakes.outbox.types() == [ev.ESCALATION_RAISED, ev.ESCALATION_ESCALATED, ev.ESCALATION_ESCALATED]


async def test_the_top_level_without_repeat_is_exhausted_and_pages_nobody(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    for _ in range(2):
        clock.advance(minutes=15)
        await run_due(ctx)
    clock.advance(minutes=15)
    assert await run_due(ctx) == 1
    esc = fakes.escalations.docs["esc-r1"]
    assert (esc["level"], esc["next_action_at"], esc["history"][-1]["action"]) == (3, None, "exhausted")
    clock.advance(hours=3)
    assert await run_due(ctx) == 0
    assert len(fakes.outbox.events) == 3  # raised, escalated twice: exhaustion pages nobody


async def test_a_policy_with_repeat_re_pages_the_last_level_until_someone_acknowledges(
    fakes: Fakes, clock: Clock
) -> None:
    ctx = context(fakes, clock)
    one_level = [{"level": 1, "target": "duty_officer", "ack_timeout_seconds": 600}]
    await admin.put_policy(ctx=ctx, urgency=Urgency.FLASH, levels=one_level, repeat_seconds=300, actor="u-admin")
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    assert fakes.escalations.docs["esc-r1"]["next_action_at"] == START + timedelta(seconds=300)
    for minutes in (5, 10, 15):
        clock.at = START + timedelta(minutes=minutes)
        assert await run_due(ctx) == 1
    esc = fakes.escalations.docs["esc-r1"]
    assert (esc["level"], esc["reminder_seq"]) == (1, 3)
    assert esc["next_action_at"] == START + timedelta(minutes=20)
    reminders = [e for _, e in fakes.outbox.events if e.type == ev.ESCALATION_REMINDED]
    assert len({e.id for e in reminders}) == 3  # one event id per reminder: each re-page is delivered once
    await acknowledge(ctx=ctx, escalation_id="esc-r1", principal=OFFICER, comment=None)
    clock.advance(hours=1)
    assert await run_due(ctx) == 0


async def test_an_acknowledgement_stops_the_levels_and_moves_the_hot_spot(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    clock.advance(minutes=3)
    done = await acknowledge(ctx=ctx, escalation_id="esc-r1", principal=OFFICER, comment="Đã cử tổ công tác.")
    assert (done["state"], done["acknowledged_by"], done["next_action_at"]) == ("acknowledged", "u-tuan", None)
    assert done["history"][-1]["comment"] == "Đã cử tổ công tác."
    assert fakes.hotspots.docs["hs-r1"]["status"] == "acknowledged"
    assert fakes.outbox.types() == [ev.ESCALATION_RAISED, ev.ESCALATION_ACKNOWLEDGED, ev.HOTSPOT_ACKNOWLEDGED]
    clock.advance(hours=2)
    assert await run_due(ctx) == 0
    with pytest.raises(ConflictError):
        await acknowledge(ctx=ctx, escalation_id="esc-r1", principal=OFFICER, comment=None)
    assert len(fakes.outbox.events) == 3


async def test_an_officer_of_another_unit_neither_sees_nor_acknowledges(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    with pytest.raises(NotFoundError):
        await acknowledge(ctx=ctx, escalation_id="esc-r1", principal=ELSEWHERE, comment=None)
    assert fakes.escalations.docs["esc-r1"]["state"] == "pending"


async def test_a_one_tap_link_acknowledges_once(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    link = {"escalation_id": "esc-r1", "recipient_id": "u-tuan", "channel": "sms", "token_id": "t-1"}
    done = await acknowledge_by_link(ctx=ctx, comment=None, **link)
    assert done["ack_link_ids"] == ["t-1"]
    assert (done["history"][-1]["via"], done["history"][-1]["channel"]) == ("link", "sms")
    with pytest.raises(ConflictError):
        await acknowledge_by_link(ctx=ctx, comment=None, **link)
    assert fakes.escalations.docs["esc-r1"]["ack_link_ids"] == ["t-1"]


async def test_a_lease_held_by_another_replica_keeps_this_one_from_paging(fakes: Fakes, clock: Clock) -> None:
    ctx_a, ctx_b = context(fakes, clock, "replica-a"), context(fakes, clock, "replica-b")
    await ensure_escalation(ctx=ctx_a, hotspot=hotspot())
    clock.advance(minutes=15)
    held = await fakes.escalations.claim_due(clock.at, "replica-a", clock.at + timedelta(seconds=30))
    assert held is not None  # replica A is in the middle of its pass
    assert await run_due(ctx_b) == 0
    clock.advance(seconds=31)  # A died: its lease lapses and B takes over
    assert await run_due(ctx_b) == 1
    assert await fakes.escalations.apply_step("esc-r1", "replica-a", {"level": 9}, {"action": "late"}) is None
    assert fakes.escalations.docs["esc-r1"]["level"] == 2
    assert fakes.outbox.types().count(ev.ESCALATION_ESCALATED) == 1


async def test_a_silence_holds_the_page_until_it_is_lifted(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    silence = await admin.create_silence(
        ctx=ctx,
        unit_code=WARD,
        topic_code=None,
        until=START + timedelta(hours=2),
        reason="Diễn tập phòng cháy",
        principal=OFFICER,
    )
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    esc = fakes.escalations.docs["esc-r1"]
    assert (esc["level"], esc["silenced_by"], esc["next_action_at"]) == (0, silence["_id"], START + timedelta(hours=2))
    assert fakes.outbox.events == []  # held, not paged
    clock.advance(minutes=30)
    assert await run_due(ctx) == 0
    await admin.delete_silence(ctx=ctx, silence_id=silence["_id"], principal=OFFICER)
    assert await run_due(ctx) == 1
    esc = fakes.escalations.docs["esc-r1"]
    assert (esc["level"], esc["silenced_by"]) == (1, None)
    assert fakes.outbox.types() == [ev.ESCALATION_RAISED]


async def test_resolving_for_reporters_names_the_people_not_the_provincial_system(fakes: Fakes, clock: Clock) -> None:
    fakes.api_keys.ids.add("key-tinh")
    ctx = context(fakes, clock)
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    outcome = "Đã xác minh: tin đồn không đúng sự thật."
    done = await resolve(ctx=ctx, escalation_id="esc-r1", principal=OFFICER, comment=outcome, notify_reporters=True)
    assert (done["state"], done["acknowledged_at"]) == ("resolved", clock.at)
    resolved = next(e for _, e in fakes.outbox.events if e.type == ev.ESCALATION_RESOLVED)
    assert resolved.data["reporter_ids"] == ["u-lan", "u-minh"]
    assert resolved.data["outcome"] == outcome
    assert fakes.hotspots.docs["hs-r1"]["status"] == "resolved"


async def test_the_gauges_count_open_hot_spots_and_pending_escalations(fakes: Fakes, clock: Clock) -> None:
    ctx = context(fakes, clock)
    fakes.hotspots.docs["hs-r2"] = hotspot("urgent", _id="hs-r2", status="resolved")
    await ensure_escalation(ctx=ctx, hotspot=hotspot())
    clock.advance(minutes=15, seconds=ctx.settings.overdue_grace_seconds)  # due, but within the grace
    await upkeep.refresh_gauges(ctx)
    assert ctx.metrics.hotspots_open.labels("flash")._value.get() == 1
    assert ctx.metrics.hotspots_open.labels("urgent")._value.get() == 0
    assert ctx.metrics.escalations_pending.labels("1")._value.get() == 1
    assert ctx.metrics.escalations_overdue._value.get() == 0
    clock.advance(seconds=1)  # no scheduler pass acted on it in time
    await upkeep.refresh_gauges(ctx)
    assert ctx.metrics.escalations_overdue._value.get() == 1
