"""Issue 17, items 3 and 5, end to end over HTTP against the four services as processes: an officer's review
of a triage decision reaches the decision, the report in intake and reporting's counts; staff merge and split
of hot spots keep every report counted exactly once in triage and in reporting; a hot spot whose urgency rises
after it was acknowledged or resolved opens a new escalation episode that pages again from level 1.

Each test works in a ward of its own so reporting's counts for that ward are exact, not merely "at least"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.pulse_system import PulseSystem
from tests.support.servers import RecordingHttpServer

from .conftest import bearer, create_user, eventually

pytestmark = pytest.mark.e2e

NGHIA_LO = "04288"  # Phường Nghĩa Lộ, Lào Cai: the review test's ward
TRUNG_TAM = "04663"  # Phường Trung Tâm: merge and split
CAU_THIA = "04678"  # Phường Cầu Thia: re-trigger
LIEN_SON = "04660"  # Xã Liên Sơn: the `reviewed` flag
GIA_HOI = "04636"  # Xã Gia Hội: a new report on a resolved matter
GPMB = "giai-phong-mat-bang"
ROUTINE_TEXT = "Người dân tổ 4 hỏi về tiến độ chi trả tiền bồi thường giải phóng mặt bằng dự án đường nội thị."
# Each ward below tells a matter of its own, in its own words: wards of one province sit under one parent (the
# two-tier registry), so the same words in two of them within the window would be one matter linked under a
# parent hot spot with one escalation (tests/e2e/test_parents.py), not the per-ward escalations asserted here.
TRUNG_TAM_FLASH = (
    "Tiểu thương chợ phản đối di dời ki-ốt",
    "Hàng trăm tiểu thương chợ trung tâm kéo đến ban quản lý chợ phản đối di dời ki-ốt để làm bãi đỗ xe, xô xát "
    "với bảo vệ chợ, một người bị thương.",
)
LIEN_SON_TEXT = (
    "Bà con thôn Khe Cọ đề nghị xã công khai phương án hỗ trợ tái định cư cho các hộ có đất bị thu hồi làm khu công "
    "nghiệp."
)
CAU_THIA_CALM = (
    "Thắc mắc đơn giá đền bù hoa màu",
    "Một số hộ ở khu 5 thắc mắc về đơn giá đền bù cây cối, hoa màu khi mở rộng đường vào trường học.",
)
CAU_THIA_FLASH = (
    "Dân chặn máy xúc san ủi đất",
    "Khoảng 300 người dân khu 5 kéo ra ngăn máy xúc vào san ủi đất mở đường, giằng co với tổ công tác, có người bị "
    "thương.",
)
GIA_HOI_CALM = (
    "Hỏi về đất tái định cư thủy điện",
    "Người dân bản Noong hỏi bao giờ được nhận đất tái định cư sau khi đã bàn giao ruộng cho dự án thủy điện.",
)
GIA_HOI_FLASH = (
    "Dân vây giữ máy móc nhà thầu thủy điện",
    "Hàng trăm người bản Noong vây giữ máy móc của nhà thầu thủy điện, ném đá vào lực lượng bảo vệ thi công, tình "
    "hình rất căng thẳng.",
)


def ok(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None


def local_window(now: datetime) -> dict[str, str]:
    day = (now + timedelta(hours=7)).date()
    return {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=1)).isoformat()}


def current_period(now: datetime) -> str:
    """The Decree 09 month containing `now` (15th of the previous month to the 14th), as reporting counts it."""
    local = now + timedelta(hours=7)
    year, month = local.year, local.month
    if local.day >= 15:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def officer(system: PulseSystem, admin_token: str) -> dict[str, str]:
    return bearer(
        create_user(system, admin_token, username="bantg.h12", role="department", units=[], name="Ngô Thị Thanh Huyền")
    )


def collaborator(system: PulseSystem, admin_token: str, username: str, unit: str, name: str) -> dict[str, str]:
    return bearer(create_user(system, admin_token, username=username, role="collaborator", units=[unit], name=name))


def submit(
    system: PulseSystem,
    who: dict[str, str],
    *,
    unit: str,
    title: str,
    content: str,
    topics: list[str],
    minutes_ago: int = 10,
    people: int | None = None,
) -> str:
    body: dict[str, Any] = {
        "unit_code": unit,
        "channel": "phone",
        "title": title,
        "content": content,
        "observed_at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "topic_codes": topics,
    }
    if people is not None:
        body["people_count"] = people
    response = httpx.post(f"{system.url('intake')}/v1/reports", json=body, headers=who)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def decision_of(system: PulseSystem, headers: dict[str, str], report_id: str) -> dict[str, Any]:
    found: dict[str, Any] = eventually(
        lambda: ok(httpx.get(f"{system.url('triage')}/v1/triage/{report_id}", headers=headers))
    )
    return found


def hotspot_of(system: PulseSystem, headers: dict[str, str], hotspot_id: str) -> dict[str, Any]:
    response = httpx.get(f"{system.url('triage')}/v1/hotspots/{hotspot_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def summary(system: PulseSystem, headers: dict[str, str], unit: str) -> dict[str, Any]:
    params = {**local_window(datetime.now(UTC)), "unit_code": unit}
    response = httpx.get(f"{system.url('reporting')}/v1/stats/summary", params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def reporting_hotspots(system: PulseSystem, headers: dict[str, str], unit: str) -> dict[str, dict[str, Any]]:
    """The hot spot rows of the current period's briefing for one ward, by id."""
    period = current_period(datetime.now(UTC))
    response = httpx.get(
        f"{system.url('reporting')}/v1/periodic-reports/{period}", params={"format": "json"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {h["id"]: h for h in response.json()["hotspots"] if h["unit_code"] == unit}


def test_officer_review_changes_the_decision_the_report_and_the_counts(system: PulseSystem, admin_token: str) -> None:
    triage = system.url("triage")
    dept = officer(system, admin_token)
    ctv = collaborator(system, admin_token, "ctv.h12.nghialo", NGHIA_LO, "Lò Thị Xuân")
    report_id = submit(
        system, ctv, unit=NGHIA_LO, title="Hỏi tiến độ chi trả bồi thường", content=ROUTINE_TEXT, topics=[GPMB]
    )
    machine = decision_of(system, dept, report_id)
    old = machine["urgency"]
    assert old in ("routine", "urgent"), machine  # a calm question: the review below raises it to thượng khẩn
    new = "very_urgent"

    # Reporting has counted it at the machine's level before the review.
    # (Until triage's decision is projected the report counts as `unknown`: wait for the machine's level.)
    before = eventually(lambda: (s := summary(system, dept, NGHIA_LO)) and s["by_urgency"].get(old) == 1 and s)
    assert before["reports"] == 1, before

    # Bad input is a problem+json that changes nothing.
    for bad in ({"urgency": "rat_gap", "comment": "x"}, {"urgency": new}, {"urgency": new, "comment": "   "}):
        refused = httpx.post(f"{triage}/v1/triage/{report_id}/review", json=bad, headers=dept)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    missing = httpx.post(f"{triage}/v1/triage/khong-co-phan-anh/review", json={"comment": "x"}, headers=dept)
    assert missing.status_code == 404, missing.text
    assert decision_of(system, dept, report_id)["urgency"] == old
    # A collaborator may not review.
    assert httpx.post(f"{triage}/v1/triage/{report_id}/review", json={"comment": "x"}, headers=ctv).status_code in (
        403,
        404,
    )

    comment = "Hộ dân đã tập trung đông tại trụ sở phường, cần theo dõi sát."
    response = httpx.post(
        f"{triage}/v1/triage/{report_id}/review", json={"urgency": new, "comment": comment}, headers=dept
    )
    assert response.status_code == 201, response.text
    review = response.json()
    assert (review["report_id"], review["machine_urgency"], review["urgency"]) == (report_id, old, new)

    # The decision: new level, reviewed, the machine's reasons kept and the officer's added.
    decision = decision_of(system, dept, report_id)
    assert decision["urgency"] == new
    assert decision["reasons"][: len(machine["reasons"])] == machine["reasons"]
    assert any(comment in reason for reason in decision["reasons"][len(machine["reasons"]) :]), decision["reasons"]
    assert decision["hotspot_id"], "a report raised to thượng khẩn is put in a hot spot"
    hotspot = eventually(lambda: (h := hotspot_of(system, dept, decision["hotspot_id"])) and h.get("escalation") and h)
    assert hotspot["urgency"] == new
    assert hotspot["report_ids"] == [report_id]
    assert hotspot["escalation"]["urgency"] == new

    # Intake: the report's triage and status follow (escalated: its hot spot's escalation was raised).
    def in_intake() -> Any:
        report = ok(httpx.get(f"{system.url('intake')}/v1/reports/{report_id}", headers=ctv))
        # The status follows the escalation event, which may arrive after the decision: wait for both.
        followed = report and (report.get("triage") or {}).get("urgency") == new and report["status"] == "escalated"
        return report if followed else None

    report = eventually(in_intake)
    assert report["status"] == "escalated", report["status"]
    assert report["triage"]["hotspot_id"] == decision["hotspot_id"]

    # Reporting: the report moved from the old level to the new one; the total did not change.
    def moved() -> Any:
        s = summary(system, dept, NGHIA_LO)
        return s if s["by_urgency"].get(new) == 1 else None

    after = eventually(moved)
    assert after["reports"] == 1
    assert after["by_urgency"].get(old, 0) == 0, after["by_urgency"]
    assert sum(after["by_urgency"].values()) == 1

    # The review is listed and exported for the next calibration.
    listed = httpx.get(f"{triage}/v1/triage/reviews", params={"unit_code": NGHIA_LO}, headers=dept)
    assert listed.status_code == 200, listed.text
    items = [i for i in listed.json()["items"] if i["report_id"] == report_id]
    assert len(items) == 1
    assert (items[0]["urgency"], items[0]["machine_urgency"], items[0]["comment"]) == (new, old, comment)
    export = httpx.get(f"{triage}/v1/triage/reviews", params={"format": "jsonl", "unit_code": NGHIA_LO}, headers=dept)
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines() if line.strip()]
    exported = [line for line in lines if line["report_id"] == report_id]
    assert len(exported) == 1
    assert exported[0]["urgency"] == new
    assert exported[0]["text"]
    assert httpx.get(f"{triage}/v1/triage/reviews", headers=ctv).status_code in (403, 404)


def test_a_reviewed_decision_says_it_was_reviewed(system: PulseSystem, admin_token: str) -> None:
    triage = system.url("triage")
    dept = officer(system, admin_token)
    ctv = collaborator(system, admin_token, "ctv.h12.lienson", LIEN_SON, "Sùng Thị Mỷ")
    report_id = submit(
        system,
        ctv,
        unit=LIEN_SON,
        title="Đề nghị công khai phương án tái định cư",
        content=LIEN_SON_TEXT,
        topics=[GPMB],
    )
    assert decision_of(system, dept, report_id)["urgency"] != "flash"
    response = httpx.post(
        f"{triage}/v1/triage/{report_id}/review",
        json={"urgency": "flash", "comment": "Đã có xô xát tại hiện trường."},
        headers=dept,
    )
    assert response.status_code == 201, response.text
    decision = decision_of(system, dept, report_id)
    assert decision["urgency"] == "flash"
    assert decision.get("reviewed") is True


def test_merge_and_split_keep_every_report_counted_once(system: PulseSystem, admin_token: str) -> None:
    triage = system.url("triage")
    dept = officer(system, admin_token)
    lan = collaborator(system, admin_token, "ctv.h12.trungtam1", TRUNG_TAM, "Hà Thị Lan")
    tuan = collaborator(system, admin_token, "ctv.h12.trungtam2", TRUNG_TAM, "Giàng A Tuấn")

    first = submit(
        system,
        lan,
        unit=TRUNG_TAM,
        title=TRUNG_TAM_FLASH[0],
        content=TRUNG_TAM_FLASH[1],
        topics=[GPMB],
        people=200,
    )
    second = submit(
        system,
        tuan,
        unit=TRUNG_TAM,
        title="Dân chặn xe chở rác vào bãi rác",
        content="Hàng trăm người dân tụ tập chặn xe chở rác, phản đối bãi rác gây ô nhiễm nặng, xô xát với bảo vệ",
        topics=["moi-truong"],
        people=150,
    )
    a_id = decision_of(system, dept, first)["hotspot_id"]
    b_id = decision_of(system, dept, second)["hotspot_id"]
    assert a_id, "a flash report opens a hot spot"
    assert b_id, "a flash report opens a hot spot"
    assert a_id != b_id, "two topics, two hot spots"
    assert hotspot_of(system, dept, a_id)["report_ids"] == [first]
    assert hotspot_of(system, dept, b_id)["report_ids"] == [second]

    def reporting_has(expected: dict[str, int]) -> Any:
        rows = reporting_hotspots(system, dept, TRUNG_TAM)
        counts = {hid: rows[hid]["report_count"] for hid in expected if hid in rows}
        return rows if counts == expected else None

    eventually(lambda: reporting_has({a_id: 1, b_id: 1}))
    eventually(lambda: summary(system, dept, TRUNG_TAM)["reports"] == 2)

    # Bad merges change nothing.
    for source, body, status in (
        (a_id, {"into": a_id}, 409),
        (b_id, {"into": "hs-khong-co"}, 404),
        (b_id, {"vao": a_id}, 422),
    ):
        refused = httpx.post(f"{triage}/v1/hotspots/{source}/merge", json=body, headers=dept)
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert hotspot_of(system, dept, b_id)["report_ids"] == [second]

    # Merge B into A.
    response = httpx.post(f"{triage}/v1/hotspots/{b_id}/merge", json={"into": a_id}, headers=dept)
    assert response.status_code == 200, response.text
    a = hotspot_of(system, dept, a_id)
    assert sorted(a["report_ids"]) == sorted([first, second])
    assert a["source_count"] == 2
    b = hotspot_of(system, dept, b_id)
    assert b["report_ids"] == []
    assert b["source_count"] == 0
    assert b["status"] == "resolved"
    assert decision_of(system, dept, second)["hotspot_id"] == a_id

    rows = eventually(lambda: reporting_has({a_id: 2, b_id: 0}))
    assert sum(r["report_count"] for r in rows.values()) == 2, rows
    assert rows[a_id]["source_count"] == 2
    merged_summary = summary(system, dept, TRUNG_TAM)
    assert merged_summary["reports"] == 2
    assert sum(merged_summary["by_urgency"].values()) == 2

    # Split the second report out again.
    refused = httpx.post(f"{triage}/v1/hotspots/{a_id}/split", json={"report_ids": [first, second]}, headers=dept)
    assert refused.status_code == 409, refused.text
    assert sorted(hotspot_of(system, dept, a_id)["report_ids"]) == sorted([first, second])
    response = httpx.post(f"{triage}/v1/hotspots/{a_id}/split", json={"report_ids": [second]}, headers=dept)
    assert response.status_code == 200, response.text
    c_id = response.json()["split"]["id"]
    assert c_id not in (a_id, b_id)
    a = hotspot_of(system, dept, a_id)
    c = hotspot_of(system, dept, c_id)
    assert a["report_ids"] == [first]
    assert a["source_count"] == 1
    assert c["report_ids"] == [second]
    assert c["source_count"] == 1
    assert decision_of(system, dept, second)["hotspot_id"] == c_id
    assert decision_of(system, dept, first)["hotspot_id"] == a_id

    rows = eventually(lambda: reporting_has({a_id: 1, b_id: 0, c_id: 1}))
    assert sum(r["report_count"] for r in rows.values()) == 2, rows
    assert (rows[a_id]["source_count"], rows[c_id]["source_count"]) == (1, 1)
    final = summary(system, dept, TRUNG_TAM)
    assert final["reports"] == 2
    assert sum(final["by_urgency"].values()) == 2


def duty_officer_on_webhook(system: PulseSystem, admin: dict[str, str], name: str, url: str) -> None:
    """A duty officer (level 1) whose notices go to a webhook of the test's receiver."""
    response = httpx.post(
        f"{system.url('notify')}/v1/recipients",
        json={"name": name, "targets": ["duty_officer"], "channels": {"webhook_url": url}},
        headers=admin,
    )
    assert response.status_code == 201, response.text


PAGING = ("pulse.escalation.raised.v1", "pulse.escalation.escalated.v1", "pulse.escalation.reminded.v1")
"""The notices that page someone (an acknowledgement or resolution notice is not a page)."""


def _pages(receiver: RecordingHttpServer, path: str, escalation_id: str) -> list[dict[str, Any]]:
    out = []
    for r in receiver.received:
        if r.path != path:
            continue
        body = r.json()
        if body.get("type") in PAGING and f'"{escalation_id}"' in json.dumps(body, ensure_ascii=False):
            out.append(body)
    return out


def test_a_rise_after_acknowledgement_or_resolution_pages_again_from_level_one(
    system: PulseSystem, admin_token: str, webhook_receiver: RecordingHttpServer
) -> None:
    triage = system.url("triage")
    dept = officer(system, admin_token)
    admin = bearer(admin_token)
    long_levels = {
        "levels": [
            {"level": 1, "target": "duty_officer", "ack_timeout_seconds": 3600},
            {"level": 2, "target": "department_head", "ack_timeout_seconds": 3600},
            {"level": 3, "target": "standing_committee", "ack_timeout_seconds": 3600},
        ]
    }
    for level in ("urgent", "very_urgent", "flash"):
        assert httpx.put(f"{triage}/v1/policies/{level}", json=long_levels, headers=admin).status_code == 200
    duty_officer_on_webhook(system, admin, "Vàng Văn Sử", f"{webhook_receiver.url}/h12-duty")

    ctv = collaborator(system, admin_token, "ctv.h12.cauthia", CAU_THIA, "Hoàng Văn Chiến")
    calm = submit(system, ctv, unit=CAU_THIA, title=CAU_THIA_CALM[0], content=CAU_THIA_CALM[1], topics=[GPMB])
    assert decision_of(system, dept, calm)["urgency"] in ("routine", "urgent")

    # Episode 1: the officer raises it to khẩn; its hot spot pages the duty officer (level 1).
    raised = httpx.post(
        f"{triage}/v1/triage/{calm}/review",
        json={"urgency": "urgent", "comment": "Các hộ dân đã kéo đến trụ sở phường."},
        headers=dept,
    )
    assert raised.status_code == 201, raised.text
    hotspot_id = decision_of(system, dept, calm)["hotspot_id"]
    hotspot = eventually(lambda: (h := hotspot_of(system, dept, hotspot_id)) and h.get("escalation") and h)
    first_esc = hotspot["escalation"]["id"]
    eventually(lambda: _pages(webhook_receiver, "/h12-duty", first_esc))
    resolved = httpx.post(
        f"{triage}/v1/escalations/{first_esc}/resolve",
        json={"comment": "UBND phường đã đối thoại, các hộ dân ra về."},
        headers=dept,
    )
    assert resolved.status_code == 200, resolved.text
    assert hotspot_of(system, dept, hotspot_id)["status"] == "resolved"

    # Resolved, then raised to thượng khẩn: episode 2, paged from level 1 of the thượng khẩn policy.
    again = httpx.post(
        f"{triage}/v1/triage/{calm}/review",
        json={"urgency": "very_urgent", "comment": "Các hộ dân quay lại, đông hơn lần trước."},
        headers=dept,
    )
    assert again.status_code == 201, again.text
    hotspot = eventually(
        lambda: (
            (h := hotspot_of(system, dept, hotspot_id))
            and h.get("escalation")
            and h["escalation"]["id"] != first_esc
            and h
        )
    )
    second_esc = hotspot["escalation"]["id"]
    assert hotspot["status"] == "open"
    assert hotspot["urgency"] == "very_urgent"
    escalation = ok(httpx.get(f"{triage}/v1/escalations/{second_esc}", headers=dept))
    assert (escalation["urgency"], escalation["level"], escalation["state"]) == ("very_urgent", 1, "pending")
    page = eventually(lambda: _pages(webhook_receiver, "/h12-duty", second_esc))
    assert len(page) == 1, page
    first = ok(httpx.get(f"{triage}/v1/escalations/{first_esc}", headers=dept))
    assert first["state"] == "resolved", "the earlier episode stays closed"

    acked = httpx.post(f"{triage}/v1/escalations/{second_esc}/ack", json={"comment": "Đã nắm."}, headers=dept)
    assert acked.status_code == 200, acked.text

    # Acknowledged, then a new, more serious report on the same matter: episode 3 from level 1 of hỏa tốc.
    _flash_retriggers(
        system,
        dept,
        ctv,
        CAU_THIA,
        hotspot_id,
        [calm],
        (first_esc, second_esc),
        webhook_receiver,
        "/h12-duty",
        CAU_THIA_FLASH,
    )
    # The acknowledged episode was not paged again.
    assert len(_pages(webhook_receiver, "/h12-duty", second_esc)) == 1


def test_a_new_serious_report_on_a_resolved_matter_retriggers_its_hot_spot(
    system: PulseSystem, admin_token: str, webhook_receiver: RecordingHttpServer
) -> None:
    triage = system.url("triage")
    dept = officer(system, admin_token)
    duty_officer_on_webhook(system, bearer(admin_token), "Lò Văn Hùng", f"{webhook_receiver.url}/h12-giahoi")
    ctv = collaborator(system, admin_token, "ctv.h12.giahoi", GIA_HOI, "Lường Văn Toàn")
    calm = submit(system, ctv, unit=GIA_HOI, title=GIA_HOI_CALM[0], content=GIA_HOI_CALM[1], topics=[GPMB])
    assert decision_of(system, dept, calm)["urgency"] in ("routine", "urgent")
    raised = httpx.post(
        f"{triage}/v1/triage/{calm}/review",
        json={"urgency": "urgent", "comment": "Các hộ dân đã kéo đến trụ sở xã."},
        headers=dept,
    )
    assert raised.status_code == 201, raised.text
    hotspot_id = decision_of(system, dept, calm)["hotspot_id"]
    hotspot = eventually(lambda: (h := hotspot_of(system, dept, hotspot_id)) and h.get("escalation") and h)
    first_esc = hotspot["escalation"]["id"]
    resolved = httpx.post(
        f"{triage}/v1/escalations/{first_esc}/resolve", json={"comment": "Đã đối thoại xong."}, headers=dept
    )
    assert resolved.status_code == 200, resolved.text

    # The same matter: the resolved hot spot re-triggers.
    _flash_retriggers(
        system, dept, ctv, GIA_HOI, hotspot_id, [calm], (first_esc,), webhook_receiver, "/h12-giahoi", GIA_HOI_FLASH
    )
    first = ok(httpx.get(f"{triage}/v1/escalations/{first_esc}", headers=dept))
    assert first["state"] == "resolved", "the resolved episode stays closed"


def _flash_retriggers(
    system: PulseSystem,
    dept: dict[str, str],
    ctv: dict[str, str],
    unit: str,
    hotspot_id: str,
    earlier_reports: list[str],
    earlier_escalations: tuple[str, ...],
    receiver: RecordingHttpServer,
    path: str,
    flash: tuple[str, str],
) -> str:
    """A flash report on the hot spot's matter joins it and opens a new episode paged once from level 1."""
    triage = system.url("triage")
    serious = submit(
        system,
        ctv,
        unit=unit,
        title=flash[0],
        content=flash[1],
        topics=[GPMB],
        minutes_ago=2,
        people=300,
    )
    joined = decision_of(system, dept, serious)
    assert joined["urgency"] == "flash", joined
    assert joined["hotspot_id"] == hotspot_id, "a flash report on the same matter within hours joins its hot spot"
    hotspot = eventually(
        lambda: (
            (h := hotspot_of(system, dept, hotspot_id))
            and h.get("escalation")
            and h["escalation"]["id"] not in earlier_escalations
            and h
        )
    )
    assert (hotspot["urgency"], hotspot["status"]) == ("flash", "open")
    assert sorted(hotspot["report_ids"]) == sorted([*earlier_reports, serious])
    episode = str(hotspot["escalation"]["id"])
    escalation = ok(httpx.get(f"{triage}/v1/escalations/{episode}", headers=dept))
    assert (escalation["urgency"], escalation["level"], escalation["state"]) == ("flash", 1, "pending")
    page = eventually(lambda: _pages(receiver, path, episode))
    assert len(page) == 1, page
    return episode
