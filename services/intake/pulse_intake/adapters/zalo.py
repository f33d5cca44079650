"""Zalo Official Account webhook: signature check and the message events intake understands (pure logic).

Zalo signs each webhook call with the header `X-ZEvent-Signature: mac=<hex>`, where
`<hex> = sha256(app_id + raw body + timestamp + OA secret key)`; `timestamp` is the body's own
field (milliseconds since the epoch, as a string) and the key is the OA's secret key, not the
app's. Zalo expects a 200 within 2 seconds and resends otherwise, so the handler only stores.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "X-ZEvent-Signature"
TEXT = "user_send_text"
IMAGE = "user_send_image"


class BadSignature(Exception):
    """The call is not from Zalo (or not for this OA): answer 401."""


@dataclass(frozen=True)
class ZaloMessage:
    """A text or image a follower sent to the OA."""

    event_name: str
    app_id: str
    sender_id: str
    msg_id: str
    text: str
    image_urls: tuple[str, ...]
    sent_at: datetime


def signature(*, app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The header value Zalo sends for this body."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()).hexdigest()
    return "mac=" + digest


def verified_payload(*, body: bytes, header: str | None, app_id: str, oa_secret_key: str) -> dict[str, Any]:
    """Parse and verify one webhook call; raise BadSignature unless Zalo signed exactly this body."""
    if not header or not app_id or not oa_secret_key:
        raise BadSignature("missing signature or Zalo settings")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadSignature("body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("timestamp"), str | int):
        raise BadSignature("no timestamp to verify")
    expected = signature(app_id=app_id, body=body, timestamp=str(payload["timestamp"]), oa_secret_key=oa_secret_key)
    if not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise BadSignature("signature mismatch")
    return payload


def message_of(payload: dict[str, Any]) -> ZaloMessage | None:
    """The text or image message in a verified payload, or None for any other event or shape."""
    name = payload.get("event_name")
    sender = payload.get("sender")
    message = payload.get("message")
    if name not in (TEXT, IMAGE) or not isinstance(sender, dict) or not isinstance(message, dict):
        return None
    sender_id, msg_id = sender.get("id"), message.get("msg_id")
    if not isinstance(sender_id, str) or not sender_id or not isinstance(msg_id, str) or not msg_id:
        return None
    try:
        sent_at = datetime.fromtimestamp(int(str(payload["timestamp"])) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    raw_text = message.get("text")
    text: str = raw_text if isinstance(raw_text, str) else ""
    urls: list[str] = []
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict) and attachment.get("type") == "image":
            url = (attachment.get("payload") or {}).get("url") if isinstance(attachment.get("payload"), dict) else None
            if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2000:
                urls.append(url)
    if name == TEXT and not text.strip():
        return None
    if name == IMAGE and not urls:
        return None
    return ZaloMessage(
        event_name=str(name),
        app_id=str(payload.get("app_id", "")),
        sender_id=sender_id,
        msg_id=msg_id,
        text=str(text),
        image_urls=tuple(urls[:20]),
        sent_at=sent_at,
    )
