"""Tokens, API keys, scopes and pseudonyms."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from pulse_libs.auth import (
    ROLE_SCOPES,
    AuthError,
    TokenVerifier,
    check_api_key,
    issue_token,
    new_api_key,
    parse_api_key,
    principal_for_user,
    pseudonym,
)
from pulse_libs.settings import ServiceSettings

SETTINGS = ServiceSettings(env="test")


async def test_a_token_verifies_to_its_role_and_units() -> None:
    token, expires_in = issue_token(
        SETTINGS, user_id="u1", username="ctv.yenbai", role="collaborator", unit_codes=["04747"]
    )
    principal = await TokenVerifier(SETTINGS).verify(token)
    assert expires_in > 0
    assert principal.subject == "u1"
    assert principal.role == "collaborator"
    assert principal.unit_codes == frozenset({"04747"})
    assert principal.sees_unit("04747")
    assert not principal.sees_unit("04750")
    assert principal.has("reports:write")
    assert not principal.has("reports:read")


async def test_department_sees_every_unit_and_identities() -> None:
    token, _ = issue_token(SETTINGS, user_id="d1", username="bantuyengiao", role="department", unit_codes=["04747"])
    principal = await TokenVerifier(SETTINGS).verify(token)
    assert principal.unit_codes is None
    assert principal.sees_identities
    assert principal.unit_filter() is None
    assert principal.unit_filter("04750") == ["04750"]


async def test_expired_token_is_refused() -> None:
    token, _ = issue_token(SETTINGS, user_id="u1", username="x", role="admin", unit_codes=[], ttl=timedelta(seconds=-5))
    with pytest.raises(AuthError, match="expired"):
        await TokenVerifier(SETTINGS).verify(token)


async def test_wrong_key_and_alg_none_are_refused() -> None:
    claims = {
        "sub": "u1",
        "role": "admin",
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "exp": int(time.time()) + 60,
    }
    forged = jwt.encode(claims, "another-secret-of-sufficient-length-000", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in (forged, unsigned, "not-a-jwt"):
        with pytest.raises(AuthError, match="invalid"):
            await TokenVerifier(SETTINGS).verify(token)


async def test_unknown_role_is_refused() -> None:
    claims = {
        "sub": "u1",
        "role": "god",
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "exp": int(time.time()) + 60,
    }
    with pytest.raises(AuthError, match="role"):
        await TokenVerifier(SETTINGS).verify(jwt.encode(claims, SETTINGS.jwt_secret, algorithm="HS256"))


def test_api_keys_check_hash_revocation_and_scopes() -> None:
    key_id, key, key_hash = new_api_key()
    assert parse_api_key(key) == key_id
    record = {
        "_id": key_id,
        "name": "Hệ thống tỉnh",
        "key_hash": key_hash,
        "scopes": ["reports:write", "users:write"],
        "unit_codes": ["04747"],
    }
    principal = check_api_key(key, record)
    assert principal.kind == "api_key"
    assert principal.scopes == frozenset({"reports:write"})  # administration is never delegated to keys
    assert principal.unit_codes == frozenset({"04747"})
    with pytest.raises(AuthError):
        check_api_key(key + "x", record)
    with pytest.raises(AuthError):
        check_api_key(key, {**record, "revoked": True})
    assert parse_api_key("Bearer abc") is None


def test_pseudonyms_are_stable_and_keyed() -> None:
    other = ServiceSettings(env="test", pseudonym_key="another-pseudonym-key-of-sufficient-length")
    assert pseudonym(SETTINGS, "u1") == pseudonym(SETTINGS, "u1")
    assert pseudonym(SETTINGS, "u1") != pseudonym(SETTINGS, "u2")
    assert pseudonym(SETTINGS, "u1") != pseudonym(other, "u1")
    assert pseudonym(SETTINGS, "u1").startswith("ctv-")


def test_roles_are_least_privilege() -> None:
    assert "identities:read" not in ROLE_SCOPES["standing_committee"]
    assert "escalations:ack" in ROLE_SCOPES["standing_committee"]
    assert "users:write" in ROLE_SCOPES["admin"]
    assert "users:write" not in ROLE_SCOPES["department"]


async def test_tokens_signed_with_the_previous_secret_verify_during_a_rotation() -> None:
    old = ServiceSettings(env="test", jwt_secret="old-secret-of-sufficient-length-0123456789")
    token, _ = issue_token(old, user_id="u1", username="x", role="department", unit_codes=[])
    rotated = ServiceSettings(
        env="test",
        jwt_secret="new-secret-of-sufficient-length-0123456789",
        jwt_previous_secret="old-secret-of-sufficient-length-0123456789",
    )
    assert (await TokenVerifier(rotated).verify(token)).subject == "u1"
    finished = ServiceSettings(env="test", jwt_secret="new-secret-of-sufficient-length-0123456789")
    with pytest.raises(AuthError):
        await TokenVerifier(finished).verify(token)


async def test_agency_token_carries_its_agency_and_sees_no_unit() -> None:
    token, _ = issue_token(
        SETTINGS, user_id="a1", username="ubnd", role="agency", unit_codes=["04747"], agency_code="UBND-04747"
    )
    principal = await TokenVerifier(SETTINGS).verify(token)
    assert principal.role == "agency"
    assert principal.agency_code == "UBND-04747"
    assert principal.has("directives:update")
    assert not principal.has("hotspots:read")
    assert not principal.sees_unit("04747")
    assert principal.unit_filter() == []


async def test_agency_token_without_agency_code_is_refused() -> None:
    token, _ = issue_token(SETTINGS, user_id="a1", username="ubnd", role="agency", unit_codes=[])
    with pytest.raises(AuthError):
        await TokenVerifier(SETTINGS).verify(token)


def test_only_agency_users_carry_an_agency_code() -> None:
    principal = principal_for_user(
        user_id="d1", username="dept", role="department", unit_codes=[], agency_code="UBND-04747"
    )
    assert principal.agency_code is None
