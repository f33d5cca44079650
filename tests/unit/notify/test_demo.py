"""The demo uses the real Lào Cai wards and valid recipient bodies."""

from __future__ import annotations

from pulse_notify.demo import RECIPIENTS, WARDS, recipient_body
from pulse_notify.entrypoints.schemas import RecipientCreate
from vietnam_provinces import Ward


def test_demo_wards_are_the_official_codes() -> None:
    for code, name in WARDS.items():
        assert Ward.from_code(int(code)).name == name


def test_demo_recipients_cover_every_level_and_ward_harmlessly() -> None:
    bodies = [RecipientCreate.model_validate(recipient_body(spec)) for spec in RECIPIENTS]
    targets = {t for b in bodies for t in b.targets}
    assert {"duty_officer", "department_head", "standing_committee", "collaborator"} <= targets
    assert {u for b in bodies for u in b.unit_codes} == set(WARDS)
    for body in bodies:
        assert body.channels.email is not None
        assert body.channels.email.endswith("@example.invalid")
        assert body.channels.zalo_user_id is None
        assert body.channels.webhook_url is None
