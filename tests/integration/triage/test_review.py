"""Officer review on the real Kafka and store: the decision, the hot spot and the escalation follow."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulse_libs.events.triage as ev
from fastapi import FastAPI

from .conftest import Harness, serve, wait_until

CALM = ("Hỏi về giá điện", "Người dân hỏi về cách tính tiền điện tháng 10, mong được giải thích.")


async def test_a_review_changes_decision_hotspot_and_escalation(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        report = await harness.submit(*CALM, sentiment="neutral")
        rid = report.subject
        await wait_until(lambda: harness.collector.of(ev.REPORT_TRIAGED, report_id=rid), what="triaged")
        department = harness.headers("department")
        before = (await client.get(f"/v1/triage/{rid}", headers=department)).json()
        assert before["urgency"] == "routine"
        assert before["hotspot_id"] is None

        # Bad input and the wrong role change nothing.
        url = f"/v1/triage/{rid}/review"
        for body in ({"urgency": "flash", "comment": "  "}, {"urgency": "sometimes", "comment": "x"}, {}):
            refused = await client.post(url, json=body, headers=department)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        assert (
            await client.post(url, json={"comment": "x"}, headers=harness.headers("collaborator"))
        ).status_code == 403
        assert (
            await client.post("/v1/triage/nope/review", json={"comment": "x"}, headers=department)
        ).status_code == 404
        assert (await client.get(f"/v1/triage/{rid}", headers=department)).json() == before

        comment = "Thực tế khoảng 300 hộ đang kéo đến trụ sở điện lực, chặn cổng"
        made = await client.post(url, json={"urgency": "flash", "comment": comment}, headers=department)
        assert made.status_code == 201, made.text
        assert made.json()["machine_urgency"] == "routine"
        assert made.json()["urgency"] == "flash"

        after = (await client.get(f"/v1/triage/{rid}", headers=department)).json()
        assert after["urgency"] == "flash"
        assert after["reasons"][: len(before["reasons"])] == before["reasons"]
        assert comment in after["reasons"][-1]
        assert after["hotspot_id"] is not None

        again = await wait_until(
            lambda: [e for e in harness.collector.of(ev.REPORT_TRIAGED, report_id=rid) if e.data["reviewed"]],
            what="re-emitted decision",
        )
        assert again[0].data["urgency"] == "flash"
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="escalation raised")
        assert raised[0].data["urgency"] == "flash"
        assert raised[0].data["report_ids"] == [rid]
        hotspot = (await client.get(f"/v1/hotspots/{after['hotspot_id']}", headers=department)).json()
        assert hotspot["urgency"] == "flash"
        assert hotspot["escalation"]["state"] == "pending"

        listed = (await client.get("/v1/triage/reviews", headers=department)).json()
        assert [r["report_id"] for r in listed["items"]] == [rid]
        exported = await client.get("/v1/triage/reviews?format=jsonl", headers=department)
        assert exported.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in exported.text.splitlines()]
        assert [(r["report_id"], r["urgency"], r["machine_urgency"]) for r in lines] == [(rid, "flash", "routine")]
        assert "điện" in lines[0]["text"]
        assert "reporter_id" not in lines[0]
        agreement = (await client.get("/v1/triage/reviews/agreement", headers=department)).json()
        assert agreement["levels"]["flash"] == {"reviewed": 1, "agreed": 0, "agreement": 0.0}
        assert agreement["reviewed"] == 1


async def test_an_acknowledged_hotspot_that_rises_pages_again_from_level_one(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        report = await harness.submit(*CALM, sentiment="neutral")
        rid = report.subject
        await wait_until(lambda: harness.collector.of(ev.REPORT_TRIAGED, report_id=rid), what="triaged")
        department = harness.headers("department")
        url = f"/v1/triage/{rid}/review"
        first = await client.post(
            url, json={"urgency": "urgent", "comment": "Nhiều hộ chuẩn bị làm đơn"}, headers=department
        )
        assert first.status_code == 201, first.text
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="first episode")
        esc_id = raised[0].data["escalation_id"]
        assert raised[0].data["urgency"] == "urgent"
        ack = await client.post(f"/v1/escalations/{esc_id}/ack", json={"comment": "Đã nắm"}, headers=department)
        assert ack.status_code == 200, ack.text

        rose = await client.post(url, json={"urgency": "flash", "comment": "Đã thành chặn đường"}, headers=department)
        assert rose.status_code == 201, rose.text
        episodes = await wait_until(
            lambda: len(harness.collector.of(ev.ESCALATION_RAISED)) == 2 or None, what="second episode"
        )
        assert episodes
        second = harness.collector.of(ev.ESCALATION_RAISED)[1].data
        assert second["escalation_id"] != esc_id
        assert (second["urgency"], second["level"], second["target"]) == ("flash", 1, "duty_officer")
        hotspot = (await client.get(f"/v1/hotspots/{second['hotspot_id']}", headers=department)).json()
        assert hotspot["status"] == "open"
        assert hotspot["urgency"] == "flash"
        assert hotspot["escalation"]["id"] == second["escalation_id"]
        old = (await client.get(f"/v1/escalations/{esc_id}", headers=department)).json()
        assert old["state"] == "acknowledged"
