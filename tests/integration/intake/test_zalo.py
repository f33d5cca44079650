"""Inbound Zalo OA webhook against the real store and Kafka: signed as Zalo signs, one report per msg_id."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.zalo import signature
from pulse_intake.bootstrap import bootstrap
from pulse_intake.handlers.people import create_user
from pulse_libs.events import intake as ev
from pulse_libs.events.topics import INTAKE_REPORTS
from pymongo import AsyncMongoClient

from .conftest import MONGO, Intake, intake_settings
from .helpers import YEN_BAI, assert_problem, count, read_events

APP_ID = "2553928453557884079"
OA_SECRET = "oa-secret-for-tests-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
async def zintake(infra: None) -> AsyncIterator[Intake]:
    """An intake configured with a Zalo OA."""
    settings = intake_settings(zalo_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET)
    app = bootstrap(settings)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app, client=("10.1.2.3", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Intake(app=app, client=client, settings=settings)
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, serverSelectionTimeoutMS=3000)
        try:
            await mongo.drop_database(settings.mongo_db)
        finally:
            await mongo.close()


def _event(sender: str, *, name: str = "user_send_text", text: str | None = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"msg_id": uuid.uuid4().hex[:20]}
    if text is not None:
        message["text"] = text
    if name == "user_send_image":
        message["attachments"] = [
            {"type": "image", "payload": {"url": "https://photo-stal.zadn.vn/anh/duong-sat-lo.jpg", "thumbnail": ""}}
        ]
    event = {
        "app_id": APP_ID,
        "user_id_by_app": "979122185046046317",
        "event_name": name,
        "sender": {"id": sender},
        "recipient": {"id": "3662729599332560487"},
        "message": message,
        "timestamp": str(int(time.time() * 1000)),
    }
    event.update(extra)
    return event


async def _post(intake: Intake, event: dict[str, Any], *, secret: str = OA_SECRET, sign: bool = True) -> httpx.Response:
    body = json.dumps(event, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["X-ZEvent-Signature"] = signature(
            app_id=APP_ID, body=body, timestamp=str(event["timestamp"]), oa_secret_key=secret
        )
    return await intake.client.post("/v1/channels/zalo/events", content=body, headers=headers)


async def _collaborator(intake: Intake, zalo_id: str, role: str = "collaborator") -> dict[str, Any]:
    return await create_user(
        store=IntakeStore.of(intake.db),
        username=f"ctv.{uuid.uuid4().hex[:8]}",
        password="mat-khau-rat-dai-2026",
        full_name="Vũ Thị Thu Trang",
        role=role,  # type: ignore[arg-type]
        unit_codes=[YEN_BAI],
        phone=None,
        email=None,
        zalo_user_id=zalo_id,
    )


async def test_a_text_from_a_linked_collaborator_becomes_one_report_with_a_receipt(zintake: Intake) -> None:
    user = await _collaborator(zintake, "6142494823000000001")
    text = "Đường lên bản Khe Sang bị sạt lở sau mưa lớn, xe máy không qua được, bà con phải đi bộ vòng qua đồi"
    event = _event("6142494823000000001", text=text)
    first = await _post(zintake, event)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "created"
    report_id = first.json()["report_id"]
    again = await _post(zintake, event)  # Zalo resends the same event
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "report_id": report_id}
    assert await count(zintake.db, "reports", {"reporter_id": user["id"]}) == 1
    report = await zintake.db["reports"].find_one({"_id": report_id})
    assert report["channel"] == "zalo"
    assert report["unit_code"] == YEN_BAI
    assert report["content"] == text
    assert report["title"].startswith("Đường lên bản Khe Sang bị sạt lở")
    assert report["title"].endswith("…")

    def both(events: list[Any]) -> bool:
        return {e.type for e in events if e.subject == report_id} == {ev.REPORT_SUBMITTED, ev.REPORT_RECEIPT}

    events = [e for e in await read_events(zintake.settings, INTAKE_REPORTS, both) if e.subject == report_id]
    receipt = ev.ReportReceipt.model_validate(next(e for e in events if e.type == ev.REPORT_RECEIPT).data)
    assert receipt.recipient_id == user["id"]
    assert receipt.channel == "zalo"
    assert "đã tiếp nhận phản ánh" in receipt.message
    submitted = next(e for e in events if e.type == ev.REPORT_SUBMITTED)
    assert submitted.data["channel"] == "zalo"


async def test_an_image_becomes_a_report_with_its_attachment(zintake: Intake) -> None:
    await _collaborator(zintake, "6142494823000000002")
    response = await _post(zintake, _event("6142494823000000002", name="user_send_image", text="Cầu tràn ngập nước"))
    assert response.json()["status"] == "created"
    report = await zintake.db["reports"].find_one({"_id": response.json()["report_id"]})
    assert report["attachments"][0]["url"] == "https://photo-stal.zadn.vn/anh/duong-sat-lo.jpg"
    assert report["title"] == "Cầu tràn ngập nước"


async def test_bad_signatures_are_refused_and_change_nothing(zintake: Intake) -> None:
    await _collaborator(zintake, "6142494823000000003")
    before = await count(zintake.db, "reports")
    event = _event("6142494823000000003", text="Tin giả mạo")
    assert_problem(await _post(zintake, event, secret="not-the-oa-secret"), 401)
    assert_problem(await _post(zintake, event, sign=False), 401)
    body = json.dumps(event).encode()
    forged = {
        "X-ZEvent-Signature": signature(app_id=APP_ID, body=body, timestamp=event["timestamp"], oa_secret_key=OA_SECRET)
    }
    tampered = body.replace(b"Tin", "Tôi".encode())
    assert_problem(await zintake.client.post("/v1/channels/zalo/events", content=tampered, headers=forged), 401)
    assert_problem(await zintake.client.post("/v1/channels/zalo/events", content=b"not json", headers=forged), 401)
    assert await count(zintake.db, "reports") == before


async def test_valid_but_unusable_events_answer_200_and_change_nothing(zintake: Intake) -> None:
    await _collaborator(zintake, "6142494823000000004", role="standing_committee")
    before = await count(zintake.db, "reports")
    old = str(int((time.time() - 3600) * 1000))
    cases = [
        (_event("6142494823999999999", text="Người lạ nhắn"), "unknown_sender"),
        (_event("6142494823000000004", text="Không phải cộng tác viên"), "unknown_sender"),
        (_event("6142494823000000001", text="Tin cũ gửi lại", timestamp=old), "stale"),
        (_event("6142494823000000001", text="Sai ứng dụng", app_id="1111"), "wrong_app"),
        (_event("6142494823000000001", name="follow"), "ignored"),
        (_event("6142494823000000001", text="   "), "ignored"),
    ]
    for event, status in cases:
        response = await _post(zintake, event)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    assert await count(zintake.db, "reports") == before


async def test_without_zalo_settings_the_webhook_refuses_everything(intake: Intake) -> None:
    event = _event("6142494823000000001", text="Không có cấu hình")
    assert_problem(await _post(intake, event), 401)
