"""Orientations and bulletins reach the collaborators of their units; registry names appear in notices."""

from __future__ import annotations

from typing import Any

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
from pulse_libs.auth import new_api_key
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import new_event

COLLABORATORS = [
    ("Hoàng Thị Hoa", ["04252"], "hoa"),  # Phường Yên Bái
    ("Đỗ Văn Hùng", ["04279"], "hung"),  # Phường Văn Phú
    ("Vũ Thị Lan", [], "lan"),  # every unit
]


async def add_collaborators(client: Any, admin: dict[str, str]) -> None:
    for name, units, mail in COLLABORATORS:
        answer = await client.post(
            "/v1/recipients",
            json={
                "name": name,
                "targets": ["collaborator"],
                "unit_codes": units,
                "channels": {"email": f"{mail}@example.invalid"},
            },
            headers=admin,
        )
        assert answer.status_code == 201, answer.text


def registry_events() -> list[tuple[str, Any]]:
    unit = intake_events.UnitUpserted(code="04252", name="Phường Yên Bái", kind="ward", parent_code="15")
    topic = intake_events.TopicUpserted(code="dat-dai", name="Quản lý đất đai, giải phóng mặt bằng", sensitive=True)
    return [
        (
            topics.INTAKE_REGISTRY,
            new_event(intake_events.UNIT_UPSERTED, source=intake_events.SOURCE, data=unit, key="04252"),
        ),
        (
            topics.INTAKE_REGISTRY,
            new_event(intake_events.TOPIC_UPSERTED, source=intake_events.SOURCE, data=topic, key="dat-dai"),
        ),
    ]


async def test_orientation_reaches_the_collaborators_of_its_units(
    notify_settings: Any, smtp: Any, helpers: Any, mongo: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await add_collaborators(client, admin)
        orientation = intake_events.OrientationPublished(
            orientation_id="or-2026-11",
            period="2026-11",
            title="Định hướng nắm bắt dư luận tháng 11/2026",
            guidance="Tập trung nắm bắt dư luận về bồi thường, giải phóng mặt bằng dự án đường nối.",
            topic_codes=["dat-dai"],
            unit_codes=["04252"],
            published_at=utcnow(),
            published_by="u-department",
        )
        event = new_event(
            intake_events.ORIENTATION_PUBLISHED, source=intake_events.SOURCE, data=orientation, key="or-2026-11"
        )
        await helpers.publish(settings, *registry_events())
        names = mongo[settings.mongo_db]["topics"]
        await helpers.eventually(lambda: names.find_one({"_id": "dat-dai"}))  # mirrored by another consumer group
        await helpers.publish(settings, (topics.INTAKE_CAMPAIGNS, event))
        await helpers.eventually(lambda: len(smtp.messages) >= 2)
        assert sorted(m["To"] for m in smtp.messages) == ["hoa@example.invalid", "lan@example.invalid"]
        text = smtp.to("hoa@example.invalid")[0].get_body(preferencelist=("plain",)).get_content()
        assert "ban hành định hướng nắm bắt dư luận xã hội kỳ 2026-11" in text
        assert "Phường Yên Bái" in text
        assert "Quản lý đất đai, giải phóng mặt bằng" in text


async def test_bulletin_answers_202_with_the_deliveries_recorded_and_fans_out(
    notify_settings: Any, smtp: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    department = helpers.auth(settings, "department")
    async with helpers.running(settings) as client:
        await add_collaborators(client, admin)
        bulletin = {
            "title": "Thông tin chuyên đề: phòng chống lừa đảo qua mạng",
            "body": "Đề nghị cộng tác viên tuyên truyền tới nhân dân các thủ đoạn lừa đảo mới.",
            "unit_codes": [],
            "topic_codes": ["an-ninh-mang"],
        }
        answer = await client.post("/v1/bulletins", json=bulletin, headers=department)
        assert answer.status_code == 202, answer.text
        assert answer.json()["deliveries"] == 3
        assert answer.json()["id"].startswith("bl_")
        await helpers.eventually(lambda: len(smtp.messages) == 3)
        assert smtp.messages[0]["Subject"] == "Thông tin chuyên đề: Thông tin chuyên đề: phòng chống lừa đảo qua mạng"

        targeted = await client.post("/v1/bulletins", json=bulletin | {"unit_codes": ["04279"]}, headers=department)
        assert targeted.json()["deliveries"] == 2  # Văn Phú's collaborator and the one covering every unit
        forbidden = await client.post("/v1/bulletins", json=bulletin, headers=helpers.auth(settings, "collaborator"))
        assert forbidden.status_code == 403
        invalid = await client.post("/v1/bulletins", json=bulletin | {"title": ""}, headers=department)
        assert invalid.status_code == 422


async def test_api_keys_mirrored_from_intake_authenticate_but_hold_no_notify_scope(
    notify_settings: Any, helpers: Any
) -> None:
    settings = notify_settings()
    key_id, key, key_hash = new_api_key()
    issued = intake_events.ApiKeyIssued(
        key_id=key_id, name="Cổng thông tin tỉnh", key_hash=key_hash, scopes=["reports:write"], issued_at=utcnow()
    )
    async with helpers.running(settings) as client:
        await helpers.publish(
            settings,
            (
                topics.INTAKE_REGISTRY,
                new_event(intake_events.API_KEY_ISSUED, source="pulse/intake", data=issued, key=key_id),
            ),
        )

        async def mirrored() -> bool:
            return (await client.get("/v1/deliveries", headers={"X-API-Key": key})).status_code == 403

        await helpers.eventually(mirrored)
        unknown = await client.get("/v1/deliveries", headers={"X-API-Key": key + "x"})
        assert unknown.status_code == 401


async def test_a_reporter_who_is_a_recipient_gets_a_receipt_once(notify_settings: Any, smtp: Any, helpers: Any) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        answer = await client.post(
            "/v1/recipients",
            json={
                "name": "Hoàng Thị Hoa",
                "targets": ["collaborator", "reporter"],
                "unit_codes": ["04252"],
                "user_id": "u-ctv-hoa",
                "channels": {"email": "hoa@example.invalid"},
            },
            headers=admin,
        )
        assert answer.status_code == 201
        assert answer.json()["user_id"] == "u-ctv-hoa"
        now = utcnow()
        reports = []
        for report_id, reporter in (("r-hoa", "u-ctv-hoa"), ("r-khac", "u-ctv-khac")):
            data = intake_events.ReportSubmitted(
                report_id=report_id,
                unit_code="04252",
                channel="zalo",
                title="Đường tổ 5 ngập sau mưa",
                content="Nhiều hộ dân phản ánh đường tổ 5 ngập sâu sau mưa lớn.",
                observed_at=now,
                received_at=now,
                reporter_id=reporter,
            )
            event = new_event(intake_events.REPORT_SUBMITTED, source=intake_events.SOURCE, data=data, key="04252")
            reports += [(topics.INTAKE_REPORTS, event), (topics.INTAKE_REPORTS, event)]
        await helpers.publish(settings, *reports)
        await helpers.eventually(lambda: smtp.messages)
        page = (await client.get("/v1/deliveries", headers=admin)).json()
        assert len(page["items"]) == 1
        assert smtp.messages[0]["Subject"] == "Đã nhận phản ánh: Đường tổ 5 ngập sau mưa"
        assert "Mã phản ánh: r-hoa" in smtp.messages[0].get_body(preferencelist=("plain",)).get_content()
