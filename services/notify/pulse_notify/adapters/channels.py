"""Channel adapters behind one interface: Zalo OA, SMS gateway, SMTP email and signed webhooks."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import aiosmtplib
import httpx
from pulse_libs.clock import utcnow

from pulse_notify.adapters.sms import build_sms
from pulse_notify.adapters.zalo import ZaloChannel, ZaloTokens
from pulse_notify.domain import netguard, signing
from pulse_notify.domain.model import ChannelName, Message
from pulse_notify.domain.retry import DeliveryFailed, classify_http, parse_retry_after, permanent, transient
from pulse_notify.settings import NotifySettings


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


def tls_context(settings: NotifySettings) -> ssl.SSLContext:
    """The client TLS context for SMTP: the system's trust store or `SMTP_CA_FILE`, verification on by default."""
    context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not settings.smtp_tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class EmailChannel:
    """Email over SMTP (aiosmtplib): plain text with an HTML alternative, Message-ID from the delivery id."""

    name: ChannelName = "email"

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings
        self._tls = tls_context(settings) if settings.smtp_starttls or settings.smtp_tls else None

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
                start_tls=s.smtp_starttls and not s.smtp_tls,
                use_tls=s.smtp_tls,
                tls_context=self._tls,
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

    async def check_target(self, url: str) -> list[str]:
        """Refuse a malformed URL or, unless allowed, one that resolves to a non-public address.

        Returns the vetted addresses (empty when private targets are allowed): `send` connects to the
        first of them itself, so no second DNS resolution can swap in another address (rebinding).
        """
        parts = netguard.check_url(url)
        if self._allow_private:
            return []
        host = parts.hostname or ""
        ip = netguard.literal_ip(host)
        if ip is not None:
            netguard.check_addresses([str(ip)])
            return [str(ip)]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise netguard.UnsafeTarget("the host does not resolve") from None
        addresses = [str(info[4][0]) for info in infos]
        netguard.check_addresses(addresses)
        return addresses

    def body(self, out: Outgoing) -> bytes:
        """The JSON payload: {type, timestamp, data} per the Standard Webhooks convention."""
        payload = {"type": out.event_type, "timestamp": out.event_time.isoformat(), "data": out.message.data}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()

    async def send(self, out: Outgoing) -> None:
        """Sign and POST; `webhook-id` is the delivery id so receivers can drop a repeated message."""
        try:
            addresses = await self.check_target(out.address)
        except netguard.UnsafeTarget as exc:
            raise permanent(f"webhook target refused: {exc}") from None
        secret = out.secret or self._global_secret
        if not secret:
            raise permanent("no webhook signing secret is configured")
        body = self.body(out)
        headers = signing.signed_headers(secret, out.id, int(utcnow().timestamp()), body)
        headers["content-type"] = "application/json"
        url, host, extensions = pinned(out.address, addresses[0] if addresses else None)
        if host is not None:
            headers["host"] = host
        response = await _post(self._client, "webhook", url, content=body, headers=headers, extensions=extensions)
        _check_http(response, "webhook")


def pinned(url: str, address: str | None) -> tuple[str, str | None, dict[str, Any]]:
    """(URL with the vetted address as host, Host header, extensions): TLS keeps the name for SNI and checks."""
    parsed = httpx.URL(url)
    if address is None or parsed.host == address:
        return url, None, {}
    extensions: dict[str, Any] = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return str(parsed.copy_with(host=address)), parsed.netloc.decode("ascii"), extensions


def build_channels(
    settings: NotifySettings, client: httpx.AsyncClient, tokens: ZaloTokens
) -> dict[ChannelName, Channel]:
    """Every channel adapter, configured from settings."""
    return {
        "zalo": ZaloChannel(settings, client, tokens),
        "sms": build_sms(settings, client),
        "email": EmailChannel(settings),
        "webhook": WebhookChannel(settings, client),
    }


__all__ = ["Channel", "DeliveryFailed", "Outgoing", "build_channels"]
