"""Use cases: turn events and bulletins into recorded deliveries (sending is the worker's job)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pulse_libs.events.intake as intake_events
import pulse_libs.events.notify as notify_events
import pulse_libs.events.public as public_events
import pulse_libs.events.triage as triage_events
from pulse_libs import acktoken
from pulse_libs.clock import isoformat, utcnow
from pulse_libs.events.catalog import BY_TYPE
from pulse_libs.events.envelope import CloudEvent

from pulse_notify.adapters.deliveries import DeliveryStore
from pulse_notify.adapters.directory import Directory
from pulse_notify.adapters.templates import Renderer
from pulse_notify.adapters.timers import DirectiveTimers
from pulse_notify.domain import notices, rota, zns
from pulse_notify.domain.model import ChannelName, Message, NewDelivery, Recipient, delivery_id
from pulse_notify.metrics import NotifyMetrics
from pulse_notify.settings import NotifySettings

log = logging.getLogger(__name__)

SUBSCRIPTION_PREFIX = "wh_"
BULLETIN_TYPE = "pulse.bulletin.published"
"""The `event_type` of bulletin deliveries (bulletins are not Kafka events: they start at POST /v1/bulletins)."""
DIRECTIVE_TYPE = triage_events.DIRECTIVE_CHANGED
PAGING_KINDS = ("raised", "escalated", "reminded")
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
        metrics: NotifyMetrics | None = None,
        timers: DirectiveTimers | None = None,
    ) -> None:
        self._settings = settings
        self._tz = ZoneInfo(settings.timezone)
        self._directory = directory
        self._deliveries = deliveries
        self._renderer = renderer
        self._on_recorded = on_recorded
        self._metrics = metrics
        self._timers = timers
        self._console = settings.console_base_url.rstrip("/")

    async def on_escalation(self, event: CloudEvent) -> int:
        """Page the recipients of the escalation's current level (closing notices on ack/resolve).

        Level 1 of the duty officers pages only whoever the rota has on duty at the event's time (all
        duty officers without a rota, or in a gap). Closing notices go to the people that level paged.
        On resolve with `notify_reporters`, the collaborators behind the hot spot get the outcome.
        """
        data = triage_events.EscalationChanged.model_validate(event.data)
        kind = _ESCALATION_KINDS[event.type]
        recipients: list[Recipient] = []
        if kind not in PAGING_KINDS:
            paged = await self._deliveries.recipients_of(data.escalation_id, data.level)
            recipients = await self._directory.by_ids(paged)
        if not recipients:
            recipients = [r for r in await self._directory.recipients_for(data.target) if r.covers_unit(data.unit_code)]
            if data.target == "duty_officer":
                recipients = await self.on_duty(recipients, event.time)
        if not recipients:
            log.warning(
                "escalation pages nobody: no active recipient for its target and unit",
                extra={"escalation_id": data.escalation_id, "target": data.target, "unit_code": data.unit_code},
            )
        raw = data.model_dump(mode="json", exclude={"reporter_ids"})
        context = notices.escalation_context(
            raw,
            unit_names=await self._directory.names("unit", [data.unit_code]),
            topic_names=await self._directory.names("topic", [data.topic_code]),
            tz=self._tz,
            ack_base_url=self._settings.ack_base_url,
        )
        texts, reasons = await self._directory.report_facts(list(data.report_ids))
        context.update(notices.report_facts(list(data.report_ids), texts, reasons))
        if kind in ("raised", "escalated"):
            key: tuple[Any, ...] = ("escalation", data.escalation_id, data.level)
        elif kind == "reminded":
            key = ("reminder", data.escalation_id, data.level, data.reminder_seq)
        else:
            key = ("closing", kind, data.escalation_id, data.level)
        extra: dict[str, Any] = {"escalation_id": data.escalation_id, "level": data.level}
        if kind == "reminded":
            extra["reminder_seq"] = data.reminder_seq
        ack = (data.escalation_id, data.level) if kind in PAGING_KINDS else None
        count = await self._fan_out(event, kind, key, recipients, context, raw, ack=ack, **extra)
        if kind == "resolved" and data.notify_reporters and data.reporter_ids:
            count += await self._outcome(event, data)
        return count

    async def on_duty(self, duty_officers: list[Recipient], at: datetime) -> list[Recipient]:
        """The duty officers the rota has on duty at `at`; all of them with no rota or in a gap."""
        doc = await self._directory.rota("duty_officer")
        if doc is None or not duty_officers:
            return duty_officers
        chosen = rota.pick(rota.rota_from(doc).on_duty(at), duty_officers)
        if chosen:
            return chosen
        if self._metrics is not None:
            self._metrics.rota_gap_pages.inc()
        log.warning("nobody is on duty in the rota: paging every duty officer", extra={"at": isoformat(at)})
        return duty_officers

    async def _outcome(self, event: CloudEvent, data: triage_events.EscalationChanged) -> int:
        """The outcome to each collaborator whose reports formed the hot spot (their own notice, no identity)."""
        recipients = await self._directory.users(data.reporter_ids)
        context = notices.outcome_context(
            data.model_dump(mode="json"),
            unit_names=await self._directory.names("unit", [data.unit_code]),
            topic_names=await self._directory.names("topic", [data.topic_code]),
            tz=self._tz,
        )
        raw = {
            "kind": "outcome",
            "hotspot_id": data.hotspot_id,
            "unit_code": data.unit_code,
            "topic_code": data.topic_code,
            "outcome": context["outcome"],
        }
        return await self._fan_out(event, "outcome", ("outcome", data.escalation_id), recipients, context, raw)

    async def on_directive(self, event: CloudEvent) -> int:
        """Directive notices: created -> the assignee's users (and a reminder timer); overdue -> the department once."""
        data = triage_events.DirectiveChanged.model_validate(event.data)
        raw = data.model_dump(mode="json")
        if self._timers is not None:
            if data.change in ("created", "updated") and data.state == "open":
                await self._timers.schedule(data, raw)
            else:
                await self._timers.cancel(data.directive_id)
        if data.change == "created":
            recipients = await self._directory.agency_users(data.assignee)
            if not recipients:
                log.warning("a directive's agency has no active user to tell", extra={"agency": data.assignee})
            return await self.directive_notice(event, "directive", ("directive", data.directive_id), recipients, raw)
        if data.change == "overdue":
            recipients = [
                r for r in await self._directory.recipients_for("department_head") if r.covers_unit(data.unit_code)
            ]
            key = ("directive-overdue", data.directive_id)
            return await self.directive_notice(event, "directive_overdue", key, recipients, raw)
        return 0

    async def directive_notice(
        self, event: CloudEvent, kind: str, key: tuple[Any, ...], recipients: list[Recipient], raw: dict[str, Any]
    ) -> int:
        """Record one directive notice of `kind` to each recipient and channel."""
        context = notices.directive_context(
            raw,
            unit_names=await self._directory.names("unit", [raw["unit_code"]]),
            topic_names=await self._directory.names("topic", [raw["topic_code"]]),
            agency_names=await self._directory.names("agency", [raw["assignee"]]),
            tz=self._tz,
            link=f"{self._console}/directives/{raw['directive_id']}",
        )
        return await self._fan_out(event, kind, key, recipients, context, raw)

    async def remind_directive(self, raw: dict[str, Any], due_key: str) -> int:
        """The reminder before a directive's due time (fired by notify's own timer)."""
        recipients = await self._directory.agency_users(str(raw["assignee"]))
        event = CloudEvent(
            type=DIRECTIVE_TYPE, source=notify_events.SOURCE, data=raw, id=f"reminder-{raw['directive_id']}-{due_key}"
        )
        key = ("directive-reminder", raw["directive_id"], due_key)
        return await self.directive_notice(event, "directive_reminder", key, recipients, raw)

    async def on_user(self, event: CloudEvent) -> None:
        """Build the people directory from intake's users: newest version wins; inactive users are never paged."""
        if event.type == intake_events.USER_CHANGED:
            await self._directory.apply_user(intake_events.UserChanged.model_validate(event.data))
        else:
            agency = intake_events.AgencyChanged.model_validate(event.data)
            await self._directory.apply_agency(agency.code, agency.name, agency.active, agency.unit_code, event.time)

    async def on_triaged(self, event: CloudEvent) -> None:
        """Keep triage's reasons per report, for the notices."""
        data = triage_events.ReportTriaged.model_validate(event.data)
        await self._directory.put_report_reasons(
            data.report_id, {"reasons": list(data.reasons)[:10], "hotspot_id": data.hotspot_id}
        )

    async def on_orientation(self, event: CloudEvent) -> int:
        """Send a published orientation to the collaborators of its units (none listed = every unit)."""
        data = intake_events.OrientationPublished.model_validate(event.data)
        units = frozenset(data.unit_codes)
        recipients = [r for r in await self._directory.recipients_for("collaborator") if r.covers_any(units)]
        raw = data.model_dump(mode="json", exclude={"published_by"})
        context = notices.orientation_context(
            raw,
            unit_names=await self._directory.names("unit", data.unit_codes),
            topic_names=await self._directory.names("topic", data.topic_codes),
            tz=self._tz,
        )
        context["link"] = f"{self._console}/orientations/{data.orientation_id}"
        return await self._fan_out(event, "orientation", ("orientation", data.orientation_id), recipients, context, raw)

    async def on_report(self, event: CloudEvent) -> int:
        """Send the reporter a receipt, if the reporting user is a recipient with the `reporter` target."""
        data = intake_events.ReportSubmitted.model_validate(event.data)
        await self._directory.put_report_text(
            data.report_id, {"title": data.title[:200], "content": data.content[:600], "unit_code": data.unit_code}
        )
        if data.reporter_kind != "user":
            return 0
        recipients = await self._directory.reporters(data.reporter_id)
        if not recipients:
            return 0
        raw = {
            "report_id": data.report_id,
            "title": data.title,
            "unit_code": data.unit_code,
            "received_at": isoformat(data.received_at),
        }
        context = notices.receipt_context(
            raw, unit_names=await self._directory.names("unit", [data.unit_code]), tz=self._tz
        )
        on_zalo = [r for r in recipients if r.channels.get("zalo_user_id")]
        if data.channel == "zalo" and on_zalo:
            # A report written to the OA is answered on Zalo by intake itself (pulse.report.receipt.v1, in the
            # same write as this event). The receipt here then goes over Zalo only and under the very delivery
            # id of intake's receipt: whichever of the two events is handled first records the one receipt,
            # the other finds it recorded, in either order. Reporters without a Zalo id are told as usual.
            count = await self._fan_out(
                event, "receipt", ("report-receipt", data.report_id), on_zalo, context, raw, only="zalo"
            )
            others = [r for r in recipients if not r.channels.get("zalo_user_id")]
            return count + await self._fan_out(event, "receipt", ("receipt", data.report_id), others, context, raw)
        return await self._fan_out(event, "receipt", ("receipt", data.report_id), recipients, context, raw)

    async def on_report_receipt(self, event: CloudEvent) -> int:
        """Deliver intake's receipt to the collaborator on the messaging channel the report came from (Zalo)."""
        data = intake_events.ReportReceipt.model_validate(event.data)
        batch = [
            NewDelivery(
                id=delivery_id("report-receipt", data.report_id, recipient.id, data.channel),
                event_id=event.id,
                event_type=event.type,
                event_time=event.time,
                recipient_id=recipient.id,
                channel=data.channel,
                address=address,
                message=Message(subject="Pulse: đã nhận phản ánh", text=notices.nfc(data.message)),
            )
            for recipient in await self._directory.users([data.recipient_id])
            for channel, address in recipient.addresses()
            if channel == data.channel
        ]
        return await self._record(batch)

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
            link=f"{self._console}/bulletins/{bulletin_id}",
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
        projection = public_events.project(event.type, event.data)
        if projection is None:
            return 0  # never forwarded (people, receipts to one person): see pulse_libs.events.public
        subs = await self._directory.subscriptions_for(event.type)
        if not subs:
            return 0
        data = {"id": event.id, "source": event.source, "subject": event.subject, **projection}
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
        *,
        ack: tuple[str, int] | None = None,
        only: ChannelName | None = None,
        **extra: Any,
    ) -> int:
        batch: list[NewDelivery] = []
        s = self._settings
        template_id = s.zalo_zns_templates.get(kind)
        # personal webhooks carry the event's public projection too (bulletins are not catalogued events)
        projected = public_events.project(event.type, raw)
        event_part = projected if projected is not None else ({} if event.type in BY_TYPE else dict(raw))
        for recipient in recipients:
            personal = {**context, "recipient_name": recipient.name}
            phone = recipient.channels.get("phone")
            for channel, address in recipient.addresses():
                if only is not None and channel != only:
                    continue
                if ack is not None:
                    personal["ack_url"] = self.ack_url(ack[0], ack[1], recipient.id, channel)
                message = self._renderer.render(kind, channel, personal)
                if channel == "webhook":
                    data = {"kind": kind, "subject": message.subject, "text": message.text, "event": event_part}
                    if ack is not None:
                        data["ack_url"] = personal["ack_url"]
                    message = Message(subject=message.subject, text=message.text, data=data)
                elif channel == "zalo" and template_id and phone and zns.zns_phone(phone):
                    spec = {
                        "phone": zns.zns_phone(phone),
                        "template_id": template_id,
                        "template_data": zns.template_data(kind, personal, s.zalo_zns_params),
                    }
                    message = Message(subject=message.subject, text=message.text, data={"zns": spec})
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

    def ack_url(self, escalation_id: str, level: int, recipient_id: str, channel: str) -> str:
        """The one-tap acknowledgement link of this recipient, escalation level and channel (console page)."""
        expires = utcnow() + timedelta(seconds=self._settings.ack_link_ttl_seconds)
        token = acktoken.mint(
            self._settings.ack_secret,
            escalation_id=escalation_id,
            level=level,
            recipient_id=recipient_id,
            channel=channel,
            expires_at=expires,
        )
        return f"{self._console}/ack/{token}"

    async def _record(self, batch: list[NewDelivery], now: datetime | None = None) -> int:
        count = await self._deliveries.record(batch, now or utcnow())
        if count:
            self._on_recorded()
        return count
