"""Prometheus metrics of the triage service (names fixed for operators' alerts and dashboards)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class TriageMetrics:
    """Every triage metric, on the service's registry."""

    reports: Counter
    decision_seconds: Histogram
    hotspots_open: Gauge
    escalations_pending: Gauge
    escalations_overdue: Gauge
    scheduler_runs: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> TriageMetrics:
        """Register the metrics."""
        return cls(
            reports=Counter("pulse_triage_reports", "Reports triaged, by urgency.", ["urgency"], registry=registry),
            decision_seconds=Histogram(
                "pulse_triage_decision_seconds",
                "Seconds from a report's receipt by intake to its triage decision.",
                registry=registry,
                buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
            ),
            hotspots_open=Gauge("pulse_hotspots_open", "Open hot spots, by urgency.", ["urgency"], registry=registry),
            escalations_pending=Gauge(
                "pulse_escalations_pending", "Pending escalations, by level.", ["level"], registry=registry
            ),
            escalations_overdue=Gauge(
                "pulse_escalations_overdue",
                "Pending escalations due more than the grace period ago that the scheduler has not acted on.",
                registry=registry,
            ),
            scheduler_runs=Counter(
                "pulse_escalation_scheduler_runs", "Passes of the escalation scheduler.", registry=registry
            ),
        )
