"""The one-tap acknowledgement token: compact, bound to its facts, refused when forged or late."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pulse_libs import acktoken
from pulse_libs.acktoken import AckTokenError

SECRET = "test-ack-secret-0123456789-0123456789"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _mint(**overrides: object) -> str:
    fields: dict[str, object] = {
        "escalation_id": "esc-" + uuid.uuid4().hex,
        "level": 2,
        "recipient_id": uuid.uuid4().hex,
        "channel": "sms",
        "expires_at": NOW + timedelta(hours=24),
    }
    fields.update(overrides)
    return acktoken.mint(SECRET, **fields)  # type: ignore[arg-type]


def test_round_trip_keeps_every_fact() -> None:
    esc, rcpt = "esc-" + uuid.uuid4().hex, "rc_" + uuid.uuid4().hex[:20]
    token = _mint(escalation_id=esc, recipient_id=rcpt, level=3, channel="zalo")
    claim = acktoken.verify(SECRET, token, now=NOW)
    assert (claim.escalation_id, claim.recipient_id, claim.level, claim.channel) == (esc, rcpt, 3, "zalo")
    assert claim.expires_at == NOW + timedelta(hours=24)
    assert claim.token_id == acktoken.verify(SECRET, token, now=NOW).token_id


@pytest.mark.parametrize("channel", ["zalo", "sms", "email", "webhook"])
def test_token_is_short_enough_for_an_sms(channel: str) -> None:
    token = _mint(channel=channel)
    assert len(token) <= 90
    assert all(c.isalnum() or c in "-_" for c in token)


def test_ids_that_are_not_hex_survive() -> None:
    token = _mint(escalation_id="esc-Phường_Yên-Bái", recipient_id="ABCDEF", channel="push")
    claim = acktoken.verify(SECRET, token, now=NOW)
    assert (claim.escalation_id, claim.recipient_id, claim.channel) == ("esc-Phường_Yên-Bái", "ABCDEF", "push")


def test_tokens_for_different_recipients_differ_in_id() -> None:
    esc = "esc-" + uuid.uuid4().hex
    a = acktoken.verify(SECRET, _mint(escalation_id=esc, recipient_id="a" * 32), now=NOW)
    b = acktoken.verify(SECRET, _mint(escalation_id=esc, recipient_id="b" * 32), now=NOW)
    assert a.token_id != b.token_id


def test_expired_token_is_refused() -> None:
    token = _mint(expires_at=NOW + timedelta(seconds=5))
    with pytest.raises(AckTokenError) as caught:
        acktoken.verify(SECRET, token, now=NOW + timedelta(seconds=5))
    assert caught.value.reason == "expired"


def test_other_secret_means_forged() -> None:
    with pytest.raises(AckTokenError) as caught:
        acktoken.verify("another-secret-of-enough-length-000", _mint(), now=NOW)
    assert caught.value.reason == "forged"


def test_any_changed_byte_means_forged() -> None:
    token = _mint()
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[8] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(AckTokenError) as caught:
        acktoken.verify(SECRET, tampered, now=NOW)
    assert caught.value.reason == "forged"


@pytest.mark.parametrize("token", ["", "abc", "not a token!", "x" * 600, "%2e%2e", "AAAA"])
def test_garbage_is_malformed(token: str) -> None:
    with pytest.raises(AckTokenError) as caught:
        acktoken.verify(SECRET, token, now=NOW)
    assert caught.value.reason == "malformed"


def test_minting_refuses_naive_times_and_bad_levels() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _mint(expires_at=datetime(2026, 12, 2))
    with pytest.raises(ValueError, match="level"):
        _mint(level=300)
