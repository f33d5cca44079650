"""Settings of the triage service (`PULSE_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


class TriageSettings(ServiceSettings):
    """Configuration of the triage service."""

    service_name: str = "triage"
    port: int = Field(default=8002, ge=1, le=65535, validation_alias="PULSE_TRIAGE_PORT")
    mongo_db: str = Field(default="pulse_triage", validation_alias="PULSE_TRIAGE_MONGO_DB")
