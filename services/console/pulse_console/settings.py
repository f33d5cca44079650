"""Settings of the console (`PULSE_*` and `PULSE_CONSOLE_*` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pulse_libs.settings import ServiceSettings
from pydantic import Field

DEV_SESSION_SECRET = "pulse-dev-only-console-session-secret-0123456789"  # noqa: S105 - refused in production
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_ASSETS = PACKAGE_DIR.parent / "node_modules"


def _env(name: str) -> str:
    return f"PULSE_CONSOLE_{name}"


class ConsoleSettings(ServiceSettings):
    """Configuration of the console: where the four APIs are, and how sessions are kept."""

    service_name: str = "console"
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=_env("PORT"))
    intake_url: str = Field(default="http://127.0.0.1:8001", validation_alias=_env("INTAKE_URL"))
    triage_url: str = Field(default="http://127.0.0.1:8002", validation_alias=_env("TRIAGE_URL"))
    notify_url: str = Field(default="http://127.0.0.1:8003", validation_alias=_env("NOTIFY_URL"))
    reporting_url: str = Field(default="http://127.0.0.1:8004", validation_alias=_env("REPORTING_URL"))
    api_timeout_seconds: float = Field(default=5.0, gt=0, validation_alias=_env("API_TIMEOUT_SECONDS"))
    session_secret: str = Field(default=DEV_SESSION_SECRET, validation_alias=_env("SESSION_SECRET"))
    """Key of the encrypted session cookie (the person's token lives only inside it)."""
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, validation_alias=_env("SESSION_TTL_SECONDS"))
    """Longest a session lasts; never longer than the intake token it holds."""
    cookie_secure: bool | None = Field(default=None, validation_alias=_env("COOKIE_SECURE"))
    """Secure cookies; None means on in production, off elsewhere (plain http on loopback)."""
    assets_dir: Path = Field(default=DEFAULT_ASSETS, validation_alias=_env("ASSETS_DIR"))
    """node_modules installed by `npm ci` from services/console/package-lock.json (htmx, Chart.js)."""
    poll_seconds: int = Field(default=3, ge=1, le=60, validation_alias=_env("POLL_SECONDS"))
    """How often the dashboard's live panels refresh."""

    @property
    def secure_cookies(self) -> bool:
        """Whether the session cookie carries `Secure`."""
        return self.production if self.cookie_secure is None else self.cookie_secure

    def production_problems(self) -> list[str]:
        """Production needs a real session key."""
        if self.session_secret == DEV_SESSION_SECRET or len(self.session_secret) < 32:
            return ["PULSE_CONSOLE_SESSION_SECRET must be set to a secret of 32+ characters"]
        return []
