"""Settings of the triage service (`PULSE_*` environment variables)."""

from __future__ import annotations

from pulse_libs.settings import ServiceSettings
from pydantic import Field


class TriageSettings(ServiceSettings):
    """Configuration of the triage service."""

    service_name: str = "triage"
    port: int = Field(default=8002, ge=1, le=65535, validation_alias="PULSE_TRIAGE_PORT")
    mongo_db: str = Field(default="pulse_triage", validation_alias="PULSE_TRIAGE_MONGO_DB")
    hotspot_window_hours: float = Field(default=72.0, gt=0, description="Reports join a hot spot seen this recently.")
    parent_unit_kinds: list[str] = Field(
        default=["district"],
        description="Kinds of parent unit under which one matter's hot spots in several of its wards are linked "
        "(one parent hot spot, one escalation). Since the 2025 reform wards and communes sit directly under the "
        "province or centrally-run city (two tiers): add `province` to link them. It is not on by default: a "
        "false cross-ward link silences a separate ward's page, and the pair model's precision on held-out "
        "pairs (0.795) is below the 0.9 that linking by default would need. `town` is not a parent kind: in "
        "the 2025 registry it is a special zone (đặc khu), a unit at ward level.",
    )
    similarity_threshold: float | None = Field(
        default=None, gt=0, le=1, description="TF-IDF cosine to join a hot spot; None: the calibrated threshold."
    )
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, description="How often due escalations are scanned.")
    lease_seconds: float = Field(default=30.0, gt=0, description="How long a claimed escalation stays claimed.")
    metrics_refresh_seconds: float = Field(default=15.0, gt=0, description="How often store gauges are refreshed.")
    silence_sweep_seconds: float = Field(default=60.0, gt=0, description="How often expired silences are removed.")
    rules_cache_seconds: float = Field(default=5.0, ge=0, description="How long a replica reuses the loaded rules.")
    event_retention_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Published outbox documents are swept after this (keeps the relay's scan small).",
    )
    overdue_grace_seconds: float = Field(default=60.0, ge=0, description="Due this long without action is overdue.")
    directive_remind_before_seconds: float = Field(
        default=86400.0,
        ge=0,
        description="Notify reminds a directive's assignee this long before it is due (at most half its lead time).",
    )
