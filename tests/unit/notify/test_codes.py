"""Provider codes, phone forms, the rota and the SSRF ranges: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pulse_notify.adapters.sms import national_phone
from pulse_notify.domain import netguard, rota, zns
from pulse_notify.domain.retry import DeliveryFailed


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        (0, "ok"),
        (-124, "token"),
        (-216, "token"),
        (-230, "not_interacted"),
        (-32, "transient"),
        (-201, "permanent"),
        (-213, "permanent"),
        (-108, "permanent"),
        (-100, "transient"),
    ],
)
def test_zalo_codes(code: int, verdict: str) -> None:
    assert zns.verdict(code) == verdict


def test_phone_forms() -> None:
    assert zns.zns_phone("+84912345678") == "84912345678"
    assert zns.zns_phone("0912345678") == "84912345678"
    assert zns.zns_phone("not a phone") is None
    assert national_phone("0912 345 678") == "84912345678"
    with pytest.raises(DeliveryFailed) as err:
        national_phone("abc")
    assert not err.value.transient


def test_zns_template_data_uses_the_mapping_and_clips() -> None:
    data = zns.template_data("raised", {"unit": "Phường Yên Bái", "topic": "x" * 500, "report_count": 3}, {})
    assert data["don_vi"] == "Phường Yên Bái"
    assert len(data["linh_vuc"]) == zns.PARAM_MAX
    assert data["so_phan_anh"] == "3"
    assert zns.template_data("raised", {"unit": "A"}, {"raised": {"p1": "unit"}}) == {"p1": "A"}


def test_rota_overrides_win_and_gaps_are_found() -> None:
    r = rota.rota_from(
        {
            "timezone": "Asia/Ho_Chi_Minh",
            "shifts": [{"user_id": "1", "starts_at": "2026-12-01T07:00:00", "ends_at": "2026-12-01T19:00:00"}],
            "overrides": [{"user_id": "2", "starts_at": "2026-12-01T12:00:00", "ends_at": "2026-12-01T13:00:00"}],
        }
    )
    at = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 11:00 in Hà Nội
    assert [s.user_id for s in r.on_duty(at)] == ["1"]
    assert [s.user_id for s in r.on_duty(datetime(2026, 12, 1, 5, 30, tzinfo=UTC))] == ["2"]
    assert r.on_duty(datetime(2026, 12, 1, 13, 0, tzinfo=UTC)) == []  # 20:00: after the shift
    gaps = r.gaps(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), datetime(2026, 12, 1, 13, 0, tzinfo=UTC))
    assert gaps == [
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
    ]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("2002:808:808::", True),  # 6to4 of 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("::7f00:1", False),  # IPv4-compatible loopback
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2606:4700::1111", True),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
    ],
)
def test_tunnel_ranges_are_judged_by_the_address_they_reach(address: str, public: bool) -> None:
    assert netguard.is_public(address) is public
