"""Parent hot spots on the real Kafka and store, on the two-tier registry of the 2025 reform (wards and communes
directly under the province): one rumour reported in three wards of one province, each in its own words, forms
three ward hot spots linked under one parent hot spot of the province with the matter's ONE escalation (the
first ward's, taken over by the parent: paged once); a different matter of the same topic in a fourth ward,
close enough in words to join inside a ward but not to link wards, stays apart with its own escalation; a ward
of another province stays apart; acknowledging the parent acknowledges every ward; a review raising one ward's
report above the parent's level re-triggers the parent from level 1. Merge and split keep the parent right."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as ev
import pytest
from fastapi import FastAPI
from pulse_libs.events.envelope import new_event
from pulse_triage.adapters.store import UNITS
from pymongo import AsyncMongoClient

from tests.support.parent_matters import OTHER, OTHER_AGAIN, RUMOUR, RUMOUR_TOPIC

from .conftest import Harness, serve, wait_until

PROVINCE, OTHER_PROVINCE = "00930", "00940"
WARDS = ["04931", "04932", "04933"]
FOURTH, AWAY = "04934", "04941"
TOPIC, LAND = RUMOUR_TOPIC, "dat-dai"
ALL_UNITS = [PROVINCE, OTHER_PROVINCE, *WARDS, FOURTH, AWAY]


@pytest.fixture(autouse=True)
def province_parents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Province parents are opt-in (`parent_unit_kinds`, default district only): these tests opt in."""
    monkeypatch.setenv("PULSE_PARENT_UNIT_KINDS", '["province", "district"]')


@asynccontextmanager
async def _province(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """Triage serving with its output collected and the test province's units mirrored; a department officer's
    headers over every unit."""
    async with serve(app_factory()) as client:
        await harness.collector.start()
        await _publish_units(harness)
        yield client, harness.headers("department", ALL_UNITS)


async def _publish_units(harness: Harness) -> None:
    units: list[tuple[str, str, str, str | None]] = [
        (PROVINCE, "Tỉnh Thử Nghiệm", "province", None),
        (OTHER_PROVINCE, "Tỉnh Bên Cạnh", "province", None),
    ]
    names = ["Phường Bắc Cường", "Phường Nam Cường", "Xã Hợp Thành", "Xã Tả Phìn"]
    units += [
        (w, n, "ward" if n.startswith("Phường") else "commune", PROVINCE)
        for w, n in zip([*WARDS, FOURTH], names, strict=True)
    ]
    units.append((AWAY, "Xã Long Khánh", "commune", OTHER_PROVINCE))
    for code, name, kind, parent in units:
        data = intake_events.UnitUpserted(code=code, name=name, kind=kind, parent_code=parent)
        event = new_event(intake_events.UNIT_UPSERTED, source=intake_events.SOURCE, data=data, key=code)
        await harness.producer.publish(topics.INTAKE_REGISTRY, event)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(harness.settings.mongo_url)
    try:
        await wait_until(lambda: _counted(mongo[harness.settings.mongo_db][UNITS]), what="units mirrored")
    finally:
        await mongo.close()


async def _counted(units: Any) -> bool:
    wards = [*WARDS, FOURTH, AWAY]
    found = [await units.find_one({"_id": code}) for code in ALL_UNITS]
    return all(found) and all(u.get("parent_code") for u in found if u["_id"] in wards)


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    return response.json() if response.status_code == 200 else None


async def _report(
    harness: Harness,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    unit: str,
    text: tuple[str, str],
    reporter: str,
    topic: str = TOPIC,
) -> tuple[str, str]:
    """Submit a report and wait for its decision; its id and its hot spot's."""
    event = await harness.submit(*text, unit=unit, reporter=reporter, topic_codes=[topic], people=50)
    rid = str(event.subject)
    decided = await wait_until(lambda: _get(client, f"/v1/triage/{rid}", headers), what=f"decision of {rid}")
    assert decided["hotspot_id"], decided
    return rid, str(decided["hotspot_id"])


async def _spot_with_escalation(client: httpx.AsyncClient, headers: dict[str, str], hotspot_id: str) -> Any:
    async def ready() -> Any:
        spot = await _get(client, f"/v1/hotspots/{hotspot_id}", headers)
        return spot if spot and spot["escalation"] else None

    return await wait_until(ready, what=f"the escalation of {hotspot_id}")


def _raised(harness: Harness, hotspots: set[str]) -> set[str]:
    """Escalations raised (paged at level 1) for any of these hot spots."""
    return {
        e.data["escalation_id"] for e in harness.collector.of(ev.ESCALATION_RAISED) if e.data["hotspot_id"] in hotspots
    }


async def _parent_of(client: httpx.AsyncClient, headers: dict[str, str], parent_id: str, wards: int) -> Any:
    """The parent hot spot once its facts count this many wards (they follow its children's links)."""
    parent = await _get(client, f"/v1/hotspots/{parent_id}", headers)
    return parent if parent and len(parent["child_ids"]) == wards else None


async def _linked(client: httpx.AsyncClient, headers: dict[str, str], hotspot_id: str) -> Any:
    spot = await _get(client, f"/v1/hotspots/{hotspot_id}", headers)
    return spot if spot and spot["parent_id"] else None


async def _rumour_in_two_wards(
    harness: Harness, client: httpx.AsyncClient, dept: dict[str, str], reporter: str
) -> tuple[str, str, str, str, str, str]:
    """The rumour in the first ward (its own escalation) then the second: the first's report, hot spot and
    escalation, the second's report and hot spot, and their parent once it counts both wards."""
    r1, h1 = await _report(harness, client, dept, WARDS[0], RUMOUR[0], f"{reporter}0")
    esc1 = str((await _spot_with_escalation(client, dept, h1))["escalation"]["id"])
    r2, h2 = await _report(harness, client, dept, WARDS[1], RUMOUR[1], f"{reporter}1")
    spot = await wait_until(lambda: _linked(client, dept, h2), what="the second ward's hot spot under a parent")
    parent_id = str(spot["parent_id"])
    await wait_until(lambda: _parent_of(client, dept, parent_id, 2), what="the parent of two wards")
    return r1, h1, esc1, r2, h2, parent_id


async def _pending_for(client: httpx.AsyncClient, headers: dict[str, str], spots: set[str]) -> list[Any]:
    listed = await _get(client, "/v1/escalations?state=pending", headers)
    return [e for e in (listed or {}).get("items", []) if e["hotspot_id"] in spots]


async def test_one_rumour_in_three_wards_of_a_province_forms_one_parent_with_one_escalation(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with _province(harness, app_factory) as (client, dept):
        # The first ward alone: its own hot spot and escalation, paged at once (nothing to link yet).
        first_report, first = await _report(harness, client, dept, WARDS[0], RUMOUR[0], "ctv-p0")
        first_esc = (await _spot_with_escalation(client, dept, first))["escalation"]["id"]
        await wait_until(lambda: _raised(harness, {first}) == {first_esc}, what="the first ward paged")

        ids, children = [first_report], [first]
        for i in (1, 2):
            rid, spot = await _report(harness, client, dept, WARDS[i], RUMOUR[i], f"ctv-p{i}")
            ids.append(rid)
            children.append(spot)
        assert len(set(children)) == 3, children

        async def linked() -> list[dict[str, Any]] | None:
            spots = [await _get(client, f"/v1/hotspots/{h}", dept) for h in children]
            parents = {s.get("parent_id") for s in spots}
            return spots if len(parents) == 1 and None not in parents else None

        spots = await wait_until(linked, what="three ward hot spots under one parent")
        parent_id = spots[0]["parent_id"]
        assert [s["unit_code"] for s in spots] == WARDS
        parent = await wait_until(lambda: _parent_of(client, dept, parent_id, 3), what="the parent of three wards")
        assert parent["unit_code"] == PROVINCE
        assert sorted(parent["child_ids"]) == sorted(children)
        assert sorted(parent["report_ids"]) == sorted(ids)
        assert parent["source_count"] == 3
        # The matter's one escalation is the first ward's, taken over by the parent: nobody was paged again.
        assert parent["escalation"]["id"] == first_esc
        assert parent["escalation"]["state"] == "pending"
        assert "adopted" in [h["action"] for h in parent["escalation"]["history"]]
        pending = await _pending_for(client, dept, {*children, parent_id})
        assert [(e["id"], e["hotspot_id"]) for e in pending] == [(first_esc, parent_id)]
        assert _raised(harness, {*children, parent_id}) == {first_esc}, "one page for the matter"
        # Hot-spot events name the parent on the wards' hot spots; the parent has none of its own.
        assert harness.collector.of(ev.HOTSPOT_UPDATED, parent_id=parent_id)
        assert not [e for e in harness.collector.events if e.subject == parent_id and e.type in ev.HOTSPOT_TYPES]

        # A different matter of the same topic in a fourth ward of the province: apart, with its own page.
        _, fourth = await _report(harness, client, dept, FOURTH, OTHER, "ctv-p3")
        fourth_spot = await _spot_with_escalation(client, dept, fourth)
        assert fourth_spot["parent_id"] is None, fourth_spot
        assert fourth_spot["escalation"]["state"] == "pending"
        assert fourth_spot["escalation"]["id"] != first_esc
        # The rumour's own words in a ward of another province: apart too.
        _, away = await _report(harness, client, dept, AWAY, RUMOUR[0], "ctv-away")
        assert (await _spot_with_escalation(client, dept, away))["parent_id"] is None
        assert sorted((await _get(client, f"/v1/hotspots/{parent_id}", dept))["child_ids"]) == sorted(children)

        # Acknowledging the parent's escalation acknowledges every ward's hot spot (not the fourth ward's).
        ack = await client.post(f"/v1/escalations/{first_esc}/ack", json={"comment": "Đã nắm"}, headers=dept)
        assert ack.status_code == 200, ack.text
        statuses = [(await _get(client, f"/v1/hotspots/{h}", dept))["status"] for h in [*children, parent_id]]
        assert statuses == ["acknowledged"] * 4
        assert (await _get(client, f"/v1/hotspots/{fourth}", dept))["escalation"]["state"] == "pending"

        # A review raising one ward's report above the parent's level re-triggers the parent from level 1.
        level = parent["urgency"]
        assert level != "flash"
        review = await client.post(
            f"/v1/triage/{ids[2]}/review",
            json={"urgency": "flash", "comment": "Phụ huynh vây giữ một người lạ trước cổng trường."},
            headers=dept,
        )
        assert review.status_code == 201, review.text

        async def retriggered() -> Any:
            spot = await _get(client, f"/v1/hotspots/{parent_id}", dept)
            esc = spot["escalation"] if spot else None
            return spot if esc and esc["id"] != first_esc else None

        again = await wait_until(retriggered, what="the parent's new episode")
        assert (again["urgency"], again["status"]) == ("flash", "open")
        episode = again["escalation"]
        assert (episode["urgency"], episode["level"], episode["state"]) == ("flash", 1, "pending")
        await wait_until(lambda: episode["id"] in _raised(harness, {parent_id}), what="the new episode paged")
        assert _raised(harness, {*children, parent_id}) == {first_esc, episode["id"]}
        old = await _get(client, f"/v1/escalations/{first_esc}", dept)
        assert old["state"] == "acknowledged", "the acknowledged episode stays closed"


async def test_merge_and_split_keep_the_parent_right(harness: Harness, app_factory: Callable[[], FastAPI]) -> None:
    async with _province(harness, app_factory) as (client, dept):
        r1, h1, esc, r2, h2, parent_id = await _rumour_in_two_wards(harness, client, dept, "ctv-m")
        # A hot spot of the second ward on another topic: apart, escalating on its own.
        r3, h3 = await _report(harness, client, dept, WARDS[1], OTHER, "ctv-m2", topic=LAND)
        own = (await _spot_with_escalation(client, dept, h3))["escalation"]
        assert own["state"] == "pending"
        assert (await _get(client, f"/v1/hotspots/{h3}", dept))["parent_id"] is None

        # A parent is not merged or split itself: 409, nothing changes.
        for path, body in (("merge", {"into": h1}), ("split", {"report_ids": [r1]})):
            refused = await client.post(f"/v1/hotspots/{parent_id}/{path}", json=body, headers=dept)
            assert refused.status_code == 409, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")

        # The ward's child merged into the other hot spot of its ward: that one takes its place under the parent,
        # and its own escalation is handed over to the parent's (one open escalation for the matter).
        merged = await client.post(f"/v1/hotspots/{h2}/merge", json={"into": h3}, headers=dept)
        assert merged.status_code == 200, merged.text
        target = await _get(client, f"/v1/hotspots/{h3}", dept)
        assert target["parent_id"] == parent_id
        assert sorted(target["report_ids"]) == sorted([r2, r3])
        parent = await _get(client, f"/v1/hotspots/{parent_id}", dept)
        assert sorted(parent["child_ids"]) == sorted([h1, h3])
        assert sorted(parent["report_ids"]) == sorted([r1, r2, r3])
        assert parent["escalation"]["id"] == esc
        source = await _get(client, f"/v1/hotspots/{h2}", dept)
        assert (source["parent_id"], source["report_ids"], source["status"]) == (None, [], "resolved")
        handed = await _get(client, f"/v1/escalations/{own['id']}", dept)
        assert handed["state"] == "resolved"
        assert "handed_over" in [h["action"] for h in handed["history"]]
        pending = await _pending_for(client, dept, {h1, h2, h3, parent_id})
        assert [e["id"] for e in pending] == [esc]

        # Reports split out of a child are a separate matter: out of the parent, with their own escalation.
        split = await client.post(f"/v1/hotspots/{h3}/split", json={"report_ids": [r3]}, headers=dept)
        assert split.status_code == 200, split.text
        fresh_id = split.json()["split"]["id"]
        fresh = await _spot_with_escalation(client, dept, fresh_id)
        assert fresh["parent_id"] is None
        assert fresh["report_ids"] == [r3]
        assert fresh["escalation"]["state"] == "pending"
        parent = await _get(client, f"/v1/hotspots/{parent_id}", dept)
        assert sorted(parent["report_ids"]) == sorted([r1, r2])
        assert sorted(parent["child_ids"]) == sorted([h1, h3])
        pending = await _pending_for(client, dept, {h1, h2, h3, fresh_id, parent_id})
        assert sorted(e["id"] for e in pending) == sorted([esc, fresh["escalation"]["id"]])


async def test_a_parent_left_with_one_ward_is_dissolved_and_that_ward_escalates_on_its_own(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with _province(harness, app_factory) as (client, dept):
        _, h1, esc1, r2, h2, parent_id = await _rumour_in_two_wards(harness, client, dept, "ctv-d")
        # The golf-course rumour in the second and third wards: a second parent, on its own escalation.
        r3, h3 = await _report(harness, client, dept, WARDS[1], OTHER, "ctv-d2", topic=LAND)
        esc3 = (await _spot_with_escalation(client, dept, h3))["escalation"]["id"]
        r4, h4 = await _report(harness, client, dept, WARDS[2], OTHER_AGAIN, "ctv-d3", topic=LAND)
        other_parent = await wait_until(lambda: _linked(client, dept, h4), what="the golf rumour's parent")
        assert other_parent["parent_id"] != parent_id
        assert (await _get(client, f"/v1/hotspots/{h3}", dept))["parent_id"] == other_parent["parent_id"]

        # Staff merge the rumour's second ward into the golf matter of that ward: the rumour's parent is left
        # with one ward, so it is dissolved and the first ward's hot spot takes its escalation back.
        merged = await client.post(f"/v1/hotspots/{h2}/merge", json={"into": h3}, headers=dept)
        assert merged.status_code == 200, merged.text
        dissolved = await _get(client, f"/v1/hotspots/{parent_id}", dept)
        assert (dissolved["status"], dissolved["child_ids"]) == ("resolved", [])
        alone = await _get(client, f"/v1/hotspots/{h1}", dept)
        assert alone["parent_id"] is None
        assert alone["escalation"]["id"] == esc1
        assert alone["escalation"]["state"] == "pending"
        assert alone["escalation"]["hotspot_id"] == h1
        assert "returned" in [h["action"] for h in alone["escalation"]["history"]]
        golf = await _get(client, f"/v1/hotspots/{other_parent['parent_id']}", dept)
        assert sorted(golf["report_ids"]) == sorted([r2, r3, r4])
        assert golf["escalation"]["id"] == esc3
        pending = await _pending_for(client, dept, {h1, h2, h3, h4, parent_id, golf["id"]})
        assert sorted((e["id"], e["hotspot_id"]) for e in pending) == sorted([(esc1, h1), (esc3, golf["id"])])


async def test_a_new_ward_joining_an_acknowledged_or_resolved_matter_pages_a_new_episode(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with _province(harness, app_factory) as (client, dept):
        _, h1, esc1, _, h2, parent_id = await _rumour_in_two_wards(harness, client, dept, "ctv-s")
        ack = await client.post(f"/v1/escalations/{esc1}/ack", json={"comment": "Đã nắm"}, headers=dept)
        assert ack.status_code == 200, ack.text

        async def episode_after(earlier: set[str]) -> Any:
            spot = await _get(client, f"/v1/hotspots/{parent_id}", dept)
            esc = spot["escalation"] if spot else None
            return spot if esc and esc["id"] not in earlier else None

        async def spread_to(unit: str, text: tuple[str, str], reporter: str, earlier: set[str]) -> tuple[str, Any]:
            """A ward reports the matter: linked, and the parent re-opened on a new episode paged from level 1."""
            _, spot = await _report(harness, client, dept, unit, text, reporter)
            parent = await wait_until(lambda: episode_after(earlier), what=f"a new episode for {unit}")
            esc = parent["escalation"]
            assert (esc["level"], esc["state"], parent["status"]) == (1, "pending", "open")
            assert esc["history"][0]["comment"].startswith("Vụ việc lan sang địa bàn mới"), esc["history"]
            raised = await wait_until(
                lambda: harness.collector.of(ev.ESCALATION_RAISED, escalation_id=esc["id"]), what="the page"
            )
            assert [e.data["comment"] for e in raised] == [esc["history"][0]["comment"]]
            # The ward's hot spot shows the escalation that covers it: the parent's current episode.
            child = await _get(client, f"/v1/hotspots/{spot}", dept)
            assert (child["parent_id"], child["escalation"]["id"], child["status"]) == (parent_id, esc["id"], "open")
            return spot, esc

        # The matter acknowledged, then a third ward: a new episode (the acknowledged one stays as it was).
        h3, second = await spread_to(WARDS[2], RUMOUR[2], "ctv-s2", {esc1})
        assert (await _get(client, f"/v1/escalations/{esc1}", dept))["state"] == "acknowledged"
        assert (await _get(client, f"/v1/hotspots/{h1}", dept))["escalation"]["id"] == second["id"]

        # Resolved, then a fourth ward reports it again: another new episode.
        resolved = await client.post(
            f"/v1/escalations/{second['id']}/resolve", json={"comment": "Công an đã xác minh: tin sai."}, headers=dept
        )
        assert resolved.status_code == 200, resolved.text
        statuses = [(await _get(client, f"/v1/hotspots/{h}", dept))["status"] for h in (h1, h2, h3, parent_id)]
        assert statuses == ["resolved"] * 4
        _, third = await spread_to(FOURTH, RUMOUR[0], "ctv-s3", {esc1, second["id"]})
        parent = await _parent_of(client, dept, parent_id, 4)
        assert parent is not None
        assert _raised(harness, {h1, h2, h3, parent_id}) == {esc1, second["id"], third["id"]}
