"""Service settings: one pydantic-settings class per service, built on this base."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "pulse-dev-only-secret-change-me-0123456789"  # noqa: S105 - refused in production
DEV_PSEUDONYM_KEY = "pulse-dev-only-pseudonym-key-0123456789"
DEV_ACK_SECRET = "pulse-dev-only-ack-link-secret-0123456789"  # noqa: S105 - refused in production

Environment = Literal["development", "test", "production"]

DEV_DEFAULTS = frozenset({DEV_JWT_SECRET, DEV_PSEUDONYM_KEY, DEV_ACK_SECRET, "pulse-admin-dev-password"})
PLACEHOLDER_MARKERS = (
    "change-me", "changeme", "change_me", "replace-me", "replaceme", "placeholder", "example", "dev-only",
    "your-", "your_", "<", ">", "xxx", "todo", "fixme", "secret-here", "password-here", "insecure", "not-a-secret",
)  # fmt: skip
"""Substrings no real secret contains: every value of the repository's example env files has one."""
MIN_DISTINCT_CHARACTERS = 10


def looks_like_placeholder(value: str) -> bool:
    """True for a value that is a development default, a placeholder from an example file, or plainly not random."""
    folded = value.strip().casefold()
    if value in DEV_DEFAULTS or not folded:
        return True
    if any(marker in folded for marker in PLACEHOLDER_MARKERS):
        return True
    return len(set(folded)) < MIN_DISTINCT_CHARACTERS


def secret_problem(name: str, value: str | None, *, min_length: int = 32) -> str | None:
    """Why `value` cannot be the production secret `name`, or None if it can."""
    if value is None or len(value) < min_length:
        return f"{name} must be set to a random secret of {min_length}+ characters"
    if looks_like_placeholder(value):
        return f"{name} is a development default or a placeholder (e.g. from an example env file): generate one"
    return None


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


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
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """How clients reach the brokers; production deployments on shared networks use SASL_SSL."""
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    """CA bundle that signed the brokers' certificates (SSL, SASL_SSL); default: the system's."""
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    """Client certificate and key, for brokers that authenticate clients by TLS (mTLS)."""

    jwt_secret: str = DEV_JWT_SECRET
    jwt_previous_secret: str | None = None
    """Verification-only secret during a rotation: tokens signed with it stay valid until they expire."""
    jwt_previous_secret_until: datetime | None = None
    """When the previous secret stops verifying (set it to the rotation time plus the token lifetime);
    required in production whenever PULSE_JWT_PREVIOUS_SECRET is set."""
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwks_url: str | None = None
    jwt_issuer: str = "pulse-intake"
    jwt_audience: str = "pulse"
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    ack_secret: str = DEV_ACK_SECRET
    """Key of the one-tap acknowledgement links (pulse_libs.acktoken): notify mints, triage verifies."""

    metrics_networks: list[str] = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    """In production, `/metrics` answers direct (unproxied) peers in these ranges only (the scrapers)."""
    metrics_token: str | None = None
    """In production, when set, `/metrics` answers only `Authorization: Bearer <token>` instead."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    trusted_proxies: list[str] = []
    """Addresses or CIDR ranges of the ingress proxies whose `X-Forwarded-For` is believed
    (`PULSE_TRUSTED_PROXIES='["10.0.0.0/8"]'`); empty: the peer address is the client."""
    rate_limit: bool | None = None
    """Limit write requests per credential and per client address (pulse_libs.http.ratelimit);
    unset: on in production only."""
    rate_limit_writes_per_minute: int = Field(default=300, ge=1)
    """Writes one bearer token or API key may make per minute, per replica."""
    rate_limit_address_writes_per_minute: int = Field(default=1200, ge=1)
    """Writes one client address may make per minute, per replica (every caller behind it together)."""
    timezone: str = "Asia/Ho_Chi_Minh"
    period_cutoff_day: int = Field(default=15, ge=1, le=28)
    """Decree 09/2019 art. 12 cut-off (pulse_libs.periods): periods start on this day of the month before."""
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_settle_seconds: float = Field(default=10.0, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _parse_trusted_proxies(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network.strip(), strict=False)  # ValueError: a validation error naming the field
        return value

    @property
    def rate_limited(self) -> bool:
        """True when writes are rate limited (PULSE_RATE_LIMIT, default: in production)."""
        return self.production if self.rate_limit is None else self.rate_limit

    @property
    def production(self) -> bool:
        """True when running in production mode, where unsafe defaults are refused."""
        return self.env == "production"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> ServiceSettings:
        if not self.production:
            # Development and test defaults are public: such a process must not be reachable from elsewhere.
            if not is_loopback(self.host):
                raise UnsafeSettingsError(
                    f"PULSE_HOST={self.host} is not a loopback address: only production mode (PULSE_ENV=production), "
                    "which refuses development secrets, may bind one"
                )
            return self
        problems: list[str] = []
        if self.jwks_url is None:
            problems.append(secret_problem("PULSE_JWT_SECRET", self.jwt_secret) or "")
        if self.jwt_previous_secret is not None:
            problems.append(secret_problem("PULSE_JWT_PREVIOUS_SECRET", self.jwt_previous_secret) or "")
            if self.jwt_previous_secret_until is None:
                problems.append("PULSE_JWT_PREVIOUS_SECRET_UNTIL must say when the previous secret stops verifying")
        problems.append(secret_problem("PULSE_PSEUDONYM_KEY", self.pseudonym_key) or "")
        problems.append(secret_problem("PULSE_ACK_SECRET", self.ack_secret) or "")
        if any(marker in self.mongo_url.casefold() for marker in ("change-me", "changeme", "change_me")):
            problems.append("PULSE_MONGO_URL carries a placeholder password")
        if self.kafka_security_protocol.startswith("SASL_"):
            if not self.kafka_sasl_username:
                problems.append("PULSE_KAFKA_SASL_USERNAME must be set with a SASL security protocol")
            problems.append(secret_problem("PULSE_KAFKA_SASL_PASSWORD", self.kafka_sasl_password, min_length=16) or "")
        problems.extend(self.production_problems())
        problems = [p for p in problems if p]
        if problems:
            raise UnsafeSettingsError("unsafe production settings: " + "; ".join(problems))
        return self

    def kafka_client_options(self) -> dict[str, Any]:
        """Connection options every Kafka client of the service passes to aiokafka (security included)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.kafka_bootstrap,
            "security_protocol": self.kafka_security_protocol,
        }
        if self.kafka_security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(
                cafile=self.kafka_ssl_cafile, certfile=self.kafka_ssl_certfile, keyfile=self.kafka_ssl_keyfile
            )
        if self.kafka_security_protocol.startswith("SASL_"):
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = self.kafka_sasl_password
        return options

    def startup_notice(self) -> str:
        """What the process says about its mode and address when it starts."""
        if self.production:
            return f"production mode: secrets checked; listening on {self.host}:{self.port}"
        return (
            f"{self.env} mode: development defaults allowed, so listening on loopback {self.host}:{self.port} only "
            "(set PULSE_ENV=production with real secrets to serve other machines)"
        )

    def production_problems(self) -> list[str]:
        """Extra checks a service adds for production mode; empty when all is well."""
        return []
