"""Prometheus metrics of the consumer runner and the outbox relay, on an explicit registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class ConsumerMetrics:
    """Counters and gauges every consumer group exports."""

    processed: Counter
    failed: Counter
    dead_lettered: Counter
    duplicates: Counter
    lag: Gauge
    latency: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ConsumerMetrics:
        """Register the consumer metrics on `registry`."""
        return cls(
            processed=Counter(
                "pulse_consumer_processed_total",
                "Events handled successfully.",
                ["group", "topic", "type"],
                registry=registry,
            ),
            failed=Counter(
                "pulse_consumer_failed_total",
                "Handler attempts that raised (each retry counts).",
                ["group", "topic", "kind"],
                registry=registry,
            ),
            dead_lettered=Counter(
                "pulse_consumer_dead_lettered_total",
                "Events sent to the dead-letter topic.",
                ["group", "topic"],
                registry=registry,
            ),
            duplicates=Counter(
                "pulse_consumer_duplicates_total",
                "Events skipped because their id was already processed.",
                ["group", "topic"],
                registry=registry,
            ),
            lag=Gauge(
                "pulse_consumer_lag",
                "Records between the committed position and the high watermark.",
                ["group", "topic", "partition"],
                registry=registry,
            ),
            latency=Histogram(
                "pulse_consumer_handler_seconds",
                "Handler latency per event.",
                ["group", "topic"],
                registry=registry,
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ),
        )


@dataclass(frozen=True)
class OutboxMetrics:
    """Metrics of the outbox relay."""

    published: Counter
    errors: Counter
    pending: Gauge
    oldest_age: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> OutboxMetrics:
        """Register the outbox metrics on `registry`."""
        return cls(
            published=Counter(
                "pulse_outbox_published_total",
                "Outbox events published.",
                ["collection"],
                registry=registry,
            ),
            errors=Counter(
                "pulse_outbox_errors_total",
                "Outbox relay failures (broker or store down).",
                registry=registry,
            ),
            pending=Gauge(
                "pulse_outbox_pending_documents",
                "Documents with unpublished events at the last scan.",
                registry=registry,
            ),
            oldest_age=Gauge(
                "pulse_outbox_oldest_age_seconds",
                "Age of the oldest unpublished event at the last scan.",
                registry=registry,
            ),
        )
