"""Settings of the notify service (`PULSE_*` and `PULSE_NOTIFY_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


def _env(name: str) -> str:
    return f"PULSE_NOTIFY_{name}"


class NotifySettings(ServiceSettings):
    """Configuration of the notify service."""

    service_name: str = "notify"
    port: int = Field(default=8003, ge=1, le=65535, validation_alias=_env("PORT"))
    mongo_db: str = Field(default="pulse_notify", validation_alias=_env("MONGO_DB"))

    ack_base_url: str = Field(default="http://127.0.0.1:8002", validation_alias=_env("ACK_BASE_URL"))
    """Base of the acknowledgement link printed in escalation notices (the triage service)."""

    # Zalo Official Account message API
    zalo_url: str = Field(default="https://openapi.zalo.me/v3.0/oa/message/cs", validation_alias=_env("ZALO_URL"))
    zalo_access_token: str = Field(default="", validation_alias=_env("ZALO_ACCESS_TOKEN"))

    # SMS HTTP gateway (JSON POST, HTTP Basic credentials; see README)
    sms_url: str = Field(default="http://127.0.0.1:9/sms/send", validation_alias=_env("SMS_URL"))
    sms_username: str = Field(default="", validation_alias=_env("SMS_USERNAME"))
    sms_password: str = Field(default="", validation_alias=_env("SMS_PASSWORD"))
    sms_brand_name: str = Field(default="PULSE", validation_alias=_env("SMS_BRAND_NAME"))

    # SMTP
    smtp_host: str = Field(default="127.0.0.1", validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(default=25, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_username: str = Field(default="", validation_alias=_env("SMTP_USERNAME"))
    smtp_password: str = Field(default="", validation_alias=_env("SMTP_PASSWORD"))
    smtp_starttls: bool = Field(default=False, validation_alias=_env("SMTP_STARTTLS"))
    smtp_tls: bool = Field(default=False, validation_alias=_env("SMTP_TLS"))
    email_from: str = Field(default="Ban Tuyên giáo <pulse@example.invalid>", validation_alias=_env("EMAIL_FROM"))

    # Webhooks (Standard Webhooks signing)
    webhook_allow_private: bool = Field(default=False, validation_alias=_env("WEBHOOK_ALLOW_PRIVATE"))
    """Allow webhook targets on loopback, private, link-local or reserved addresses (tests, closed networks)."""
    webhook_secret: str = Field(default="", validation_alias=_env("WEBHOOK_SECRET"))
    """Global `whsec_` secret signing recipients' personal webhooks that have none of their own."""

    # Delivery worker
    send_timeout_seconds: float = Field(default=10.0, gt=0, validation_alias=_env("SEND_TIMEOUT_SECONDS"))
    worker_concurrency: int = Field(default=8, ge=1, le=256, validation_alias=_env("WORKER_CONCURRENCY"))
    worker_poll_seconds: float = Field(default=0.5, gt=0, validation_alias=_env("WORKER_POLL_SECONDS"))
    worker_start_delay_seconds: float = Field(default=0.0, ge=0, validation_alias=_env("WORKER_START_DELAY_SECONDS"))
    sending_paused: bool = Field(default=False, validation_alias=_env("SENDING_PAUSED"))
    """Record deliveries but send nothing (maintenance); pending ones go out once unpaused."""
    lease_seconds: float = Field(default=60.0, gt=0, validation_alias=_env("LEASE_SECONDS"))
    max_attempts: int = Field(default=8, ge=1, le=100, validation_alias=_env("MAX_ATTEMPTS"))
    backoff_initial_seconds: float = Field(default=5.0, gt=0, validation_alias=_env("BACKOFF_INITIAL_SECONDS"))
    backoff_max_seconds: float = Field(default=900.0, gt=0, validation_alias=_env("BACKOFF_MAX_SECONDS"))
    retry_after_max_seconds: float = Field(default=3600.0, gt=0, validation_alias=_env("RETRY_AFTER_MAX_SECONDS"))
    pending_gauge_seconds: float = Field(default=15.0, gt=0, validation_alias=_env("PENDING_GAUGE_SECONDS"))

    # Rate limits per channel: sustained messages per second and burst size (token bucket)
    rate_zalo_per_second: float = Field(default=10.0, gt=0, validation_alias=_env("RATE_ZALO_PER_SECOND"))
    rate_sms_per_second: float = Field(default=5.0, gt=0, validation_alias=_env("RATE_SMS_PER_SECOND"))
    rate_email_per_second: float = Field(default=10.0, gt=0, validation_alias=_env("RATE_EMAIL_PER_SECOND"))
    rate_webhook_per_second: float = Field(default=200.0, gt=0, validation_alias=_env("RATE_WEBHOOK_PER_SECOND"))
    rate_burst: int = Field(default=20, ge=1, validation_alias=_env("RATE_BURST"))

    def rate_per_second(self, channel: str) -> float:
        """The sustained rate limit of a channel."""
        return float(getattr(self, f"rate_{channel}_per_second"))
