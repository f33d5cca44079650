"""Token hardening: the previous JWT secret expires; an unknown `kid` cannot force a JWKS fetch per request."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pulse_libs.auth import AuthError, TokenVerifier, issue_token
from pulse_libs.clock import utcnow
from pulse_libs.settings import ServiceSettings

from tests.support.servers import RecordingHttpServer

OLD = "old-secret-of-sufficient-length-0123456789"
NEW = "new-secret-of-sufficient-length-9876543210"


async def test_the_previous_secret_stops_verifying_at_its_end() -> None:
    old_token, _ = issue_token(
        ServiceSettings(jwt_secret=OLD), user_id="u1", username="u1", role="department", unit_codes=[]
    )
    during = ServiceSettings(
        jwt_secret=NEW, jwt_previous_secret=OLD, jwt_previous_secret_until=utcnow() + timedelta(hours=1)
    )
    assert (await TokenVerifier(during).verify(old_token)).subject == "u1"
    after = ServiceSettings(
        jwt_secret=NEW, jwt_previous_secret=OLD, jwt_previous_secret_until=utcnow() - timedelta(seconds=1)
    )
    with pytest.raises(AuthError):
        await TokenVerifier(after).verify(old_token)


def _claims(kid_settings: ServiceSettings) -> dict[str, object]:
    now = int(utcnow().timestamp())
    return {
        "sub": "u2", "name": "u2", "role": "department", "units": [], "iss": kid_settings.jwt_issuer,
        "aud": kid_settings.jwt_audience, "iat": now, "exp": now + 600, "ver": 0,
    }  # fmt: skip


async def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "ES256"})
    server = RecordingHttpServer(reply=lambda _r: (200, {"keys": [jwk]})).start()
    try:
        settings = ServiceSettings(jwks_url=f"{server.url}/jwks.json", jwt_algorithm="ES256")
        verifier = TokenVerifier(settings)
        good = jwt.encode(_claims(settings), key, algorithm="ES256", headers={"kid": "k1"})
        assert (await verifier.verify(good)).subject == "u2"
        fetches = len(server.received)
        for _ in range(20):
            forged = jwt.encode(_claims(settings), key, algorithm="ES256", headers={"kid": uuid.uuid4().hex})
            with pytest.raises(AuthError):
                await verifier.verify(forged)
        assert len(server.received) - fetches <= 1
        assert (await verifier.verify(good)).subject == "u2"
    finally:
        server.stop()
