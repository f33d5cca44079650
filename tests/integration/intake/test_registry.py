"""Units and topics: the Lào Cai seed, changes announced on Kafka, bulk import all-or-nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulse_libs.events import intake as ev
from pulse_libs.events.topics import INTAKE_REGISTRY

from .helpers import AU_LAU, NAM_CUONG, VAN_PHU, YEN_BAI, assert_problem, count, read_events

UNIT_STATE = {"_outbox": 0, "_outbox_pending": 0, "updated_at": 0}


async def test_lao_cai_is_seeded_with_its_99_wards_and_communes(intake: Any) -> None:
    headers = intake.headers("collaborator", [YEN_BAI])
    units: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"parent_code": "15", "limit": 40, **({"cursor": cursor} if cursor else {})}
        page = (await intake.client.get("/v1/units", params=params, headers=headers)).json()
        units += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    names = {u["code"]: u["name"] for u in units if u["kind"] in ("ward", "commune")}
    assert len(names) == 99
    assert names[YEN_BAI] == "Phường Yên Bái"
    assert names[VAN_PHU] == "Phường Văn Phú"
    assert names[NAM_CUONG] == "Phường Nam Cường"
    assert names[AU_LAU] == "Phường Âu Lâu"
    old_city = (await intake.client.get("/v1/units/132", headers=headers)).json()
    assert old_city["kind"] == "district"
    # The old city became four wards on 1 July 2025: one link each, with its date.
    assert old_city["replaced_by"] == [
        {"code": code, "since": "2025-07-01"} for code in (YEN_BAI, VAN_PHU, NAM_CUONG, AU_LAU)
    ]
    topic = (await intake.client.get("/v1/topics/giai-phong-mat-bang", headers=headers)).json()
    assert topic["sensitive"] is True
    assert "đền bù" in topic["keywords"]


async def test_seeding_again_changes_nothing(intake: Any) -> None:
    from pulse_intake.adapters.repositories import IntakeStore
    from pulse_intake.handlers.seed import seed_registry

    assert await seed_registry(store=IntakeStore.of(intake.db)) == 0


async def test_unit_create_change_and_event(intake: Any) -> None:
    admin = intake.headers("admin")
    unit = {"code": "04999", "name": "Xã Thử Nghiệm", "kind": "commune", "parent_code": "15"}
    created = await intake.client.post("/v1/units", json=unit, headers=admin)
    assert created.status_code == 201, created.text
    assert_problem(await intake.client.post("/v1/units", json=unit, headers=admin), 409)
    link = {"code": YEN_BAI, "since": "2025-07-01"}
    patched = await intake.client.patch("/v1/units/04999", json={"replaced_by": [link]}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["replaced_by"] == [link]
    assert (await intake.client.get("/v1/units/04999", headers=admin)).json()["replaced_by"] == [link]
    put = await intake.client.put("/v1/units/04999", json={**unit, "name": "Xã Thử Nghiệm Mới"}, headers=admin)
    assert put.json()["name"] == "Xã Thử Nghiệm Mới"
    events = await read_events(
        intake.settings,
        INTAKE_REGISTRY,
        lambda es: sum(e.key == "04999" and e.type == ev.UNIT_UPSERTED for e in es) >= 3,
    )
    mine = [e.data for e in events if e.key == "04999"]
    assert mine[-1]["name"] == "Xã Thử Nghiệm Mới"
    assert [d["replaced_by"] for d in mine[-3:]] == [[], [link], []]  # PUT without links clears them


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/v1/units", {"code": "x y", "name": "A", "kind": "ward"}, 422),
        ("post", "/v1/units", {"code": "04998", "name": "A", "kind": "hamlet"}, 422),
        ("post", "/v1/units", {"code": "04998", "name": "A", "kind": "ward", "parent_code": "nowhere"}, 422),
        ("post", "/v1/units", {"code": {"$gt": ""}, "name": "A", "kind": "ward"}, 422),
        ("put", "/v1/units/04998", {"code": "04997", "name": "A", "kind": "ward"}, 422),
        ("patch", "/v1/units/00000", {"name": "A"}, 404),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": YEN_BAI, "since": "2025-07-01"}]}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": VAN_PHU}, 422),  # a bare code: only read, never written
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": VAN_PHU}]}, 422),  # no date
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": "88888", "since": "2025-07-01"}]}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": VAN_PHU, "since": "2031-01-01"}]}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": VAN_PHU, "since": "1900-01-01"}]}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": VAN_PHU, "since": "2025-13-01"}]}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": VAN_PHU, "since": "2025-07-01"}] * 2}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"replaced_by": [{"code": VAN_PHU, "since": "2025-07-01", "x": 1}]}, 422),
        ("patch", f"/v1/units/{YEN_BAI}", {"parent_code": YEN_BAI}, 422),
        ("post", "/v1/topics", {"code": "t1", "name": "A", "sensitive": "yes"}, 422),
        ("post", "/v1/topics", {"code": "t1", "name": "A", "keywords": "đất"}, 422),
        ("patch", "/v1/topics/khong-co", {"name": "A"}, 404),
    ],
)
async def test_bad_registry_changes_change_nothing(
    intake: Any, method: str, path: str, body: dict[str, Any], status: int
) -> None:
    before = (await count(intake.db, "units"), await count(intake.db, "topics"))
    # The relay clears `_outbox_pending` of earlier writes at its own pace: not a change by the request.
    unit_before = await intake.db["units"].find_one({"_id": YEN_BAI}, UNIT_STATE)
    response = await getattr(intake.client, method)(path, json=body, headers=intake.headers("admin"))
    assert_problem(response, status)
    assert (await count(intake.db, "units"), await count(intake.db, "topics")) == before
    assert await intake.db["units"].find_one({"_id": YEN_BAI}, UNIT_STATE) == unit_before


async def test_registry_writes_need_the_scope(intake: Any) -> None:
    unit = {"code": "04996", "name": "Xã A", "kind": "commune"}
    assert_problem(await intake.client.post("/v1/units", json=unit, headers=intake.headers("department")), 403)
    topic = {"code": "moi", "name": "Chủ đề mới"}
    assert_problem(
        await intake.client.post("/v1/topics", json=topic, headers=intake.headers("collaborator", [YEN_BAI])), 403
    )


async def test_csv_import_of_old_three_level_units(intake: Any) -> None:
    csv_text = (
        "code,name,kind,parent_code,replaced_by\n"
        "08,Tỉnh Tuyên Quang (thử),province,,\n"
        "070,Thành phố Tuyên Quang (cũ),district,08,\n"
        "02215,Phường Phan Thiết (cũ),ward,070,\n"
    )
    headers = {**intake.headers("admin"), "content-type": "text/csv"}
    response = await intake.client.post("/v1/units:import", content=csv_text.encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0}
    again = await intake.client.post("/v1/units:import", content=csv_text.encode(), headers=headers)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3}
    ward = (await intake.client.get("/v1/units/02215", headers=headers)).json()
    assert ward["parent_code"] == "070"


async def test_import_with_one_bad_row_imports_nothing(intake: Any) -> None:
    rows = [
        {"code": "91001", "name": "Xã Một", "kind": "commune", "parent_code": "15"},
        {"code": "91002", "name": "Xã Hai", "kind": "village", "parent_code": "15"},
    ]
    headers = {**intake.headers("admin"), "content-type": "application/json"}
    before = await count(intake.db, "units")
    assert_problem(
        await intake.client.post("/v1/units:import", content=json.dumps(rows), headers=headers), 422, "1.kind"
    )
    dangling = [{"code": "91003", "name": "Xã Ba", "kind": "commune", "parent_code": "88888"}]
    assert_problem(await intake.client.post("/v1/units:import", content=json.dumps(dangling), headers=headers), 422)
    assert_problem(await intake.client.post("/v1/units:import", content=b"{", headers=headers), 400)
    xml = {**headers, "content-type": "application/xml"}
    assert_problem(await intake.client.post("/v1/units:import", content=b"<units/>", headers=xml), 415)
    assert await count(intake.db, "units") == before


async def test_topic_create_patch_and_use_in_a_report(intake: Any) -> None:
    department = intake.headers("department")
    topic = {"code": "cho-tam", "name": "Chợ tạm, chợ cóc", "keywords": ["chợ cóc", "lấn chiếm vỉa hè"]}
    assert (await intake.client.post("/v1/topics", json=topic, headers=department)).status_code == 201
    patched = await intake.client.patch("/v1/topics/cho-tam", json={"sensitive": True}, headers=department)
    assert patched.json()["sensitive"] is True
    assert patched.json()["keywords"] == ["chợ cóc", "lấn chiếm vỉa hè"]
    from .helpers import report_body

    report = report_body(topic_codes=["cho-tam"])
    assert (await intake.client.post("/v1/reports", json=report, headers=department)).status_code == 201


async def test_successor_links_that_close_a_cycle_are_refused(intake: Any) -> None:
    admin = intake.headers("admin")
    since = "2025-07-01"
    for code, successor in (("92001", None), ("92002", "92001"), ("92003", "92002")):
        body = {"code": code, "name": f"Xã Lịch Sử {code}", "kind": "commune", "parent_code": "15"}
        if successor:
            body["replaced_by"] = [{"code": successor, "since": since}]
        assert (await intake.client.post("/v1/units", json=body, headers=admin)).status_code == 201
    before = await intake.db["units"].find_one({"_id": "92001"}, UNIT_STATE)
    # 92003 → 92002 → 92001; 92001 → 92003 would send the reports round for ever.
    problem = assert_problem(
        await intake.client.patch(
            "/v1/units/92001", json={"replaced_by": [{"code": "92003", "since": since}]}, headers=admin
        ),
        422,
        "replaced_by",
    )
    assert any("92001 → 92003 → 92002 → 92001" in e["message"] for e in problem["errors"]), problem
    assert await intake.db["units"].find_one({"_id": "92001"}, UNIT_STATE) == before
    # Within one import as well.
    rows = [
        {"code": "92004", "name": "Xã Bốn", "kind": "commune", "replaced_by": [{"code": "92005", "since": since}]},
        {"code": "92005", "name": "Xã Năm", "kind": "commune", "replaced_by": [{"code": "92004", "since": since}]},
    ]
    headers = {**admin, "content-type": "application/json"}
    body = json.dumps(rows, ensure_ascii=False)
    assert_problem(await intake.client.post("/v1/units:import", content=body, headers=headers), 422, "0.replaced_by")
    assert await intake.db["units"].find_one({"_id": "92004"}) is None


async def test_a_link_stored_as_one_code_reads_as_a_list(intake: Any) -> None:
    """Units written before links were lists carry a bare code: read as one link of unknown date, kept on PATCH."""
    admin = intake.headers("admin")
    await intake.db["units"].insert_one(
        {
            "_id": "93001",
            "code": "93001",
            "name": "Xã Cũ",
            "kind": "commune",
            "parent_code": "15",
            "replaced_by": VAN_PHU,
        }
    )
    old = {"code": VAN_PHU, "since": None}
    assert (await intake.client.get("/v1/units/93001", headers=admin)).json()["replaced_by"] == [old]
    listed = (await intake.client.get("/v1/units", params={"kind": "commune", "limit": 500}, headers=admin)).json()[
        "items"
    ]
    assert [u["replaced_by"] for u in listed if u["code"] == "93001"] == [[old]]
    renamed = await intake.client.patch("/v1/units/93001", json={"name": "Xã Cũ (đã nhập)"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["replaced_by"] == [old]
    stored = await intake.db["units"].find_one({"_id": "93001"})
    assert stored["replaced_by"] == [old]
    events = await read_events(intake.settings, INTAKE_REGISTRY, lambda es: any(e.key == "93001" for e in es))
    assert [e.data["replaced_by"] for e in events if e.key == "93001"] == [[old]]


async def test_csv_import_of_a_split_unit_with_dated_successors(intake: Any) -> None:
    csv_text = (
        "code,name,kind,parent_code,replaced_by\n"
        f"94001,Huyện Thử Tách (cũ),district,15,{YEN_BAI}@2025-07-01; {NAM_CUONG}@2025-07-01\n"
        "94002,Xã Hiện Hành,commune,15,\n"
    )
    headers = {**intake.headers("admin"), "content-type": "text/csv"}
    response = await intake.client.post("/v1/units:import", content=csv_text.encode(), headers=headers)
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}, response.text
    split = (await intake.client.get("/v1/units/94001", headers=headers)).json()
    assert split["replaced_by"] == [
        {"code": YEN_BAI, "since": "2025-07-01"},
        {"code": NAM_CUONG, "since": "2025-07-01"},
    ]
    assert (await intake.client.get("/v1/units/94002", headers=headers)).json()["replaced_by"] == []
    undated = "code,name,kind,parent_code,replaced_by\n94003,Xã Không Ngày,commune,15,04252\n"
    assert_problem(
        await intake.client.post("/v1/units:import", content=undated.encode(), headers=headers),
        422,
        "0.replaced_by.0.since",
    )
    assert await intake.db["units"].find_one({"_id": "94003"}) is None
