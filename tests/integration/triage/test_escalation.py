"""Deadlines, acknowledgement, silences, and replicas that crash or run side by side."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_libs.clock import utcnow

from .conftest import OTHER_WARD, WARD, Harness, serve, wait_until

FAST = {
    "levels": [
        {"level": 1, "target": "duty_officer", "ack_timeout_seconds": 1},
        {"level": 2, "target": "department_head", "ack_timeout_seconds": 1},
        {"level": 3, "target": "standing_committee", "ack_timeout_seconds": 1},
    ]
}
ESCALATED = ("flash", "very_urgent", "urgent")
RIOT = "Nhóm đối tượng đốt phá máy móc của nhà thầu, tình hình rất phức tạp, khoảng {n} người."


async def scheduler_runs(client: object) -> float:
    """pulse_escalation_scheduler_runs_total from /metrics."""
    text = (await client.get("/metrics")).text  # type: ignore[attr-defined]
    line = next(x for x in text.splitlines() if x.startswith("pulse_escalation_scheduler_runs_total"))
    return float(line.split()[-1])


async def test_unacknowledged_climbs_levels_and_acknowledged_does_not(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        admin = harness.headers("admin")
        # Every escalated level gets the fast policy: the calibrated model, not this test, decides the level.
        for urgency in ESCALATED:
            put = await client.put(f"/v1/policies/{urgency}", json=FAST, headers=admin)
            assert put.status_code == 200, put.text
        ignored = await harness.submit("Đốt phá", RIOT.format(n=50), reporter="ctv-1")
        acked = await harness.submit("Bạo loạn", "Có dấu hiệu bạo loạn tại chợ, đám đông hỗn loạn.", unit=OTHER_WARD)
        raised = await wait_until(lambda: len(harness.collector.of(ev.ESCALATION_RAISED)) == 2 or None, what="raised")
        assert raised
        by_report = {e.data["report_ids"][0]: e.data for e in harness.collector.of(ev.ESCALATION_RAISED)}
        headers = harness.headers("standing_committee", [OTHER_WARD])
        ack = await client.post(f"/v1/escalations/{by_report[acked.subject]['escalation_id']}/ack", headers=headers)
        assert ack.status_code == 200, ack.text

        ignored_id = by_report[ignored.subject]["escalation_id"]
        climbed = await wait_until(
            lambda: len(harness.collector.of(ev.ESCALATION_ESCALATED, escalation_id=ignored_id)) == 2 or None,
            what="two escalations",
        )
        assert climbed
        levels = [(e.data["level"], e.data["target"]) for e in harness.collector.of(ev.ESCALATION_ESCALATED)]
        assert levels == [(2, "department_head"), (3, "standing_committee")]

        async def exhausted() -> dict[str, object] | None:
            doc = (await client.get(f"/v1/escalations/{ignored_id}", headers=harness.headers())).json()
            return doc if doc["history"][-1]["action"] == "exhausted" else None

        detail = await wait_until(exhausted, what="top level exhausted")
        assert [h["action"] for h in detail["history"]] == ["raised", "escalated", "escalated", "exhausted"]
        # The acknowledged one's deadline passed seconds ago, and the scheduler has run since: nothing more for it.
        runs = await scheduler_runs(client)
        await wait_until(lambda: _more(client, runs + 3), what="three more scheduler passes")
        acked_id = by_report[acked.subject]["escalation_id"]
        assert harness.collector.of(ev.ESCALATION_ESCALATED, escalation_id=acked_id) == []
        assert detail["level"] == 3
        assert detail["next_action_at"] is None
        metrics = (await client.get("/metrics")).text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("pulse_triage_reports_total{")
        )
        assert counted == 2.0


async def _more(client: object, at_least: float) -> bool:
    return await scheduler_runs(client) >= at_least


async def test_silence_holds_paging_until_it_ends(harness: Harness, app_factory: Callable[[], FastAPI]) -> None:
    async with serve(app_factory()) as client:
        await harness.collector.start()
        department = harness.headers("department")
        until = (utcnow() + timedelta(hours=2)).isoformat()
        bad = await client.post("/v1/silences", json={"until": until, "reason": "x"}, headers=department)
        assert bad.status_code == 422
        created = await client.post(
            "/v1/silences",
            json={"unit_code": WARD, "until": until, "reason": "Đã nắm tình hình, đang xử lý tại chỗ"},
            headers=department,
        )
        assert created.status_code == 201, created.text
        silence_id = created.json()["id"]
        report = await harness.submit("Đốt phá", RIOT.format(n=80))
        await wait_until(lambda: harness.collector.of(ev.REPORT_TRIAGED, report_id=report.subject), what="triaged")

        async def held_escalation() -> dict[str, object] | None:
            items = (await client.get("/v1/escalations", headers=department)).json()["items"]
            return items[0] if items else None

        held = await wait_until(held_escalation, what="held escalation")
        assert held["state"] == "pending"
        assert held["level"] == 0
        assert held["silenced_by"] == silence_id
        runs = await scheduler_runs(client)
        await wait_until(lambda: _more(client, runs + 3), what="scheduler passes")
        assert harness.collector.of(ev.ESCALATION_RAISED) == []

        listed = (await client.get("/v1/silences", headers=department)).json()
        assert [s["id"] for s in listed["items"]] == [silence_id]
        assert (await client.delete(f"/v1/silences/{silence_id}", headers=department)).status_code == 204
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="paged after silence")
        assert raised[0].data["level"] == 1
        assert (await client.delete(f"/v1/silences/{silence_id}", headers=department)).status_code == 404


async def test_two_replicas_and_a_crashed_claim_neither_lose_nor_double(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    replica = app_factory()
    async with serve(app_factory()) as first, serve(replica):
        await harness.collector.start()
        for urgency in ESCALATED:
            put = await first.put(
                f"/v1/policies/{urgency}", json={**FAST, "repeat_seconds": 1}, headers=harness.headers("admin")
            )
            assert put.status_code == 200
        # Policy: three levels of 1 s and a reminder every second at the top level.
        store = replica.state.ctx.store
        reports = [await harness.submit("Đốt phá", RIOT.format(n=50 + i), unit=f"0{4800 + i}") for i in range(3)]
        # Two relays may both publish an outbox entry (at-least-once): consumers dedupe by event id, so do we.
        await wait_until(lambda: len(distinct(harness, ev.ESCALATION_RAISED)) == 3 or None, what="three raised")
        # A replica claims one escalation and dies before acting: its lease must expire and another replica act.
        victim = await store.escalations.find_one({})
        await store.escalations.update_one(
            {"_id": victim["_id"]},
            {"$set": {"lease_owner": "dead-replica", "lease_until": utcnow() + timedelta(seconds=1.5)}},
        )
    # Both replicas stop mid-escalation, one claim left behind by a dead replica; a fresh replica finishes the job.
    async with serve(app_factory()) as third:
        await wait_until(
            lambda: all(
                harness.collector.of(ev.ESCALATION_REMINDED, escalation_id=e.data["escalation_id"], reminder_seq=1)
                for e in harness.collector.of(ev.ESCALATION_RAISED)
            ),
            timeout=40,
            what="every escalation at the top level and reminded",
        )
        # The store's own record agrees: each transition was applied once, in order.
        for raised in distinct(harness, ev.ESCALATION_RAISED):
            doc = (await third.get(f"/v1/escalations/{raised.data['escalation_id']}", headers=harness.headers())).json()
            steps = [(h["action"], h["level"]) for h in doc["history"]]
            assert steps[:4] == [("raised", 1), ("escalated", 2), ("escalated", 3), ("reminded", 3)], steps
    per_transition = Counter(
        (e.data["escalation_id"], e.type, e.data["level"], e.data["reminder_seq"])
        for e in {e.id: e for e in harness.collector.events}.values()
        if e.type.startswith("pulse.escalation.")
    )
    assert all(n == 1 for n in per_transition.values()), per_transition
    unique = list({e.id: e for e in harness.collector.events}.values())
    for report in reports:
        mine = [e for e in unique if e.data.get("report_ids") == [report.subject]]
        levels = sorted(e.data["level"] for e in mine if e.type == ev.ESCALATION_ESCALATED)
        assert levels == [2, 3]
        assert len([e for e in mine if e.type == ev.ESCALATION_RAISED]) == 1


def distinct(harness: Harness, event_type: str) -> list[object]:
    """Events of a type, one per event id."""
    return list({e.id: e for e in harness.collector.of(event_type)}.values())
