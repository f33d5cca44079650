"""Settings of the notify service (`PULSE_*` and `PULSE_NOTIFY_*` environment variables)."""

from __future__ import annotations

from typing import Literal

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
    """Base of the fallback acknowledgement link (triage) used only while ack links cannot be minted."""
    console_base_url: str = Field(default="http://127.0.0.1:8000", validation_alias=_env("CONSOLE_BASE_URL"))
    """The web console: `ack_url` = {console_base_url}/ack/{token}; bulletins at {console_base_url}/bulletins/{id}."""
    ack_link_ttl_seconds: float = Field(default=86400.0, gt=0, validation_alias=_env("ACK_LINK_TTL_SECONDS"))

    # Zalo Official Account: consultation messages (OA API v3), ZNS, and the OAuth v4 token refresh
    zalo_url: str = Field(default="https://openapi.zalo.me/v3.0/oa/message/cs", validation_alias=_env("ZALO_URL"))
    zalo_zns_url: str = Field(
        default="https://business.openapi.zalo.me/message/template", validation_alias=_env("ZALO_ZNS_URL")
    )
    zalo_oauth_url: str = Field(
        default="https://oauth.zaloapp.com/v4/oa/access_token", validation_alias=_env("ZALO_OAUTH_URL")
    )
    zalo_app_id: str = Field(default="", validation_alias=_env("ZALO_APP_ID"))
    zalo_secret_key: str = Field(default="", validation_alias=_env("ZALO_SECRET_KEY"))
    zalo_access_token: str = Field(default="", validation_alias=_env("ZALO_ACCESS_TOKEN"))
    """Bootstrap only: used when the store holds no token yet (then the stored, refreshed one wins)."""
    zalo_refresh_token: str = Field(default="", validation_alias=_env("ZALO_REFRESH_TOKEN"))
    """Bootstrap only: the first refresh token; Zalo rotates it on every refresh and notify keeps it in its store."""
    zalo_refresh_margin_seconds: float = Field(
        default=300.0, ge=0, validation_alias=_env("ZALO_REFRESH_MARGIN_SECONDS")
    )
    zalo_refresh_lease_seconds: float = Field(default=30.0, gt=0, validation_alias=_env("ZALO_REFRESH_LEASE_SECONDS"))
    zalo_zns_templates: dict[str, str] = Field(default_factory=dict, validation_alias=_env("ZALO_ZNS_TEMPLATES"))
    """ZNS template id per notice kind (JSON, e.g. {"raised": "301234"}); a kind without one has no ZNS fallback."""
    zalo_zns_params: dict[str, dict[str, str]] = Field(default_factory=dict, validation_alias=_env("ZALO_ZNS_PARAMS"))
    """Per kind, ZNS template parameter -> notice fact (overrides the defaults of domain/zns.py)."""

    # SMS brandname: eSMS or SpeedSMS (the generic JSON gateway `http` is for tests and development only)
    sms_provider: Literal["esms", "speedsms", "http"] = Field(default="http", validation_alias=_env("SMS_PROVIDER"))
    sms_url: str = Field(default="http://127.0.0.1:9/sms/send", validation_alias=_env("SMS_URL"))
    """The generic gateway's endpoint (provider `http`)."""
    sms_username: str = Field(default="", validation_alias=_env("SMS_USERNAME"))
    sms_password: str = Field(default="", validation_alias=_env("SMS_PASSWORD"))
    sms_brand_name: str = Field(default="PULSE", validation_alias=_env("SMS_BRAND_NAME"))
    sms_accent_free: bool = Field(default=False, validation_alias=_env("SMS_ACCENT_FREE"))
    """Fold Vietnamese diacritics (GSM-7, 160 characters a segment) when the brandname template requires it."""
    sms_max_segments: int = Field(default=3, ge=1, le=6, validation_alias=_env("SMS_MAX_SEGMENTS"))
    esms_url: str = Field(
        default="https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
        validation_alias=_env("ESMS_URL"),
    )
    esms_api_key: str = Field(default="", validation_alias=_env("ESMS_API_KEY"))
    esms_secret_key: str = Field(default="", validation_alias=_env("ESMS_SECRET_KEY"))
    esms_sms_type: str = Field(default="2", validation_alias=_env("ESMS_SMS_TYPE"))
    """2 = customer care brandname message."""
    esms_sandbox: bool = Field(default=False, validation_alias=_env("ESMS_SANDBOX"))
    speedsms_url: str = Field(
        default="https://api.speedsms.vn/index.php/sms/send", validation_alias=_env("SPEEDSMS_URL")
    )
    speedsms_access_token: str = Field(default="", validation_alias=_env("SPEEDSMS_ACCESS_TOKEN"))
    speedsms_sms_type: int = Field(default=3, validation_alias=_env("SPEEDSMS_SMS_TYPE"))
    """3 = brandname sender."""

    # SMTP
    smtp_host: str = Field(default="127.0.0.1", validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(default=25, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_username: str = Field(default="", validation_alias=_env("SMTP_USERNAME"))
    smtp_password: str = Field(default="", validation_alias=_env("SMTP_PASSWORD"))
    smtp_starttls: bool = Field(default=True, validation_alias=_env("SMTP_STARTTLS"))
    """Upgrade with STARTTLS (on by default; the server must offer it, else the attempt fails)."""
    smtp_tls: bool = Field(default=False, validation_alias=_env("SMTP_TLS"))
    """Implicit TLS from the first byte (port 465); excludes STARTTLS."""
    smtp_ca_file: str = Field(default="", validation_alias=_env("SMTP_CA_FILE"))
    """PEM bundle to verify the SMTP server with (empty = the system's trust store)."""
    smtp_tls_verify: bool = Field(default=True, validation_alias=_env("SMTP_TLS_VERIFY"))
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

    # Duty rota and directive reminders
    timers_poll_seconds: float = Field(default=5.0, gt=0, validation_alias=_env("TIMERS_POLL_SECONDS"))

    def production_problems(self) -> list[str]:
        """Production refuses the test-only SMS gateway and a selected SMS provider without its credentials."""
        problems: list[str] = []
        if self.sms_provider == "http":
            problems.append("PULSE_NOTIFY_SMS_PROVIDER must be esms or speedsms (http is the test gateway)")
        if self.sms_provider == "esms" and not (self.esms_api_key and self.esms_secret_key):
            problems.append("PULSE_NOTIFY_ESMS_API_KEY and PULSE_NOTIFY_ESMS_SECRET_KEY must be set")
        if self.sms_provider == "speedsms" and not self.speedsms_access_token:
            problems.append("PULSE_NOTIFY_SPEEDSMS_ACCESS_TOKEN must be set")
        return problems

    def rate_per_second(self, channel: str) -> float:
        """The sustained rate limit of a channel."""
        return float(getattr(self, f"rate_{channel}_per_second"))
