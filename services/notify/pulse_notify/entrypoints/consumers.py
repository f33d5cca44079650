"""Kafka entrypoints: which events notify consumes, in which consumer group, and who handles them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as triage_events
from pulse_libs.api_keys import api_key_mirror_handlers
from pulse_libs.events.catalog import BY_TYPE
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.consumer import EventHandler
from pulse_libs.runtime import Runtime

from pulse_notify.handlers import Notifier

ESCALATIONS_GROUP = "notify-escalations"
REGISTRY_GROUP = "notify-registry"
WEBHOOKS_GROUP = "notify-webhooks"
RECEIPTS_GROUP = "notify-receipts"
DIRECTORY_GROUP = "notify-directory"
FACTS_GROUP = "notify-facts"
DIRECTIVES_GROUP = "notify-directives"


def _handler(fn: Callable[[CloudEvent], Awaitable[object]]) -> EventHandler:
    async def handle(event: CloudEvent) -> None:
        await fn(event)

    return handle


def register_consumers(runtime: Runtime, notifier: Notifier) -> None:
    """Add notify's consumer groups to the runtime (libs namespaces them with the topic prefix).

    The directory group reads intake.directory.v1 from the beginning (a fresh group starts at the
    earliest offset), so a new notify learns every user and agency.
    """
    notices: dict[str, EventHandler] = {t: _handler(notifier.on_escalation) for t in triage_events.ESCALATION_TYPES}
    notices[intake_events.ORIENTATION_PUBLISHED] = _handler(notifier.on_orientation)
    runtime.add_consumer(ESCALATIONS_GROUP, [topics.TRIAGE_ESCALATIONS, topics.INTAKE_CAMPAIGNS], notices)

    registry: dict[str, EventHandler] = dict(api_key_mirror_handlers(runtime.db))
    registry[intake_events.UNIT_UPSERTED] = _handler(notifier.on_registry_name)
    registry[intake_events.TOPIC_UPSERTED] = _handler(notifier.on_registry_name)
    runtime.add_consumer(REGISTRY_GROUP, [topics.INTAKE_REGISTRY], registry)

    receipts = {
        intake_events.REPORT_SUBMITTED: _handler(notifier.on_report),
        intake_events.REPORT_RECEIPT: _handler(notifier.on_report_receipt),
    }
    runtime.add_consumer(RECEIPTS_GROUP, [topics.INTAKE_REPORTS], receipts)

    people = {
        intake_events.USER_CHANGED: _handler(notifier.on_user),
        intake_events.AGENCY_CHANGED: _handler(notifier.on_user),
    }
    runtime.add_consumer(DIRECTORY_GROUP, [topics.INTAKE_DIRECTORY], people)

    runtime.add_consumer(
        FACTS_GROUP, [topics.TRIAGE_DECISIONS], {triage_events.REPORT_TRIAGED: _handler(notifier.on_triaged)}
    )

    directives = {triage_events.DIRECTIVE_CHANGED: _handler(notifier.on_directive)}
    runtime.add_consumer(DIRECTIVES_GROUP, [topics.TRIAGE_DIRECTIVES], directives)

    forward: Mapping[str, EventHandler] = {t: _handler(notifier.on_any_event) for t in BY_TYPE}
    runtime.add_consumer(WEBHOOKS_GROUP, list(topics.ALL_TOPICS), forward)
