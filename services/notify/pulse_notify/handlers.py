"""Use cases: turn events and bulletins into recorded deliveries (sending is the worker's job)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pulse_libs.events.intake as intake_events
import pulse_libs.events.notify as notify_events
import pulse_libs.events.triage as triage_events
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent

from pulse_notify.adapters.deliveries import DeliveryStore
from pulse_notify.adapters.directory import Directory
from pulse_notify.adapters.templates import Renderer
from pulse_notify.domain import notices
from pulse_notify.domain.model import Message, NewDelivery, Recipient, delivery_id
from pulse_notify.settings import NotifySettings

log = logging.getLogger(__name__)

SUBSCRIPTION_PREFIX = "wh_"
BULLETIN_TYPE = "pulse.bulletin.published"
"""The `event_type` of bulletin deliveries (bulletins are not Kafka events: they start at POST /v1/bulletins)."""
_ESCALATION_KINDS = {
    triage_events.ESCALATION_RAISED: "raised",
    triage_events.ESCALATION_ESCALATED: "escalated",
    triage_events.ESCALATION_REMINDED: "reminded",
    triage_events.ESCALATION_ACKNOWLEDGED: "acknowledged",
    triage_events.ESCALATION_RESOLVED: "resolved",
}


class Notifier:
    """Routes events to recipients and records one delivery per (notice, recipient, channel)."""

    def __init__(
        self,
        *,
        settings: NotifySettings,
        directory: Directory,
        deliveries: DeliveryStore,
        renderer: Renderer,
        on_recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._tz = ZoneInfo(settings.timezone)
        self._directory = directory
        self._deliveries = deliveries
        self._renderer = renderer
        self._on_recorded = on_recorded

    async def on_escalation(self, event: CloudEvent) -> int:
        """Page the recipients of the escalation's current level (closing notices on ack/resolve)."""
        data = triage_events.EscalationChanged.model_validate(event.data)
        kind = _ESCALATION_KINDS[event.type]
        recipients = [r for r in await self._directory.recipients_for(data.target) if r.covers_unit(data.unit_code)]
        if not recipients:
            log.warning(
                "escalation pages nobody: no active recipient for its target and unit",
                extra={"escalation_id": data.escalation_id, "target": data.target, "unit_code": data.unit_code},
            )
        raw = data.model_dump(mode="json")
        context = notices.escalation_context(
            raw,
            unit_names=await self._directory.names("unit", [data.unit_code]),
            topic_names=await self._directory.names("topic", [data.topic_code]),
            tz=self._tz,
            ack_base_url=self._settings.ack_base_url,
        )
        if kind in ("raised", "escalated"):
            key: tuple[Any, ...] = ("escalation", data.escalation_id, data.level)
        elif kind == "reminded":
            key = ("reminder", data.escalation_id, data.level, data.reminder_seq)
        else:
            key = ("closing", kind, data.escalation_id, data.level)
        extra = {"escalation_id": data.escalation_id, "level": data.level}
        if kind == "reminded":
            extra["reminder_seq"] = data.reminder_seq
        return await self._fan_out(event, kind, key, recipients, context, raw, **extra)

    async def on_orientation(self, event: CloudEvent) -> int:
        """Send a published orientation to the collaborators of its units (none listed = every unit)."""
        data = intake_events.OrientationPublished.model_validate(event.data)
        units = frozenset(data.unit_codes)
        recipients = [r for r in await self._directory.recipients_for("collaborator") if r.covers_any(units)]
        raw = data.model_dump(mode="json")
        context = notices.orientation_context(
            raw,
            unit_names=await self._directory.names("unit", data.unit_codes),
            topic_names=await self._directory.names("topic", data.topic_codes),
            tz=self._tz,
        )
        return await self._fan_out(event, "orientation", ("orientation", data.orientation_id), recipients, context, raw)

    async def on_report(self, event: CloudEvent) -> int:
        """Send the reporter a receipt, if the reporting user is a recipient with the `reporter` target."""
        data = intake_events.ReportSubmitted.model_validate(event.data)
        if data.reporter_kind != "user":
            return 0
        recipients = await self._directory.reporters(data.reporter_id)
        if not recipients:
            return 0
        raw = data.model_dump(mode="json")
        context = notices.receipt_context(
            raw, unit_names=await self._directory.names("unit", [data.unit_code]), tz=self._tz
        )
        return await self._fan_out(event, "receipt", ("receipt", data.report_id), recipients, context, raw)

    async def publish_bulletin(
        self, *, title: str, body: str, unit_codes: list[str], topic_codes: list[str], author: str
    ) -> tuple[str, int]:
        """Store a thematic bulletin and record its deliveries to collaborators; return (id, deliveries)."""
        bulletin_id = "bl_" + uuid.uuid4().hex[:20]
        now = utcnow()
        await self._directory.insert_bulletin(
            {
                "_id": bulletin_id,
                "title": title,
                "body": body,
                "unit_codes": unit_codes,
                "topic_codes": topic_codes,
                "created_by": author,
                "created_at": now,
            }
        )
        units = frozenset(unit_codes)
        recipients = [r for r in await self._directory.recipients_for("collaborator") if r.covers_any(units)]
        context = notices.bulletin_context(
            title=title,
            body=body,
            unit_codes=[(await self._directory.names("unit", unit_codes)).get(c, c) for c in unit_codes],
            topic_codes=topic_codes,
            topic_names=await self._directory.names("topic", topic_codes),
        )
        raw = {"bulletin_id": bulletin_id, "title": title, "body": body, "unit_codes": unit_codes}
        raw["topic_codes"] = topic_codes
        event = CloudEvent(type=BULLETIN_TYPE, source=notify_events.SOURCE, data=raw, id=bulletin_id)
        count = await self._fan_out(event, "bulletin", ("bulletin", bulletin_id), recipients, context, raw)
        await self._directory.set_bulletin_count(bulletin_id, count)
        return bulletin_id, count

    async def on_any_event(self, event: CloudEvent) -> int:
        """Forward an event to the webhook subscriptions of its type."""
        if event.type in (notify_events.DELIVERY_SENT, notify_events.DELIVERY_DEAD) and str(
            event.data.get("recipient_id", "")
        ).startswith(SUBSCRIPTION_PREFIX):
            return 0  # outcomes of subscription deliveries would feed themselves forever
        subs = await self._directory.subscriptions_for(event.type)
        if not subs:
            return 0
        data = {"id": event.id, "source": event.source, "subject": event.subject, **event.data}
        batch = [
            NewDelivery(
                id=delivery_id("subscription", event.id, sub["_id"]),
                event_id=event.id,
                event_type=event.type,
                event_time=event.time,
                recipient_id=str(sub["_id"]),
                channel="webhook",
                address=str(sub["url"]),
                message=Message(subject=event.type, text="", data=data),
            )
            for sub in subs
        ]
        return await self._record(batch)

    async def on_registry_name(self, event: CloudEvent) -> None:
        """Mirror unit and topic names for the templates."""
        if event.type == intake_events.UNIT_UPSERTED:
            unit = intake_events.UnitUpserted.model_validate(event.data)
            await self._directory.upsert_name("unit", unit.code, unit.name, event.time)
        else:
            topic = intake_events.TopicUpserted.model_validate(event.data)
            await self._directory.upsert_name("topic", topic.code, topic.name, event.time)

    async def _fan_out(
        self,
        event: CloudEvent,
        kind: str,
        key: tuple[Any, ...],
        recipients: Iterable[Recipient],
        context: Mapping[str, Any],
        raw: Mapping[str, Any],
        **extra: Any,
    ) -> int:
        batch: list[NewDelivery] = []
        for recipient in recipients:
            personal = {**context, "recipient_name": recipient.name}
            for channel, address in recipient.addresses():
                message = self._renderer.render(kind, channel, personal)
                if channel == "webhook":
                    data = {"kind": kind, "subject": message.subject, "text": message.text, "event": dict(raw)}
                    message = Message(subject=message.subject, text=message.text, data=data)
                batch.append(
                    NewDelivery(
                        id=delivery_id(*key, recipient.id, channel),
                        event_id=event.id,
                        event_type=event.type,
                        event_time=event.time,
                        recipient_id=recipient.id,
                        channel=channel,
                        address=address,
                        message=message,
                        **extra,
                    )
                )
        return await self._record(batch)

    async def _record(self, batch: list[NewDelivery], now: datetime | None = None) -> int:
        count = await self._deliveries.record(batch, now or utcnow())
        if count:
            self._on_recorded()
        return count
