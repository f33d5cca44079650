"""Service settings: one pydantic-settings class per service, built on this base."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "pulse-dev-only-secret-change-me-0123456789"  # noqa: S105 - refused in production
DEV_PSEUDONYM_KEY = "pulse-dev-only-pseudonym-key-0123456789"
DEV_ACK_SECRET = "pulse-dev-only-ack-link-secret-0123456789"  # noqa: S105 - refused in production

Environment = Literal["development", "test", "production"]


class UnsafeSettingsError(ValueError):
    """Raised when production settings keep a development default or lack a secret."""


class ServiceSettings(BaseSettings):
    """Settings every Pulse service shares; read from `PULSE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore", frozen=True)

    env: Environment = "development"
    service_name: str = "pulse"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = True

    mongo_url: str = "mongodb://127.0.0.1:27017/"
    mongo_db: str = "pulse"
    mongo_timeout_ms: int = Field(default=5000, ge=100)

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = ""
    kafka_send_timeout_seconds: float = Field(default=10.0, gt=0)
    kafka_topic_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)

    jwt_secret: str = DEV_JWT_SECRET
    jwt_previous_secret: str | None = None
    """Verification-only secret during a rotation: tokens signed with it stay valid until they expire."""
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwks_url: str | None = None
    jwt_issuer: str = "pulse-intake"
    jwt_audience: str = "pulse"
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    ack_secret: str = DEV_ACK_SECRET
    """Key of the one-tap acknowledgement links (pulse_libs.acktoken): notify mints, triage verifies."""

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    timezone: str = "Asia/Ho_Chi_Minh"
    period_cutoff_day: int = Field(default=15, ge=1, le=28)
    """Decree 09/2019 art. 12 cut-off (pulse_libs.periods): periods start on this day of the month before."""
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_settle_seconds: float = Field(default=10.0, ge=0)

    @property
    def production(self) -> bool:
        """True when running in production mode, where unsafe defaults are refused."""
        return self.env == "production"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> ServiceSettings:
        if not self.production:
            return self
        problems: list[str] = []
        if self.jwks_url is None and (self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32):
            problems.append("PULSE_JWT_SECRET must be set to a secret of 32+ characters (or use PULSE_JWKS_URL)")
        if self.pseudonym_key == DEV_PSEUDONYM_KEY or len(self.pseudonym_key) < 32:
            problems.append("PULSE_PSEUDONYM_KEY must be set to a secret of 32+ characters")
        problems.extend(self.production_problems())
        if problems:
            raise UnsafeSettingsError("unsafe production settings: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """Extra checks a service adds for production mode; empty when all is well."""
        return []
