"""Kafka entrypoints: reports to triage, and the registry (API keys, topics) to mirror."""

from __future__ import annotations

from collections.abc import Mapping

import pulse_libs.events.intake as intake_events
from pulse_libs.api_keys import api_key_mirror_handlers
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.consumer import BatchHandler, EventHandler

from pulse_triage.context import TriageContext
from pulse_triage.handlers.triage import handle_report_submitted, handle_reports_submitted

REPORTS_GROUP = "triage-reports"
REGISTRY_GROUP = "triage-registry"


def report_handlers(ctx: TriageContext) -> Mapping[str, EventHandler]:
    """Handlers of intake.reports.v1."""

    async def submitted(event: CloudEvent) -> None:
        await handle_report_submitted(ctx, event)

    return {intake_events.REPORT_SUBMITTED: submitted}


REPORT_BATCH_TYPES = frozenset({intake_events.REPORT_SUBMITTED})


def report_batch_handler(ctx: TriageContext) -> BatchHandler:
    """One poll's reports at once: scored first, the most urgent placed first, units side by side (see
    handle_reports_submitted); a failing batch is replayed through `report_handlers` event by event."""

    async def submitted(events: list[CloudEvent]) -> None:
        await handle_reports_submitted(ctx, events)

    return submitted


def registry_handlers(ctx: TriageContext) -> Mapping[str, EventHandler]:
    """Handlers of intake.registry.v1: API keys, topics whose keywords and sensitivity triage learns, and units
    (a ward's parent links hot spots of neighbouring wards under one parent hot spot)."""

    async def topic_upserted(event: CloudEvent) -> None:
        topic = intake_events.TopicUpserted.model_validate(event.data)
        fields = {"name": topic.name, "keywords": topic.keywords, "sensitive": topic.sensitive}
        await ctx.store.topics.update_one({"_id": topic.code}, {"$set": fields}, upsert=True)
        ctx.forget_rules()

    async def unit_upserted(event: CloudEvent) -> None:
        unit = intake_events.UnitUpserted.model_validate(event.data)
        fields = {"name": unit.name, "kind": unit.kind, "parent_code": unit.parent_code}
        await ctx.store.units.update_one({"_id": unit.code}, {"$set": fields}, upsert=True)
        ctx.store.forget_unit(unit.code)

    return {
        **api_key_mirror_handlers(ctx.store.db),
        intake_events.TOPIC_UPSERTED: topic_upserted,
        intake_events.UNIT_UPSERTED: unit_upserted,
    }
