"""Settings of the notify service (`PULSE_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


class NotifySettings(ServiceSettings):
    """Configuration of the notify service."""

    service_name: str = "notify"
    port: int = Field(default=8003, ge=1, le=65535, validation_alias="PULSE_NOTIFY_PORT")
    mongo_db: str = Field(default="pulse_notify", validation_alias="PULSE_NOTIFY_MONGO_DB")
