"""Outbound webhook subscriptions: signed per Standard Webhooks; private targets refused unless allowed."""

from __future__ import annotations

from typing import Any

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as triage_events
import pytest
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import new_event
from pulse_notify.adapters.channels import Outgoing, WebhookChannel
from pulse_notify.domain.model import Message
from pulse_notify.domain.retry import DeliveryFailed


def report_event(report_id: str) -> tuple[str, Any]:
    now = utcnow()
    data = intake_events.ReportSubmitted(
        report_id=report_id,
        unit_code="04252",
        channel="hotline",
        title="Người dân phản ánh việc thu hồi đất",
        content="Nhiều hộ dân tổ 3 phường Yên Bái chưa đồng thuận phương án bồi thường.",
        observed_at=now,
        received_at=now,
        reporter_id="u-ctv-1",
    )
    return topics.INTAKE_REPORTS, new_event(
        intake_events.REPORT_SUBMITTED, source=intake_events.SOURCE, data=data, key="04252", subject=report_id
    )


async def test_subscribers_receive_signed_events_of_their_types_only(
    notify_settings: Any, gateways: Any, helpers: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        answer = await client.post(
            "/v1/webhooks",
            json={"url": f"{gateways.base_url}/hook/tinh", "event_types": [intake_events.REPORT_SUBMITTED]},
            headers=admin,
        )
        assert answer.status_code == 201, answer.text
        subscription = answer.json()
        gateways.secrets["tinh"] = helpers.secret_of(subscription)
        listed = (await client.get("/v1/webhooks", headers=admin)).json()["items"]
        assert [w["id"] for w in listed] == [subscription["id"]]
        assert listed[0]["secret"] is None  # shown once

        topic, event = report_event("r-100")
        await helpers.publish(settings, (topic, event), (topic, event), helpers.escalation(escalation_id="esc-w"))
        received = await helpers.eventually(lambda: gateways.ok("/hook/tinh"))
        assert not gateways.bad_signatures
        body = received[0].json()
        assert body["type"] == intake_events.REPORT_SUBMITTED
        assert body["data"]["report_id"] == "r-100"
        assert body["data"]["id"] == event.id
        # the public projection: no reporter id, no free-text body
        assert "reporter_id" not in body["data"]
        assert "content" not in body["data"]
        assert "u-ctv-1" not in received[0].body.decode()
        deliveries = (await client.get(f"/v1/deliveries?event_id={event.id}", headers=admin)).json()["items"]
        assert len(deliveries) == 1
        assert received[0].headers["webhook-id"] == deliveries[0]["id"]
        # the escalation (not subscribed) produced no webhook delivery
        hooks = (await client.get("/v1/deliveries?channel=webhook", headers=admin)).json()["items"]
        assert len(hooks) == 1

        people = await client.post(
            "/v1/webhooks",
            json={"url": f"{gateways.base_url}/hook/x", "event_types": [intake_events.USER_CHANGED]},
            headers=admin,
        )
        assert people.status_code == 422
        assert people.json()["errors"][0]["field"] == "event_types.0"

        assert (await client.delete(f"/v1/webhooks/{subscription['id']}", headers=admin)).status_code == 204
        assert (await client.get(f"/v1/webhooks/{subscription['id']}", headers=admin)).status_code == 404


async def test_a_wrong_secret_fails_verification_at_the_receiver(
    notify_settings: Any, gateways: Any, helpers: Any
) -> None:
    settings = notify_settings(max_attempts=1)
    admin = helpers.auth(settings)
    gateways.secrets["khac"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # not the subscription's secret
    async with helpers.running(settings) as client:
        answer = await client.post(
            "/v1/webhooks",
            json={"url": f"{gateways.base_url}/hook/khac", "event_types": [triage_events.ESCALATION_RAISED]},
            headers=admin,
        )
        assert answer.status_code == 201
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-sig"))
        await helpers.eventually(lambda: gateways.bad_signatures)
        dead = await helpers.eventually(lambda: _items(client, admin, "/v1/deliveries?status=dead&channel=webhook"))
        assert "HTTP 401" in dead[0]["last_error"]


async def _items(client: Any, admin: dict[str, str], url: str) -> list[dict[str, Any]]:
    return list((await client.get(url, headers=admin)).json()["items"])


async def test_private_address_webhooks_are_refused_unless_allowed(
    notify_settings: Any, gateways: Any, helpers: Any
) -> None:
    settings = notify_settings(webhook_allow_private=False)
    admin = helpers.auth(settings)
    url = f"{gateways.base_url}/hook/noi-bo"
    async with helpers.running(settings) as client:
        for target in (url, "http://169.254.169.254/latest/meta-data", "http://10.0.0.5/hook", "http://[::1]:8080/"):
            answer = await client.post("/v1/webhooks", json={"url": target, "event_types": ["*"]}, headers=admin)
            assert answer.status_code == 422, target
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["errors"][0]["field"] == "url"
        refused = await client.post(
            "/v1/recipients",
            json={"name": "Hệ thống nội bộ", "targets": ["duty_officer"], "channels": {"webhook_url": url}},
            headers=admin,
        )
        assert refused.status_code == 422
        assert (await client.get("/v1/webhooks", headers=admin)).json()["items"] == []
        for bad in ("ftp://example.com/hook", "http://user:matkhau@example.com/hook"):
            answer = await client.post("/v1/webhooks", json={"url": bad, "event_types": ["*"]}, headers=admin)
            assert answer.status_code == 422, bad

    # At send time too (DNS may change after subscription): the adapter refuses before connecting.
    import httpx

    async with httpx.AsyncClient() as http:
        channel = WebhookChannel(settings, http)
        out = Outgoing(
            id="dl_test",
            address=url,
            message=Message(subject="x", text="x", data={"a": 1}),
            event_type="pulse.test",
            event_time=utcnow(),
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        )
        with pytest.raises(DeliveryFailed) as refused_send:
            await channel.send(out)
        assert not refused_send.value.transient
        assert "refused" in refused_send.value.reason
        assert gateways.at("/hook/noi-bo") == []

        allowed = WebhookChannel(notify_settings(webhook_allow_private=True), http)
        gateways.secrets["noi-bo"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        await allowed.send(out)
        assert len(gateways.ok("/hook/noi-bo")) == 1
