"""The real providers' protocols against local servers that speak them: Zalo OAuth refresh, OA messages
and ZNS, eSMS and SpeedSMS result codes, SMTP with STARTTLS. Real Kafka and store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pulse_libs.claims import LEASES, Lease
from pulse_libs.store import make_client
from pulse_notify.adapters.zalo import REFRESH_LEASE, TOKEN_ID, TOKENS, ZaloTokens
from pulse_notify.metrics import NotifyMetrics

from tests.support.providers import Providers, provider_settings, providers_server, starttls_smtp


@pytest.fixture
async def providers() -> Any:
    async with providers_server() as fake:
        yield fake


async def add(client: Any, admin: dict[str, str], name: str, **channels: str) -> str:
    answer = await client.post(
        "/v1/recipients", json={"name": name, "targets": ["duty_officer"], "channels": channels}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def deliveries(client: Any, admin: dict[str, str], **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page = (await client.get(f"/v1/deliveries?{query}", headers=admin)).json()
    return list(page["items"])


def final(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]] | None:
    done = [d for d in items if d["status"] in ("sent", "dead")]
    return done if len(done) >= n else None


async def test_expired_zalo_token_is_refreshed_and_the_message_resent(
    notify_settings: Any, providers: Providers, helpers: Any
) -> None:
    first_token = providers.issue_access_token()
    providers.interacted.add("8412345")
    settings = notify_settings(
        **provider_settings(providers), zalo_access_token=first_token, zalo_refresh_token=providers.refresh_token
    )
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", zalo_user_id="8412345")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-tok1"))
        await helpers.eventually(lambda: deliveries_sent(client, admin, 1))
        assert providers.at("/v4/oa/access_token") == []
        assert providers.at("/v3.0/oa/message/cs")[0].headers["access_token"] == first_token

        providers.expire_all()  # Zalo OA tokens live ~25 h: now it answers -124
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-tok2"))
        await helpers.eventually(lambda: deliveries_sent(client, admin, 2))
        cs = providers.at("/v3.0/oa/message/cs")
        assert [c.answer["error"] for c in cs] == [0, -124, 0]
        oauth = providers.at("/v4/oa/access_token")
        assert len(oauth) == 1
        form = oauth[0].form()
        assert form["grant_type"] == "refresh_token"
        assert form["refresh_token"] == "rt-0"
        assert oauth[0].headers["secret_key"] == settings.zalo_secret_key
        assert cs[2].headers["access_token"] == oauth[0].answer["access_token"] != first_token
        zalo = await deliveries(client, admin, channel="zalo")
        assert [d["attempts"] for d in zalo] == [1, 1]  # the refresh and resend happen inside one attempt
        state = (await client.get("/v1/channels/zalo/token", headers=admin)).json()
        assert state["generation"] == 1
        assert state["last_error"] is None
        assert "refresh_token" not in state
        metrics = (await client.get("/metrics")).text
        assert 'pulse_zalo_token_refreshes_total{outcome="ok"} 1.0' in metrics


async def deliveries_sent(client: Any, admin: dict[str, str], n: int) -> bool:
    return len(await deliveries(client, admin, status="sent")) >= n


async def test_two_replicas_refreshing_at_once_use_the_refresh_token_once(
    notify_settings: Any, providers: Providers, mongo: Any
) -> None:
    settings = notify_settings(
        **provider_settings(providers), zalo_access_token="", zalo_refresh_token=providers.refresh_token
    )
    providers.oauth_delay = 0.4  # both replicas see the token expire while the first refresh is under way
    import httpx

    stores = []
    clients = []
    for _ in range(2):  # two processes: each its own store client, HTTP client and lock
        db_client = make_client(settings)
        http = httpx.AsyncClient(timeout=5)
        clients.append((db_client, http))
        stores.append(
            ZaloTokens(db_client[settings.mongo_db], settings, http, NotifyMetrics.create(CollectorRegistry()))
        )
    try:
        await stores[0].bootstrap()
        await stores[1].bootstrap()  # the second bootstrap changes nothing
        results = await asyncio.gather(*(stores[i % 2].current() for i in range(6)))
        assert len(providers.at("/v4/oa/access_token")) == 1
        assert {r.value for r in results} == {providers.at("/v4/oa/access_token")[0].answer["access_token"]}
        assert {r.generation for r in results} == {1}
        doc = await mongo[settings.mongo_db][TOKENS].find_one({"_id": TOKEN_ID})
        assert doc["refresh_token"] == providers.refresh_token != "rt-0"  # the rotated one is kept

        # a replica that saw generation 0 fail asks again: it gets generation 1, no second refresh
        again = await stores[1].refresh(0)
        assert again.generation == 1
        assert len(providers.at("/v4/oa/access_token")) == 1

        # a refused refresh (the token was burnt elsewhere) is counted and recorded, not retried in a loop
        providers.refresh_token = "rt-someone-else"
        registry = CollectorRegistry()
        failing = ZaloTokens(clients[0][0][settings.mongo_db], settings, clients[0][1], NotifyMetrics.create(registry))
        with pytest.raises(Exception, match="refresh failed"):
            await failing.refresh(1)
        assert registry.get_sample_value("pulse_zalo_token_refreshes_total", {"outcome": "failed"}) == 1.0
        doc = await mongo[settings.mongo_db][TOKENS].find_one({"_id": TOKEN_ID})
        assert "-14014" in doc["last_error"]
        assert doc["generation"] == 1
        # the other replica fails fast instead of holding its senders for the lease, and asks Zalo nothing
        calls = len(providers.at("/v4/oa/access_token"))
        started = asyncio.get_running_loop().time()
        with pytest.raises(Exception, match="refresh failed"):
            await stores[1].refresh(1)
        assert asyncio.get_running_loop().time() - started < 2
        assert len(providers.at("/v4/oa/access_token")) == calls
    finally:
        for db_client, http in clients:
            await http.aclose()
            await db_client.close()


async def test_follower_silent_for_7_days_gets_zns_by_phone(
    notify_settings: Any, providers: Providers, helpers: Any
) -> None:
    settings = notify_settings(
        **provider_settings(providers),
        zalo_access_token=providers.issue_access_token(),
        zalo_refresh_token=providers.refresh_token,
        zalo_zns_templates={"raised": "301234"},
    )
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await add(client, admin, "Lê Quang Vinh", zalo_user_id="8499999", phone="+84912000009")
        await add(client, admin, "Trần Văn Không", zalo_user_id="8488888")  # no phone: no fallback
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-zns"))
        done = await helpers.eventually(lambda: final_async(client, admin))
        by_address = {d["address"]: d for d in done}
        assert by_address["8499999"]["status"] == "sent"
        assert by_address["8488888"]["status"] == "dead"
        assert "-230" in by_address["8488888"]["last_error"]
        assert by_address["8488888"]["attempts"] == 1
        zns = providers.at("/message/template")
        assert len(zns) == 1
        body = zns[0].json()
        assert body["phone"] == "84912000009"
        assert body["template_id"] == "301234"
        assert body["template_data"]["don_vi"] == "04252"
        assert body["template_data"]["muc_do"] == "hỏa tốc"
        assert "/ack/" in body["template_data"]["lien_ket"]
        assert body["tracking_id"] == by_address["8499999"]["id"]


async def final_async(client: Any, admin: dict[str, str]) -> list[dict[str, Any]] | None:
    return final(await deliveries(client, admin, channel="zalo"), 2)


async def test_invalid_parameters_are_dead_at_once_and_rate_limits_retried(
    notify_settings: Any, providers: Providers, helpers: Any
) -> None:
    settings = notify_settings(
        **provider_settings(providers),
        zalo_access_token=providers.issue_access_token(),
        zalo_refresh_token=providers.refresh_token,
    )
    providers.interacted.update({"8411111", "8422222"})
    providers.script(
        "/v3.0/oa/message/cs",
        {"error": -201, "message": "Parameters are invalid"},
        {"error": -32, "message": "Exceed rate limit"},
    )
    admin = helpers.auth(settings, "admin")
    async with helpers.running(settings.model_copy(update={"worker_concurrency": 1})) as client:
        await add(client, admin, "A", zalo_user_id="8411111")
        await add(client, admin, "B", zalo_user_id="8422222")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-201"))

        async def one_dead_one_failed() -> list[dict[str, Any]] | None:
            items = await deliveries(client, admin, channel="zalo")
            states = sorted(d["status"] for d in items)
            return items if states == ["dead", "failed"] else None

        items = await helpers.eventually(one_dead_one_failed)
        dead = next(d for d in items if d["status"] == "dead")
        retrying = next(d for d in items if d["status"] == "failed")
        assert "-201" in dead["last_error"]
        assert dead["attempts"] == 1
        assert "-32" in retrying["last_error"]


@pytest.mark.parametrize("provider", ["esms", "speedsms"])
async def test_sms_brandname_success_only_on_the_providers_success_code(
    provider: str, notify_settings: Any, providers: Providers, helpers: Any
) -> None:
    settings = notify_settings(**provider_settings(providers), sms_provider=provider, sms_brand_name="BTG-LAOCAI")
    path = "/MainService.svc/json/SendMultipleMessage_V4_post_json/" if provider == "esms" else "/index.php/sms/send"
    refused = (
        {"CodeResult": "146", "ErrorMessage": "Wrong customer care template."}
        if provider == "esms"
        else {"status": "error", "code": "113", "message": "Sms content too long"}
    )
    balance = (
        {"CodeResult": "103", "ErrorMessage": "Not enough balance"}
        if provider == "esms"
        else {"status": "error", "code": "300", "message": "Your account balance not enough"}
    )
    providers.script(path, refused)
    admin = helpers.auth(settings)
    async with helpers.running(settings.model_copy(update={"worker_concurrency": 1})) as client:
        await add(client, admin, "Nguyễn Văn An", phone="+84912000001")
        await helpers.publish(settings, helpers.escalation(escalation_id=f"esc-{provider}-1"))
        dead = await helpers.eventually(lambda: deliveries_with(client, admin, "dead"))
        assert dead[0]["attempts"] == 1
        assert ("146" if provider == "esms" else "113") in dead[0]["last_error"]  # HTTP 200, yet a failure

        providers.script(path, balance)
        await helpers.publish(settings, helpers.escalation(escalation_id=f"esc-{provider}-2"))
        retried = await helpers.eventually(lambda: deliveries_with(client, admin, "failed"))
        assert ("103" if provider == "esms" else "300") in retried[0]["last_error"]
        assert retried[0]["next_attempt_at"] is not None

        await helpers.publish(settings, helpers.escalation(escalation_id=f"esc-{provider}-3"))
        sent = await helpers.eventually(lambda: deliveries_with(client, admin, "sent"))
        assert len(sent) == 1
    ok = [c for c in providers.at(path) if c not in (providers.at(path)[0], providers.at(path)[1])]
    body = ok[0].json()
    if provider == "esms":
        assert body["Phone"] == "84912000001"
        assert body["Brandname"] == "BTG-LAOCAI"
        assert body["SmsType"] == "2"
        assert body["IsUnicode"] == "1"
        assert body["RequestId"] == sent[0]["id"]
        assert "hỏa tốc" in body["Content"].lower()
    else:
        assert body["to"] == ["84912000001"]
        assert body["sender"] == "BTG-LAOCAI"
        assert body["sms_type"] == 3
        assert ok[0].headers["authorization"].startswith("Basic ")
        assert "hỏa tốc" in body["content"].lower()


async def deliveries_with(client: Any, admin: dict[str, str], status: str) -> list[dict[str, Any]] | None:
    items = await deliveries(client, admin, channel="sms", status=status)
    return items or None


async def test_accent_free_brandname_text_and_invalid_number(
    notify_settings: Any, providers: Providers, helpers: Any
) -> None:
    settings = notify_settings(**provider_settings(providers), sms_provider="speedsms", sms_accent_free=True)
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await add(client, admin, "Nguyễn Văn An", phone="+84912000001")
        await add(client, admin, "Số sai", phone="+1555000111")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-ascii"))

        async def both() -> list[dict[str, Any]] | None:
            return final(await deliveries(client, admin, channel="sms"), 2)

        done = {d["address"]: d for d in await helpers.eventually(both)}
        assert done["+84912000001"]["status"] == "sent"
        assert done["+1555000111"]["status"] == "dead"
        assert "invalid" in done["+1555000111"]["last_error"]
    texts = [c.json()["content"] for c in providers.at("/index.php/sms/send")]
    assert all(t.isascii() for t in texts)
    assert any("HOA TOC" in t for t in texts)


async def test_email_goes_over_starttls_with_plain_and_html_parts(
    notify_settings: Any, helpers: Any, tmp_path: Path
) -> None:
    with starttls_smtp(tmp_path) as server:
        settings = notify_settings(smtp_port=server.port, smtp_starttls=True, smtp_ca_file=str(server.ca_file))
        assert type(settings).model_fields["smtp_starttls"].default is True  # on by default
        admin = helpers.auth(settings)
        async with helpers.running(settings) as client:
            await add(client, admin, "Trần Thị Thu Hà", email="ha@example.invalid")
            await helpers.publish(settings, helpers.escalation(escalation_id="esc-tls"))
            await helpers.eventually(lambda: server.mailbox.messages)
            message = server.mailbox.messages[0]
            assert server.mailbox.tls_used == [True]
            assert message.get_content_type() == "multipart/alternative"
            plain = message.get_body(("plain",))
            html = message.get_body(("html",))
            assert plain is not None
            assert html is not None
            assert "Phường" in plain.get_content() or "04252" in plain.get_content()
            assert "<table" in html.get_content()

        # a server certificate the client cannot verify is refused (no silent downgrade)
        strict = settings.model_copy(update={"smtp_ca_file": "", "mongo_db": settings.mongo_db + "b"})
        async with helpers.running(strict) as client:
            await add(client, admin, "Trần Thị Thu Hà", email="ha2@example.invalid")
            await helpers.publish(strict, helpers.escalation(escalation_id="esc-tls2"))

            async def failed() -> list[dict[str, Any]] | None:
                items = await deliveries(client, admin, channel="email", status="failed")
                return items or None

            items = await helpers.eventually(failed)
            assert "SSL" in items[0]["last_error"] or "certificate" in items[0]["last_error"].lower()
            assert len(server.mailbox.messages) == 1


async def test_a_refresh_lease_left_by_a_dead_replica_is_taken_over(
    notify_settings: Any, providers: Providers, mongo: Any
) -> None:
    """The refresh claim is pulse_libs.claims' Lease: a holder that died keeps others off only for its term."""
    settings = notify_settings(
        **provider_settings(providers),
        zalo_access_token="",
        zalo_refresh_token=providers.refresh_token,
        zalo_refresh_lease_seconds=1.5,
    )
    import httpx

    db_client = make_client(settings)
    http = httpx.AsyncClient(timeout=5)
    try:
        db = db_client[settings.mongo_db]
        tokens = ZaloTokens(db, settings, http, NotifyMetrics.create(CollectorRegistry()))
        await tokens.bootstrap()
        dead = Lease(db, REFRESH_LEASE, holder="replica-that-died", ttl=timedelta(seconds=1.5))
        assert await dead.acquire() is not None  # took the lease, then never refreshed nor released it
        started = asyncio.get_running_loop().time()
        token = await tokens.refresh(0)
        waited = asyncio.get_running_loop().time() - started
        assert token.generation == 1
        assert waited >= 1.0, waited  # it waited for the dead holder's term to run out (1.5 s after it began)
        assert len(providers.at("/v4/oa/access_token")) == 1
        terms = await db[LEASES].find({"name": REFRESH_LEASE}).sort("term", 1).to_list()
        assert [t["holder"] for t in terms] == ["replica-that-died", terms[1]["holder"]]
        assert terms[1]["holder"] != "replica-that-died"
        # given up on success, not left to run out
        assert terms[1]["expires_at"] < terms[1]["renewed_at"] + timedelta(seconds=1.5)
        # the next refresh is a new term of its own (the one before was given up), and one call to Zalo
        assert (await tokens.refresh(1)).generation == 2
        assert len(providers.at("/v4/oa/access_token")) == 2
        assert await db[LEASES].count_documents({"name": REFRESH_LEASE}) == 3
    finally:
        await http.aclose()
        await db_client.close()


async def test_two_running_notify_replicas_share_one_refresh(
    notify_settings: Any, providers: Providers, helpers: Any
) -> None:
    """Two notify apps (two runtimes, one store) with an expired token and many Zalo deliveries: one refresh."""
    expired = providers.issue_access_token(lifetime=-1)
    providers.interacted.update(f"84{i:05d}" for i in range(12))
    providers.oauth_delay = 0.5
    settings = notify_settings(
        **provider_settings(providers),
        zalo_access_token=expired,
        zalo_refresh_token=providers.refresh_token,
        zalo_refresh_margin_seconds=0,
        worker_concurrency=4,
        worker_start_delay_seconds=1.0,  # both replicas are up before either sends
    )
    admin = helpers.auth(settings)
    async with helpers.running(settings) as first, helpers.running(settings) as second:
        for i in range(12):
            await add(first if i % 2 else second, admin, f"Cán bộ {i}", zalo_user_id=f"84{i:05d}")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-2rep"))

        async def all_sent() -> bool:
            return len(await deliveries(first, admin, channel="zalo", status="sent", limit="100")) == 12

        await helpers.eventually(all_sent, timeout=60)
        assert len(providers.at("/v4/oa/access_token")) == 1
        fresh = providers.at("/v4/oa/access_token")[0].answer["access_token"]
        ok = [c for c in providers.at("/v3.0/oa/message/cs") if c.answer.get("error") == 0]
        assert len(ok) == 12
        assert {c.headers["access_token"] for c in ok} == {fresh}
