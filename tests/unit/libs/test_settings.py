"""Settings refuse unsafe defaults in production mode."""

from __future__ import annotations

import pytest
from pulse_libs.settings import DEV_JWT_SECRET, ServiceSettings
from pydantic import ValidationError

STRONG = "s" * 40


def test_development_accepts_defaults() -> None:
    settings = ServiceSettings(env="development")
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert not settings.production


def test_production_refuses_the_dev_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="PULSE_JWT_SECRET"):
        ServiceSettings(env="production", pseudonym_key=STRONG)


def test_production_refuses_the_dev_pseudonym_key() -> None:
    with pytest.raises(ValidationError, match="PULSE_PSEUDONYM_KEY"):
        ServiceSettings(env="production", jwt_secret=STRONG)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="32"):
        ServiceSettings(env="production", jwt_secret="short", pseudonym_key=STRONG)


def test_production_accepts_real_secrets_or_jwks() -> None:
    assert ServiceSettings(env="production", jwt_secret=STRONG, pseudonym_key=STRONG).production
    with_jwks = ServiceSettings(env="production", jwks_url="https://idp.example.vn/jwks", pseudonym_key=STRONG)
    assert with_jwks.jwks_url is not None


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_KAFKA_TOPIC_PREFIX", "laocai.")
    monkeypatch.setenv("PULSE_MONGO_DB", "pulse_x")
    settings = ServiceSettings()
    assert settings.kafka_topic_prefix == "laocai."
    assert settings.mongo_db == "pulse_x"
