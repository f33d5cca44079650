"""Pure notify domain: routing, ids, retry judgement, backoff, rate limit, signing, SSRF checks."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from pulse_notify.domain import netguard, signing
from pulse_notify.domain.model import Recipient, delivery_id
from pulse_notify.domain.ratelimit import TokenBucket
from pulse_notify.domain.retry import Backoff, classify_http, parse_retry_after


def test_delivery_id_is_deterministic_per_tuple() -> None:
    a = delivery_id("escalation", "esc-1", 1, "rc_1", "email")
    assert a == delivery_id("escalation", "esc-1", 1, "rc_1", "email")
    assert a != delivery_id("escalation", "esc-1", 2, "rc_1", "email")
    assert a != delivery_id("escalation", "esc-1", 1, "rc_1", "sms")
    assert "." not in a
    assert not a.startswith("$")


def test_recipient_units_and_addresses() -> None:
    everywhere = Recipient(id="r1", name="Nguyễn Văn An", targets=frozenset({"duty_officer"}))
    ward = Recipient(
        id="r2",
        name="Trần Thị Bình",
        targets=frozenset({"collaborator"}),
        unit_codes=frozenset({"04252"}),
        channels={"email": "binh@example.invalid", "phone": "+84912345678", "zalo_user_id": ""},
    )
    assert everywhere.covers_unit("04279")
    assert ward.covers_unit("04252")
    assert not ward.covers_unit("04279")
    assert ward.covers_any(frozenset())
    assert ward.covers_any(frozenset({"04252", "04279"}))
    assert not ward.covers_any(frozenset({"04279"}))
    assert ward.addresses() == [("sms", "+84912345678"), ("email", "binh@example.invalid")]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "ok"), (204, "ok"), (400, "permanent"), (404, "permanent"), (301, "permanent")]
    + [(408, "transient"), (429, "transient"), (500, "transient"), (503, "transient")],
)
def test_http_status_judgement(status: int, outcome: str) -> None:
    assert classify_http(status) == outcome


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(initial_seconds=1, max_seconds=60, retry_after_max_seconds=600, max_attempts=4)
    rng = random.Random(7)
    delays = [backoff.delay(n, rng=rng) for n in range(1, 9)]
    for n, d in enumerate(delays, start=1):
        cap = min(60, 2 ** (n - 1))
        assert cap / 2 <= d <= cap
    assert backoff.delay(1, retry_after=90, rng=rng) == 90
    assert backoff.delay(1, retry_after=10_000, rng=rng) == 600
    assert not backoff.exhausted(3)
    assert backoff.exhausted(4)


def test_token_bucket_allows_burst_then_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take() == 0.0
    assert bucket.take() > 0


def test_standard_webhooks_signature_matches_the_spec_vector() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, "v1,bad " + signature)
    assert not signing.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, signature)


def test_generated_secrets_are_valid_and_distinct() -> None:
    a, b = signing.new_secret(), signing.new_secret()
    assert a != b
    assert signing.valid_secret(a)
    assert a.startswith("whsec_")
    assert not signing.valid_secret("whsec_short")
    assert not signing.valid_secret("plain-secret-value")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "http://user:pw@example.com/", "https:///nohost", "javascript:alert(1)", "http://[::1"],
)
def test_malformed_or_credentialed_urls_are_refused(url: str) -> None:
    with pytest.raises(netguard.UnsafeTarget):
        netguard.check_url(url)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "224.0.0.1", "0.0.0.0"]
    + ["::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "240.0.0.1", "100.64.0.1"],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not netguard.is_public(address)
    with pytest.raises(netguard.UnsafeTarget):
        netguard.check_addresses(["93.184.215.14", address])


def test_public_addresses_pass() -> None:
    netguard.check_addresses(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    with pytest.raises(netguard.UnsafeTarget):
        netguard.check_addresses([])
