"""Open311 GeoReport v2 facade against the real store and Kafka: public service discovery, keyed requests,
jurisdiction_id, form and JSON bodies, XML, status from the report's history, idempotent resends, and the
published `georeport` client reading from the running intake over HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import xmltodict
from georeport import GeoReport
from pulse_libs.clock import utcnow
from pulse_libs.events import triage as tev
from pulse_libs.events.common import Urgency
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import TRIAGE_DECISIONS, TRIAGE_ESCALATIONS
from pulse_libs.kafka.producer import EventProducer

from tests.support.serve import serve_http

from .helpers import VAN_PHU, YEN_BAI, count, eventually

PREFIX = "/open311/v2"
# The spec's service request fields (GeoReport v2, GET requests).
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "group"}


@pytest.fixture(scope="module")
async def system_key(intake: Any) -> str:
    """An API key of a provincial system limited to Phường Yên Bái."""
    body = {"name": "Tổng đài 1022 tỉnh Lào Cai", "scopes": ["reports:write", "reports:read"], "unit_codes": [YEN_BAI]}
    response = await intake.client.post("/v1/api-keys", json=body, headers=intake.headers("admin"))
    return str(response.json()["key"])


def _is_open311_error(response: Any, code: int) -> None:
    assert response.status_code == code, response.text
    body = response.json()
    assert isinstance(body, list)
    assert body[0]["code"] == code
    assert body[0]["description"]


def _form(**changes: str) -> dict[str, str]:
    form = {
        "service_code": "moi-truong",
        "description": "Bãi rác tự phát cạnh suối Ngòi Yên, bốc mùi nồng nặc.",
        "lat": "21.7168",
        "long": "104.8986",
        "address_string": "Tổ 12, phường Yên Bái",
        "media_url": "https://anh.laocai.gov.vn/rac.jpg",
        "attribute[unit_code]": YEN_BAI,
    }
    form.update(changes)
    return form


async def _post(intake: Any, key: str, **changes: str) -> str:
    response = await intake.client.post(f"{PREFIX}/requests.json", data={**_form(**changes), "api_key": key})
    assert response.status_code == 201, response.text
    return str(response.json()[0]["service_request_id"])


async def test_services_are_public_and_never_show_keywords_or_sensitivity(intake: Any, system_key: str) -> None:
    services = (await intake.client.get(f"{PREFIX}/services.json")).json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["moi-truong"]["service_name"] == "Môi trường"
    assert all(set(s) == SERVICE_FIELDS for s in services)
    assert not any("nhạy cảm" in s["description"] for s in services)
    public = (await intake.client.get(f"{PREFIX}/services/moi-truong.json")).json()
    units = [v["key"] for v in public["attributes"][0]["values"]]
    assert YEN_BAI in units
    assert VAN_PHU in units
    assert len(units) == 99
    keyed = (await intake.client.get(f"{PREFIX}/services/moi-truong.json", headers={"X-API-Key": system_key})).json()
    assert [v["key"] for v in keyed["attributes"][0]["values"]] == [YEN_BAI]
    _is_open311_error(await intake.client.get(f"{PREFIX}/services/khong-co.json"), 404)
    xml = await intake.client.get(f"{PREFIX}/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    parsed = xmltodict.parse(xml.content)["services"]["service"]
    assert {s["service_code"] for s in parsed} == set(by_code)
    assert next(s for s in parsed if s["service_code"] == "moi-truong")["metadata"] == "true"


async def test_jurisdiction_id_is_accepted_and_checked(intake: Any, system_key: str) -> None:
    ours = intake.settings.open311_jurisdiction_id
    assert (await intake.client.get(f"{PREFIX}/services.json", params={"jurisdiction_id": ours})).status_code == 200
    elsewhere = {"jurisdiction_id": "hanoi.gov.vn"}
    _is_open311_error(await intake.client.get(f"{PREFIX}/services.json", params=elsewhere), 404)
    before = await count(intake.db, "reports")
    other = {**_form(), "api_key": system_key, "jurisdiction_id": "hanoi.gov.vn"}
    _is_open311_error(await intake.client.post(f"{PREFIX}/requests.json", data=other), 404)
    assert await count(intake.db, "reports") == before
    request_id = await _post(intake, system_key, jurisdiction_id=ours)
    params = {"jurisdiction_id": ours, "api_key": system_key}
    one = (await intake.client.get(f"{PREFIX}/requests/{request_id}.json", params=params)).json()
    assert one[0]["service_request_id"] == request_id


async def test_form_request_with_api_key_in_the_body_keeps_every_field(intake: Any, system_key: str) -> None:
    request_id = await _post(intake, system_key, address_id="LC-YB-T12", zipcode="321000", email="dan@example.vn")
    one = (await intake.client.get(f"{PREFIX}/requests/{request_id}.json", headers={"X-API-Key": system_key})).json()
    assert len(one) == 1
    assert set(one[0]) == REQUEST_FIELDS
    got = one[0]
    assert got["status"] == "open"
    assert got["service_name"] == "Môi trường"
    assert got["description"] == "Bãi rác tự phát cạnh suối Ngòi Yên, bốc mùi nồng nặc."
    assert (got["address"], got["address_id"], got["zipcode"]) == ("Tổ 12, phường Yên Bái", "LC-YB-T12", "321000")
    assert got["lat"] == pytest.approx(21.7168)
    assert got["long"] == pytest.approx(104.8986)
    assert got["media_url"] == "https://anh.laocai.gov.vn/rac.jpg"
    assert got["updated_datetime"] == got["requested_datetime"]
    stored = await intake.db["reports"].find_one({"_id": request_id})
    assert "dan@example.vn" not in str(stored)  # citizen contact details are not kept
    report = (await intake.client.get(f"/v1/reports/{request_id}", headers=intake.headers("department"))).json()
    assert report["topic_codes"] == ["moi-truong"]
    assert "Tổ 12" in report["content"]  # triage reads the place too


async def test_json_body_with_nested_attributes(intake: Any, system_key: str) -> None:
    body = {
        "api_key": system_key,
        "service_code": "gia-ca",
        "description": "Giá rau tăng mạnh sau mưa lũ.",
        "address_string": "Chợ Yên Bái",
        "attribute": {"unit_code": YEN_BAI},
    }
    created = await intake.client.post(f"{PREFIX}/requests.json", json=body)
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    one = (await intake.client.get(f"{PREFIX}/requests/{request_id}.json", params={"api_key": system_key})).json()
    assert one[0]["service_code"] == "gia-ca"
    assert one[0]["address"] == "Chợ Yên Bái"


async def test_xml_create_list_and_errors(intake: Any, system_key: str) -> None:
    created = await intake.client.post(f"{PREFIX}/requests.xml", data={**_form(), "api_key": system_key})
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("text/xml")
    request_id = xmltodict.parse(created.content)["service_requests"]["request"]["service_request_id"]
    listed = await intake.client.get(f"{PREFIX}/requests.xml", params={"api_key": system_key})
    requests = xmltodict.parse(listed.content)["service_requests"]["request"]
    mine = next(r for r in requests if r["service_request_id"] == request_id)
    assert mine["address"] == "Tổ 12, phường Yên Bái"
    assert mine["service_name"] == "Môi trường"
    assert set(mine) == REQUEST_FIELDS
    denied = await intake.client.get(f"{PREFIX}/requests.xml")
    assert denied.status_code == 401
    assert xmltodict.parse(denied.content)["errors"]["error"]["code"] == "401"


def _triaged(report_id: str) -> Any:
    now = utcnow()
    data = tev.ReportTriaged(
        report_id=report_id, unit_code=YEN_BAI, urgency=Urgency.URGENT, topic_codes=["moi-truong"], sensitive=False,
        score=0.7, reasons=["ô nhiễm kéo dài"], hotspot_id="hs-311", channel="other", observed_at=now,
        received_at=now, decided_at=now,
    )  # fmt: skip
    return new_event(tev.REPORT_TRIAGED, source=tev.SOURCE, data=data, key=YEN_BAI)


def _resolved(report_id: str, outcome: str) -> Any:
    now = utcnow()
    data = tev.EscalationChanged(
        escalation_id="esc-311", hotspot_id="hs-311", unit_code=YEN_BAI, topic_code="moi-truong",
        urgency=Urgency.URGENT, level=1, target="duty_officer", state="resolved", raised_at=now, ack_deadline=None,
        report_ids=[report_id], report_count=1, source_count=1, channels=["other"], first_seen=now, last_seen=now,
        changed_at=now, comment=outcome, resolved_at=now,
    )  # fmt: skip
    return new_event(tev.ESCALATION_RESOLVED, source=tev.SOURCE, data=data, key="hs-311")


async def test_status_notes_and_updated_datetime_follow_the_reports_history(intake: Any, system_key: str) -> None:
    request_id = await _post(intake, system_key)
    url, key = f"{PREFIX}/requests/{request_id}.json", {"X-API-Key": system_key}

    async def view() -> dict[str, Any]:
        body: list[dict[str, Any]] = (await intake.client.get(url, headers=key)).json()
        return body[0]

    received = await view()
    assert received["status_notes"].startswith("Đã tiếp nhận")
    producer = EventProducer(intake.settings, client_id="test-open311")
    try:
        await producer.publish(TRIAGE_DECISIONS, _triaged(request_id))

        async def triaged() -> bool:
            return (await view())["updated_datetime"] > received["updated_datetime"]

        await eventually(triaged)
        assert (await view())["status_notes"] == "Đã phân loại (mức độ: khẩn)."
        await producer.publish(TRIAGE_ESCALATIONS, _resolved(request_id, "Đã thu gom rác, xử phạt hộ đổ trộm."))

        async def closed() -> bool:
            return (await view())["status"] == "closed"

        await eventually(closed)
    finally:
        await producer.stop()
    done = await view()
    assert done["status_notes"] == "Đã giải quyết: Đã thu gom rác, xử phạt hộ đổ trộm."
    assert done["updated_datetime"] >= (await view())["requested_datetime"]
    listed = (await intake.client.get(f"{PREFIX}/requests.json", params={"status": "closed"}, headers=key)).json()
    assert request_id in {r["service_request_id"] for r in listed}


async def test_resend_with_the_same_token_replays_the_first_answer(intake: Any, system_key: str) -> None:
    before = await count(intake.db, "reports")
    form = {**_form(description="Đèn đường hỏng cả tuần tại tổ 3."), "api_key": system_key}
    first = await intake.client.post(f"{PREFIX}/requests.json", data=form, headers={"Idempotency-Key": "tok-1"})
    again = await intake.client.post(f"{PREFIX}/requests.json", data=form, headers={"Idempotency-Key": "tok-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    by_field = {**form, "client_token": "tok-2"}
    one = await intake.client.post(f"{PREFIX}/requests.json", data=by_field)
    two = await intake.client.post(f"{PREFIX}/requests.json", data=by_field)
    assert one.json()[0]["service_request_id"] == two.json()[0]["service_request_id"]
    assert one.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert await count(intake.db, "reports") == before + 2
    changed = {**by_field, "description": "Nội dung khác hẳn."}
    _is_open311_error(await intake.client.post(f"{PREFIX}/requests.json", data=changed), 409)
    assert await count(intake.db, "reports") == before + 2


@pytest.mark.parametrize(
    "data",
    [
        {"description": "Thiếu mã dịch vụ", "attribute[unit_code]": YEN_BAI},
        {"service_code": "khong-co", "description": "x", "attribute[unit_code]": YEN_BAI},
        {"service_code": "gia-ca", "description": "Ngoài đơn vị", "attribute[unit_code]": VAN_PHU},
        {"service_code": "gia-ca", "attribute[unit_code]": YEN_BAI},
        {"service_code": "gia-ca", "description": "x", "lat": "bắc", "attribute[unit_code]": YEN_BAI},
        {"service_code": "gia-ca", "description": "x", "lat": "95", "long": "1", "attribute[unit_code]": YEN_BAI},
        {"service_code": "gia-ca", "description": "x", "priority": "1", "attribute[unit_code]": YEN_BAI},
    ],
)
async def test_bad_requests_get_open311_errors_and_change_nothing(
    intake: Any, system_key: str, data: dict[str, str]
) -> None:
    before = await count(intake.db, "reports")
    response = await intake.client.post(f"{PREFIX}/requests.json", data=data, headers={"X-API-Key": system_key})
    _is_open311_error(response, 400)
    assert await count(intake.db, "reports") == before


async def test_requests_and_writes_need_a_key(intake: Any, system_key: str) -> None:
    _is_open311_error(await intake.client.get(f"{PREFIX}/requests.json"), 401)
    _is_open311_error(await intake.client.get(f"{PREFIX}/requests.json", headers={"X-API-Key": "pk_bad_key"}), 401)
    _is_open311_error(await intake.client.post(f"{PREFIX}/requests.json", data=_form()), 401)
    basic = base64.b64encode(f"{system_key}:".encode()).decode()
    assert (await intake.client.get(f"{PREFIX}/requests.json", headers={"Authorization": f"Basic {basic}"})).is_success
    headers = {"X-API-Key": system_key}
    _is_open311_error(await intake.client.get(f"{PREFIX}/requests.json", params={"status": "x"}, headers=headers), 400)
    bad_date = {"start_date": "hôm qua"}
    _is_open311_error(await intake.client.get(f"{PREFIX}/requests.json", params=bad_date, headers=headers), 400)
    _is_open311_error(await intake.client.get(f"{PREFIX}/requests/khong-co.json", headers=headers), 404)
    xml = {**headers, "content-type": "text/xml"}
    _is_open311_error(await intake.client.post(f"{PREFIX}/requests.json", content=b"<x/>", headers=xml), 400)
    reader = (
        await intake.client.post(
            "/v1/api-keys", json={"name": "Chỉ đọc", "scopes": ["reports:read"]}, headers=intake.headers("admin")
        )
    ).json()["key"]
    _is_open311_error(await intake.client.post(f"{PREFIX}/requests.json", data={**_form(), "api_key": reader}), 403)


async def test_discovery_and_openapi(intake: Any) -> None:
    discovery = (await intake.client.get("/open311/discovery.json")).json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert "text/xml" in endpoint["formats"]
    xml = xmltodict.parse((await intake.client.get("/open311/discovery.xml")).content)
    assert xml["discovery"]["endpoints"]["endpoint"]["specification"] == endpoint["specification"]
    spec = (await intake.client.get("/openapi.json")).json()
    post = spec["paths"][f"{PREFIX}/requests.json"]["post"]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "jurisdiction_id", "service_code", "attribute[unit_code]"} <= set(form["properties"])
    assert "application/json" in post["requestBody"]["content"]


@pytest.fixture
async def served(intake: Any) -> AsyncIterator[str]:
    """The module's intake app served over real HTTP on a free loopback port."""
    async with serve_http(intake.app) as url:
        yield url


async def test_the_published_georeport_client_reads_services_and_requests(
    intake: Any, system_key: str, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await _post(intake, system_key)
    # georeport sends no key on reads; `requests` takes one from netrc (HTTP Basic), as any such client can.
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {system_key} password x\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for output in ("json", "xml"):
        client = GeoReport(
            f"{served}{PREFIX}", jurisdiction=intake.settings.open311_jurisdiction_id, output_format=output
        )
        services = await asyncio.to_thread(client.get_service_list)
        assert "moi-truong" in {s["service_code"] for s in services}
        definition = await asyncio.to_thread(client.get_service_definition, "moi-truong")
        assert definition["service_code"] == "moi-truong"
        one = await asyncio.to_thread(client.get_service_request, request_id)
        assert one["service_request_id"] == request_id
        assert one["service_name"] == "Môi trường"
        listed = await asyncio.to_thread(client.get_service_requests, service_code="moi-truong", status="open")
        assert request_id in {r["service_request_id"] for r in listed}
