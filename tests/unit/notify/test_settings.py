"""Notify's production checks: the test SMS gateway and a provider without credentials are refused."""

from __future__ import annotations

import secrets

import pytest
from pulse_notify.settings import NotifySettings
from pydantic import ValidationError

SECRETS = {
    "env": "production",
    "jwt_secret": secrets.token_urlsafe(36),
    "pseudonym_key": secrets.token_urlsafe(36),
    "ack_secret": secrets.token_urlsafe(36),
}


def notify(monkeypatch: pytest.MonkeyPatch, production: bool = True, **env: str) -> NotifySettings:
    """Notify's settings from exactly these PULSE_NOTIFY_* variables (as the process reads them)."""
    for key, value in env.items():
        monkeypatch.setenv(f"PULSE_NOTIFY_{key}", value)
    return NotifySettings(**SECRETS) if production else NotifySettings()


def test_production_refuses_the_test_sms_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="PULSE_NOTIFY_SMS_PROVIDER must be esms or speedsms"):
        notify(monkeypatch, SMS_PROVIDER="http")


@pytest.mark.parametrize("provider", ["esms", "speedsms"])
def test_production_refuses_a_provider_without_its_credentials(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="must be set"):
        notify(monkeypatch, SMS_PROVIDER=provider)


def test_production_accepts_esms_with_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = notify(monkeypatch, SMS_PROVIDER="esms", ESMS_API_KEY="k" * 32, ESMS_SECRET_KEY="s" * 32)
    assert settings.production
    assert settings.sms_provider == "esms"


def test_production_accepts_speedsms_with_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = notify(monkeypatch, SMS_PROVIDER="speedsms", SPEEDSMS_ACCESS_TOKEN="t" * 32)
    assert settings.production
    assert settings.sms_provider == "speedsms"


def test_development_keeps_the_test_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    assert notify(monkeypatch, production=False, SMS_PROVIDER="http").sms_provider == "http"
