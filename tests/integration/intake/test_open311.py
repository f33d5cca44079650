"""Open311 GeoReport v2 facade: services from topics, requests as reports, Open311 error arrays."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import VAN_PHU, YEN_BAI, count

PREFIX = "/open311/v2"


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


async def test_services_and_definition(intake: Any, system_key: str) -> None:
    headers = {"X-API-Key": system_key}
    services = (await intake.client.get(f"{PREFIX}/services.json", headers=headers)).json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["moi-truong"]["service_name"] == "Môi trường"
    assert by_code["moi-truong"]["type"] == "realtime"
    definition = (await intake.client.get(f"{PREFIX}/services/moi-truong.json", headers=headers)).json()
    attribute = definition["attributes"][0]
    assert attribute["code"] == "unit_code"
    assert attribute["required"] is True
    assert [v["key"] for v in attribute["values"]] == [YEN_BAI]
    _is_open311_error(await intake.client.get(f"{PREFIX}/services/khong-co.json", headers=headers), 404)
    _is_open311_error(await intake.client.get(f"{PREFIX}/services.json"), 401)


async def test_request_by_form_then_read_back(intake: Any, system_key: str) -> None:
    headers = {"X-API-Key": system_key}
    form = {
        "service_code": "moi-truong",
        "description": "Bãi rác tự phát cạnh suối Ngòi Yên, bốc mùi nồng nặc.",
        "lat": "21.7168",
        "long": "104.8986",
        "address_string": "Tổ 12, phường Yên Bái",
        "media_url": "https://anh.laocai.gov.vn/rac.jpg",
        "attribute[unit_code]": YEN_BAI,
    }
    created = await intake.client.post(f"{PREFIX}/requests.json", data=form, headers=headers)
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    assert created.json()[0]["service_notice"]
    one = (await intake.client.get(f"{PREFIX}/requests/{request_id}.json", headers=headers)).json()
    assert one[0]["status"] == "open"
    assert one[0]["service_name"] == "Môi trường"
    assert one[0]["lat"] == pytest.approx(21.7168)
    assert one[0]["media_url"] == "https://anh.laocai.gov.vn/rac.jpg"
    listed = (await intake.client.get(f"{PREFIX}/requests.json", params={"status": "open"}, headers=headers)).json()
    assert request_id in {r["service_request_id"] for r in listed}
    closed = (await intake.client.get(f"{PREFIX}/requests.json", params={"status": "closed"}, headers=headers)).json()
    assert closed == []
    report = (await intake.client.get(f"/v1/reports/{request_id}", headers=intake.headers("department"))).json()
    assert report["topic_codes"] == ["moi-truong"]
    assert "Tổ 12" in report["content"]


async def test_request_by_json(intake: Any, system_key: str) -> None:
    body = {
        "service_code": "gia-ca",
        "description": "Giá rau tăng mạnh sau mưa lũ.",
        "attribute": {"unit_code": YEN_BAI},
    }
    created = await intake.client.post(f"{PREFIX}/requests.json", json=body, headers={"X-API-Key": system_key})
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"description": "Thiếu mã dịch vụ", "attribute[unit_code]": YEN_BAI}, 400),
        ({"service_code": "khong-co", "description": "x", "attribute[unit_code]": YEN_BAI}, 400),
        ({"service_code": "gia-ca", "description": "Ngoài đơn vị", "attribute[unit_code]": VAN_PHU}, 400),
        ({"service_code": "gia-ca", "attribute[unit_code]": YEN_BAI}, 400),
        ({"service_code": "gia-ca", "description": "x", "lat": "bắc", "attribute[unit_code]": YEN_BAI}, 400),
        (
            {"service_code": "gia-ca", "description": "x", "lat": "95", "long": "1", "attribute[unit_code]": YEN_BAI},
            400,
        ),
        ({"service_code": "gia-ca", "description": "x", "priority": "1", "attribute[unit_code]": YEN_BAI}, 400),
    ],
)
async def test_bad_requests_get_open311_errors_and_change_nothing(
    intake: Any, system_key: str, data: dict[str, str], code: int
) -> None:
    before = await count(intake.db, "reports")
    response = await intake.client.post(f"{PREFIX}/requests.json", data=data, headers={"X-API-Key": system_key})
    _is_open311_error(response, code)
    assert await count(intake.db, "reports") == before


async def test_open311_auth_and_parameters(intake: Any, system_key: str) -> None:
    _is_open311_error(await intake.client.get(f"{PREFIX}/requests.json", headers={"X-API-Key": "pk_bad_key"}), 401)
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
    form = {"service_code": "gia-ca", "description": "x", "attribute[unit_code]": YEN_BAI}
    _is_open311_error(
        await intake.client.post(f"{PREFIX}/requests.json", data=form, headers={"X-API-Key": reader}), 403
    )
