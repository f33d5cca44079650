"""Prometheus metrics of the intake service (names fixed for the operators' alerts and dashboards)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter


@dataclass(frozen=True)
class IntakeMetrics:
    """Reports accepted and rejected, failed sign-ins."""

    accepted: Counter
    rejected: Counter
    login_failures: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IntakeMetrics:
        """Register the metrics on `registry`."""
        return cls(
            accepted=Counter(
                "pulse_intake_reports_accepted_total", "Reports accepted (201)", ["channel"], registry=registry
            ),
            rejected=Counter(
                "pulse_intake_reports_rejected_total", "Reports refused, by reason", ["reason"], registry=registry
            ),
            login_failures=Counter("pulse_intake_login_failures_total", "Failed sign-ins", registry=registry),
        )
