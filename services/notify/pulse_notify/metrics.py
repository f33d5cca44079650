"""The notify metrics, with the exact names operators' alerts and dashboards use."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class NotifyMetrics:
    """Delivery outcomes, attempts, backlog and latency per channel."""

    deliveries: Counter
    attempts: Counter
    pending: Gauge
    seconds: Histogram
    zalo_refreshes: Counter
    rota_gap: Gauge
    rota_gap_pages: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> NotifyMetrics:
        """Register the metrics on `registry`."""
        return cls(
            deliveries=Counter(
                "pulse_deliveries", "Deliveries that reached a final state.", ["channel", "status"], registry=registry
            ),
            attempts=Counter(
                "pulse_delivery_attempts", "Send attempts by outcome.", ["channel", "outcome"], registry=registry
            ),
            pending=Gauge(
                "pulse_deliveries_pending", "Deliveries waiting to be sent or retried.", ["channel"], registry=registry
            ),
            seconds=Histogram(
                "pulse_delivery_seconds",
                "Time from the event to the delivery being sent.",
                ["channel"],
                buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
                registry=registry,
            ),
            zalo_refreshes=Counter(
                "pulse_zalo_token_refreshes",
                "Zalo OA access-token refreshes by outcome.",
                ["outcome"],
                registry=registry,
            ),
            rota_gap=Gauge(
                "pulse_duty_rota_gap",
                "1 while a duty rota is set and nobody is on duty now (all duty officers are paged meanwhile).",
                registry=registry,
            ),
            rota_gap_pages=Counter(
                "pulse_duty_rota_gap_pages",
                "Level-1 pages that found nobody on duty in the rota and went to every duty officer.",
                registry=registry,
            ),
        )
