"""The Directive aggregate's rules and the directive use cases over in-memory repositories (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pulse_libs.events.triage as ev
import pytest
from pulse_libs.auth import principal_for_user
from pulse_libs.events.envelope import new_event
from pulse_libs.events.intake import AGENCY_CHANGED, SOURCE, AgencyChanged
from pulse_triage.adapters.directives import (
    Agency,
    InMemoryAgencies,
    InMemoryCounters,
    InMemoryDirectives,
    InMemoryOutbox,
)
from pulse_triage.domain.directive import Directive, DirectiveClosed, DirectiveInvalid, remind_before
from pulse_triage.domain.errors import ConflictError, NotFoundError
from pulse_triage.handlers import directives as uc

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WARD = "04747"
UBND = "UBND-04747"
POLICE = "CA-LAOCAI"
HOTSPOT = {"_id": "hs-r1", "unit_code": WARD, "topic_code": "dat_dai", "status": "acknowledged"}
DEPT = principal_for_user(user_id="u-dept", username="bantuyengiao", role="department", unit_codes=[])
BTV = principal_for_user(user_id="u-btv", username="btv", role="standing_committee", unit_codes=[])
WARD_USER = principal_for_user(user_id="u-ubnd", username="ubnd", role="agency", unit_codes=[], agency_code=UBND)
POLICE_USER = principal_for_user(user_id="u-ca", username="ca", role="agency", unit_codes=[], agency_code=POLICE)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def make_service(**extra: Any) -> tuple[uc.DirectiveService, Clock]:
    clock = Clock()
    hotspots: dict[str, dict[str, Any]] = {HOTSPOT["_id"]: dict(HOTSPOT)} | extra.pop("hotspots", {})

    async def hotspot(hotspot_id: str) -> dict[str, Any] | None:
        return hotspots.get(hotspot_id)

    svc = uc.DirectiveService(
        directives=InMemoryDirectives(),
        agencies=InMemoryAgencies(
            Agency(UBND, "UBND phường Yên Bái", "people_committee", WARD, True),
            Agency(POLICE, "Công an tỉnh Lào Cai", "police", None, True),
            Agency("OLD", "Ban đã giải thể", "other", None, False),
        ),
        counters=InMemoryCounters(),
        outbox=InMemoryOutbox(),
        hotspot=hotspot,
        now=clock,
        **extra,
    )
    return svc, clock


def events(svc: uc.DirectiveService) -> list[dict[str, Any]]:
    assert isinstance(svc.outbox, InMemoryOutbox)
    return [e.data for _, e in svc.outbox.events.values()]


async def create(svc: uc.DirectiveService, **kw: Any) -> Directive:
    args: dict[str, Any] = {
        "hotspot_id": "hs-r1",
        "principal": BTV,
        "assignee": UBND,
        "instruction": "Đối thoại với các hộ dân, báo cáo kết quả trước hạn.",
        "due_at": T0 + timedelta(days=2),
    } | kw
    return await uc.create_directive(svc, **args)


# The aggregate -----------------------------------------------------------------------------------------


def test_a_directive_is_open_then_overdue_past_due_and_done_with_its_result() -> None:
    d = Directive.create(
        directive_id="dir-1",
        hotspot_id="hs-r1",
        unit_code=WARD,
        topic_code="dat_dai",
        assignee=UBND,
        instruction="  Kiểm tra hiện trường  ",
        due_at=T0 + timedelta(hours=4),
        by="u-btv",
        by_name="btv",
        now=T0,
        remind_cap_seconds=86400,
    )
    assert d.instruction == "Kiểm tra hiện trường"
    assert d.state(T0) == "open"
    assert d.remind_before_seconds == 2 * 3600  # half of a 4 h lead
    assert d.state(T0 + timedelta(hours=4)) == "overdue"
    assert d.timeline(T0 + timedelta(hours=1)) == []
    later = T0 + timedelta(hours=5)
    d.record(by="u-ubnd", by_name="ubnd", by_role="agency", note="Đã làm việc", done=False, result=None, now=later)
    entry = d.record(by="u-ubnd", by_name="ubnd", by_role="agency", note=None, done=True, result="Xong", now=later)
    assert entry.change == "done"
    assert d.state(later + timedelta(days=1)) == "done"
    assert d.late
    assert d.version == 3
    timeline = d.timeline(later)
    assert [c.change for c in timeline] == ["overdue", "updated", "done"]
    assert timeline[0].by == "system"
    assert timeline[0].at == d.due_at
    with pytest.raises(DirectiveClosed):
        d.record(by="u-dept", by_name=None, by_role="department", note="x", done=False, result=None, now=later)
    assert Directive.from_doc(d.to_doc()) == d


@pytest.mark.parametrize(
    ("instruction", "due", "field"),
    [
        ("   ", timedelta(days=1), "instruction"),
        ("x" * 4001, timedelta(days=1), "instruction"),
        ("Làm ngay", timedelta(seconds=0), "due_at"),
        ("Làm ngay", timedelta(hours=-1), "due_at"),
        ("Làm ngay", timedelta(days=400), "due_at"),
    ],
)
def test_bad_directives_are_refused_with_the_field(instruction: str, due: timedelta, field: str) -> None:
    with pytest.raises(DirectiveInvalid) as err:
        Directive.create(
            directive_id="d",
            hotspot_id="h",
            unit_code=WARD,
            topic_code="t",
            assignee=UBND,
            instruction=instruction,
            due_at=T0 + due,
            by="u",
            by_name=None,
            now=T0,
            remind_cap_seconds=60,
        )
    assert err.value.field == field


def test_updates_need_a_note_and_completion_needs_a_result() -> None:
    d = Directive.create(
        directive_id="d",
        hotspot_id="h",
        unit_code=WARD,
        topic_code="t",
        assignee=UBND,
        instruction="Làm",
        due_at=T0 + timedelta(days=1),
        by="u",
        by_name=None,
        now=T0,
        remind_cap_seconds=60,
    )
    for note, done, result, field in (
        ("", False, None, "note"),
        (None, True, " ", "result"),
        ("n", False, "r", "result"),
    ):
        with pytest.raises(DirectiveInvalid) as err:
            d.record(by="u", by_name=None, by_role=None, note=note, done=done, result=result, now=T0)
        assert err.value.field == field
    assert d.history == []
    assert d.version == 1
    assert d.state(T0) == "open"


def test_reminder_is_half_the_lead_capped() -> None:
    assert remind_before(timedelta(days=10), 86400) == 86400
    assert remind_before(timedelta(seconds=9), 86400) == 4


# Use cases ---------------------------------------------------------------------------------------------


async def test_create_emits_created_and_counts_open() -> None:
    svc, _ = make_service()
    d = await create(svc)
    assert d.state(T0) == "open"
    [data] = events(svc)
    assert data["change"] == "created"
    assert data["state"] == "open"
    assert data["assignee"] == UBND
    assert data["by"] == "u-btv"
    assert data["hotspot_id"] == "hs-r1"
    assert await svc.counters.totals() == (1, 0)
    assert ev.DirectiveChanged.model_validate(data).remind_before_seconds == 86400


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"assignee": "NOPE"}, "assignee"),
        ({"assignee": "OLD"}, "assignee"),
        ({"instruction": ""}, "instruction"),
        ({"due_at": T0 - timedelta(minutes=1)}, "due_at"),
    ],
)
async def test_bad_input_changes_nothing(kw: dict[str, Any], field: str) -> None:
    svc, _ = make_service()
    with pytest.raises(DirectiveInvalid) as err:
        await create(svc, **kw)
    assert err.value.field == field
    assert events(svc) == []
    assert isinstance(svc.directives, InMemoryDirectives)
    assert svc.directives.items == {}
    assert await svc.counters.totals() == (0, 0)


async def test_unknown_or_resolved_hotspot_is_refused() -> None:
    resolved = {"hs-done": {**HOTSPOT, "_id": "hs-done", "status": "resolved"}}
    svc, _ = make_service(hotspots=resolved)
    with pytest.raises(NotFoundError):
        await create(svc, hotspot_id="hs-missing")
    with pytest.raises(ConflictError):
        await create(svc, hotspot_id="hs-done")
    assert events(svc) == []


async def test_an_agency_sees_only_its_own_directives_and_their_hot_spots() -> None:
    svc, _ = make_service()
    mine = await create(svc)
    theirs = await create(svc, assignee=POLICE, instruction="Bảo đảm an ninh trật tự")
    assert (await uc.visible_directive(svc, mine.id, WARD_USER)).id == mine.id
    with pytest.raises(NotFoundError):
        await uc.visible_directive(svc, theirs.id, WARD_USER)
    listed = await uc.list_directives(svc, WARD_USER, state=None, assignee=None, hotspot_id=None, after=None, limit=50)
    assert [d.id for d in listed] == [mine.id]
    other = await uc.list_directives(svc, WARD_USER, state=None, assignee=POLICE, hotspot_id=None, after=None, limit=50)
    assert other == []
    everything = await uc.list_directives(svc, DEPT, state="open", assignee=None, hotspot_id=None, after=None, limit=50)
    assert {d.id for d in everything} == {mine.id, theirs.id}
    assert await uc.agency_reaches_hotspot(svc, WARD_USER, "hs-r1")
    assert not await uc.agency_reaches_hotspot(svc, WARD_USER, "hs-other")
    assert not await uc.agency_reaches_hotspot(svc, DEPT, "hs-r1")
    with pytest.raises(NotFoundError):
        await uc.record_update(svc, directive_id=theirs.id, principal=WARD_USER, note="x", done=False, result=None)


async def test_progress_then_completion_by_the_agency_and_409_after() -> None:
    svc, clock = make_service()
    d = await create(svc)
    clock.now = T0 + timedelta(hours=3)
    await uc.record_update(svc, directive_id=d.id, principal=WARD_USER, note="Đã gặp dân", done=False, result=None)
    clock.now = T0 + timedelta(hours=6)
    done, entry = await uc.record_update(
        svc, directive_id=d.id, principal=WARD_USER, note=None, done=True, result="Đã tháo gỡ, dân đồng thuận"
    )
    assert done.state(clock.now) == "done"
    assert entry.by == "u-ubnd"
    assert [e["change"] for e in events(svc)] == ["created", "updated", "done"]
    assert events(svc)[-1]["result"] == "Đã tháo gỡ, dân đồng thuận"
    assert await svc.counters.totals() == (0, 0)
    with pytest.raises(ConflictError):
        await uc.record_update(svc, directive_id=d.id, principal=DEPT, note="thêm", done=False, result=None)
    assert len(events(svc)) == 3


async def test_the_overdue_transition_is_emitted_once_even_when_decided_twice() -> None:
    svc, clock = make_service()
    d = await create(svc, due_at=T0 + timedelta(hours=1))
    assert await uc.run_overdue(svc) == 0  # not due yet
    clock.now = T0 + timedelta(hours=1, seconds=1)
    assert await uc.run_overdue(svc) == 1
    assert await uc.run_overdue(svc) == 0
    overdue = [e for e in events(svc) if e["change"] == "overdue"]
    assert len(overdue) == 1
    assert overdue[0]["state"] == "overdue"
    assert overdue[0]["by"] == "system"
    assert await svc.counters.totals() == (0, 1)
    # A holder that died after emitting (its timer unfired) is succeeded by one that decides the same
    # transition: the same event id, so no second event and no second count.
    assert isinstance(svc.directives, InMemoryDirectives)
    svc.directives.timers[d.id]["fired"] = False
    assert await uc.run_overdue(svc) == 1
    assert len([e for e in events(svc) if e["change"] == "overdue"]) == 1
    assert await svc.counters.totals() == (0, 1)
    # Done late: the overdue count drops, and the directive says it was late.
    done, _ = await uc.record_update(svc, directive_id=d.id, principal=DEPT, note=None, done=True, result="Xong")
    assert done.late
    assert await svc.counters.totals() == (0, 0)


class NotHeld(uc.AlwaysHeld):
    async def acquire(self, now: datetime | None = None) -> object | None:
        return None

    def held(self, now: datetime | None = None) -> object | None:
        return None


async def test_only_the_lease_holder_runs_the_timer() -> None:
    svc, clock = make_service(lease=NotHeld())
    await create(svc, due_at=T0 + timedelta(minutes=1))
    clock.now = T0 + timedelta(minutes=2)
    assert await uc.run_overdue(svc) == 0
    assert [e["change"] for e in events(svc)] == ["created"]


async def test_a_lost_version_claim_is_a_conflict_that_emits_nothing() -> None:
    svc, _ = make_service()
    d = await create(svc)
    assert isinstance(svc.directives, InMemoryDirectives)
    svc.directives.claims.add((d.id, 2))  # another request won version 2
    with pytest.raises(ConflictError):
        await uc.record_update(svc, directive_id=d.id, principal=WARD_USER, note="Đang xử lý", done=False, result=None)
    assert [e["change"] for e in events(svc)] == ["created"]
    stored = await uc.visible_directive(svc, d.id, DEPT)
    assert stored.history == []
    assert stored.version == 1


async def test_a_directive_done_in_time_never_becomes_overdue() -> None:
    svc, clock = make_service()
    d = await create(svc, due_at=T0 + timedelta(hours=1))
    await uc.record_update(svc, directive_id=d.id, principal=WARD_USER, note=None, done=True, result="Xong")
    clock.now = T0 + timedelta(hours=2)
    await uc.run_overdue(svc)
    assert [e["change"] for e in events(svc)] == ["created", "done"]
    assert (await uc.visible_directive(svc, d.id, DEPT)).timeline(clock.now)[0].change == "done"


async def test_agencies_mirror_keeps_the_latest_change() -> None:
    svc, _ = make_service()

    def changed(active: bool, at: datetime) -> Any:
        data = AgencyChanged(
            code="SO-TNMT", name="Sở Tài nguyên và Môi trường", kind="department", active=active, changed_at=at
        )
        return new_event(AGENCY_CHANGED, source=SOURCE, data=data, key="SO-TNMT")

    await uc.apply_agency_changed(svc, changed(False, T0 + timedelta(minutes=5)))
    await uc.apply_agency_changed(svc, changed(True, T0))  # older, delivered late
    agency = await svc.agencies.get("SO-TNMT")
    assert agency is not None
    assert not agency.active
    with pytest.raises(DirectiveInvalid):
        await create(svc, assignee="SO-TNMT")


async def test_a_recount_heals_counters_that_drifted() -> None:
    svc, clock = make_service()
    first = await create(svc, due_at=T0 + timedelta(hours=1))
    await create(svc, due_at=T0 + timedelta(hours=5))
    assert isinstance(svc.counters, InMemoryCounters)
    svc.counters.open += 3  # a process died between a state change and its counter write, three times
    clock.now = T0 + timedelta(hours=2)
    cutoff = clock.now
    await uc.run_overdue(svc, cutoff=cutoff)
    assert await uc.recount(svc, cutoff) == (1, 1)
    assert await svc.counters.totals() == (1, 1)
    await uc.record_update(svc, directive_id=first.id, principal=DEPT, note=None, done=True, result="Xong")
    assert await svc.counters.totals() == (1, 0)
    assert await uc.recount(NotHeldService(svc), cutoff) is None


def NotHeldService(svc: uc.DirectiveService) -> uc.DirectiveService:

    return replace(svc, lease=NotHeld())
