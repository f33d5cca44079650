"""One-tap acknowledgement tokens: a compact, signed, URL-safe link credential.

notify mints a token per (escalation, level, recipient, channel) and puts
`{console_base_url}/ack/{token}` in the notice; triage verifies it with the same secret.
The token carries every fact triage needs, so neither service reads the other's store.

Layout (before base64url without padding): version byte, level byte, channel code, expiry as
4-byte Unix seconds, escalation id, recipient id, then a 16-byte HMAC-SHA256 tag over all of it.
Ids of the form `<prefix><lowercase hex>` (the project's ids) are packed as bytes, which keeps a
token near 80 characters so the whole link fits in an SMS beside the notice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

VERSION = 1
TAG_BYTES = 16
_CONTEXT = b"pulse-ack-link-v1"
_CHANNELS = ("zalo", "sms", "email", "webhook")
_HEX_TAIL = re.compile(r"^(.*?)((?:[0-9a-f]{2})+)$", re.DOTALL)
_HEX_FLAG = 0x80
_MAX_PART = 0x7F

AckTokenReason = Literal["forged", "expired", "malformed"]


class AckTokenError(ValueError):
    """A token that cannot be honoured; `reason` says why (forged, expired or malformed)."""

    def __init__(self, reason: AckTokenReason) -> None:
        super().__init__(f"ack token {reason}")
        self.reason: AckTokenReason = reason


@dataclass(frozen=True)
class AckClaim:
    """What a verified token grants: acknowledging one escalation level as one recipient."""

    escalation_id: str
    level: int
    recipient_id: str
    channel: str
    expires_at: datetime
    token_id: str


def mint(secret: str, *, escalation_id: str, level: int, recipient_id: str, channel: str, expires_at: datetime) -> str:
    """Return a signed token for this recipient to acknowledge this escalation level until `expires_at`."""
    if not 0 <= level <= 255:
        raise ValueError("level must fit in one byte")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    payload = (
        bytes([VERSION, level])
        + _pack_channel(channel)
        + struct.pack(">I", int(expires_at.timestamp()))
        + _pack_id(escalation_id)
        + _pack_id(recipient_id)
    )
    return _b64(payload + _tag(secret, payload))


def verify(secret: str, token: str, *, now: datetime) -> AckClaim:
    """Check a token's signature and expiry and return its claim, or raise `AckTokenError`."""
    raw = _unb64(token)
    if len(raw) <= TAG_BYTES + 7:
        raise AckTokenError("malformed")
    payload, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(secret, payload)):
        raise AckTokenError("forged")
    try:
        claim = _unpack(payload)
    except (IndexError, ValueError, struct.error):
        raise AckTokenError("malformed") from None
    if now >= claim.expires_at:
        raise AckTokenError("expired")
    return claim


def _tag(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), _CONTEXT + payload, hashlib.sha256).digest()[:TAG_BYTES]


def _unpack(payload: bytes) -> AckClaim:
    if payload[0] != VERSION:
        raise ValueError("unknown version")
    level = payload[1]
    channel, pos = _unpack_channel(payload, 2)
    (expiry,) = struct.unpack_from(">I", payload, pos)
    escalation_id, pos = _unpack_id(payload, pos + 4)
    recipient_id, pos = _unpack_id(payload, pos)
    if pos != len(payload) or not escalation_id or not recipient_id:
        raise ValueError("trailing or missing bytes")
    return AckClaim(
        escalation_id=escalation_id,
        level=level,
        recipient_id=recipient_id,
        channel=channel,
        expires_at=datetime.fromtimestamp(expiry, UTC),
        token_id=hashlib.sha256(payload).hexdigest()[:32],
    )


def _pack_channel(channel: str) -> bytes:
    if channel in _CHANNELS:
        return bytes([_CHANNELS.index(channel) + 1])
    data = channel.encode()
    if not data or len(data) > _MAX_PART:
        raise ValueError("channel name too long")
    return bytes([0, len(data)]) + data


def _unpack_channel(payload: bytes, pos: int) -> tuple[str, int]:
    code = payload[pos]
    if code:
        return _CHANNELS[code - 1], pos + 1
    size = payload[pos + 1]
    return _text(payload[pos + 2 : pos + 2 + size], size), pos + 2 + size


def _pack_id(value: str) -> bytes:
    match = _HEX_TAIL.match(value)
    if match and len(match.group(2)) // 2 <= _MAX_PART:
        prefix, tail, flag = match.group(1).encode(), bytes.fromhex(match.group(2)), _HEX_FLAG
    else:
        prefix, tail, flag = value.encode(), b"", 0
    if not value or len(prefix) > _MAX_PART or len(tail) > _MAX_PART:
        raise ValueError("id must be 1..127 bytes")
    return bytes([len(prefix) | flag]) + prefix + bytes([len(tail)]) + tail


def _unpack_id(payload: bytes, pos: int) -> tuple[str, int]:
    head = payload[pos]
    size = head & _MAX_PART
    prefix = _text(payload[pos + 1 : pos + 1 + size], size)
    pos += 1 + size
    tail_size = payload[pos]
    tail = payload[pos + 1 : pos + 1 + tail_size]
    if len(tail) != tail_size:
        raise ValueError("truncated id")
    suffix = tail.hex() if head & _HEX_FLAG else ""
    if not head & _HEX_FLAG and tail_size:
        raise ValueError("raw id with a tail")
    return prefix + suffix, pos + 1 + tail_size


def _text(data: bytes, size: int) -> str:
    if len(data) != size:
        raise ValueError("truncated text")
    return data.decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(token: str) -> bytes:
    if not token or len(token) > 512 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise AckTokenError("malformed")
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise AckTokenError("malformed") from None
