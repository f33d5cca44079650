"""Kafka handlers: every Pulse event type is projected into the reporting read models.

Two paths: one handler per event type (the fallback, and polls of a single event), and the batch
handler that takes a whole poll of one partition: its submissions and triage decisions go to the
counter projection as one journalled batch move, every other event through its own handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

import pulse_libs.events.intake as intake
import pulse_libs.events.notify as notify
import pulse_libs.events.triage as triage
from prometheus_client import CollectorRegistry, Counter, Gauge
from pulse_libs.clock import as_utc, utcnow
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.consumer import EventHandler

from pulse_reporting.adapters.projection import CounterProjector, FactChange, Submission, Triage
from pulse_reporting.adapters.readmodels import ReadModels


class ProjectionMetrics:
    """The projection's Prometheus metrics (names fixed for the operators' dashboards)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.projected = Counter(
            "pulse_reporting_events_projected",
            "Events projected into the reporting read models, by CloudEvents type.",
            ["type"],
            registry=registry,
        )
        self.lag = Gauge(
            "pulse_reporting_projection_lag_seconds",
            "Now minus ce_time of the last projected event.",
            registry=registry,
        )

    def observe(self, event: CloudEvent) -> None:
        """Count a projected event and update the lag gauge."""
        self.projected.labels(event.type).inc()
        self.lag.set(max(0.0, (utcnow() - as_utc(event.time)).total_seconds()))


def projection_handlers(
    *, projector: CounterProjector, models: ReadModels, metrics: ProjectionMetrics
) -> Mapping[str, EventHandler]:
    """Handlers by event type for every topic reporting consumes (registry API keys excluded)."""

    async def counted(event: CloudEvent) -> None:
        await projector.record(fact_change(event))

    async def hotspot(event: CloudEvent) -> None:
        data = triage.HotspotChanged.model_validate(event.data)
        state = data.model_dump(mode="python", exclude={"hotspot_id", "changed_at", "report_ids"})
        state["report_count"] = len(data.report_ids)
        kind = event.type.split(".")[2]
        await models.hotspot_changed(hotspot_id=data.hotspot_id, kind=kind, changed_at=data.changed_at, state=state)

    async def escalation(event: CloudEvent) -> None:
        data = triage.EscalationChanged.model_validate(event.data)
        state = data.model_dump(
            mode="python", include={"hotspot_id", "unit_code", "topic_code", "urgency", "level", "state", "raised_at"}
        )
        # A milestone an event does not carry (None) must not erase one recorded from an earlier event.
        state |= {k: v for k, v in (("acknowledged_at", data.acknowledged_at), ("resolved_at", data.resolved_at)) if v}
        if event.type == triage.ESCALATION_RESOLVED:
            state["outcome"] = data.outcome or data.comment
        kind = event.type.split(".")[2]
        await models.escalation_changed(
            escalation_id=data.escalation_id, kind=kind, level=data.level, changed_at=data.changed_at, state=state
        )

    async def directive(event: CloudEvent) -> None:
        data = triage.DirectiveChanged.model_validate(event.data)
        state = data.model_dump(mode="python", exclude={"directive_id", "by", "at", "change", "remind_before_seconds"})
        await models.directive_changed(directive_id=data.directive_id, change=data.change, at=data.at, state=state)

    async def agency(event: CloudEvent) -> None:
        data = intake.AgencyChanged.model_validate(event.data)
        fields = data.model_dump(mode="python", include={"name", "kind", "unit_code", "active"})
        await models.upsert_agency(code=data.code, fields=fields, changed_at=data.changed_at)

    async def orientation(event: CloudEvent) -> None:
        data = intake.OrientationPublished.model_validate(event.data)
        fields = data.model_dump(mode="python", exclude={"orientation_id", "guidance", "published_by"})
        await models.orientation_published(orientation_id=data.orientation_id, fields=fields)

    async def survey(event: CloudEvent) -> None:
        data = intake.SurveyPublished.model_validate(event.data)
        await models.survey_published(
            survey_id=data.survey_id, fields=data.model_dump(mode="python", exclude={"survey_id"})
        )

    async def survey_response(event: CloudEvent) -> None:
        data = intake.SurveyResponseSubmitted.model_validate(event.data)
        fields = {
            "survey_id": data.survey_id,
            "unit_code": data.unit_code,
            "answers": data.answers,
            "submitted_at": data.submitted_at,
            "respondent_kind": data.respondent_kind,
            "demographics": None if data.demographics is None else data.demographics.model_dump(exclude_none=True),
        }
        await models.survey_response(response_id=data.response_id, fields=fields)

    async def unit(event: CloudEvent) -> None:
        data = intake.UnitUpserted.model_validate(event.data)
        await models.upsert_unit(code=data.code, fields=data.model_dump(mode="python", exclude={"code"}))

    async def topic(event: CloudEvent) -> None:
        data = intake.TopicUpserted.model_validate(event.data)
        await models.upsert_topic(code=data.code, fields=data.model_dump(mode="python", include={"name", "sensitive"}))

    async def delivery(event: CloudEvent) -> None:
        data = notify.DeliveryOutcome.model_validate(event.data)
        fields = data.model_dump(mode="python", exclude={"delivery_id", "last_error", "recipient_id"})
        await models.delivery_outcome(delivery_id=data.delivery_id, fields=fields)

    handlers: dict[str, Callable[[CloudEvent], Awaitable[None]]] = {
        intake.REPORT_SUBMITTED: counted,
        intake.ORIENTATION_PUBLISHED: orientation,
        intake.SURVEY_PUBLISHED: survey,
        intake.SURVEY_RESPONSE_SUBMITTED: survey_response,
        intake.UNIT_UPSERTED: unit,
        intake.TOPIC_UPSERTED: topic,
        intake.AGENCY_CHANGED: agency,
        triage.DIRECTIVE_CHANGED: directive,
        triage.REPORT_TRIAGED: counted,
        notify.DELIVERY_SENT: delivery,
        notify.DELIVERY_DEAD: delivery,
        **{t: hotspot for t in triage.HOTSPOT_TYPES},
        **{t: escalation for t in triage.ESCALATION_TYPES},
    }
    return {event_type: _measured(handler, metrics) for event_type, handler in handlers.items()}


COUNTED_TYPES = frozenset({intake.REPORT_SUBMITTED, triage.REPORT_TRIAGED})


def fact_change(event: CloudEvent) -> FactChange:
    """What a ReportSubmitted or ReportTriaged changes in its report's fact."""
    if event.type == intake.REPORT_SUBMITTED:
        data = intake.ReportSubmitted.model_validate(event.data)
        fields = {
            "unit_code": data.unit_code,
            "channel": data.channel.value,
            "sentiment": data.sentiment.value if data.sentiment else None,
            "observed_at": data.observed_at,
            "reporter_topics": sorted(set(data.topic_codes)),
            "reporter_id": data.reporter_id,
            "reporter_kind": data.reporter_kind,
            "received_at": data.received_at,
        }
        return Submission(report_id=data.report_id, fields=fields, observed_at=data.observed_at)
    decision = triage.ReportTriaged.model_validate(event.data)
    return Triage(
        report_id=decision.report_id,
        urgency=decision.urgency.value,
        topics=decision.topic_codes,
        decided_at=decision.decided_at,
    )


class ProjectionBatch:
    """The consumer's batch handler: one poll of one partition in one call (register with `batch_types=types`).

    Submissions and triage decisions become one batch move of the counters; the poll's other events (hot spots
    on the decisions topic, registry mirrors, …) go through their own handlers in order. If anything fails, the
    consumer replays the poll event by event through the handlers, which is harmless: every path is idempotent.
    """

    def __init__(
        self, *, projector: CounterProjector, handlers: Mapping[str, EventHandler], metrics: ProjectionMetrics
    ) -> None:
        self._projector = projector
        self._handlers = dict(handlers)
        self._metrics = metrics
        self.types = frozenset(self._handlers) | COUNTED_TYPES
        """Every type the batch takes, so a poll that mixes them is still one batch."""

    async def __call__(self, events: Sequence[CloudEvent]) -> None:
        counted = [event for event in events if event.type in COUNTED_TYPES]
        if counted:
            await self._projector.record_batch([fact_change(event) for event in counted])
            for event in counted:
                self._metrics.observe(event)
        for event in events:
            if event.type not in COUNTED_TYPES:
                await self._handlers[event.type](event)


def _measured(handler: EventHandler, metrics: ProjectionMetrics) -> EventHandler:
    async def run(event: CloudEvent) -> None:
        await handler(event)
        metrics.observe(event)

    return run
