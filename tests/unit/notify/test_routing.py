"""Routing use cases with in-memory fakes of the stores: who gets which notice, and the delivery keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pulse_libs.events.notify as notify_events
import pulse_libs.events.triage as triage_events
from pulse_libs.events.envelope import CloudEvent
from pulse_notify.adapters.templates import Renderer
from pulse_notify.domain.model import NewDelivery, Recipient
from pulse_notify.handlers import Notifier
from pulse_notify.settings import NotifySettings

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


class FakeDirectory:
    def __init__(self, recipients: list[Recipient], subscriptions: list[dict[str, Any]] | None = None) -> None:
        self.recipients = recipients
        self.subscriptions = subscriptions or []

    async def recipients_for(self, target: str) -> list[Recipient]:
        return [r for r in self.recipients if target in r.targets and r.active]

    async def reporters(self, user_id: str) -> list[Recipient]:
        return [r for r in self.recipients if r.user_id == user_id and "reporter" in r.targets]

    async def names(self, kind: str, codes: Iterable[str]) -> dict[str, str]:
        return {"04252": "Phường Yên Bái"} if kind == "unit" else {}

    async def subscriptions_for(self, event_type: str) -> list[dict[str, Any]]:
        return [s for s in self.subscriptions if event_type in s["event_types"]]


class FakeDeliveries:
    def __init__(self) -> None:
        self.stored: dict[str, NewDelivery] = {}

    async def record(self, deliveries: list[NewDelivery], now: datetime) -> int:
        new = [d for d in deliveries if d.id not in self.stored]
        self.stored.update((d.id, d) for d in new)
        return len(new)


def notifier(recipients: list[Recipient], subscriptions: list[dict[str, Any]] | None = None) -> tuple[Notifier, Any]:
    store = FakeDeliveries()
    kicks: list[int] = []
    n = Notifier(
        settings=NotifySettings(),
        directory=FakeDirectory(recipients, subscriptions),  # type: ignore[arg-type]
        deliveries=store,  # type: ignore[arg-type]
        renderer=Renderer(),
        on_recorded=lambda: kicks.append(1),
    )
    return n, store


def escalation(event_type: str, *, level: int = 1, target: str = "duty_officer", seq: int = 0) -> CloudEvent:
    data = {
        "escalation_id": "esc-1",
        "hotspot_id": "hs-1",
        "unit_code": "04252",
        "topic_code": "dat-dai",
        "urgency": "very_urgent",
        "level": level,
        "target": target,
        "state": "pending",
        "raised_at": NOW.isoformat(),
        "ack_deadline": (NOW + timedelta(hours=1)).isoformat(),
        "report_ids": ["r-1"],
        "report_count": 1,
        "source_count": 1,
        "channels": ["zalo"],
        "first_seen": NOW.isoformat(),
        "last_seen": NOW.isoformat(),
        "reminder_seq": seq,
        "changed_at": NOW.isoformat(),
    }
    return CloudEvent(type=event_type, source=triage_events.SOURCE, data=data, time=NOW)


DUTY = frozenset({"duty_officer"})
PEOPLE = [
    Recipient(id="a", name="An", targets=DUTY, channels={"email": "a@x.invalid", "phone": "+84900000001"}),
    Recipient(id="b", name="Bình", targets=DUTY, unit_codes=frozenset({"04279"}), channels={"email": "b@x.invalid"}),
    Recipient(id="c", name="Cường", targets=frozenset({"department_head"}), channels={"email": "c@x.invalid"}),
    Recipient(id="d", name="Dung", targets=DUTY, channels={}),
]


async def test_a_level_pages_its_target_in_the_unit_on_every_channel_once() -> None:
    n, store = notifier(PEOPLE)
    assert await n.on_escalation(escalation(triage_events.ESCALATION_RAISED)) == 2
    assert await n.on_escalation(escalation(triage_events.ESCALATION_RAISED)) == 0  # re-emitted: nothing new
    assert sorted((d.recipient_id, d.channel) for d in store.stored.values()) == [("a", "email"), ("a", "sms")]
    assert await n.on_escalation(escalation(triage_events.ESCALATION_ESCALATED, level=2, target="department_head")) == 1
    assert {d.level for d in store.stored.values()} == {1, 2}


async def test_reminders_count_per_sequence_and_closing_notices_per_state() -> None:
    n, _ = notifier(PEOPLE)
    reminded = triage_events.ESCALATION_REMINDED
    assert await n.on_escalation(escalation(reminded, seq=1)) == 2
    assert await n.on_escalation(escalation(reminded, seq=1)) == 0
    assert await n.on_escalation(escalation(reminded, seq=2)) == 2
    assert await n.on_escalation(escalation(triage_events.ESCALATION_ACKNOWLEDGED)) == 2
    assert await n.on_escalation(escalation(triage_events.ESCALATION_RESOLVED)) == 2
    assert await n.on_escalation(escalation(triage_events.ESCALATION_RESOLVED)) == 0


async def test_subscription_outcomes_are_not_forwarded_to_subscriptions() -> None:
    subs = [{"_id": "wh_1", "url": "https://he-thong.example.vn/hook", "event_types": [notify_events.DELIVERY_DEAD]}]
    n, store = notifier([], subs)
    own = CloudEvent(type=notify_events.DELIVERY_DEAD, source="pulse/notify", data={"recipient_id": "wh_1"})
    person = CloudEvent(type=notify_events.DELIVERY_DEAD, source="pulse/notify", data={"recipient_id": "rc_1"})
    assert await n.on_any_event(own) == 0
    assert await n.on_any_event(person) == 1
    assert next(iter(store.stored.values())).address == "https://he-thong.example.vn/hook"
