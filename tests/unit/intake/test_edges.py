"""Edge mapping without I/O: strict report schema, Open311 mapping, settings, seed data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pulse_intake.entrypoints.schemas import ReportCreate
from pulse_intake.handlers.open311 import request_to_report, request_view
from pulse_intake.handlers.seed import default_topics, lao_cai_units, legacy_units
from pulse_intake.settings import IntakeSettings
from pydantic import ValidationError

BODY: dict[str, Any] = {
    "unit_code": "04252",
    "channel": "zalo",
    "title": "Giá điện",
    "content": "Người dân phản ánh",
    "observed_at": "2026-11-20T08:00:00+07:00",
}


@pytest.mark.parametrize(
    "change",
    [
        {"unit_code": {"$gt": ""}},
        {"title": 5},
        {"title": ["a"]},
        {"x": 1},
        {"people_count": "3"},
        {"observed_at": "hôm qua"},
    ],
)
def test_report_schema_is_strict(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ReportCreate.model_validate({**BODY, **change})


def test_open311_fields_map_onto_a_report() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    fields = {"service_code": "moi-truong", "description": "Khói bụi " * 40, "lat": 21.7, "long": 104.9,
              "unit_code": "04252", "address_string": "Tổ 3"}  # fmt: skip
    report = ReportCreate.model_validate(request_to_report(fields, now))
    assert report.topic_codes == ["moi-truong"]
    assert len(report.title) <= 200
    assert report.content.endswith("Địa chỉ: Tổ 3")
    assert report.location is not None
    assert report.location.lon == 104.9
    doc = {**report.model_dump(), "_id": "r1", "status": "resolved", "received_at": now}
    view = request_view(doc, {"moi-truong": "Môi trường"})
    assert view["status"] == "closed"
    assert view["service_name"] == "Môi trường"


def test_production_requires_a_real_admin_password() -> None:
    secrets = {
        "jwt_secret": "kX9-vQ2rT7wL4mZ8pB1nC6yH3dF5gJ0sA",
        "pseudonym_key": "Rt5-Yu8iO2pLk3Jh7Gf1Ds4Aq9Zx6Cv0Bn",
        "ack_secret": "Mn4-Bv7cX1zQw5Er8Ty2Ui6Op3As0Df9Gh",
    }
    with pytest.raises(ValidationError, match="PULSE_ADMIN_PASSWORD"):
        IntakeSettings(env="production", **secrets)
    for placeholder in ("CHANGE-ME-long-admin-password", "aaaaaaaaaaaaaaaa"):
        with pytest.raises(ValidationError, match="PULSE_ADMIN_PASSWORD"):
            IntakeSettings(env="production", admin_username="quantri", admin_password=placeholder, **secrets)
    ok = IntakeSettings(env="production", admin_username="quantri", admin_password="mot-mat-khau-dai-2026", **secrets)
    assert ok.first_admin == ("quantri", "mot-mat-khau-dai-2026")
    assert IntakeSettings(env="test").first_admin == ("admin", "pulse-admin-dev-password")


def test_seed_data() -> None:
    units = lao_cai_units()
    assert units[0] == {
        "code": "15",
        "name": "Tỉnh Lào Cai",
        "kind": "province",
        "parent_code": None,
        "replaced_by": None,
    }
    wards = {u["code"]: u for u in units[1:]}
    assert len(wards) == 99
    assert wards["04252"]["name"] == "Phường Yên Bái"
    assert wards["04252"]["kind"] == "ward"
    old_city = {u["code"]: u for u in legacy_units()}["132"]
    # Thành phố Yên Bái (cũ) became four wards of Lào Cai on 1 July 2025.
    assert {(s["code"], s["since"]) for s in old_city["replaced_by"]} == {
        (code, "2025-07-01") for code in ("04252", "04279", "04273", "04543")
    }
    assert {s["code"] for s in old_city["replaced_by"]} <= set(wards)
    topics = {t["code"]: t for t in default_topics()}
    assert {"dat-dai", "giai-phong-mat-bang", "ton-giao", "dan-toc", "an-ninh-trat-tu"} <= {
        c for c, t in topics.items() if t["sensitive"]
    }
    assert topics["tin-don-mang-xa-hoi"]["name"] == "Tin đồn trên mạng xã hội"
