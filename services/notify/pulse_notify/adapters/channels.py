"""Channel adapters behind one interface: Zalo OA, SMS gateway, SMTP email and signed webhooks."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import aiosmtplib
import httpx
from pulse_libs.clock import utcnow

from pulse_notify.domain import netguard, signing
from pulse_notify.domain.model import ChannelName, Message
from pulse_notify.domain.retry import DeliveryFailed, classify_http, parse_retry_after, permanent, transient
from pulse_notify.settings import NotifySettings

ZALO_TEXT_MAX = 2000
# Zalo OA answers HTTP 200 with {"error": <code>}: these codes pass with time (rate limit, quota,
# an access token the operator or a refresh job rotates, Zalo's own "try again" errors); any other
# non-zero code (bad user id, user not following the OA, invalid message) is permanent.
ZALO_TRANSIENT_CODES = {-32: 60.0, -124: 300.0, -201: 300.0, -216: 300.0, -211: 900.0, -100: None, -1: None}


@dataclass(frozen=True)
class Outgoing:
    """One delivery as a channel sees it."""

    id: str
    address: str
    message: Message
    event_type: str
    event_time: datetime
    secret: str | None = None


class Channel(Protocol):
    """Sends one message; raises DeliveryFailed (transient or permanent) when it could not."""

    name: ChannelName

    async def send(self, out: Outgoing) -> None:
        """Deliver `out` or raise DeliveryFailed."""
        ...


def _check_http(response: httpx.Response, what: str) -> None:
    outcome = classify_http(response.status_code)
    if outcome == "ok":
        return
    reason = f"{what} answered HTTP {response.status_code}: {response.text[:200]}"
    if outcome == "transient":
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=utcnow())
        raise transient(reason, retry_after)
    raise permanent(reason)


async def _post(client: httpx.AsyncClient, what: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return await client.post(url, **kwargs)
    except httpx.TimeoutException:
        raise transient(f"{what} timed out") from None
    except httpx.TransportError as exc:
        raise transient(f"{what} unreachable: {type(exc).__name__}: {exc}") from None


class ZaloChannel:
    """Zalo Official Account customer-service message API (`access_token` header, JSON body)."""

    name: ChannelName = "zalo"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self._url = settings.zalo_url
        self._token = settings.zalo_access_token
        self._client = client

    async def send(self, out: Outgoing) -> None:
        """POST the text to the user; Zalo's `error` field decides success."""
        body = {"recipient": {"user_id": out.address}, "message": {"text": out.message.text[:ZALO_TEXT_MAX]}}
        response = await _post(self._client, "Zalo OA", self._url, json=body, headers={"access_token": self._token})
        _check_http(response, "Zalo OA")
        try:
            answer = response.json()
            code = int(answer.get("error", 0))
        except (ValueError, AttributeError, TypeError):
            raise transient(f"Zalo OA answered a non-JSON body: {response.text[:200]}") from None
        if code == 0:
            return
        reason = f"Zalo OA error {code}: {str(answer.get('message', ''))[:200]}"
        if code in ZALO_TRANSIENT_CODES:
            raise transient(reason, ZALO_TRANSIENT_CODES[code])
        raise permanent(reason)


class SmsChannel:
    """SMS through an HTTP gateway: JSON POST with HTTP Basic credentials and an idempotency key."""

    name: ChannelName = "sms"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._client = client

    async def send(self, out: Outgoing) -> None:
        """POST {from, to, text, request_id}; any 2xx is accepted."""
        s = self._settings
        body = {"from": s.sms_brand_name, "to": out.address, "text": out.message.text, "request_id": out.id}
        response = await _post(
            self._client,
            "SMS gateway",
            s.sms_url,
            json=body,
            auth=(s.sms_username, s.sms_password),
            headers={"Idempotency-Key": out.id},
        )
        _check_http(response, "SMS gateway")


class EmailChannel:
    """Email over SMTP (aiosmtplib): plain text with an HTML alternative, Message-ID from the delivery id."""

    name: ChannelName = "email"

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings

    def build(self, out: Outgoing) -> EmailMessage:
        """The MIME message of a delivery."""
        msg = EmailMessage()
        msg["From"] = self._settings.email_from
        msg["To"] = out.address
        msg["Subject"] = out.message.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(idstring=out.id, domain="pulse.notify")
        msg["X-Pulse-Delivery-Id"] = out.id
        msg.set_content(out.message.text)
        if out.message.html:
            msg.add_alternative(out.message.html, subtype="html")
        return msg

    async def send(self, out: Outgoing) -> None:
        """Send through the configured SMTP server; 4xx replies and connection errors are transient."""
        s = self._settings
        try:
            await aiosmtplib.send(
                self.build(out),
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                start_tls=s.smtp_starttls,
                use_tls=s.smtp_tls,
                timeout=s.send_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [err.code for err in exc.recipients]
            reason = f"SMTP refused the recipient: {exc}"
            raise (transient(reason) if all(400 <= c < 500 for c in codes) else permanent(reason)) from None
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"SMTP answered {exc.code}: {exc.message}"
            raise (transient(reason) if 400 <= exc.code < 500 else permanent(reason)) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise transient(f"SMTP unreachable: {type(exc).__name__}: {exc}") from None


class WebhookChannel:
    """Standard Webhooks: signed JSON POST to a checked URL (no private targets unless allowed)."""

    name: ChannelName = "webhook"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self._allow_private = settings.webhook_allow_private
        self._global_secret = settings.webhook_secret
        self._client = client

    async def check_target(self, url: str) -> None:
        """Refuse a malformed URL or, unless allowed, one that resolves to a non-public address."""
        parts = netguard.check_url(url)
        if self._allow_private:
            return
        host = parts.hostname or ""
        ip = netguard.literal_ip(host)
        if ip is not None:
            netguard.check_addresses([str(ip)])
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise netguard.UnsafeTarget("the host does not resolve") from None
        netguard.check_addresses([str(info[4][0]) for info in infos])

    def body(self, out: Outgoing) -> bytes:
        """The JSON payload: {type, timestamp, data} per the Standard Webhooks convention."""
        payload = {"type": out.event_type, "timestamp": out.event_time.isoformat(), "data": out.message.data}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()

    async def send(self, out: Outgoing) -> None:
        """Sign and POST; `webhook-id` is the delivery id so receivers can drop a repeated message."""
        try:
            await self.check_target(out.address)
        except netguard.UnsafeTarget as exc:
            raise permanent(f"webhook target refused: {exc}") from None
        secret = out.secret or self._global_secret
        if not secret:
            raise permanent("no webhook signing secret is configured")
        body = self.body(out)
        headers = signing.signed_headers(secret, out.id, int(utcnow().timestamp()), body)
        headers["content-type"] = "application/json"
        response = await _post(self._client, "webhook", out.address, content=body, headers=headers)
        _check_http(response, "webhook")


def build_channels(settings: NotifySettings, client: httpx.AsyncClient) -> dict[ChannelName, Channel]:
    """Every channel adapter, configured from settings."""
    return {
        "zalo": ZaloChannel(settings, client),
        "sms": SmsChannel(settings, client),
        "email": EmailChannel(settings),
        "webhook": WebhookChannel(settings, client),
    }


__all__ = ["Channel", "DeliveryFailed", "Outgoing", "build_channels"]
