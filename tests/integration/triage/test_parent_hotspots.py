"""Parent hot spots on the real Kafka and store: one matter reported in three wards of one district (same
topic, similar words, inside the window) forms three ward hot spots linked under one parent hot spot of the
district, with the matter's one open escalation; a ward of another district stays apart; acknowledging the
parent's escalation acknowledges every ward's hot spot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_libs.events.envelope import new_event
from pulse_triage.adapters.store import UNITS
from pymongo import AsyncMongoClient

from .conftest import Harness, serve, wait_until

DISTRICT, OTHER_DISTRICT = "00910", "00920"
WARDS = ["04911", "04912", "04913"]
AWAY = "04921"
PROVINCE, PROVINCE_WARDS = "00930", ["04931", "04932"]
TOPIC = "moi-truong"
TEXTS = [
    "Khoảng 200 người dân tụ tập trước cổng nhà máy xi măng Tân Hợp phản đối ô nhiễm bụi, chặn đường vào nhà máy.",
    "Hơn 150 người dân tụ tập phản đối nhà máy xi măng Tân Hợp gây ô nhiễm bụi, chặn xe chở hàng vào nhà máy.",
    "Người dân kéo đến cổng nhà máy xi măng Tân Hợp phản đối ô nhiễm bụi, khoảng 100 người chặn đường vào nhà máy.",
]


async def _publish_units(harness: Harness) -> None:
    units = [(DISTRICT, "Huyện Văn Bàn", "district", None), (OTHER_DISTRICT, "Huyện Bảo Yên", "district", None)]
    names = ["Tân Hợp", "Minh Lương", "Nậm Xé"]
    units += [(w, f"Xã {name}", "commune", DISTRICT) for w, name in zip(WARDS, names, strict=True)]
    units.append((AWAY, "Xã Long Khánh", "commune", OTHER_DISTRICT))
    units += [(PROVINCE, "Tỉnh Thử Nghiệm", "province", None)]
    units += [(w, f"Phường {n}", "ward", PROVINCE) for w, n in zip(PROVINCE_WARDS, ["Bắc", "Nam"], strict=True)]
    for code, name, kind, parent in units:
        data = intake_events.UnitUpserted(code=code, name=name, kind=kind, parent_code=parent)
        event = new_event(intake_events.UNIT_UPSERTED, source=intake_events.SOURCE, data=data, key=code)
        await harness.producer.publish(topics.INTAKE_REGISTRY, event)


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    return response.json() if response.status_code == 200 else None


async def test_one_matter_in_three_wards_forms_one_parent_with_one_escalation(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        await _publish_units(harness)
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(harness.settings.mongo_url)
        units = mongo[harness.settings.mongo_db][UNITS]
        try:
            await wait_until(lambda: _counted(units, [*WARDS, AWAY, *PROVINCE_WARDS]), what="units mirrored")
        finally:
            await mongo.close()
        department = harness.headers("department", [*WARDS, AWAY, DISTRICT, OTHER_DISTRICT, *PROVINCE_WARDS])
        ids = []
        for i, (ward, text) in enumerate(zip(WARDS, TEXTS, strict=True)):
            event = await harness.submit(
                "Phản đối nhà máy xi măng", text, unit=ward, reporter=f"ctv-p{i}", topic_codes=[TOPIC], people=150
            )
            assert event.subject
            ids.append(event.subject)
            await wait_until(
                lambda rid=event.subject: harness.collector.of(ev.REPORT_TRIAGED, report_id=rid), what="decision"
            )
        away = await harness.submit(
            "Phản đối nhà máy xi măng", TEXTS[0], unit=AWAY, reporter="ctv-away", topic_codes=[TOPIC], people=150
        )
        decisions = [await _get(client, f"/v1/triage/{rid}", department) for rid in ids]
        children = [d["hotspot_id"] for d in decisions]
        assert len(set(children)) == 3, decisions
        assert None not in children, decisions

        async def linked() -> list[dict[str, Any]] | None:
            spots = [await _get(client, f"/v1/hotspots/{h}", department) for h in children]
            parents = {s.get("parent_id") for s in spots}
            return spots if len(parents) == 1 and None not in parents else None

        spots = await wait_until(linked, what="three ward hot spots under one parent")
        parent_id = spots[0]["parent_id"]
        assert [s["unit_code"] for s in spots] == WARDS
        parent = await _get(client, f"/v1/hotspots/{parent_id}", department)
        assert parent["unit_code"] == DISTRICT
        assert sorted(parent["child_ids"]) == sorted(children)
        assert sorted(parent["report_ids"]) == sorted(ids)
        assert parent["source_count"] == 3
        assert parent["escalation"] is not None
        assert parent["escalation"]["state"] == "pending"

        # One open escalation for the matter: the parent's; a ward's earlier one was handed over to it.
        pending = await wait_until(
            lambda: _pending_for(client, department, {*children, parent_id}), what="the parent's escalation alone"
        )
        assert [e["hotspot_id"] for e in pending] == [parent_id]
        for spot in spots:
            if spot["escalation"] is not None:
                assert spot["escalation"]["state"] == "resolved", spot["escalation"]
        raised_for = {e.data["hotspot_id"] for e in harness.collector.of(ev.ESCALATION_RAISED)}
        assert parent_id in raised_for
        assert len(raised_for & set(children)) <= 1, "at most the first ward paged before the matter spread"
        # Hot-spot events name the parent on the wards' hot spots; the parent has none of its own.
        assert harness.collector.of(ev.HOTSPOT_UPDATED, parent_id=parent_id)
        assert not [e for e in harness.collector.events if e.subject == parent_id and e.type in ev.HOTSPOT_TYPES]

        # Another district's ward on the same words stays apart.
        assert away.subject
        other = await wait_until(lambda: _get(client, f"/v1/triage/{away.subject}", department), what="away")
        away_spot = await _get(client, f"/v1/hotspots/{other['hotspot_id']}", department)
        assert away_spot["parent_id"] is None
        assert other["hotspot_id"] not in parent["child_ids"]

        # Wards directly under a province are not linked unless `parent_unit_kinds` names provinces.
        for i, ward in enumerate(PROVINCE_WARDS):
            sent = await harness.submit(
                "Phản đối nhà máy xi măng", TEXTS[i], unit=ward, reporter=f"ctv-q{i}", topic_codes=[TOPIC], people=150
            )
            got = await wait_until(lambda rid=sent.subject: _get(client, f"/v1/triage/{rid}", department), what="q")
            spot = await _get(client, f"/v1/hotspots/{got['hotspot_id']}", department)
            assert spot["parent_id"] is None, spot

        # Acknowledging the parent's escalation acknowledges every ward's hot spot.
        ack = await client.post(
            f"/v1/escalations/{parent['escalation']['id']}/ack", json={"comment": "Đã nắm"}, headers=department
        )
        assert ack.status_code == 200, ack.text
        statuses = [(await _get(client, f"/v1/hotspots/{h}", department))["status"] for h in [*children, parent_id]]
        assert statuses == ["acknowledged"] * 4


async def _counted(units: Any, codes: list[str]) -> bool:
    found = await units.find({"_id": {"$in": codes}}).to_list()
    return len(found) == len(codes) and all(u.get("parent_code") for u in found)


async def _pending_for(client: httpx.AsyncClient, headers: dict[str, str], spots: set[str]) -> list[Any] | None:
    listed = await _get(client, "/v1/escalations?state=pending", headers)
    items = [e for e in (listed or {}).get("items", []) if e["hotspot_id"] in spots]
    return items if len(items) == 1 else None
