"""Escalation notices over every channel, against real Kafka, the real store and local protocol servers."""

from __future__ import annotations

from typing import Any

import pulse_libs.events.triage as triage_events
from pulse_libs import acktoken
from pulse_libs.clock import utcnow

OFFICER = {
    "name": "Nguyễn Văn An",
    "targets": ["duty_officer"],
    "channels": {"email": "an@example.invalid", "phone": "+84912000001", "zalo_user_id": "8412345"},
}


async def test_escalation_reaches_each_recipient_of_its_level_once_per_channel(
    notify_settings: Any, gateways: Any, smtp: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        an = await client.post(
            "/v1/recipients",
            json=OFFICER | {"channels": OFFICER["channels"] | {"webhook_url": f"{gateways.base_url}/hook/an"}},
            headers=admin,
        )
        assert an.status_code == 201, an.text
        gateways.secrets["an"] = helpers.secret_of(an.json())
        ward = {"name": "Trần Thị Bình", "targets": ["duty_officer"], "unit_codes": ["04252"]}
        other_ward = {"name": "Lê Văn Cường", "targets": ["duty_officer"], "unit_codes": ["04279"]}
        head = {"name": "Phạm Thị Dung", "targets": ["department_head"]}
        for person, mail in ((ward, "binh"), (other_ward, "cuong"), (head, "dung")):
            answer = await client.post(
                "/v1/recipients", json=person | {"channels": {"email": f"{mail}@example.invalid"}}, headers=admin
            )
            assert answer.status_code == 201, answer.text

        raised = helpers.escalation(escalation_id="esc-a1", unit_code="04252")
        replayed = helpers.escalation(escalation_id="esc-a1", unit_code="04252")  # re-emitted, new event id
        await helpers.publish(settings, raised, raised, replayed)

        async def all_sent() -> bool:
            page = (await client.get("/v1/deliveries?status=sent", headers=admin)).json()
            return len(page["items"]) >= 5

        await helpers.eventually(all_sent)
        # a moment for any duplicate to show up, then count what the outside world received
        await helpers.eventually(lambda: len(smtp.messages) >= 2)
        deliveries = (await client.get("/v1/deliveries", headers=admin)).json()["items"]
        assert sorted(d["channel"] for d in deliveries) == ["email", "email", "sms", "webhook", "zalo"]
        assert all(d["status"] == "sent" and d["attempts"] == 1 for d in deliveries)

        assert sorted(m["To"] for m in smtp.messages) == ["an@example.invalid", "binh@example.invalid"]
        mail = smtp.to("binh@example.invalid")[0]
        assert mail["Subject"].startswith("[HỎA TỐC] Cảnh báo điểm nóng DLXH")
        plain = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert "Kính gửi đồng chí Trần Thị Bình" in plain
        assert "Số phản ánh: 3, từ 2 nguồn" in plain
        link = next(w for w in plain.split() if w.startswith(f"{settings.console_base_url}/ack/"))
        claim = acktoken.verify(settings.ack_secret, link.rsplit("/", 1)[1], now=utcnow())
        assert (claim.escalation_id, claim.level, claim.channel) == ("esc-a1", 1, "email")
        assert f'href="{link}"' in html

        zalo = gateways.ok("/zalo")
        assert len(zalo) == 1
        assert zalo[0].headers["access_token"] == "test-oa-token"
        assert zalo[0].json()["recipient"] == {"user_id": "8412345"}
        assert zalo[0].json()["message"]["text"].startswith("[HỎA TỐC] Cảnh báo điểm nóng DLXH")
        sms = gateways.ok("/sms")
        assert len(sms) == 1
        assert sms[0].json()["to"] == "+84912000001"
        assert sms[0].json()["from"] == "BTG-LAOCAI"
        hooks = gateways.ok("/hook/an")
        assert len(hooks) == 1
        assert not gateways.bad_signatures
        assert hooks[0].json()["type"] == triage_events.ESCALATION_RAISED
        assert hooks[0].json()["data"]["event"]["escalation_id"] == "esc-a1"
        assert hooks[0].json()["data"]["ack_url"].startswith(f"{settings.console_base_url}/ack/")
        assert "actor_id" not in hooks[0].json()["data"]["event"]  # the public projection
        hook_delivery = next(d for d in deliveries if d["channel"] == "webhook")
        assert hooks[0].headers["webhook-id"] == hook_delivery["id"]

        # the next level pages the department head only
        await helpers.publish(
            settings,
            helpers.escalation(
                triage_events.ESCALATION_ESCALATED, escalation_id="esc-a1", level=2, target="department_head"
            ),
        )
        await helpers.eventually(lambda: smtp.to("dung@example.invalid"))
        assert "Chuyển cấp 2" in smtp.to("dung@example.invalid")[0]["Subject"]
        assert len(smtp.messages) == 3
        assert len(gateways.ok("/zalo")) == 1


async def test_reminders_are_sent_once_per_sequence_and_closing_notices_follow(
    notify_settings: Any, smtp: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        answer = await client.post(
            "/v1/recipients",
            json={"name": "Nguyễn Văn An", "targets": ["duty_officer"], "channels": {"email": "an@example.invalid"}},
            headers=admin,
        )
        assert answer.status_code == 201
        reminded = triage_events.ESCALATION_REMINDED
        await helpers.publish(
            settings,
            helpers.escalation(escalation_id="esc-r"),
            helpers.escalation(reminded, escalation_id="esc-r", reminder_seq=1),
            helpers.escalation(reminded, escalation_id="esc-r", reminder_seq=1),
            helpers.escalation(reminded, escalation_id="esc-r", reminder_seq=2),
            helpers.escalation(triage_events.ESCALATION_ACKNOWLEDGED, escalation_id="esc-r"),
        )
        await helpers.eventually(lambda: len(smtp.messages) >= 4)
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert len([s for s in subjects if "Nhắc lần 1" in s]) == 1
        assert len([s for s in subjects if "Nhắc lần 2" in s]) == 1
        assert len([s for s in subjects if "Đã tiếp nhận xử lý" in s]) == 1
        page = (await client.get("/v1/deliveries", headers=admin)).json()
        assert len(page["items"]) == 4
