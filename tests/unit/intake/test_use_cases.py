"""Use cases of intake's people, registry, agencies and campaigns run against the in-memory repositories
(tests/unit/intake/fakes.py, the Protocols of adapters/ports.py); tests/integration/intake runs them on the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pulse_intake.adapters.throttle import Attempt
from pulse_intake.handlers import agencies, campaigns, people, registry
from pulse_intake.settings import IntakeSettings
from pulse_libs.auth import TokenVerifier
from pulse_libs.events import intake as ev
from pulse_libs.periods import parse_period

from tests.unit.intake.fakes import FakeAgencies, FakeResponses, FakeUnits, FakeUsers, fake_store

WARD = "04252"


class CountingThrottle:
    """A login throttle that lets every attempt through and counts the failed ones (the real one is a store
    window; its limits are tested in tests/integration/intake/test_throttle.py)."""

    def __init__(self) -> None:
        self.failures = 0

    @asynccontextmanager
    async def attempt(self, *, username: str, ip: str) -> AsyncIterator[Attempt]:
        attempt = Attempt()
        yield attempt
        self.failures += attempt.is_failure


async def new_user(store: Any, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "username": "ctv.lan",
        "password": "Mật-khẩu-đủ-dài-2026",
        "full_name": "Nguyễn Thị Lan",
        "role": "collaborator",
        "unit_codes": [WARD],
        "phone": None,
        "email": None,
    }
    return await people.create_user(store=store, **(fields | changes))


async def test_a_new_user_is_stored_with_its_directory_event_and_a_taken_name_is_refused() -> None:
    users = FakeUsers()
    store = fake_store(users=users)
    user = await new_user(store)
    assert (user["username"], user["role"], user["unit_codes"]) == ("ctv.lan", "collaborator", [WARD])
    assert "password_hash" not in user
    assert users.events(user["id"]) == [ev.USER_CHANGED]
    with pytest.raises(people.UsernameTaken):
        await new_user(store, full_name="Người khác")
    assert len(users.docs) == 1


async def test_sign_in_accepts_the_password_and_counts_a_wrong_one() -> None:
    store = fake_store()
    user = await new_user(store)
    settings, throttle = IntakeSettings(), CountingThrottle()
    signed = await people.sign_in(
        store=store, settings=settings, throttle=throttle, username="ctv.lan", password="Mật-khẩu-đủ-dài-2026", ip="1"
    )
    assert signed is not None
    token, _, must_change = signed
    assert (await TokenVerifier(settings).verify(token)).subject == user["id"]
    assert must_change is False
    wrong = await people.sign_in(
        store=store, settings=settings, throttle=throttle, username="ctv.lan", password="sai", ip="1"
    )
    assert wrong is None
    assert throttle.failures == 1


async def test_a_deactivated_user_cannot_sign_in() -> None:
    store = fake_store()
    user = await new_user(store)
    changed = await people.update_user(store=store, user_id=user["id"], changes={"active": False})
    assert changed is not None
    assert changed["active"] is False
    signed = await people.sign_in(
        store=store,
        settings=IntakeSettings(),
        throttle=CountingThrottle(),
        username="ctv.lan",
        password="Mật-khẩu-đủ-dài-2026",
        ip="1",
    )
    assert signed is None


async def test_a_change_of_units_bumps_the_version_and_cuts_older_tokens() -> None:
    users = FakeUsers()
    store = fake_store(users=users)
    user = await new_user(store)
    await people.update_user(store=store, user_id=user["id"], changes={"unit_codes": ["04255", WARD, "04255"]})
    stored = users.docs[user["id"]]
    assert (stored["unit_codes"], stored["version"], stored["access_version"]) == ([WARD, "04255"], 2, 2)
    assert users.events(user["id"]) == [ev.USER_CHANGED, ev.USER_CHANGED]
    await people.update_user(store=store, user_id=user["id"], changes={"full_name": "Nguyễn Thị Lan Anh"})
    assert (users.docs[user["id"]]["version"], users.docs[user["id"]]["access_version"]) == (3, 2)
    same = await people.update_user(store=store, user_id=user["id"], changes={"full_name": "Nguyễn Thị Lan Anh"})
    assert same is not None
    assert users.docs[user["id"]]["version"] == 3


async def test_a_collaborator_keeps_at_least_one_unit_and_an_agency_user_needs_an_active_agency() -> None:
    store = fake_store(agencies=FakeAgencies({"_id": "so-y-te", "name": "Sở Y tế", "active": False}))
    user = await new_user(store)
    with pytest.raises(people.UserConflict) as refused:
        await people.update_user(store=store, user_id=user["id"], changes={"unit_codes": []})
    assert refused.value.field == "unit_codes"
    with pytest.raises(people.UserConflict) as refused:
        await new_user(store, username="cq.yte", role="agency", unit_codes=[], agency_code="so-y-te")
    assert refused.value.field == "agency_code"


async def test_a_zalo_follower_links_to_one_user_only() -> None:
    store = fake_store()
    await new_user(store, zalo_user_id="zalo-77")
    with pytest.raises(people.UserConflict) as refused:
        await new_user(store, username="ctv.minh", full_name="Trần Văn Minh", zalo_user_id="zalo-77")
    assert (refused.value.field, refused.value.status) == ("zalo_user_id", 409)


async def test_a_unit_upsert_reports_created_unchanged_updated_and_stores_dated_successors() -> None:
    units = FakeUnits()
    store = fake_store(units=units)
    ward = {"code": "04252", "name": "Phường Đồng Tâm", "kind": "ward", "parent_code": "15", "replaced_by": None}
    assert await registry.upsert_unit(store=store, unit=ward) == "created"
    assert await registry.upsert_unit(store=store, unit=ward) == "unchanged"
    merged = ward | {"replaced_by": [{"code": "04255", "since": date(2025, 7, 1)}]}
    assert await registry.upsert_unit(store=store, unit=merged) == "updated"
    assert units.docs["04252"]["replaced_by"] == [{"code": "04255", "since": "2025-07-01"}]
    assert units.events("04252") == [ev.UNIT_UPSERTED, ev.UNIT_UPSERTED]  # none for the unchanged write
    shown = await registry.get_unit(store=store, code="04252")
    assert shown is not None
    assert shown["replaced_by"] == [{"code": "04255", "since": "2025-07-01"}]
    assert await units.current_with_committee() == []  # a replaced ward has no committee of its own now


async def test_an_agency_is_created_once_and_seeding_gives_each_current_ward_its_committee() -> None:
    units = FakeUnits(
        {"_id": "04252", "name": "Phường Đồng Tâm", "kind": "ward", "replaced_by": None},
        {"_id": "04255", "name": "Xã Tân Thịnh", "kind": "commune", "replaced_by": None},
        {"_id": "04249", "name": "Phường Cũ", "kind": "ward", "replaced_by": [{"code": "04252", "since": None}]},
    )
    store = fake_store(units=units)
    created = await agencies.create_agency(
        store=store, code="so-cong-an", name="Công an tỉnh", kind="police", unit_code=None
    )
    assert created["code"] == "so-cong-an"
    with pytest.raises(agencies.AgencyExists):
        await agencies.create_agency(store=store, code="so-cong-an", name="Công an", kind="police", unit_code=None)
    first = await agencies.seed_agencies(store=store)
    codes = await store.agencies.codes()
    committees = sorted(c for c in codes if c.startswith(agencies.PEOPLE_COMMITTEE_PREFIX))
    assert committees == [agencies.PEOPLE_COMMITTEE_PREFIX + "04252", agencies.PEOPLE_COMMITTEE_PREFIX + "04255"]
    assert first == len(codes) - 1  # everything but the agency created by hand
    assert await agencies.seed_agencies(store=store) == 0  # a second replica seeding finds them all


async def test_an_orientation_covers_the_decree_09_window_of_its_period_for_its_units() -> None:
    store = fake_store()
    body = {
        "title": "Định hướng tháng 11",
        "guidance": "Theo dõi giá điện.",
        "topic_codes": ["gia-ca"],
        "unit_codes": [WARD],
    }
    shown = await campaigns.publish_orientation(
        store=store, period=parse_period("2026-11"), cutoff_day=14, body=body, by="u-ban-tuyen-giao"
    )
    assert (shown["period_start"], shown["period_end"]) == ("2026-10-14", "2026-11-13")
    inside = await campaigns.list_orientations(store=store, units=[WARD], day=date(2026, 11, 1), before=None, limit=10)
    assert [o["id"] for o in inside] == [shown["id"]]
    after = await campaigns.list_orientations(store=store, units=[WARD], day=date(2026, 11, 14), before=None, limit=10)
    other = await campaigns.list_orientations(store=store, units=["09999"], day=None, before=None, limit=10)
    assert after == other == []


async def test_a_collaborator_answers_a_survey_once_but_records_many_interviews() -> None:
    responses = FakeResponses()
    store = fake_store(responses=responses)
    survey = await campaigns.publish_survey(
        store=store,
        body={
            "title": "Ý kiến về giá điện",
            "questions": [
                {"code": "q1", "text": "Hóa đơn có tăng không?", "kind": "single", "options": ["Có", "Không"]}
            ],
            "unit_codes": [WARD],
            "opens_at": datetime(2026, 11, 1, tzinfo=UTC),
            "closes_at": datetime(2099, 11, 30, tzinfo=UTC),
        },
    )
    answer: dict[str, Any] = {
        "survey_id": survey["id"],
        "unit_code": WARD,
        "collaborator": "p-lan",
        "answers": {"q1": "Có"},
    }
    await campaigns.record_response(store=store, demographics=None, **answer)
    with pytest.raises(campaigns.AlreadyAnswered):
        await campaigns.record_response(store=store, demographics=None, **answer)
    for _ in range(2):
        await campaigns.record_response(store=store, demographics={"age_band": "30-44", "gender": None}, **answer)
    kinds = sorted(d["respondent_kind"] for d in responses.docs.values())
    assert kinds == ["interview", "interview", "self"]
