"""Reports in, decisions and escalations out, on the real Kafka and store."""

from __future__ import annotations

from collections.abc import Callable

import pulse_libs.events.triage as ev
from fastapi import FastAPI

from .conftest import OTHER_WARD, WARD, Harness, serve, wait_until

FLASH = (
    "Người dân chặn đường Quốc lộ 37",
    "Khoảng 200 người dân chặn đường Quốc lộ 37 phản đối cưỡng chế thu hồi đất, giao thông tê liệt.",
)
ROUTINE = ("Hỏi về giá điện", "Người dân hỏi về cách tính tiền điện tháng 10, mong được giải thích.")
SIMILAR = [
    "Nhiều hộ dân tổ 5 phường Yên Bái bức xúc vì mức bồi thường giải phóng mặt bằng "
    "dự án đường tránh thấp hơn giá thị trường.",
    "Ho dan to 5 phuong Yen Bai buc xuc ve muc boi thuong giai phong mat bang "
    "du an duong tranh thap hon gia thi truong.",
    "Tổ 5 phường Yên Bái: nhiều hộ dân bức xúc, cho rằng mức bồi thường giải phóng mặt bằng "
    "dự án đường tránh quá thấp.",
]


async def test_flash_is_escalated_at_once_and_routine_is_not(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        flash = await harness.submit(*FLASH, people=200)
        routine = await harness.submit(*ROUTINE, unit=OTHER_WARD, sentiment="neutral", reporter="ctv-9")
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="escalation raised")
        assert len(raised) == 1
        assert raised[0].data["level"] == 1
        assert raised[0].data["target"] == "duty_officer"
        assert raised[0].data["urgency"] == "flash"
        assert raised[0].data["report_ids"] == [flash.subject]
        assert raised[0].key == raised[0].data["hotspot_id"]

        triaged = await wait_until(
            lambda: harness.collector.of(ev.REPORT_TRIAGED, report_id=routine.subject), what="routine triaged"
        )
        assert triaged[0].data["urgency"] == "routine"
        assert triaged[0].data["hotspot_id"] is None
        assert triaged[0].key == OTHER_WARD
        await wait_until(lambda: harness.collector.of(ev.REPORT_TRIAGED, report_id=flash.subject), what="flash triaged")

        headers = harness.headers("department")
        decision = (await client.get(f"/v1/triage/{flash.subject}", headers=headers)).json()
        assert decision["urgency"] == "flash"
        assert decision["sensitive"] is True
        assert any("«chặn đường»" in r for r in decision["reasons"]), decision["reasons"]
        assert any("số người nêu trong phản ánh: 200" in r for r in decision["reasons"]), decision["reasons"]
        hotspot = (await client.get(f"/v1/hotspots/{decision['hotspot_id']}", headers=headers)).json()
        assert hotspot["status"] == "open"
        assert hotspot["escalation"]["state"] == "pending"
        assert hotspot["escalation"]["history"][0]["action"] == "raised"
        pending = (await client.get("/v1/escalations", params={"state": "pending"}, headers=headers)).json()
        assert [e["hotspot_id"] for e in pending["items"]] == [hotspot["id"]]
        routine_decision = (await client.get(f"/v1/triage/{routine.subject}", headers=headers)).json()
        assert routine_decision["urgency"] == "routine"
        assert routine_decision["hotspot_id"] is None

        # A second collaborator says the same: the two routine reports now form a hot spot (not escalated).
        echo = await harness.submit(
            "Hỏi về tiền điện",
            "Nguoi dan hoi ve cach tinh tien dien thang 10, mong duoc giai thich.",
            unit=OTHER_WARD,
            sentiment="neutral",
            reporter="ctv-8",
            channel="phone",
        )
        opened = await wait_until(
            lambda: harness.collector.of(ev.HOTSPOT_OPENED, unit_code=OTHER_WARD), what="routine hot spot"
        )
        assert opened[0].data["report_ids"] == [routine.subject, echo.subject]
        assert opened[0].data["source_count"] == 2
        assert opened[0].data["urgency"] == "routine"
        first = (await client.get(f"/v1/triage/{routine.subject}", headers=headers)).json()
        assert first["hotspot_id"] == opened[0].data["hotspot_id"]
        assert len(harness.collector.of(ev.ESCALATION_RAISED)) == 1


async def test_similar_reports_from_three_collaborators_form_one_hotspot_and_one_escalation(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        title = "Bức xúc về bồi thường giải phóng mặt bằng"
        reports = []
        for i, (text, channel) in enumerate(zip(SIMILAR, ["zalo", "phone", "meeting"], strict=True)):
            reports.append(await harness.submit(title, text, reporter=f"ctv-{i}", channel=channel, people=30))
        # The first collaborator sends the same news again: merged, not a fourth source.
        again = await harness.submit(title, SIMILAR[0], reporter="ctv-0", channel="zalo", people=30)
        ids = [r.subject for r in [*reports, again]]
        await wait_until(
            lambda: len({e.data["report_id"] for e in harness.collector.of(ev.REPORT_TRIAGED)}) == 4,
            what="four decisions",
        )
        decisions = {e.data["report_id"]: e.data for e in harness.collector.of(ev.REPORT_TRIAGED)}
        hotspot_ids = {decisions[i]["hotspot_id"] for i in ids}
        assert len(hotspot_ids) == 1
        assert None not in hotspot_ids
        assert decisions[again.subject]["merged"] is True
        assert [decisions[i]["merged"] for i in ids[:3]] == [False, False, False]
        # Urgency rises with distinct sources: from the third source on, one level above the first report's
        # (repetition alone stops at very_urgent).
        levels = ["routine", "urgent", "very_urgent", "flash"]
        first = levels.index(decisions[ids[0]]["urgency"])
        assert first >= 1, decisions[ids[0]]["reasons"]
        raised = levels[first + 1] if first < 2 else levels[first]
        assert decisions[ids[2]]["urgency"] == raised
        if first < 2:
            assert any("3 nguồn phản ánh" in r for r in decisions[ids[2]]["reasons"])

        headers = harness.headers("standing_committee")
        hotspot_id = hotspot_ids.pop()
        hotspot = (await client.get(f"/v1/hotspots/{hotspot_id}", headers=headers)).json()
        assert hotspot["source_count"] == 3
        assert sorted(hotspot["channels"]) == ["meeting", "phone", "zalo"]
        assert hotspot["report_ids"] == ids, (
            hotspot,
            {k: (v["hotspot_id"], v["merged"]) for k, v in decisions.items()},
            ids,
        )
        assert hotspot["merged_report_ids"] == [again.subject]
        assert hotspot["urgency"] == raised
        listed = (await client.get("/v1/hotspots", params={"unit_code": WARD}, headers=headers)).json()
        assert [h["id"] for h in listed["items"]] == [hotspot_id]

        await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="escalation raised")
        escalation = hotspot["escalation"]
        assert escalation["urgency"] == raised
        assert [h["action"] for h in escalation["history"]][:1] == ["raised"]
        assert len(harness.collector.of(ev.ESCALATION_RAISED)) == 1
        opened = harness.collector.of(ev.HOTSPOT_OPENED)
        assert [e.data["hotspot_id"] for e in opened] == [hotspot_id]

        # Acknowledge, then resolve: both move the hot spot, and the events list every report.
        ack = await client.post(
            f"/v1/escalations/{escalation['id']}/ack", json={"comment": "Đã giao phường xử lý"}, headers=headers
        )
        assert ack.status_code == 200, ack.text
        assert ack.json()["state"] == "acknowledged"
        again_ack = await client.post(f"/v1/escalations/{escalation['id']}/ack", headers=headers)
        assert again_ack.status_code == 409
        no_comment = await client.post(f"/v1/escalations/{escalation['id']}/resolve", json={}, headers=headers)
        assert no_comment.status_code == 422
        resolved = await client.post(
            f"/v1/escalations/{escalation['id']}/resolve",
            json={"comment": "Đã đối thoại, người dân đồng thuận"},
            headers=headers,
        )
        assert resolved.json()["state"] == "resolved"
        assert [h["action"] for h in resolved.json()["history"]][-2:] == ["acknowledged", "resolved"]
        events = await wait_until(
            lambda: harness.collector.of(ev.ESCALATION_RESOLVED) and harness.collector.of(ev.HOTSPOT_RESOLVED),
            what="resolved events",
        )
        assert events
        acked = harness.collector.of(ev.ESCALATION_ACKNOWLEDGED)[0].data
        assert acked["report_ids"] == ids
        assert acked["comment"] == "Đã giao phường xử lý"
        assert harness.collector.of(ev.HOTSPOT_ACKNOWLEDGED)[0].data["status"] == "acknowledged"
        final = (await client.get(f"/v1/hotspots/{hotspot_id}", headers=headers)).json()
        assert final["status"] == "resolved"
