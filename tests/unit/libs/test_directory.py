"""Revocation rules of pulse_libs.directory (pure logic) and the verifier consulting them."""

from __future__ import annotations

from datetime import date

import pytest
from pulse_libs.auth import AuthError, TokenVerifier, issue_token
from pulse_libs.directory import UserAccess, access_reason
from pulse_libs.settings import ServiceSettings

TODAY = date(2026, 12, 1)


def test_unknown_users_and_current_tokens_hold() -> None:
    assert access_reason(None, token_version=0, today=TODAY) is None
    access = UserAccess(version=4, access_version=3, active=True, term_ends_on=TODAY)
    assert access_reason(access, token_version=3, today=TODAY) is None  # the last day of the term still counts


@pytest.mark.parametrize(
    ("access", "version", "reason"),
    [
        (UserAccess(version=2, access_version=2, active=False, term_ends_on=None), 2, "deactivated"),
        (UserAccess(version=2, access_version=0, active=True, term_ends_on=date(2026, 11, 30)), 2, "term"),
        (UserAccess(version=5, access_version=5, active=True, term_ends_on=None), 4, "changed"),
    ],
)
def test_revoked_tokens(access: UserAccess, version: int, reason: str) -> None:
    found = access_reason(access, token_version=version, today=TODAY)
    assert found is not None
    assert reason in found


class _Revoke:
    def revoked(self, *, user_id: str, token_version: int) -> str | None:
        return "the user is deactivated" if user_id == "u-gone" else None


async def test_verifier_consults_the_revocations_and_limits_one_time_passwords() -> None:
    settings = ServiceSettings()
    verifier = TokenVerifier(settings)
    verifier.revocations = _Revoke()
    gone, _ = issue_token(settings, user_id="u-gone", username="gone", role="department", unit_codes=[], version=3)
    with pytest.raises(AuthError):
        await verifier.verify(gone)
    kept, _ = issue_token(settings, user_id="u-ok", username="ok", role="department", unit_codes=[], version=3)
    assert (await verifier.verify(kept)).has("reports:read")
    reset, _ = issue_token(
        settings, user_id="u-ok", username="ok", role="department", unit_codes=[], password_change_required=True
    )
    limited = await verifier.verify(reset)
    assert limited.password_change_required
    assert limited.scopes == frozenset()
    assert limited.unit_codes == frozenset()
