"""Local servers that speak each protocol notify talks, and helpers to run notify against real Kafka and store.

- `gateways`: one HTTP server playing the Zalo OA message API (`/zalo`), the SMS gateway (`/sms`) and a
  webhook receiver that checks Standard Webhooks signatures (`/hook/<name>`); answers are programmable.
- `smtp`: an aiosmtpd SMTP server collecting messages.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as triage_events
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from pulse_libs.auth import issue_token
from pulse_libs.clock import utcnow
from pulse_libs.events.common import Channel, EscalationTarget, Urgency
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.kafka.producer import EventProducer
from pulse_notify.bootstrap import bootstrap
from pulse_notify.domain import signing
from pulse_notify.settings import NotifySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One request a fake gateway received, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Gateways:
    """The programmable HTTP server: script answers per path, read what arrived."""

    base_url: str = ""
    scripts: dict[str, list[tuple[int, Any, dict[str, str]]]] = field(default_factory=lambda: defaultdict(list))
    received: list[Received] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    bad_signatures: list[Received] = field(default_factory=list)

    def script(self, path: str, *answers: tuple[int, Any] | tuple[int, Any, dict[str, str]]) -> None:
        """Queue answers for `path` (status, JSON body[, headers]); afterwards it answers success."""
        for answer in answers:
            status, body, *rest = answer
            self.scripts[path].append((status, body, rest[0] if rest else {}))

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def ok(self, path: str) -> list[Received]:
        """Requests answered with success (for Zalo: HTTP 200 and error 0)."""
        return [r for r in self.at(path) if r.status == 200 and not r.headers.get("x-fake-error")]

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        if path.startswith("/hook/"):
            secret = self.secrets.get(path.removeprefix("/hook/"))
            h = request.headers
            valid = secret is not None and signing.verify(
                secret,
                h.get("webhook-id", ""),
                int(h.get("webhook-timestamp", "0")),
                body,
                h.get("webhook-signature", ""),
            )
            if not valid:
                self.bad_signatures.append(Received(path, dict(h), body, 401, time.monotonic()))
                return JSONResponse({"error": "bad signature"}, status_code=401)
        queue = self.scripts.get(path) or []
        status, answer, headers = queue.pop(0) if queue else (200, {"error": 0, "message": "Success"}, {})
        record_headers = dict(request.headers)
        if path == "/zalo" and isinstance(answer, dict) and answer.get("error", 0) != 0:
            record_headers["x-fake-error"] = str(answer["error"])
        self.received.append(Received(path, record_headers, body, status, time.monotonic()))
        return JSONResponse(answer, status_code=status, headers=headers)


@pytest.fixture
async def gateways() -> AsyncIterator[Gateways]:
    """Zalo OA, SMS gateway and webhook receiver on one local port."""
    fake = Gateways()
    app = Starlette(routes=[Route("/{path:path}", fake.handle, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        await task


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.answers: dict[str, list[str]] = {}
        """Programmed replies per recipient address: 4xx ones are used once, 5xx ones always."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            queue = self.answers.get(rcpt)
            if queue:
                return queue[0] if queue[0].startswith("5") else queue.pop(0)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class Smtp:
    """The local SMTP server and what it received."""

    port: int
    mailbox: _Mailbox

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp() -> Any:
    """An aiosmtpd server on a free port."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp(port=port, mailbox=mailbox)
    finally:
        controller.stop()


@pytest.fixture
def notify_settings(make_settings: Callable[..., Any], gateways: Gateways, smtp: Smtp) -> Callable[..., NotifySettings]:
    """Settings pointing every channel at the local servers, with short timers."""

    def build(**overrides: Any) -> NotifySettings:
        values: dict[str, Any] = {
            "zalo_url": f"{gateways.base_url}/zalo",
            "zalo_access_token": "test-oa-token",
            "sms_url": f"{gateways.base_url}/sms",
            "sms_username": "pulse",
            "sms_password": "sms-pass",
            "sms_brand_name": "BTG-LAOCAI",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_starttls": False,  # this local server speaks plain SMTP; STARTTLS is tested in test_providers
            "webhook_allow_private": True,
            "worker_poll_seconds": 0.1,
            "backoff_initial_seconds": 0.2,
            "backoff_max_seconds": 1.0,
            "lease_seconds": 5.0,
            "send_timeout_seconds": 5.0,
            "pending_gauge_seconds": 0.5,
            "rate_burst": 100,
        }
        values.update(overrides)
        return make_settings(NotifySettings, **values)  # type: ignore[no-any-return]

    return build


@asynccontextmanager
async def running(settings: NotifySettings) -> AsyncIterator[httpx.AsyncClient]:
    """Run the real notify app (lifespan: store, Kafka consumers, worker) and yield an HTTP client."""
    app = bootstrap(settings)
    async with LifespanManager(app, startup_timeout=90, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def auth(settings: NotifySettings, role: str = "admin", units: tuple[str, ...] = ()) -> dict[str, str]:
    """Authorization header of a user with `role`."""
    token, _ = issue_token(settings, user_id=f"u-{role}", username=role, role=role, unit_codes=units)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


async def publish(settings: NotifySettings, *events: tuple[str, CloudEvent]) -> None:
    """Publish events with the libs producer, as triage or intake would."""
    producer = EventProducer(settings, client_id="test-publisher")
    try:
        for topic, event in events:
            await producer.publish(topic, event)
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll an (async or sync) check until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def read_topic(settings: NotifySettings, topic: str, count: int, timeout: float = 30.0) -> list[CloudEvent]:
    """Read at least `count` events from a (logical) topic from its beginning, without a consumer group."""
    consumer = AIOKafkaConsumer(
        settings.kafka_topic_prefix + topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    events: list[CloudEvent] = []
    try:
        deadline = time.monotonic() + timeout
        while len(events) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                events.extend(CloudEvent.from_kafka(r.headers, r.value, r.key) for r in records)
    finally:
        await consumer.stop()
    return events


def secret_of(answer: dict[str, Any]) -> str:
    """The secret answered once by POST /v1/webhooks or /v1/recipients."""
    secret = answer.get("secret") or answer.get("webhook_secret")
    assert isinstance(secret, str)
    assert secret.startswith("whsec_")
    base64.b64decode(secret.removeprefix("whsec_"))
    return secret


def escalation_event(
    event_type: str = triage_events.ESCALATION_RAISED,
    *,
    escalation_id: str = "esc-0001",
    level: int = 1,
    target: str = "duty_officer",
    unit_code: str = "04252",
    reminder_seq: int = 0,
    event_id: str | None = None,
) -> tuple[str, CloudEvent]:
    """An escalation lifecycle event as triage publishes it."""
    now = utcnow()
    data = triage_events.EscalationChanged(
        escalation_id=escalation_id,
        hotspot_id="hs-" + escalation_id,
        unit_code=unit_code,
        topic_code="dat-dai",
        urgency=Urgency.FLASH,
        level=level,
        target=EscalationTarget(target),
        state="pending",
        raised_at=now - timedelta(minutes=level * 15),
        ack_deadline=now + timedelta(minutes=15),
        report_ids=["r-1", "r-2", "r-3"],
        report_count=3,
        source_count=2,
        channels=[Channel.ZALO, Channel.HOTLINE],
        first_seen=now - timedelta(hours=1),
        last_seen=now - timedelta(minutes=2),
        reminder_seq=reminder_seq,
        changed_at=now,
    )
    event = new_event(
        event_type,
        source=triage_events.SOURCE,
        data=data,
        key=data.hotspot_id,
        subject=escalation_id,
        event_id=event_id,
    )
    return topics.TRIAGE_ESCALATIONS, event


@pytest.fixture
def helpers() -> Any:
    """The helper functions, for tests (importlib mode cannot import conftest directly)."""

    class H:
        running = staticmethod(running)
        auth = staticmethod(auth)
        publish = staticmethod(publish)
        eventually = staticmethod(eventually)
        secret_of = staticmethod(secret_of)
        escalation = staticmethod(escalation_event)
        read_topic = staticmethod(read_topic)

    return H
