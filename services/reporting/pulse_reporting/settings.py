"""Settings of the reporting service (`PULSE_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


class ReportingSettings(ServiceSettings):
    """Configuration of the reporting service."""

    service_name: str = "reporting"
    port: int = Field(default=8004, ge=1, le=65535, validation_alias="PULSE_REPORTING_PORT")
    mongo_db: str = Field(default="pulse_reporting", validation_alias="PULSE_REPORTING_MONGO_DB")
    max_range_days: int = Field(default=1100, ge=1)
    """Longest statistics range one request may cover."""
    move_takeover_seconds: float = Field(default=30.0, gt=0)
    """How old an unfinished counter move must be before another process finishes it."""
    consumer_group: str = "reporting-projection"
