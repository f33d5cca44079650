"""SMS brandname adapters: eSMS and SpeedSMS, each with its own request and result codes.

Both providers answer HTTP 200 whatever happened and put the outcome in the body, so success is only
their success code (eSMS `CodeResult` "100", SpeedSMS `status` "success" with the number not in
`invalidPhone`); a 200 carrying an error code is a failure. The generic JSON gateway (`http`) is kept
for tests and development only.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pulse_libs.clock import utcnow

from pulse_notify.domain.model import ChannelName
from pulse_notify.domain.retry import classify_http, parse_retry_after, permanent, transient
from pulse_notify.settings import NotifySettings

ESMS_SUCCESS = "100"
ESMS_DUPLICATE_REQUEST = "124"
"""Duplicate RequestId: eSMS already accepted this delivery id (a resend after a crash), so it is sent."""
ESMS_TRANSIENT: dict[str, float] = {"103": 900.0}
"""103 not enough balance: retried slowly (top-up); every other code is permanent (bad key, brandname, phone…)."""
SPEEDSMS_TRANSIENT: dict[str, float] = {"300": 900.0, "500": 60.0}
"""300 balance too low, 500 internal error; 007/008/009 (IP or account locked), 101 invalid parameters,
105 invalid phone, 110 unsupported encoding and 113 content too long are permanent."""

_DIGITS = re.compile(r"^\+?[0-9]{8,15}$")


def national_phone(phone: str) -> str:
    """84xxxxxxxxx, the form both providers take (0xxxxxxxxx and +84xxxxxxxxx are converted)."""
    raw = phone.strip().replace(" ", "")
    if not _DIGITS.match(raw):
        raise permanent(f"not a phone number: {phone!r}")
    digits = raw.lstrip("+")
    return "84" + digits[1:] if digits.startswith("0") else digits


async def _post(client: httpx.AsyncClient, what: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await client.post(url, **kwargs)
    except httpx.TimeoutException:
        raise transient(f"{what} timed out") from None
    except httpx.TransportError as exc:
        raise transient(f"{what} unreachable: {type(exc).__name__}: {exc}") from None
    outcome = classify_http(response.status_code)
    if outcome == "transient":
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=utcnow())
        raise transient(f"{what} answered HTTP {response.status_code}", retry_after)
    if outcome == "permanent":
        raise permanent(f"{what} answered HTTP {response.status_code}: {response.text[:200]}")
    return response


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        raise transient(f"{what} answered a non-JSON body: {response.text[:200]}") from None
    if not isinstance(answer, dict):
        raise transient(f"{what} answered an unexpected body: {response.text[:200]}")
    return answer


class EsmsChannel:
    """eSMS.vn `SendMultipleMessage_V4_post_json` (brandname customer-care message)."""

    name: ChannelName = "sms"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self._s = settings
        self._client = client
        self._url = settings.esms_url

    def body(self, out: Any) -> dict[str, str]:
        """The request eSMS documents (every value a string)."""
        s = self._s
        return {
            "ApiKey": s.esms_api_key,
            "SecretKey": s.esms_secret_key,
            "Phone": national_phone(out.address),
            "Content": out.message.text,
            "Brandname": s.sms_brand_name,
            "SmsType": s.esms_sms_type,
            "IsUnicode": "0" if s.sms_accent_free else "1",
            "Sandbox": "1" if s.esms_sandbox else "0",
            "RequestId": out.id[:50],
        }

    async def send(self, out: Any) -> None:
        """POST the message; only CodeResult 100 (or 124, already accepted) is success."""
        response = await _post(self._client, "eSMS", self._url, json=self.body(out))
        answer = _json(response, "eSMS")
        code = str(answer.get("CodeResult", "")).strip()
        if code in (ESMS_SUCCESS, ESMS_DUPLICATE_REQUEST):
            return
        reason = f"eSMS CodeResult {code or '?'}: {str(answer.get('ErrorMessage') or '')[:200]}"
        if code in ESMS_TRANSIENT:
            raise transient(reason, ESMS_TRANSIENT[code])
        raise permanent(reason)


class SpeedSmsChannel:
    """SpeedSMS.vn `/index.php/sms/send`, HTTP Basic with the access token as the user name."""

    name: ChannelName = "sms"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self._s = settings
        self._client = client
        self._url = settings.speedsms_url

    async def send(self, out: Any) -> None:
        """POST {to: [...], content, sms_type, sender}; success is `status: success` with the number valid."""
        phone = national_phone(out.address)
        body = {
            "to": [phone],
            "content": out.message.text,
            "sms_type": self._s.speedsms_sms_type,
            "sender": self._s.sms_brand_name,
        }
        response = await _post(
            self._client, "SpeedSMS", self._url, json=body, auth=(self._s.speedsms_access_token, "x")
        )
        answer = _json(response, "SpeedSMS")
        if answer.get("status") == "success":
            data = answer.get("data") or {}
            invalid = [str(p) for p in (data.get("invalidPhone") or [])] if isinstance(data, dict) else []
            if phone in invalid:
                raise permanent(f"SpeedSMS refused the number as invalid ({phone})")
            return
        code = str(answer.get("code", "")).strip()
        reason = f"SpeedSMS error {code or '?'}: {str(answer.get('message') or '')[:200]}"
        if code in SPEEDSMS_TRANSIENT:
            raise transient(reason, SPEEDSMS_TRANSIENT[code])
        raise permanent(reason)


class HttpSmsChannel:
    """The generic JSON gateway of tests and development: HTTP Basic, idempotency key, any 2xx accepted."""

    name: ChannelName = "sms"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient) -> None:
        self._s = settings
        self._client = client

    async def send(self, out: Any) -> None:
        """POST {from, to, text, request_id}."""
        s = self._s
        body = {"from": s.sms_brand_name, "to": out.address, "text": out.message.text, "request_id": out.id}
        await _post(
            self._client,
            "SMS gateway",
            s.sms_url,
            json=body,
            auth=(s.sms_username, s.sms_password),
            headers={"Idempotency-Key": out.id},
        )


def build_sms(settings: NotifySettings, client: httpx.AsyncClient) -> EsmsChannel | SpeedSmsChannel | HttpSmsChannel:
    """The SMS adapter the settings select."""
    if settings.sms_provider == "esms":
        return EsmsChannel(settings, client)
    if settings.sms_provider == "speedsms":
        return SpeedSmsChannel(settings, client)
    return HttpSmsChannel(settings, client)
