"""Webhook projections never carry identities, key hashes or free text; webhooks connect to the vetted address."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pulse_libs.events import intake, notify, public, triage
from pulse_libs.events.catalog import CATALOG
from pulse_libs.events.schema import asyncapi
from pulse_notify.adapters.channels import Outgoing, WebhookChannel, pinned
from pulse_notify.domain.model import Message
from pulse_notify.domain.retry import DeliveryFailed
from pulse_notify.settings import NotifySettings

FORBIDDEN = {
    "reporter_id",
    "respondent_id",
    "answers",
    "key_hash",
    "actor_id",
    "comment",
    "outcome",
    "reporter_ids",
    "by",
    "note",
    "recipient_id",
    "last_error",
    "content",
    "location",
    "external_ref",
    "source_url",
    "published_by",
    "full_name",
    "username",
    "phone",
    "email",
    "zalo_user_id",
    "user_id",
    "message",
}


def test_every_catalogued_type_has_a_decision_and_none_forwards_identity() -> None:
    for spec in CATALOG:
        assert spec.event_type in public.PROJECTIONS, spec.event_type
        fields = public.PROJECTIONS[spec.event_type]
        if fields is not None:
            assert not FORBIDDEN & set(fields), spec.event_type
            assert set(fields) - {"answered"} <= set(spec.schema.model_fields), spec.event_type
    assert not public.forwarded(intake.USER_CHANGED)
    assert not public.forwarded("pulse.something.new.v1")  # fail closed


def test_projection_of_a_survey_response_keeps_only_the_question_codes() -> None:
    data = {
        "survey_id": "s1",
        "response_id": "r1",
        "unit_code": "04252",
        "respondent_id": "u-9",
        "answers": {"q1": "Tôi là Nguyễn Văn A, nhà ở tổ 3", "q2": 4},
        "submitted_at": "2026-12-01T00:00:00Z",
    }
    out = public.project(intake.SURVEY_RESPONSE_SUBMITTED, data)
    assert out == {
        "survey_id": "s1",
        "response_id": "r1",
        "unit_code": "04252",
        "answered": ["q1", "q2"],
        "submitted_at": "2026-12-01T00:00:00Z",
    }
    key = public.project(intake.API_KEY_ISSUED, {"key_id": "k", "name": "n", "key_hash": "ab" * 32, "scopes": []})
    assert key == {"key_id": "k", "name": "n", "scopes": []}
    esc = public.project(
        triage.ESCALATION_RESOLVED,
        {"escalation_id": "e", "actor_id": "u-1", "comment": "anh Bình", "reporter_ids": ["u-2"], "outcome": "x"},
    )
    assert esc == {"escalation_id": "e"}
    assert public.project(notify.DELIVERY_DEAD, {"delivery_id": "d", "recipient_id": "us_u1"}) == {"delivery_id": "d"}


def test_the_asyncapi_document_lists_each_projection() -> None:
    messages = {m["name"]: m for m in asyncapi()["components"]["messages"].values()}
    submitted = messages[intake.REPORT_SUBMITTED]
    assert "reporter_id" not in submitted["x-webhook-projection"]["fields"]
    assert messages[intake.USER_CHANGED]["x-webhook-projection"] == "not forwarded to webhooks"


def test_pinned_url_keeps_the_name_for_host_and_tls() -> None:
    url, host, ext = pinned("https://hooks.example.vn:8443/a?b=1", "203.0.113.7")
    assert url == "https://203.0.113.7:8443/a?b=1"
    assert host == "hooks.example.vn:8443"
    assert ext == {"sni_hostname": "hooks.example.vn"}
    url, host, ext = pinned("http://[2606:4700::1111]/x", "2606:4700::1111")
    assert (url, host, ext) == ("http://[2606:4700::1111]/x", None, {})


async def test_webhook_connects_to_the_address_it_vetted_not_a_second_resolution(monkeypatch: Any) -> None:
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])  # a rebinding DNS: public first, loopback next

    async def fake_getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    import asyncio

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    settings = NotifySettings.model_construct(
        **{**NotifySettings().model_dump(), "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel(settings, client)
        out = Outgoing(
            id="dl_1",
            address="https://hooks.example.vn/in",
            message=Message("s", "t", data={"a": 1}),
            event_type="pulse.x",
            event_time=datetime.now(UTC),
        )
        await channel.send(out)
        assert str(seen[0].url) == "https://93.184.215.14/in"
        assert seen[0].headers["host"] == "hooks.example.vn"
        assert seen[0].extensions["sni_hostname"] == "hooks.example.vn"
        with pytest.raises(DeliveryFailed) as refused:  # the next resolution answers loopback: refused
            await channel.send(out)
        assert "non-public" in refused.value.reason
        assert len(seen) == 1
