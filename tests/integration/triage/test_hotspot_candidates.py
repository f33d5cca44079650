"""Which hot spot a new report joins, on the real Kafka and store: a resolved matter that flares up re-triggers
its own hot spot (a new episode paged from level 1), an equally urgent new matter after a resolution opens a
hot spot of its own, urgent reports of one ward and topic within hours join however worded, and a hot spot that
fell out of its cluster's recent list is still found through the candidate index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_triage.adapters.store import CLUSTERS
from pulse_triage.settings import TriageSettings
from pymongo import AsyncMongoClient

from .conftest import Harness, serve, wait_until

GPMB = "giai-phong-mat-bang"
CALM = ("Hỏi tiến độ chi trả bồi thường", "Người dân tổ 4 hỏi về tiến độ chi trả tiền bồi thường giải phóng mặt bằng.")
FLASH = (
    "Dân chặn đường phản đối cưỡng chế",
    "Hàng trăm người dân tụ tập chặn đường phản đối cưỡng chế giải phóng mặt bằng, xô xát với lực lượng cưỡng chế",
)


async def _decision(client: httpx.AsyncClient, rid: str, headers: dict[str, str]) -> dict[str, Any]:
    async def get() -> dict[str, Any] | None:
        response = await client.get(f"/v1/triage/{rid}", headers=headers)
        return response.json() if response.status_code == 200 else None

    found: dict[str, Any] = await wait_until(get, what=f"decision of {rid}")
    return found


async def test_a_flare_up_of_a_resolved_matter_retriggers_its_hotspot(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        department = harness.headers("department")
        calm = (await harness.submit(*CALM, sentiment="neutral", topic_codes=[GPMB], people=None)).subject
        await _decision(client, calm, department)
        raised = await client.post(
            f"/v1/triage/{calm}/review",
            json={"urgency": "urgent", "comment": "Các hộ dân đã kéo đến trụ sở phường."},
            headers=department,
        )
        assert raised.status_code == 201, raised.text
        first = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="first episode")
        first_esc, hotspot_id = first[0].data["escalation_id"], first[0].data["hotspot_id"]
        done = await client.post(
            f"/v1/escalations/{first_esc}/resolve", json={"comment": "Đã đối thoại xong."}, headers=department
        )
        assert done.status_code == 200, done.text

        serious = (await harness.submit(*FLASH, topic_codes=[GPMB], people=300, reporter="ctv-2")).subject
        decision = await _decision(client, serious, department)
        assert decision["urgency"] == "flash", decision
        assert decision["hotspot_id"] == hotspot_id, "the flare-up joins the resolved hot spot of its matter"
        episodes = await wait_until(
            lambda: len(harness.collector.of(ev.ESCALATION_RAISED)) >= 2 or None, what="second episode"
        )
        assert episodes
        raised_events = harness.collector.of(ev.ESCALATION_RAISED)
        assert len(raised_events) == 2, [e.data["escalation_id"] for e in raised_events]
        second = raised_events[1].data
        assert second["hotspot_id"] == hotspot_id
        assert second["escalation_id"] != first_esc
        assert (second["urgency"], second["level"], second["target"]) == ("flash", 1, "duty_officer")
        hotspot = (await client.get(f"/v1/hotspots/{hotspot_id}", headers=department)).json()
        assert (hotspot["status"], hotspot["urgency"]) == ("open", "flash")
        assert sorted(hotspot["report_ids"]) == sorted([calm, serious])
        assert hotspot["source_count"] == 2
        retriggered = harness.collector.of(ev.HOTSPOT_UPDATED, hotspot_id=hotspot_id, status="open")
        assert retriggered, "the hot spot says it is open again"
        old = (await client.get(f"/v1/escalations/{first_esc}", headers=department)).json()
        assert old["state"] == "resolved", "the resolved episode stays closed"


async def test_an_equally_urgent_new_matter_after_a_resolution_opens_its_own_hotspot(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        department = harness.headers("department")
        first = (await harness.submit(*FLASH, topic_codes=[GPMB], people=300)).subject
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="first escalation")
        hotspot_id = raised[0].data["hotspot_id"]
        done = await client.post(
            f"/v1/escalations/{raised[0].data['escalation_id']}/resolve",
            json={"comment": "Lực lượng chức năng đã giải tỏa."},
            headers=department,
        )
        assert done.status_code == 200, done.text
        other = (
            await harness.submit(
                "Đốt lốp xe chặn cổng khu tái định cư",
                "Khoảng 500 hộ dân khu tái định cư Bắc Sơn dựng lều, đốt lốp xe chặn cổng công trường, kích động "
                "nhau ném đá vì chưa được giao đất tái định cư",
                topic_codes=[GPMB],
                people=500,
                reporter="ctv-3",
            )
        ).subject
        decision = await _decision(client, other, department)
        assert (decision["urgency"], decision["topic_codes"][0]) == ("flash", GPMB), decision
        assert decision["hotspot_id"] not in (None, hotspot_id), "a new matter is not folded into a resolved one"
        assert (await _decision(client, first, department))["hotspot_id"] == hotspot_id


async def test_urgent_reports_of_one_ward_within_hours_join_however_worded(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        department = harness.headers("department")
        texts = [
            (
                "Dân chặn xe nhà thầu",
                "Khoảng 100 người dân chặn xe của nhà thầu thi công đường, không cho vào công trường.",
            ),
            (
                "Ném đá",
                "Một nhóm thanh niên ném đá vào máy xúc, lực lượng cưỡng chế phải rút ra, tình hình căng thẳng.",
            ),
        ]
        ids = []
        for i, (title, content) in enumerate(texts):
            ids.append(
                (await harness.submit(title, content, topic_codes=[GPMB], people=100, reporter=f"ctv-b{i}")).subject
            )
            await _decision(client, ids[-1], department)
        decisions = [await _decision(client, rid, department) for rid in ids]
        assert all(d["urgency"] in ("urgent", "very_urgent", "flash") for d in decisions), decisions
        spots = {d["hotspot_id"] for d in decisions}
        assert len(spots) == 1, decisions
        assert None not in spots, decisions
        (spot,) = spots
        hotspot = (await client.get(f"/v1/hotspots/{spot}", headers=department)).json()
        assert sorted(hotspot["report_ids"]) == sorted(ids)
        assert hotspot["source_count"] == 2
        assert len({e.data["escalation_id"] for e in harness.collector.of(ev.ESCALATION_RAISED)}) == 1


async def test_a_hotspot_beyond_the_clusters_recent_list_is_found_through_the_index(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    settings: TriageSettings = harness.settings
    async with serve(app_factory()) as client:
        await harness.collector.start()
        department = harness.headers("department")
        texts = [
            "Khoảng 30 hộ dân thôn Hợp Minh phản đối mức đền bù đất nông nghiệp cho dự án cụm công nghiệp.",
            "Bà con Hợp Minh kêu giá bồi thường đất ruộng làm cụm công nghiệp thấp quá, mấy chục hộ không đồng ý.",
        ]
        first = (await harness.submit("Phản ánh", texts[0], topic_codes=[GPMB], reporter="ctv-i0")).subject
        second = (await harness.submit("Phản ánh", texts[1], topic_codes=[GPMB], reporter="ctv-i1")).subject
        spot = (await _decision(client, second, department))["hotspot_id"]
        assert spot
        assert (await _decision(client, first, department))["hotspot_id"] == spot
        # Forget the cluster's recent lists, as if many newer hot spots had pushed this one out.
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
        try:
            db = mongo[settings.mongo_db]
            cleared = await db[CLUSTERS].update_many({}, {"$set": {"hotspots": [], "loose": []}})
            assert cleared.matched_count >= 1
        finally:
            await mongo.close()
        third = (
            await harness.submit(
                "Phản ánh",
                "ho dan hop minh khong dong y gia den bu dat nong nghiep du an cum cong nghiep",
                topic_codes=[GPMB],
                reporter="ctv-i2",
            )
        ).subject
        assert (await _decision(client, third, department))["hotspot_id"] == spot
        hotspot = (await client.get(f"/v1/hotspots/{spot}", headers=department)).json()
        assert sorted(hotspot["report_ids"]) == sorted([first, second, third])
        assert hotspot["source_count"] == 3
