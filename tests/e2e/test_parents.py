"""Issue 17 item 4, end to end over HTTP against the four services as processes, on the seeded two-tier registry
(Lào Cai's wards and communes directly under the province): three wards report one rumour, each in its own
words, and form one parent hot spot of the province with three ward children and ONE escalation, paged once
(the first ward's page; the later wards raise none); acknowledging the parent acknowledges the children; a
different matter of the same topic in a fourth ward stays apart with its own escalation, paged on its own;
reporting counts the three ward hot spots and one escalation, never the parent as a hot spot of its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.parent_matters import OTHER, RUMOUR, RUMOUR_TOPIC
from tests.support.pulse_system import PulseSystem
from tests.support.servers import RecordingHttpServer

from .conftest import bearer, eventually
from .test_review import _pages as pages
from .test_review import collaborator, decision_of, duty_officer_on_webhook, hotspot_of, officer, ok, submit, summary

pytestmark = pytest.mark.e2e

LAO_CAI = "15"
WARDS = ["02647", "02674", "02680"]  # Phường Lào Cai, Phường Cam Đường, Xã Hợp Thành
FOURTH = "02683"  # Xã Bát Xát
PATH = "/parents-duty"
NAMES = ["Lò Thị Hoa", "Vàng A Dế", "Sùng Thị Mỷ", "Giàng Seo Phử"]


def test_one_rumour_in_three_wards_is_one_parent_hot_spot_with_one_page(
    system: PulseSystem, admin_token: str, webhook_receiver: RecordingHttpServer
) -> None:
    triage = system.url("triage")
    dept = officer(system, admin_token)
    duty_officer_on_webhook(system, bearer(admin_token), "Lý Văn Páo", f"{webhook_receiver.url}{PATH}")
    ctvs = [
        collaborator(system, admin_token, f"ctv.parents.{u}", u, n)
        for u, n in zip([*WARDS, FOURTH], NAMES, strict=True)
    ]

    def report(i: int, unit: str, text: tuple[str, str]) -> tuple[str, str]:
        rid = submit(system, ctvs[i], unit=unit, title=text[0], content=text[1], topics=[RUMOUR_TOPIC], people=50)
        decided = decision_of(system, dept, rid)
        assert decided["hotspot_id"], decided
        assert decided["urgency"] in ("urgent", "very_urgent", "flash"), decided
        return rid, str(decided["hotspot_id"])

    def spot_with_escalation(hotspot_id: str) -> dict[str, Any]:
        found: dict[str, Any] = eventually(
            lambda: (h := hotspot_of(system, dept, hotspot_id)) and h["escalation"] and h
        )
        return found

    # The first ward alone: its hot spot escalates and the duty officer is paged once.
    first_report, first = report(0, WARDS[0], RUMOUR[0])
    first_esc = spot_with_escalation(first)["escalation"]["id"]
    eventually(lambda: pages(webhook_receiver, PATH, first_esc))

    # Two more wards, their own words: linked under one parent of the province; they raise no escalation.
    reports, children = [first_report], [first]
    for i in (1, 2):
        rid, spot = report(i, WARDS[i], RUMOUR[i])
        reports.append(rid)
        children.append(spot)
    assert len(set(children)) == 3, children
    spots = eventually(
        lambda: (
            (s := [hotspot_of(system, dept, h) for h in children])
            and len({x["parent_id"] for x in s}) == 1
            and s[0]["parent_id"]
            and s
        )
    )
    parent_id = spots[0]["parent_id"]
    parent = eventually(lambda: (p := hotspot_of(system, dept, parent_id)) and len(p["child_ids"]) == 3 and p)
    assert parent["unit_code"] == LAO_CAI
    assert sorted(parent["child_ids"]) == sorted(children)
    assert sorted(parent["report_ids"]) == sorted(reports)
    assert parent["source_count"] == 3
    assert parent["escalation"]["id"] == first_esc, "the parent carries the first ward's escalation"
    assert parent["escalation"]["state"] == "pending"
    listed = ok(httpx.get(f"{triage}/v1/escalations", params={"state": "pending"}, headers=dept))
    mine = [e for e in listed["items"] if e["hotspot_id"] in {*children, parent_id}]
    assert [(e["id"], e["hotspot_id"]) for e in mine] == [(first_esc, parent_id)]

    # A different matter of the same topic in a fourth ward: a hot spot and a page of its own.
    _, fourth = report(3, FOURTH, OTHER)
    fourth_spot = spot_with_escalation(fourth)
    assert fourth_spot["parent_id"] is None
    fourth_esc = fourth_spot["escalation"]["id"]
    assert fourth_esc != first_esc
    eventually(lambda: pages(webhook_receiver, PATH, fourth_esc))
    assert fourth not in hotspot_of(system, dept, parent_id)["child_ids"]

    # ONE escalation paged for the matter, once.
    escalation_ids = {first_esc} | {
        str(s["escalation"]["id"]) for s in (hotspot_of(system, dept, h) for h in children) if s["escalation"]
    }
    assert escalation_ids == {first_esc}
    assert len(pages(webhook_receiver, PATH, first_esc)) == 1

    # Acknowledging the parent's escalation acknowledges the three wards' hot spots, not the fourth's.
    acked = httpx.post(
        f"{triage}/v1/escalations/{first_esc}/ack", json={"comment": "Đã nắm, công an tỉnh xác minh."}, headers=dept
    )
    assert acked.status_code == 200, acked.text
    assert [hotspot_of(system, dept, h)["status"] for h in [*children, parent_id]] == ["acknowledged"] * 4
    assert hotspot_of(system, dept, fourth)["status"] == "open"
    assert len(pages(webhook_receiver, PATH, first_esc)) == 1

    # Reporting: three ward hot spots (one each) and one escalation for the matter; the parent is a grouping,
    # not a hot spot of the province.
    def counted() -> dict[str, Any] | None:
        by_unit = {u: summary(system, dept, u) for u in [*WARDS, LAO_CAI]}
        opened = [by_unit[u]["hotspots"]["opened"] for u in WARDS]
        escalations = sum(s["escalations"]["raised"] for s in by_unit.values())
        acknowledged = sum(s["escalations"]["acknowledged"] for s in by_unit.values())
        done = opened == [1, 1, 1] and escalations == 1 and acknowledged == 1
        return by_unit if done else None

    by_unit = eventually(counted, timeout=120)
    assert by_unit[LAO_CAI]["hotspots"]["opened"] == 0
    assert sum(by_unit[u]["reports"] for u in WARDS) == 3
