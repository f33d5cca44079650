"""The demo uses the real Lào Cai wards and a valid rota without gaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pulse_notify.demo import WARDS, rota_body
from pulse_notify.domain import rota
from pulse_notify.entrypoints.schemas import RotaWrite
from vietnam_provinces import Ward


def test_demo_wards_are_the_official_codes() -> None:
    for code, name in WARDS.items():
        assert Ward.from_code(int(code)).name == name


def test_demo_rota_alternates_officers_without_a_gap_for_a_week() -> None:
    body = rota_body(["u-ha", "u-tuan"], date(2026, 12, 1))
    RotaWrite.model_validate(body)
    r = rota.rota_from(body)
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội
    assert r.gaps(start - timedelta(hours=7), start + timedelta(days=7)) == []
    day = r.on_duty(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # 10:00
    night = r.on_duty(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # 22:00
    assert [s.user_id for s in day] != [s.user_id for s in night]
    assert len(day) == len(night) == 1
