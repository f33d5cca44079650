"""Settings refuse unsafe defaults in production mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pulse_libs.settings import (
    DEV_ACK_SECRET,
    DEV_JWT_SECRET,
    DEV_PSEUDONYM_KEY,
    ServiceSettings,
    looks_like_placeholder,
)
from pydantic import ValidationError

STRONG = "kX9-vQ2rT7wL4mZ8pB1nC6yH3dF5gJ0sA"
OTHER = "Rt5-Yu8iO2pLk3Jh7Gf1Ds4Aq9Zx6Cv0Bn"
ACK = "Mn4-Bv7cX1zQw5Er8Ty2Ui6Op3As0Df9Gh"


def test_development_accepts_defaults() -> None:
    settings = ServiceSettings(env="development")
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert not settings.production


def test_production_refuses_the_dev_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="PULSE_JWT_SECRET"):
        ServiceSettings(env="production", pseudonym_key=STRONG, ack_secret=ACK)


def test_production_refuses_the_dev_pseudonym_key() -> None:
    with pytest.raises(ValidationError, match="PULSE_PSEUDONYM_KEY"):
        ServiceSettings(env="production", jwt_secret=STRONG, ack_secret=ACK)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="32"):
        ServiceSettings(env="production", jwt_secret="short", pseudonym_key=STRONG, ack_secret=ACK)


def test_production_accepts_real_secrets_or_jwks() -> None:
    assert ServiceSettings(env="production", jwt_secret=STRONG, pseudonym_key=OTHER, ack_secret=ACK).production
    with_jwks = ServiceSettings(
        env="production", jwks_url="https://idp.example.vn/jwks", pseudonym_key=STRONG, ack_secret=ACK
    )
    assert with_jwks.jwks_url is not None


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_KAFKA_TOPIC_PREFIX", "laocai.")
    monkeypatch.setenv("PULSE_MONGO_DB", "pulse_x")
    settings = ServiceSettings()
    assert settings.kafka_topic_prefix == "laocai."
    assert settings.mongo_db == "pulse_x"


def _example_values() -> list[tuple[str, str]]:
    """Every secret-looking value of the repository's example env files."""
    root = Path(__file__).resolve().parents[3] / "deploy"
    found = []
    for path in [root / ".env.example", *sorted(root.glob("k8s/overlays/*/secrets/*.env.example"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition("=")
            if sep and not line.startswith("#") and re.search("SECRET|KEY|PASSWORD|TOKEN", name) and value:
                found.append((f"{path.name}:{name}", value.strip().strip('"')))
    assert len(found) >= 10
    return found


def test_every_example_env_value_is_refused_as_a_secret() -> None:
    for where, value in _example_values():
        assert looks_like_placeholder(value), where
        with pytest.raises(ValidationError, match=r"placeholder|32"):
            ServiceSettings(env="production", jwt_secret=value, pseudonym_key=OTHER, ack_secret=ACK)


@pytest.mark.parametrize("field", ["jwt_secret", "pseudonym_key", "ack_secret"])
def test_production_refuses_the_dev_defaults_and_weak_values(field: str) -> None:
    good = {"jwt_secret": STRONG, "pseudonym_key": OTHER, "ack_secret": ACK}
    for bad in (DEV_JWT_SECRET, DEV_PSEUDONYM_KEY, DEV_ACK_SECRET, "a" * 48, "your-secret-goes-here-0123456789abcdef"):
        with pytest.raises(ValidationError):
            ServiceSettings(env="production", **{**good, field: bad})


def test_only_production_binds_a_non_loopback_address() -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.53"):
        assert not ServiceSettings(host=host).production
    for host in ("0.0.0.0", "10.0.0.5", "::"):
        with pytest.raises(ValidationError, match="loopback"):
            ServiceSettings(host=host)
        with pytest.raises(ValidationError, match="loopback"):
            ServiceSettings(env="test", host=host)
    served = ServiceSettings(env="production", host="0.0.0.0", jwt_secret=STRONG, pseudonym_key=OTHER, ack_secret=ACK)
    assert "production mode" in served.startup_notice()
    assert "loopback" in ServiceSettings().startup_notice()


def test_a_previous_jwt_secret_needs_an_end_in_production_and_a_placeholder_mongo_password_is_refused() -> None:
    good = {"jwt_secret": STRONG, "pseudonym_key": OTHER, "ack_secret": ACK}
    with pytest.raises(ValidationError, match="PULSE_JWT_PREVIOUS_SECRET_UNTIL"):
        ServiceSettings(env="production", jwt_previous_secret="Zq8-Wx2cE5vR9tB3nM7kL1jH4gF6dS0aP", **good)
    with pytest.raises(ValidationError, match="PULSE_MONGO_URL"):
        ServiceSettings(env="production", mongo_url="mongodb://intake:CHANGE-ME@db:27017/", **good)


def test_kafka_clients_get_sasl_and_tls_options() -> None:
    plain = ServiceSettings().kafka_client_options()
    assert plain == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    secure = ServiceSettings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="pulse-intake", kafka_sasl_password=OTHER
    ).kafka_client_options()
    assert secure["security_protocol"] == "SASL_SSL"
    assert secure["sasl_mechanism"] == "SCRAM-SHA-512"
    assert secure["sasl_plain_username"] == "pulse-intake"
    assert secure["ssl_context"].check_hostname
    good = {"jwt_secret": STRONG, "pseudonym_key": OTHER, "ack_secret": ACK}
    with pytest.raises(ValidationError, match="PULSE_KAFKA_SASL_PASSWORD"):
        ServiceSettings(
            env="production",
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_username="u",
            kafka_sasl_password="CHANGE-ME",
            **good,
        )
