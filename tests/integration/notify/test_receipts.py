"""A report written to the Zalo OA gets exactly one receipt: intake's `pulse.report.receipt.v1` and notify's
own receipt for `pulse.report.submitted.v1` share one delivery, in either order. Real Kafka and store."""

from __future__ import annotations

import json
from typing import Any

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent, new_event

UNIT = "04252"  # Phường Yên Bái: every event below has this key, so one partition keeps their order
USER = "u-ctv-mai"
RECIPIENT = f"us_{USER}"


def user_changed() -> tuple[str, CloudEvent]:
    data = intake_events.UserChanged(
        user_id=USER,
        username="ctv.mai",
        full_name="Lương Thị Mai",
        role="collaborator",
        unit_codes=[UNIT],
        email="mai@example.invalid",
        phone="+84912000009",
        zalo_user_id="8490000009",
        active=True,
        version=1,
        changed_at=utcnow(),
    )
    event = new_event(intake_events.USER_CHANGED, source=intake_events.SOURCE, data=data, key=USER)
    return topics.INTAKE_DIRECTORY, event


def submitted(report_id: str, channel: str) -> tuple[str, CloudEvent]:
    now = utcnow()
    data = intake_events.ReportSubmitted(
        report_id=report_id,
        unit_code=UNIT,
        channel=channel,
        title=f"Cống thoát nước tổ 3 bị tắc ({report_id})",
        content="Nước thải tràn ra đường sau mưa, bà con đề nghị nạo vét.",
        observed_at=now,
        received_at=now,
        reporter_id=USER,
    )
    event = new_event(intake_events.REPORT_SUBMITTED, source=intake_events.SOURCE, data=data, key=UNIT)
    return topics.INTAKE_REPORTS, event


def intake_receipt(report_id: str) -> tuple[str, CloudEvent]:
    data = intake_events.ReportReceipt(
        report_id=report_id,
        unit_code=UNIT,
        recipient_id=USER,
        channel="zalo",
        message=f"Pulse đã tiếp nhận phản ánh của đồng chí. Mã tiếp nhận: {report_id.upper()}.",
        received_at=utcnow(),
    )
    event = new_event(
        intake_events.REPORT_RECEIPT,
        source=intake_events.SOURCE,
        data=data,
        key=UNIT,
        event_id=f"receipt-{report_id}",
    )
    return topics.INTAKE_REPORTS, event


async def test_a_report_through_zalo_gets_one_receipt_in_either_event_order(
    notify_settings: Any, gateways: Any, smtp: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await helpers.publish(settings, user_changed())

        async def known() -> bool:
            answer = await client.get(f"/v1/recipients/{RECIPIENT}", headers=admin)
            return bool(answer.status_code == 200)

        await helpers.eventually(known)
        await helpers.publish(
            settings,
            submitted("r-oa-truoc", "zalo"),  # the order intake writes them in
            intake_receipt("r-oa-truoc"),
            intake_receipt("r-oa-sau"),  # and the other order
            submitted("r-oa-sau", "zalo"),
            submitted("r-oa-sau", "zalo"),  # a redelivery changes nothing either
            submitted("r-web", "phone"),  # last on the partition: once it is handled, all above were
        )

        async def all_sent() -> list[dict[str, Any]] | None:
            page = await client.get("/v1/deliveries", params={"recipient_id": RECIPIENT}, headers=admin)
            items: list[dict[str, Any]] = page.json()["items"]
            sent = [d for d in items if d["status"] == "sent"]
            return items if len(sent) >= 3 and len(sent) == len(items) else None

        items = await helpers.eventually(all_sent)
        # one Zalo receipt per OA report; the web-form report gets notify's receipt on every channel, as before
        assert sorted(d["channel"] for d in items) == ["email", "sms", "zalo", "zalo", "zalo"]
        zalo_texts = [json.loads(r.body)["message"]["text"] for r in gateways.ok("/zalo")]
        assert len(zalo_texts) == 3, zalo_texts
        assert sum("r-oa-truoc" in t.lower() for t in zalo_texts) == 1
        assert sum("r-oa-sau" in t.lower() for t in zalo_texts) == 1
        assert sum("r-web" in t for t in zalo_texts) == 1
        # whichever event came first wrote the one receipt: notify's template, or intake's own text
        (first,) = [t for t in zalo_texts if "r-oa-truoc" in t]
        assert "Mã phản ánh: r-oa-truoc" in first
        (second,) = [t for t in zalo_texts if "r-oa-sau" in t.lower()]
        assert "Mã tiếp nhận: R-OA-SAU" in second
        assert len(smtp.messages) == 1
        assert "r-web" in smtp.messages[0].get_body(preferencelist=("plain",)).get_content()
        assert len(gateways.at("/sms")) == 1
