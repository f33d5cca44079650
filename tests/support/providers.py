"""Local servers that speak the Vietnamese providers' protocols, including their error answers.

One HTTP server (`Providers`) plays:

- Zalo OAuth v4 `POST /v4/oa/access_token` (header `secret_key`, form `app_id`, `refresh_token`,
  `grant_type=refresh_token`): the refresh token is single-use and rotates; a used or unknown one is
  refused with Zalo's error body; `oauth_delay` holds the answer so concurrent refreshes overlap.
- Zalo OA API v3 `POST /v3.0/oa/message/cs` (header `access_token`): -216 for an unknown token, -124
  for an expired one, -230 for a follower who has not interacted within 7 days, -201 for a bad body.
- ZNS `POST /message/template`: the same token rules, `phone`, `template_id`, `template_data`.
- eSMS `POST /MainService.svc/json/SendMultipleMessage_V4_post_json/`: HTTP 200 with `CodeResult`
  (100 success, 101 bad keys, 124 duplicate RequestId, or a scripted code).
- SpeedSMS `POST /index.php/sms/send`: HTTP Basic `<access token>:x`, `status` success/error with `code`.

`StartTlsSmtp` is an SMTP server that requires STARTTLS (self-signed certificate, CA file for clients).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import email.policy
import json
import secrets
import socket
import ssl
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ZALO_APP_ID = "3141592653589793"
ZALO_SECRET_KEY = "zalo-app-secret-key-for-tests"
ESMS_API_KEY = "ESMS-API-KEY-TEST"
ESMS_SECRET_KEY = "ESMS-SECRET-TEST"
SPEEDSMS_TOKEN = "speedsms-access-token-test"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Call:
    """One request a provider received and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    answer: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The request body as a form."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


@dataclass
class Providers:
    """State of the fake providers: tokens, followers, scripted answers, and every call received."""

    base_url: str = ""
    refresh_token: str = "rt-0"
    access_tokens: dict[str, float] = field(default_factory=dict)
    """Valid access tokens and their expiry (monotonic seconds)."""
    interacted: set[str] = field(default_factory=set)
    """Zalo user ids that wrote to the OA within 7 days (consultation messages allowed)."""
    oauth_delay: float = 0.0
    token_lifetime: float = 3600.0
    scripts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    calls: list[Call] = field(default_factory=list)
    esms_request_ids: set[str] = field(default_factory=set)
    _generation: int = 0

    def issue_access_token(self, lifetime: float | None = None) -> str:
        """A new valid access token (as if the OA admin had authorised the app)."""
        token = "at-" + secrets.token_hex(8)
        self.access_tokens[token] = time.monotonic() + (self.token_lifetime if lifetime is None else lifetime)
        return token

    def expire_all(self) -> None:
        """Every access token expires now (Zalo answers -124 for them)."""
        for token in self.access_tokens:
            self.access_tokens[token] = time.monotonic() - 1

    def script(self, path: str, *answers: dict[str, Any]) -> None:
        """Queue answers for a provider path; afterwards it answers normally."""
        self.scripts[path].extend(answers)

    def at(self, path: str) -> list[Call]:
        """Calls received on a path."""
        return [c for c in self.calls if c.path == path]

    def _token_error(self, headers: dict[str, str]) -> dict[str, Any] | None:
        token = headers.get("access_token", "")
        expiry = self.access_tokens.get(token)
        if expiry is None:
            return {"error": -216, "message": "Access token is invalid"}
        if expiry < time.monotonic():
            return {"error": -124, "message": "Access token has expired"}
        return None

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer: dict[str, Any]
        if path == "/v4/oa/access_token":
            answer = await self._oauth(headers, body)
        elif self.scripts.get(path):
            answer = self.scripts[path].pop(0)
        elif path == "/v3.0/oa/message/cs":
            answer = self._cs(headers, body)
        elif path == "/message/template":
            answer = self._zns(headers, body)
        elif path == "/MainService.svc/json/SendMultipleMessage_V4_post_json/":
            answer = self._esms(body)
        elif path == "/index.php/sms/send":
            answer = self._speedsms(headers, body)
        else:
            return JSONResponse({"error": "not found"}, status_code=404)
        self.calls.append(Call(path, headers, body, answer))
        return JSONResponse(answer)

    async def _oauth(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(body.decode()))
        if self.oauth_delay:
            await asyncio.sleep(self.oauth_delay)
        if headers.get("secret_key") != ZALO_SECRET_KEY or form.get("app_id") != ZALO_APP_ID:
            return {"error": -14002, "error_name": "Invalid app", "error_description": "app_id or secret_key"}
        if form.get("grant_type") != "refresh_token":
            return {"error": -14001, "error_name": "Invalid grant type"}
        if form.get("refresh_token") != self.refresh_token:
            return {"error": -14014, "error_name": "Invalid refresh token", "error_description": "used or unknown"}
        self._generation += 1
        self.refresh_token = f"rt-{self._generation}-{secrets.token_hex(4)}"  # the old one is spent
        return {
            "access_token": self.issue_access_token(),
            "refresh_token": self.refresh_token,
            "expires_in": str(int(self.token_lifetime)),
        }

    def _cs(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        error = self._token_error(headers)
        if error:
            return error
        try:
            payload = json.loads(body)
            user_id = str(payload["recipient"]["user_id"])
            text = str(payload["message"]["text"])
        except (ValueError, KeyError, TypeError):
            return {"error": -201, "message": "Parameters are invalid"}
        if not text:
            return {"error": -201, "message": "Parameters are invalid"}
        if user_id not in self.interacted:
            return {"error": -230, "message": "User has not interacted with the OA in the past 7 days"}
        return {"error": 0, "message": "Success", "data": {"message_id": secrets.token_hex(8), "user_id": user_id}}

    def _zns(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        error = self._token_error(headers)
        if error:
            return error
        try:
            payload = json.loads(body)
            phone, template_id = str(payload["phone"]), str(payload["template_id"])
            data = payload["template_data"]
        except (ValueError, KeyError, TypeError):
            return {"error": -201, "message": "Parameters are invalid"}
        if not phone.startswith("84") or not phone.isdigit():
            return {"error": -108, "message": "Phone number invalid"}
        if not template_id.isdigit() or not isinstance(data, dict):
            return {"error": -109, "message": "Template ID invalid"}
        return {"error": 0, "message": "Success", "data": {"msg_id": secrets.token_hex(8), "sent_time": "0"}}

    def _esms(self, body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body)
        except ValueError:
            return {"CodeResult": "118", "ErrorMessage": "Unsupported message type"}
        if payload.get("ApiKey") != ESMS_API_KEY or payload.get("SecretKey") != ESMS_SECRET_KEY:
            return {"CodeResult": "101", "ErrorMessage": "Incorrect ApiKey or SecretKey"}
        request_id = str(payload.get("RequestId", ""))
        if request_id and request_id in self.esms_request_ids:
            return {"CodeResult": "124", "ErrorMessage": "Duplicate RequestId"}
        if not str(payload.get("Phone", "")).startswith("84"):
            return {"CodeResult": "108", "ErrorMessage": "Phone number is not in correct format"}
        self.esms_request_ids.add(request_id)
        return {"CodeResult": "100", "CountRegenerate": 0, "SMSID": secrets.token_hex(16)}

    def _speedsms(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        try:
            user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":", 1)[0]
        except ValueError:
            user = ""
        if user != SPEEDSMS_TOKEN:
            return {"status": "error", "code": "009", "message": "Account not allow to call the API"}
        try:
            payload = json.loads(body)
            numbers = [str(n) for n in payload["to"]]
            content = str(payload["content"])
        except (ValueError, KeyError, TypeError):
            return {"status": "error", "code": "101", "message": "Invalid or missing parameters"}
        if not content:
            return {"status": "error", "code": "101", "message": "Invalid or missing parameters"}
        invalid = [n for n in numbers if not (n.startswith("84") and n.isdigit())]
        return {
            "status": "success",
            "code": "00",
            "data": {
                "tranId": secrets.randbelow(10**9),
                "totalSMS": len(numbers) - len(invalid),
                "totalPrice": 600 * (len(numbers) - len(invalid)),
                "invalidPhone": invalid,
            },
        }


@asynccontextmanager
async def providers_server() -> AsyncIterator[Providers]:
    """Run the provider server on a free local port for the duration of the block."""
    fake = Providers()
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


def provider_settings(fake: Providers) -> dict[str, Any]:
    """Notify settings pointing Zalo, ZNS, OAuth, eSMS and SpeedSMS at the fake providers."""
    return {
        "zalo_url": f"{fake.base_url}/v3.0/oa/message/cs",
        "zalo_zns_url": f"{fake.base_url}/message/template",
        "zalo_oauth_url": f"{fake.base_url}/v4/oa/access_token",
        "zalo_app_id": ZALO_APP_ID,
        "zalo_secret_key": ZALO_SECRET_KEY,
        "esms_url": f"{fake.base_url}/MainService.svc/json/SendMultipleMessage_V4_post_json/",
        "esms_api_key": ESMS_API_KEY,
        "esms_secret_key": ESMS_SECRET_KEY,
        "speedsms_url": f"{fake.base_url}/index.php/sms/send",
        "speedsms_access_token": SPEEDSMS_TOKEN,
    }


# SMTP with STARTTLS


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for `host` (IP SAN) and its key, written as PEM; returns (cert, key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pulse-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _TlsMailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.tls_used: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.tls_used.append(session.ssl is not None)
        return "250 OK"


@dataclass
class StartTlsSmtp:
    """An SMTP server that refuses mail before STARTTLS; `ca_file` verifies its certificate."""

    port: int
    ca_file: Path
    mailbox: _TlsMailbox


@contextmanager
def starttls_smtp(directory: Path) -> Iterator[StartTlsSmtp]:
    """Run the STARTTLS-only SMTP server (aiosmtpd) on a free port."""
    from aiosmtpd.controller import Controller

    cert, key = self_signed(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = _TlsMailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        yield StartTlsSmtp(port=port, ca_file=cert, mailbox=mailbox)
    finally:
        controller.stop()
