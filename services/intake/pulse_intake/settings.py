"""Settings of the intake service (`PULSE_*` environment variables)."""

from __future__ import annotations

from functools import cached_property

from pulse_libs.http.security import IpNetwork, parse_networks
from pulse_libs.settings import ServiceSettings, looks_like_placeholder, secret_problem
from pydantic import Field, field_validator

DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "pulse-admin-dev-password"  # noqa: S105 - refused in production


class IntakeSettings(ServiceSettings):
    """Configuration of the intake service."""

    service_name: str = "intake"
    port: int = Field(default=8001, ge=1, le=65535, validation_alias="PULSE_INTAKE_PORT")
    mongo_db: str = Field(default="pulse_intake", validation_alias="PULSE_INTAKE_MONGO_DB")

    admin_username: str | None = None
    admin_password: str | None = None

    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=30, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    throttle_sweep_seconds: float = Field(default=60.0, gt=0)
    token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    trusted_proxies: list[str] = []
    """Addresses or CIDR ranges of the ingress proxies whose `X-Forwarded-For` is believed
    (`PULSE_TRUSTED_PROXIES='["10.0.0.0/8"]'`); empty: the peer address is the client."""
    max_concurrent_hashes: int = Field(default=2, ge=1, le=16)
    """argon2 hashes computed at once (each takes 64 MiB); further sign-ins wait their turn."""

    zalo_app_id: str | None = None
    """The Zalo app linked to the OA (webhook events name it in `app_id`)."""
    zalo_oa_secret_key: str | None = None
    """The OA secret key (not the app secret) that signs `X-ZEvent-Signature`; unset: the webhook answers 401."""
    zalo_replay_window_seconds: int = Field(default=300, ge=10, le=86_400)
    """Events older than this (by their own timestamp) are ignored even with a valid signature."""

    clock_skew_seconds: int = Field(default=300, ge=0)
    """How far in the future `observed_at` may lie (phones with a wrong clock)."""
    batch_max_reports: int = Field(default=500, ge=1, le=500)
    registry_cache_seconds: float = Field(default=30.0, ge=0)
    seed_registry: bool = True
    """Seed the province's units and the default topics at start-up (idempotent)."""
    registry_province: str = "Lào Cai"
    """The province whose 2025 units are seeded: its name or GSO code in `vietnam-provinces`
    (`PULSE_REGISTRY_PROVINCE=01` or `"Hà Nội"`)."""
    open311_jurisdiction_id: str = "laocai.gov.vn"
    """The Open311 `jurisdiction_id` this endpoint serves; requests naming another get 404."""

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IpNetwork, ...]:
        """The trusted proxies, parsed."""
        return parse_networks(self.trusted_proxies)

    def production_problems(self) -> list[str]:
        """Production needs a real first-admin password."""
        problems = []
        if not self.admin_username:
            problems.append("PULSE_ADMIN_USERNAME must be set")
        if not self.admin_password or self.admin_password == DEV_ADMIN_PASSWORD or len(self.admin_password) < 12:
            problems.append("PULSE_ADMIN_PASSWORD must be set to a password of 12+ characters")
        elif looks_like_placeholder(self.admin_password):
            problems.append("PULSE_ADMIN_PASSWORD is a placeholder (e.g. from an example env file)")
        if self.zalo_oa_secret_key is not None:
            problem = secret_problem("PULSE_ZALO_OA_SECRET_KEY", self.zalo_oa_secret_key, min_length=16)
            if problem:
                problems.append(problem)
        return problems

    @property
    def first_admin(self) -> tuple[str, str] | None:
        """The first admin's credentials; development defaults outside production."""
        if self.production:
            if self.admin_username and self.admin_password:
                return self.admin_username, self.admin_password
            return None
        return self.admin_username or DEV_ADMIN_USERNAME, self.admin_password or DEV_ADMIN_PASSWORD
