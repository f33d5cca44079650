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
        self.rota_doc: dict[str, Any] | None = None
        self.texts: list[dict[str, Any]] = []
        self.reasons: list[dict[str, Any]] = []

    async def rota(self, name: str) -> dict[str, Any] | None:
        return self.rota_doc

    async def report_facts(self, report_ids: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return [t for t in self.texts if t["_id"] in report_ids], [r for r in self.reasons if r["_id"] in report_ids]

    async def by_ids(self, ids: Iterable[str]) -> list[Recipient]:
        wanted = set(ids)
        return [r for r in self.recipients if r.id in wanted and r.active]

    async def users(self, user_ids: Iterable[str]) -> list[Recipient]:
        wanted = set(user_ids)
        return [r for r in self.recipients if r.user_id in wanted and r.active]

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

    async def recipients_of(self, escalation_id: str, level: int) -> list[str]:
        closing = (triage_events.ESCALATION_ACKNOWLEDGED, triage_events.ESCALATION_RESOLVED)
        return sorted(
            {
                d.recipient_id
                for d in self.stored.values()
                if d.escalation_id == escalation_id and d.level == level and d.event_type not in closing
            }
        )


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


async def test_level_one_pages_only_the_officer_on_duty_and_an_override_wins() -> None:
    people = [
        Recipient(id="us_1", name="An", targets=DUTY, channels={"email": "a@x.invalid"}, user_id="1"),
        Recipient(id="us_2", name="Bình", targets=DUTY, channels={"email": "b@x.invalid"}, user_id="2"),
        Recipient(id="us_3", name="Chi", targets=DUTY, channels={"email": "c@x.invalid"}, user_id="3"),
    ]
    n, store = notifier(people)
    directory = n._directory  # type: ignore[attr-defined]
    directory.rota_doc = {
        "timezone": "Asia/Ho_Chi_Minh",
        "shifts": [
            {"user_id": "1", "starts_at": "2026-11-26T07:00:00+07:00", "ends_at": "2026-11-26T19:00:00+07:00"},
            {"user_id": "2", "starts_at": "2026-11-26T19:00:00+07:00", "ends_at": "2026-11-27T07:00:00+07:00"},
        ],
        "overrides": [],
    }
    await n.on_escalation(escalation(triage_events.ESCALATION_RAISED))  # 08:00 in Hà Nội: An's shift
    assert {d.recipient_id for d in store.stored.values()} == {"us_1"}

    directory.rota_doc["overrides"] = [
        {"recipient_id": "us_3", "starts_at": "2026-11-26T07:30:00+07:00", "ends_at": "2026-11-26T09:00:00+07:00"}
    ]
    await n.on_escalation(escalation(triage_events.ESCALATION_REMINDED, seq=1))
    reminded = {d.recipient_id for d in store.stored.values() if d.reminder_seq == 1}
    assert reminded == {"us_3"}

    # a gap: nobody on duty at that time -> every duty officer is paged (never nobody)
    directory.rota_doc = {"timezone": "Asia/Ho_Chi_Minh", "shifts": [], "overrides": []}
    await n.on_escalation(escalation(triage_events.ESCALATION_REMINDED, seq=2))
    assert {d.recipient_id for d in store.stored.values() if d.reminder_seq == 2} == {"us_1", "us_2", "us_3"}

    # closing notices go to the people that level paged
    await n.on_escalation(escalation(triage_events.ESCALATION_ACKNOWLEDGED))
    closing = {d.recipient_id for d in store.stored.values() if d.event_type == triage_events.ESCALATION_ACKNOWLEDGED}
    assert closing == {"us_1", "us_2", "us_3"}


async def test_paging_links_are_signed_per_recipient_and_channel() -> None:
    from pulse_libs import acktoken

    n, store = notifier(PEOPLE)
    await n.on_escalation(escalation(triage_events.ESCALATION_RAISED))
    settings = NotifySettings()
    claims = set()
    for d in store.stored.values():
        text = d.message.text
        url = next(w for w in text.split() if "/ack/" in w)
        token = url.rsplit("/ack/", 1)[1]
        claim = acktoken.verify(settings.ack_secret, token, now=datetime.now(UTC))
        assert (claim.escalation_id, claim.level, claim.recipient_id, claim.channel) == (
            "esc-1",
            1,
            d.recipient_id,
            d.channel,
        )
        claims.add(claim.token_id)
    assert len(claims) == len(store.stored)


async def test_outcome_goes_to_each_reporter_without_anyone_elses_identity() -> None:
    reporters = [
        Recipient(
            id="us_r1",
            name="Hà",
            targets=frozenset({"collaborator", "reporter"}),
            user_id="r1",
            channels={"zalo_user_id": "z1"},
        ),
        Recipient(
            id="us_r2",
            name="Lan",
            targets=frozenset({"collaborator", "reporter"}),
            user_id="r2",
            channels={"email": "lan@x.invalid"},
        ),
    ]
    n, store = notifier([*PEOPLE, *reporters])
    event = escalation(triage_events.ESCALATION_RESOLVED, level=2, target="department_head")
    event = CloudEvent(
        type=event.type,
        source=event.source,
        time=NOW,
        data={
            **event.data,
            "state": "resolved",
            "notify_reporters": True,
            "outcome": "Đã đối thoại với các hộ dân",
            "reporter_ids": ["r1", "r2"],
            "comment": "Đã đối thoại với các hộ dân",
        },
    )
    await n.on_escalation(event)
    outcome = [d for d in store.stored.values() if d.recipient_id in ("us_r1", "us_r2")]
    assert {(d.recipient_id, d.channel) for d in outcome} == {("us_r1", "zalo"), ("us_r2", "email")}
    other = {"us_r1": ("Lan", "r2"), "us_r2": ("Hà", "r1")}
    for d in outcome:
        name, user_id = other[d.recipient_id]
        assert "Đã đối thoại với các hộ dân" in d.message.text
        assert name not in d.message.text.replace("Hà Nội", "")
        assert user_id not in str(d.message.data)
    again = await n.on_escalation(event)
    assert again == 0
