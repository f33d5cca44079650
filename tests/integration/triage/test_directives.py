"""Directives against the real Kafka and store: agencies learnt from intake's directory, creation with its
validation, an agency's reach (404 outside, hot spots as briefs), progress and completion, and the overdue
transition emitted exactly once across two replicas and a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as ev
from fastapi import FastAPI
from pulse_libs.auth import issue_token, new_api_key
from pulse_libs.claims import LEASES
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import new_event
from pymongo import AsyncMongoClient

from .conftest import OTHER_WARD, WARD, Collector, Harness, serve, wait_until

UBND = "UBND-04747"
POLICE = "CA-LAOCAI"
DISBANDED = "BAN-CU"
FLASH = ("Bạo loạn", "Có dấu hiệu bạo loạn tại chợ trung tâm phường, đám đông hỗn loạn, chặn đường.")


def agency_headers(harness: Harness, code: str, user: str) -> dict[str, str]:
    token, _ = issue_token(
        harness.settings, user_id=user, username=user, role="agency", unit_codes=[], agency_code=code
    )
    return {"Authorization": f"Bearer {token}"}


async def publish_agencies(harness: Harness) -> None:
    for code, name, kind, unit, active in (
        (UBND, "UBND phường Yên Bái", "people_committee", WARD, True),
        (POLICE, "Công an tỉnh Lào Cai", "police", None, True),
        (DISBANDED, "Ban đã giải thể", "other", None, False),
    ):
        data = intake_events.AgencyChanged(
            code=code, name=name, kind=kind, unit_code=unit, active=active, changed_at=utcnow()
        )
        event = new_event(intake_events.AGENCY_CHANGED, source=intake_events.SOURCE, data=data, key=code)
        await harness.producer.publish(topics.INTAKE_DIRECTORY, event)


async def agencies_known(app: FastAPI) -> None:
    async def known() -> bool:
        svc = app.state.directives
        return all([await svc.agencies.get(UBND), await svc.agencies.get(DISBANDED)])

    await wait_until(known, timeout=60, what="agencies mirrored")


async def flash_hotspot(harness: Harness, collector: Collector, **kw: Any) -> str:
    report = await harness.submit(*FLASH, **kw)
    raised = await wait_until(
        lambda: [e for e in collector.of(ev.ESCALATION_RAISED) if report.subject in e.data["report_ids"]],
        what="flash escalated",
    )
    return str(raised[0].data["hotspot_id"])


def directive_events(collector: Collector, **match: Any) -> list[dict[str, Any]]:
    """Directive events by distinct `ce_id`: the relay publishes at least once (a replica may publish an outbox
    document another already sent) and consumers drop repeats by id, so a transition is one id."""
    return [e.data for e in {e.id: e for e in collector.of(ev.DIRECTIVE_CHANGED, **match)}.values()]


async def test_directives_validation_reach_progress_and_completion(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    collector = Collector(harness.settings, [topics.TRIAGE_ESCALATIONS, topics.TRIAGE_DIRECTIVES])
    harness.collector = collector
    app = app_factory()
    async with serve(app) as client:
        await collector.start()
        await publish_agencies(harness)
        hotspot_id = await flash_hotspot(harness, collector)
        other_hotspot = await flash_hotspot(harness, collector, unit=OTHER_WARD, reporter="ctv-9")
        await agencies_known(app)
        btv, dept = harness.headers("standing_committee", []), harness.headers("department", [])
        ward_user = agency_headers(harness, UBND, "u-ubnd-1")
        police_user = agency_headers(harness, POLICE, "u-ca-1")
        url = f"/v1/hotspots/{hotspot_id}/directives"
        due = (utcnow() + timedelta(days=2)).isoformat()
        good = {"assignee": UBND, "instruction": "Đối thoại với các hộ dân, báo cáo kết quả.", "due_at": due}

        # Bad input: problem+json with the field, and nothing changes.
        past = (utcnow() - timedelta(minutes=1)).isoformat()
        naive = (utcnow() + timedelta(days=1)).replace(tzinfo=None).isoformat()
        for body, field in (
            (good | {"due_at": past}, "due_at"),
            (good | {"due_at": naive}, "due_at"),
            (good | {"assignee": "KHONG-CO"}, "assignee"),
            (good | {"assignee": DISBANDED}, "assignee"),
            (good | {"instruction": "   "}, "instruction"),
            (good | {"instruction": "x" * 4001}, "instruction"),
            (good | {"extra": 1}, "extra"),
            ({"assignee": {"$gt": ""}, "instruction": "a", "due_at": due}, "assignee"),
        ):
            refused = await client.post(url, json=body, headers=btv)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
        assert (await client.post("/v1/hotspots/hs-nope/directives", json=good, headers=btv)).status_code == 404
        assert (await client.post(url, json=good, headers=harness.headers("collaborator"))).status_code == 403
        assert (await client.post(url, json=good, headers=ward_user)).status_code == 403
        assert (await client.get("/v1/directives", headers=dept)).json() == {"items": [], "next_cursor": None}

        # The Standing Committee directs the ward's People's Committee; the department directs the police.
        created = await client.post(url, json=good, headers=btv)
        assert created.status_code == 201, created.text
        mine = created.json()
        assert created.headers["location"] == f"/v1/directives/{mine['id']}"
        assert mine["state"] == "open"
        assert mine["history"] == []
        assert mine["assignee"] == UBND
        assert mine["hotspot_id"] == hotspot_id
        police_body = good | {"assignee": POLICE, "instruction": "Bảo đảm an ninh trật tự khu chợ."}
        theirs = (await client.post(url, json=police_body, headers=dept)).json()
        other_body = good | {"assignee": POLICE, "instruction": "Nắm tình hình."}
        elsewhere = await client.post(f"/v1/hotspots/{other_hotspot}/directives", json=other_body, headers=dept)
        assert elsewhere.status_code == 201

        # An agency user reaches only its agency's directives and the hot spots they concern, as briefs.
        listed = (await client.get("/v1/directives", headers=ward_user)).json()
        assert [d["id"] for d in listed["items"]] == [mine["id"]]
        assert (await client.get(f"/v1/directives/{theirs['id']}", headers=ward_user)).status_code == 404
        foreign = await client.get("/v1/directives", params={"assignee": POLICE}, headers=ward_user)
        assert foreign.json()["items"] == []
        brief = await client.get(f"/v1/hotspots/{hotspot_id}", headers=ward_user)
        assert brief.status_code == 200
        assert brief.json()["id"] == hotspot_id
        assert brief.json()["report_count"] == 1
        for hidden in ("report_ids", "merged_report_ids", "source_count", "escalation"):
            assert hidden not in brief.json()
        assert (await client.get(f"/v1/hotspots/{other_hotspot}", headers=ward_user)).status_code == 404
        spots = (await client.get("/v1/hotspots", headers=ward_user)).json()["items"]
        assert [h["id"] for h in spots] == [hotspot_id]
        assert "report_ids" not in spots[0]
        police_spots = (await client.get("/v1/hotspots", headers=police_user)).json()["items"]
        assert {h["id"] for h in police_spots} == {hotspot_id, other_hotspot}
        assert (await client.get("/v1/escalations", headers=ward_user)).status_code == 403
        assert (await client.get(f"/v1/triage/{hotspot_id}", headers=ward_user)).status_code == 403
        staff_view = (await client.get(f"/v1/hotspots/{hotspot_id}", headers=dept)).json()
        assert staff_view["report_ids"]

        # Progress, then completion (done needs a result); another agency cannot touch it; 409 once done.
        updates = f"/v1/directives/{mine['id']}/updates"
        noted = await client.post(updates, json={"note": "Đã làm việc với 12 hộ dân."}, headers=ward_user)
        assert noted.status_code == 200, noted.text
        assert noted.json()["history"][0]["by"] == "u-ubnd-1"
        assert noted.json()["history"][0]["note"] == "Đã làm việc với 12 hộ dân."
        assert (await client.post(updates, json={"note": "x"}, headers=police_user)).status_code == 404
        assert (await client.post(updates, json={"note": "x"}, headers=btv)).status_code == 403
        no_result = await client.post(updates, json={"note": "Xong", "done": True}, headers=ward_user)
        assert no_result.status_code == 422
        assert no_result.json()["errors"][0]["field"] == "result"
        assert (await client.post(updates, json={"note": ""}, headers=ward_user)).status_code == 422
        result = "Đã tổ chức đối thoại; các hộ dân đồng thuận phương án bồi thường."
        finished = await client.post(updates, json={"done": True, "result": result}, headers=ward_user)
        assert finished.status_code == 200, finished.text
        assert finished.json()["state"] == "done"
        assert finished.json()["result"] == result
        assert not finished.json()["late"]
        assert [h["change"] for h in finished.json()["history"]] == ["updated", "done"]
        again = await client.post(updates, json={"note": "thêm"}, headers=dept)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        on_behalf = await client.post(f"/v1/directives/{theirs['id']}/updates", json={"note": "Thay mặt"}, headers=dept)
        assert on_behalf.status_code == 200

        # Odd input is a 4xx problem, never a 500, and changes nothing.
        before = (await client.get(f"/v1/directives/{theirs['id']}", headers=dept)).json()
        target = f"/v1/directives/{theirs['id']}/updates"
        for body in ([], "ghi chú", {"note": {"$set": 1}}, {"note": "x", "done": "có"}, {"note": "x" * 4001}):
            odd = await client.post(target, json=body, headers=dept)
            assert odd.status_code == 422, (body, odd.text)
            assert odd.headers["content-type"] == "application/problem+json"
        raw = await client.post(target, content=b"{not json", headers=dept | {"content-type": "application/json"})
        assert raw.status_code in (400, 422)
        assert (await client.get(f"/v1/directives/{theirs['id']}", headers=dept)).json() == before
        assert (
            await client.post("/v1/directives/dir-khong-co/updates", json={"note": "x"}, headers=dept)
        ).status_code == 404
        assert (await client.get("/v1/directives/dir-khong-co", headers=dept)).status_code == 404
        assert (await client.get("/v1/directives", params={"limit": 501}, headers=dept)).status_code == 422

        # Filters and cursor paging.
        done_only = (await client.get("/v1/directives", params={"state": "done"}, headers=dept)).json()["items"]
        assert [d["id"] for d in done_only] == [mine["id"]]
        of_spot = await client.get("/v1/directives", params={"hotspot_id": other_hotspot}, headers=dept)
        assert [d["id"] for d in of_spot.json()["items"]] == [elsewhere.json()["id"]]
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/directives", params=params, headers=dept)).json()
            seen += [d["id"] for d in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted([mine["id"], theirs["id"], elsewhere.json()["id"]])
        assert (await client.get("/v1/directives", params={"state": "late"}, headers=dept)).status_code == 422
        assert (await client.get("/v1/directives", params={"cursor": "!!"}, headers=dept)).status_code == 400

        # Every change went out on triage.directives.v1, keyed by the hot spot.
        await wait_until(lambda: len(directive_events(collector)) >= 6, what="directive events")
        changes = [(d["directive_id"], d["change"]) for d in directive_events(collector)]
        assert changes.count((mine["id"], "created")) == 1
        assert changes.count((mine["id"], "updated")) == 1
        assert changes.count((mine["id"], "done")) == 1
        assert changes.count((theirs["id"], "updated")) == 1
        done_event = directive_events(collector, directive_id=mine["id"], change="done")[0]
        assert done_event["result"] == result
        assert done_event["by"] == "u-ubnd-1"
        assert done_event["state"] == "done"
        assert all(e.key == hotspot_id for e in collector.of(ev.DIRECTIVE_CHANGED, directive_id=mine["id"]))
    await collector.stop()


async def test_overdue_is_emitted_once_across_two_replicas_and_a_restart(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    collector = Collector(harness.settings, [topics.TRIAGE_ESCALATIONS, topics.TRIAGE_DIRECTIVES])
    harness.collector = collector
    first, second = app_factory(), app_factory()
    async with serve(first) as client, serve(second) as client2:
        await collector.start()
        await publish_agencies(harness)
        hotspot_id = await flash_hotspot(harness, collector)
        await agencies_known(first)
        dept = harness.headers("department", [])
        due = utcnow() + timedelta(seconds=3)
        body = {"assignee": UBND, "instruction": "Báo cáo ngay tình hình.", "due_at": due.isoformat()}
        created = await client.post(f"/v1/hotspots/{hotspot_id}/directives", json=body, headers=dept)
        assert created.status_code == 201, created.text
        directive_id = created.json()["id"]
        assert created.json()["remind_before_seconds"] in (1, 2)  # half of a 3 s lead

        overdue = await wait_until(
            lambda: directive_events(collector, directive_id=directive_id, change="overdue"),
            timeout=30,
            what="overdue event",
        )
        assert overdue[0]["state"] == "overdue"
        assert overdue[0]["by"] == "system"
        view = (await client2.get(f"/v1/directives/{directive_id}", headers=dept)).json()
        assert view["state"] == "overdue"
        assert [h["change"] for h in view["history"]] == ["overdue"]
        listed = (await client.get("/v1/directives", params={"state": "overdue"}, headers=dept)).json()["items"]
        assert [d["id"] for d in listed] == [directive_id]

        async def gauge() -> bool:
            text = (await client.get("/metrics")).text
            return "pulse_directives_overdue 1.0" in text and "pulse_directives_open 0.0" in text

        await wait_until(gauge, timeout=20, what="overdue gauge")
        await asyncio.sleep(3)  # both replicas keep scanning
    # A restart: the fired timer stays fired.
    async with serve(app_factory()) as client:
        await asyncio.sleep(3)
        assert len(directive_events(collector, directive_id=directive_id, change="overdue")) == 1
        late = await client.post(
            f"/v1/directives/{directive_id}/updates", json={"done": True, "result": "Đã báo cáo."}, headers=dept
        )
        assert late.status_code == 200
        assert late.json()["late"] is True
        assert [h["change"] for h in late.json()["history"]] == ["overdue", "done"]
        await wait_until(
            lambda: directive_events(collector, directive_id=directive_id, change="done"), what="done event"
        )
    assert len(directive_events(collector, directive_id=directive_id, change="overdue")) == 1
    await collector.stop()


async def test_resolve_with_notify_reporters_carries_the_outcome_and_the_collaborators(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    collector = Collector(harness.settings, [topics.TRIAGE_ESCALATIONS])
    harness.collector = collector
    async with serve(app_factory()) as client:
        await collector.start()
        key_id, _, key_hash = new_api_key()
        issued = intake_events.ApiKeyIssued(
            key_id=key_id, name="Cổng 1022", key_hash=key_hash, scopes=["reports:write"], issued_at=utcnow()
        )
        await harness.producer.publish(
            topics.INTAKE_REGISTRY,
            new_event(intake_events.API_KEY_ISSUED, source=intake_events.SOURCE, data=issued, key=key_id),
        )
        hotspot_id = await flash_hotspot(harness, collector, reporter="ctv-1")
        for reporter in ("ctv-2", "ctv-3", "ctv-2", key_id):
            await harness.submit(*FLASH, reporter=reporter)
        dept = harness.headers("department", [])

        async def gathered() -> bool:
            spot = (await client.get(f"/v1/hotspots/{hotspot_id}", headers=dept)).json()
            return len(spot["report_ids"]) == 5

        await wait_until(gathered, what="five reports in the hot spot")
        escalation_id = (await client.get(f"/v1/hotspots/{hotspot_id}", headers=dept)).json()["escalation"]["id"]
        outcome = "UBND phường đã đối thoại, các hộ dân đồng thuận; chợ hoạt động bình thường."
        bad = await client.post(
            f"/v1/escalations/{escalation_id}/resolve",
            json={"comment": outcome, "notify_reporters": "có"},
            headers=dept,
        )
        assert bad.status_code == 422
        resolved = await client.post(
            f"/v1/escalations/{escalation_id}/resolve",
            json={"comment": outcome, "notify_reporters": True},
            headers=dept,
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["history"][-1]["notify_reporters"] is True
        [event] = await wait_until(lambda: collector.of(ev.ESCALATION_RESOLVED), what="resolved event")
        assert event.data["notify_reporters"] is True
        assert event.data["outcome"] == outcome
        # The three collaborators, each once; the provincial system's key is no collaborator.
        assert sorted(event.data["reporter_ids"]) == ["ctv-1", "ctv-2", "ctv-3"]
    await collector.stop()


async def test_a_dead_holders_lease_delays_the_overdue_transition_but_never_doubles_it(
    harness: Harness, app_factory: Callable[[], FastAPI]
) -> None:
    collector = Collector(harness.settings, [topics.TRIAGE_ESCALATIONS, topics.TRIAGE_DIRECTIVES])
    harness.collector = collector
    # A replica that held the directive-overdue lease died: its term runs for a while yet.
    client = AsyncMongoClient[dict[str, Any]](harness.settings.mongo_url, tz_aware=True)
    dead_until = utcnow() + timedelta(seconds=15)
    await client[harness.settings.mongo_db][LEASES].insert_one(
        {
            "_id": "directive-overdue:1",
            "name": "directive-overdue",
            "term": 1,
            "holder": "dead-replica",
            "expires_at": dead_until,
            "renewed_at": utcnow(),
        }
    )
    await client.close()
    app = app_factory()
    async with serve(app) as http:
        await collector.start()
        await publish_agencies(harness)
        hotspot_id = await flash_hotspot(harness, collector)
        await agencies_known(app)
        body = {
            "assignee": UBND,
            "instruction": "Báo cáo ngay.",
            "due_at": (utcnow() + timedelta(seconds=1)).isoformat(),
        }
        created = await http.post(
            f"/v1/hotspots/{hotspot_id}/directives", json=body, headers=harness.headers("department", [])
        )
        assert created.status_code == 201, created.text
        directive_id = created.json()["id"]
        overdue = await wait_until(
            lambda: directive_events(collector, directive_id=directive_id, change="overdue"),
            timeout=60,
            what="overdue after the dead term",
        )
        # Nobody acted under the dead replica's term; the survivor took the next term and emitted it once.
        assert datetime.fromisoformat(overdue[0]["at"]) >= dead_until
        await asyncio.sleep(2)
        assert len(directive_events(collector, directive_id=directive_id, change="overdue")) == 1
    await collector.stop()
