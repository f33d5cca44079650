"""Settings of the intake service (`PULSE_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


class IntakeSettings(ServiceSettings):
    """Configuration of the intake service."""

    service_name: str = "intake"
    port: int = Field(default=8001, ge=1, le=65535, validation_alias="PULSE_INTAKE_PORT")
    mongo_db: str = Field(default="pulse_intake", validation_alias="PULSE_INTAKE_MONGO_DB")
