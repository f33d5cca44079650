"""Transient failures are retried with backoff; permanent ones are dead at once, with the reason and an event."""

from __future__ import annotations

from typing import Any

import pulse_libs.events.notify as notify_events
import pulse_libs.events.topics as topics


async def add(client: Any, admin: dict[str, str], name: str, **channels: str) -> str:
    answer = await client.post(
        "/v1/recipients", json={"name": name, "targets": ["duty_officer"], "channels": channels}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def delivery(client: Any, admin: dict[str, str], channel: str, status: str) -> dict[str, Any] | None:
    page = (await client.get(f"/v1/deliveries?channel={channel}&status={status}", headers=admin)).json()
    return page["items"][0] if page["items"] else None


async def test_gateway_answering_503_twice_then_200_gets_three_attempts_and_one_message(
    notify_settings: Any, gateways: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    gateways.script("/sms", (503, {"status": "busy"}), (503, {"status": "busy"}))
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", phone="+84912000001")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-503"))

        async def sent() -> dict[str, Any] | None:
            return await delivery(client, admin, "sms", "sent")

        done = await helpers.eventually(sent)
        assert done["attempts"] == 3
        assert done["last_error"] is None
        requests = gateways.at("/sms")
        assert [r.status for r in requests] == [503, 503, 200]
        assert len({r.json()["request_id"] for r in requests}) == 1  # the same message, retried
        assert {r.headers["idempotency-key"] for r in requests} == {done["id"]}
        assert requests[0].headers["authorization"].startswith("Basic ")
        assert requests[1].at - requests[0].at >= 0.1  # backoff, not a hot loop


async def test_429_retry_after_is_honoured(notify_settings: Any, gateways: Any, helpers: Any) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    gateways.script("/zalo", (429, {"error": -32, "message": "rate limit"}, {"Retry-After": "2"}))
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", zalo_user_id="8412345")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-429"))
        await helpers.eventually(lambda: delivery(client, admin, "zalo", "sent"))
        first, second = gateways.at("/zalo")
        assert first.status == 429
        assert second.at - first.at >= 1.9


async def test_gateway_answering_400_is_not_retried_and_the_delivery_is_dead_with_the_reason(
    notify_settings: Any, gateways: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    gateways.script("/sms", (400, {"status": "rejected", "reason": "số điện thoại không hợp lệ"}))
    gateways.script("/zalo", (200, {"error": -213, "message": "User has not followed OA"}))
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", phone="+84912000001", zalo_user_id="8412345")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-400"))
        sms = await helpers.eventually(lambda: delivery(client, admin, "sms", "dead"))
        zalo = await helpers.eventually(lambda: delivery(client, admin, "zalo", "dead"))
        assert sms["attempts"] == 1
        assert "HTTP 400" in sms["last_error"]
        assert "số điện thoại không hợp lệ" in sms["last_error"]
        assert zalo["attempts"] == 1
        assert "Zalo OA error -213" in zalo["last_error"]
        assert len(gateways.at("/sms")) == 1
        assert len(gateways.at("/zalo")) == 1
        outcomes = await helpers.read_topic(settings, topics.NOTIFY_DELIVERIES, 2)
        dead = {e.data["delivery_id"]: e for e in outcomes if e.type == notify_events.DELIVERY_DEAD}
        assert set(dead) == {sms["id"], zalo["id"]}
        assert dead[sms["id"]].data["last_error"] == sms["last_error"]
        assert dead[sms["id"]].data["escalation_id"] == "esc-400"
        metrics = (await client.get("/metrics")).text
        assert 'pulse_deliveries_total{channel="sms",status="dead"} 1.0' in metrics
        assert 'pulse_delivery_attempts_total{channel="zalo",outcome="permanent"} 1.0' in metrics


async def test_an_exhausted_retry_budget_is_dead(notify_settings: Any, gateways: Any, helpers: Any) -> None:
    settings = notify_settings(max_attempts=3, backoff_initial_seconds=0.05, backoff_max_seconds=0.1)
    admin = helpers.auth(settings)
    gateways.script("/sms", *[(502, {"status": "down"})] * 5)
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", phone="+84912000001")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-budget"))
        dead = await helpers.eventually(lambda: delivery(client, admin, "sms", "dead"))
        assert dead["attempts"] == 3
        assert dead["last_error"].startswith("retry budget exhausted")
        assert len(gateways.at("/sms")) == 3


async def test_smtp_answers_decide_between_retry_and_dead(notify_settings: Any, smtp: Any, helpers: Any) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    smtp.mailbox.answers["tam-hoan@example.invalid"] = ["451 4.3.0 thử lại sau"]
    smtp.mailbox.answers["khong-ton-tai@example.invalid"] = ["550 5.1.1 không có hộp thư này"]
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", email="tam-hoan@example.invalid")
        await add(client, admin, "Trần Thị Bình", email="khong-ton-tai@example.invalid")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-smtp"))
        await helpers.eventually(lambda: smtp.to("tam-hoan@example.invalid"))
        dead = await helpers.eventually(lambda: delivery(client, admin, "email", "dead"))
        sent = await helpers.eventually(lambda: delivery(client, admin, "email", "sent"))
        assert sent["attempts"] == 2
        assert dead["attempts"] == 1
        assert "550" in dead["last_error"]
        assert len(smtp.messages) == 1


async def test_a_channel_rate_limit_spaces_the_messages(notify_settings: Any, gateways: Any, helpers: Any) -> None:
    settings = notify_settings(rate_sms_per_second=4.0, rate_burst=1)
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        for i in range(4):
            await add(client, admin, f"Cán bộ trực {i}", phone=f"+8491200000{i}")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-rate"))
        await helpers.eventually(lambda: len(gateways.ok("/sms")) == 4)
        times = sorted(r.at for r in gateways.ok("/sms"))
        assert times[-1] - times[0] >= 0.7  # 4 messages at 4/s with a burst of 1: at least 3 × 0.25 s
