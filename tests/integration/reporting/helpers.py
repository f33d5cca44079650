"""Event builders and a running reporting app for the reporting integration tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pulse_libs.events.intake as intake
import pulse_libs.events.notify as notify
import pulse_libs.events.triage as triage
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pulse_libs.auth import Role, issue_token
from pulse_libs.events import topics
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.kafka.producer import EventProducer
from pulse_reporting.bootstrap import bootstrap
from pulse_reporting.settings import ReportingSettings

YEN_BAI = "04252"
VAN_PHU = "04279"
NAM_CUONG = "04273"
AU_LAU = "04543"
UNITS = {YEN_BAI: "Phường Yên Bái", VAN_PHU: "Phường Văn Phú", NAM_CUONG: "Phường Nam Cường", AU_LAU: "Phường Âu Lâu"}
TOPICS = {"dat_dai": "Quản lý đất đai", "giam_ngheo": "Giảm nghèo bền vững", "gpmb": "Giải phóng mặt bằng"}


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """A local (UTC+7) time on `day` as an aware UTC datetime."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+07:00").astimezone(UTC)


@dataclass
class Published:
    """Events and the topic each travels on."""

    events: list[tuple[str, CloudEvent]] = field(default_factory=list)

    def add(self, topic: str, event_type: str, data: Any, key: str) -> CloudEvent:
        """Build and remember one event."""
        event = new_event(event_type, source="pulse/test", data=data, key=key)
        self.events.append((topic, event))
        return event


def registry_events(out: Published) -> None:
    """Units and topics of the registry mirror."""
    for code, name in UNITS.items():
        out.add(
            topics.INTAKE_REGISTRY, intake.UNIT_UPSERTED, intake.UnitUpserted(code=code, name=name, kind="ward"), code
        )
    for code, name in TOPICS.items():
        out.add(topics.INTAKE_REGISTRY, intake.TOPIC_UPSERTED, intake.TopicUpserted(code=code, name=name), code)


def submitted(
    out: Published,
    report_id: str,
    *,
    unit: str,
    observed: datetime,
    channel: str = "zalo",
    topics_: Sequence[str] = (),
    sentiment: str | None = "negative",
    reporter: str = "u-ctv-1",
) -> None:
    """A ReportSubmitted event."""
    data = intake.ReportSubmitted(
        report_id=report_id,
        unit_code=unit,
        channel=channel,  # type: ignore[arg-type]
        title="Người dân phản ánh việc thu hồi đất",
        content="Nhiều hộ dân ở tổ 5 băn khoăn về giá bồi thường khi thu hồi đất làm đường.",
        observed_at=observed,
        received_at=observed + timedelta(hours=1),
        topic_codes=list(topics_),
        sentiment=sentiment,  # type: ignore[arg-type]
        reporter_id=reporter,
    )
    out.add(topics.INTAKE_REPORTS, intake.REPORT_SUBMITTED, data, unit)


def triaged(out: Published, report_id: str, *, unit: str, observed: datetime, urgency: str, topics_: list[str]) -> None:
    """A ReportTriaged event."""
    data = triage.ReportTriaged(
        report_id=report_id,
        unit_code=unit,
        urgency=urgency,  # type: ignore[arg-type]
        topic_codes=topics_,
        sensitive=True,
        score=3.5,
        reasons=["từ khóa: thu hồi đất"],
        channel="zalo",
        observed_at=observed,
        received_at=observed,
        decided_at=observed + timedelta(hours=1, seconds=5),
    )
    out.add(topics.TRIAGE_DECISIONS, triage.REPORT_TRIAGED, data, unit)


def hotspot(out: Published, kind: str, hotspot_id: str, *, unit: str, when: datetime) -> None:
    """A hot-spot lifecycle event (opened, acknowledged, resolved)."""
    status = {"opened": "open", "acknowledged": "acknowledged", "resolved": "resolved"}[kind]
    data = triage.HotspotChanged(
        hotspot_id=hotspot_id,
        unit_code=unit,
        topic_code="dat_dai",
        urgency="urgent",
        status=status,  # type: ignore[arg-type]
        report_ids=["r1", "r2"],
        source_count=2,
        channels=["zalo"],  # type: ignore[list-item]
        first_seen=when,
        last_seen=when,
        changed_at=when,
    )
    out.add(topics.TRIAGE_DECISIONS, f"pulse.hotspot.{kind}.v1", data, unit)


def escalation(
    out: Published,
    kind: str,
    escalation_id: str,
    *,
    hotspot_id: str,
    unit: str,
    level: int,
    raised: datetime,
    when: datetime,
    outcome: str | None = None,
) -> None:
    """An escalation lifecycle event (`outcome`: the resolving comment)."""
    state = {"raised": "pending", "escalated": "pending", "acknowledged": "acknowledged", "resolved": "resolved"}[kind]
    data = triage.EscalationChanged(
        escalation_id=escalation_id,
        hotspot_id=hotspot_id,
        unit_code=unit,
        topic_code="dat_dai",
        urgency="urgent",
        level=level,
        target="duty_officer" if level == 1 else "department_head",  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        raised_at=raised,
        ack_deadline=None,
        report_ids=["r1"],
        report_count=1,
        source_count=1,
        channels=["zalo"],  # type: ignore[list-item]
        first_seen=raised,
        last_seen=raised,
        acknowledged_at=when if kind == "acknowledged" else None,
        resolved_at=when if kind == "resolved" else None,
        comment=outcome,
        outcome=outcome,
        changed_at=when,
    )
    out.add(topics.TRIAGE_ESCALATIONS, f"pulse.escalation.{kind}.v1", data, hotspot_id)


def delivery(out: Published, delivery_id: str, *, status: str, when: datetime) -> None:
    """A delivery outcome."""
    data = notify.DeliveryOutcome(
        delivery_id=delivery_id,
        event_id="e1",
        event_type=triage.ESCALATION_RAISED,
        recipient_id="rcp-1",
        channel="email",
        status=status,  # type: ignore[arg-type]
        attempts=1,
        created_at=when,
        finished_at=when,
    )
    out.add(topics.NOTIFY_DELIVERIES, f"pulse.delivery.{status}.v1", data, delivery_id)


@dataclass
class Reporting:
    """A running reporting app, its client and settings."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: ReportingSettings
    producer: EventProducer

    def headers(self, role: Role, units: Sequence[str] = (), user_id: str | None = None) -> dict[str, str]:
        """Bearer headers for a caller of `role` limited to `units`."""
        token, _ = issue_token(
            self.settings, user_id=user_id or f"u-{role}", username=f"{role}-tester", role=role, unit_codes=units
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def db(self) -> Any:
        """The service's database."""
        return self.app.state.runtime.db

    async def publish(self, events: Sequence[tuple[str, CloudEvent]], *, fresh_ids: bool = False) -> None:
        """Publish events through the libs producer (optionally as re-emissions with new ids)."""
        for topic, event in events:
            if fresh_ids:
                event = CloudEvent(**{**event.__dict__, "id": str(uuid.uuid4())})
            await self.producer.publish(topic, event)

    async def projected(self) -> float:
        """Sum of pulse_reporting_events_projected_total over every type."""
        text = (await self.client.get("/metrics")).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("pulse_reporting_events_projected_total{")
        )

    async def wait_projected(self, count: float, timeout: float = 120.0) -> None:
        """Wait until at least `count` events were projected."""
        await wait_until(lambda: self.projected(), lambda n: n >= count, timeout)


async def wait_until(
    probe: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 60.0, interval: float = 0.1
) -> Any:
    """Poll an async probe until `check` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met in time; last value {value!r}")
        await asyncio.sleep(interval)


@asynccontextmanager
async def running(settings: ReportingSettings) -> AsyncIterator[Reporting]:
    """Start the app with its real lifespan (store, Kafka consumer) and a producer for test events."""
    app = bootstrap(settings)
    producer = EventProducer(settings)
    await producer.start()
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield Reporting(app=app, client=client, settings=settings, producer=producer)
    finally:
        await producer.stop()


@asynccontextmanager
async def fed(events: Sequence[tuple[str, CloudEvent]]) -> AsyncIterator[Reporting]:
    """A reporting app of its own (fresh topics and database) with `events` projected; the database is dropped
    afterwards."""
    from pymongo import AsyncMongoClient

    settings = reporting_settings()
    try:
        async with running(settings) as svc:
            await svc.publish(events)
            await svc.wait_projected(len(events))
            yield svc
    finally:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
        await client.drop_database(settings.mongo_db)
        await client.close()


def reporting_settings(**overrides: Any) -> ReportingSettings:
    """Settings isolated to one module: own topic prefix and database (dropped by `drop_database`)."""
    import os

    ns = "t" + uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "env": "test",
        "kafka_bootstrap": os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        "mongo_url": os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/"),
        "kafka_topic_prefix": f"{ns}.",
        "kafka_topic_partitions": 3,
        "outbox_poll_seconds": 0.1,
        "log_json": False,
        "mongo_db": f"{ns}_reporting",
        **overrides,
    }
    return ReportingSettings.model_construct(**{**ReportingSettings().model_dump(), **values})


def scenario() -> Published:
    """The known set of events of the 2026-10 reporting period (15 Sep – 14 Oct 2026) and one from 2026-09."""
    out = Published()
    registry_events(out)
    submitted(out, "r1", unit=YEN_BAI, observed=at("2026-10-01"), topics_=["dat_dai"], reporter="u-ctv-1")
    triaged(out, "r1", unit=YEN_BAI, observed=at("2026-10-01"), urgency="urgent", topics_=["dat_dai", "gpmb"])
    submitted(
        out, "r2", unit=YEN_BAI, observed=at("2026-10-02"), channel="phone", sentiment="neutral", reporter="u-ctv-2"
    )
    triaged(out, "r2", unit=YEN_BAI, observed=at("2026-10-02"), urgency="routine", topics_=["giam_ngheo"])
    submitted(
        out,
        "r3",
        unit=VAN_PHU,
        observed=at("2026-10-05"),
        channel="meeting",
        topics_=["giam_ngheo"],
        sentiment="positive",
        reporter="u-ctv-3",
    )
    submitted(
        out, "r4", unit=NAM_CUONG, observed=at("2026-10-10"), topics_=["dat_dai"], sentiment=None, reporter="u-ctv-4"
    )
    triaged(out, "r4", unit=NAM_CUONG, observed=at("2026-10-10"), urgency="flash", topics_=["dat_dai"])
    submitted(
        out,
        "r5",
        unit=YEN_BAI,
        observed=at("2026-09-20"),
        channel="social_media",
        topics_=["dat_dai"],
        reporter="u-ctv-1",
    )
    triaged(out, "r5", unit=YEN_BAI, observed=at("2026-09-20"), urgency="very_urgent", topics_=["dat_dai"])
    submitted(
        out, "r6", unit=VAN_PHU, observed=at("2026-09-10"), channel="hotline", topics_=["gpmb"], reporter="u-ctv-3"
    )
    triaged(out, "r6", unit=VAN_PHU, observed=at("2026-09-10"), urgency="routine", topics_=["gpmb"])
    # Triage's decision on r7 arrives before intake's submission: the report is counted once, as routine.
    triaged(out, "r7", unit=AU_LAU, observed=at("2026-10-14", 23, 30), urgency="routine", topics_=["dat_dai"])
    submitted(out, "r7", unit=AU_LAU, observed=at("2026-10-14", 23, 30), channel="written", topics_=["dat_dai"])
    hotspot(out, "opened", "h1", unit=YEN_BAI, when=at("2026-10-01", 10))
    hotspot(out, "acknowledged", "h1", unit=YEN_BAI, when=at("2026-10-01", 10, 30))
    hotspot(out, "resolved", "h1", unit=YEN_BAI, when=at("2026-10-03"))
    hotspot(out, "opened", "h2", unit=NAM_CUONG, when=at("2026-10-10"))
    raised1 = at("2026-10-01", 10)
    escalation(out, "raised", "e1", hotspot_id="h1", unit=YEN_BAI, level=1, raised=raised1, when=raised1)
    escalation(
        out, "escalated", "e1", hotspot_id="h1", unit=YEN_BAI, level=2, raised=raised1, when=at("2026-10-01", 10, 15)
    )
    escalation(
        out, "acknowledged", "e1", hotspot_id="h1", unit=YEN_BAI, level=2, raised=raised1, when=at("2026-10-01", 10, 30)
    )
    raised2 = at("2026-10-10")
    escalation(out, "raised", "e2", hotspot_id="h2", unit=NAM_CUONG, level=1, raised=raised2, when=raised2)
    escalation(
        out,
        "acknowledged",
        "e2",
        hotspot_id="h2",
        unit=NAM_CUONG,
        level=1,
        raised=raised2,
        when=at("2026-10-10", 9, 10),
    )
    delivery(out, "d1", status="sent", when=at("2026-10-01", 10, 1))
    delivery(out, "d2", status="dead", when=at("2026-10-01", 10, 5))
    out.add(
        topics.INTAKE_CAMPAIGNS,
        intake.ORIENTATION_PUBLISHED,
        intake.OrientationPublished(
            orientation_id="o1",
            period="2026-10",
            title="Định hướng tháng 10: đất đai và giảm nghèo",
            guidance="Nắm bắt dư luận về bồi thường, tái định cư và chính sách giảm nghèo.",
            topic_codes=["dat_dai", "giam_ngheo"],
            published_at=at("2026-09-15"),
            published_by="u-department",
        ),
        "o1",
    )
    questions = [
        intake.SurveyQuestion(
            code="q1",
            text="Ông/bà có đồng tình với phương án bồi thường?",
            kind="single",
            options=["Đồng tình", "Không đồng tình"],
        ),
        intake.SurveyQuestion(code="q2", text="Mức độ hài lòng (1–5)", kind="scale"),
        intake.SurveyQuestion(code="q3", text="Ý kiến khác", kind="text"),
    ]
    out.add(
        topics.INTAKE_CAMPAIGNS,
        intake.SURVEY_PUBLISHED,
        intake.SurveyPublished(
            survey_id="s1",
            title="Thăm dò dư luận về bồi thường giải phóng mặt bằng",
            questions=questions,
            unit_codes=[],
            opens_at=at("2026-09-20"),
            closes_at=at("2026-10-10"),
            published_at=at("2026-09-20"),
        ),
        "s1",
    )
    answers: list[tuple[str, str, dict[str, Any]]] = [
        ("resp1", YEN_BAI, {"q1": "Đồng tình", "q2": 4, "q3": "Cần công khai giá bồi thường"}),
        ("resp2", VAN_PHU, {"q1": "Không đồng tình", "q2": 2}),
        ("resp3", YEN_BAI, {"q1": "Đồng tình", "q2": 5, "q3": ""}),
    ]
    for response_id, unit, sheet in answers:
        out.add(
            topics.INTAKE_CAMPAIGNS,
            intake.SURVEY_RESPONSE_SUBMITTED,
            intake.SurveyResponseSubmitted(
                survey_id="s1",
                response_id=response_id,
                unit_code=unit,
                respondent_id=f"u-{response_id}",
                answers=sheet,
                submitted_at=at("2026-10-01"),
            ),
            "s1",
        )
    return out


def agency(out: Published, code: str, name: str, *, unit: str | None, when: datetime) -> None:
    """An AgencyChanged event of the directory."""
    data = intake.AgencyChanged(code=code, name=name, kind="people_committee", unit_code=unit, changed_at=when)
    out.add(topics.INTAKE_DIRECTORY, intake.AGENCY_CHANGED, data, code)


def directive(
    out: Published,
    change: str,
    directive_id: str,
    *,
    hotspot_id: str,
    unit: str,
    assignee: str,
    due: datetime,
    when: datetime,
    instruction: str = "Kiểm tra, rà soát và công khai phương án bồi thường cho các hộ dân",
    result: str | None = None,
) -> None:
    """A DirectiveChanged event (created, updated, overdue or done)."""
    state = {"created": "open", "updated": "open", "overdue": "overdue", "done": "done"}[change]
    data = triage.DirectiveChanged(
        directive_id=directive_id,
        hotspot_id=hotspot_id,
        unit_code=unit,
        topic_code="dat_dai",
        assignee=assignee,
        instruction=instruction,
        due_at=due,
        state=state,  # type: ignore[arg-type]
        change=change,  # type: ignore[arg-type]
        result=result,
        by="system" if change == "overdue" else "u-department",
        at=when,
        remind_before_seconds=3600,
    )
    out.add(topics.TRIAGE_DIRECTIVES, triage.DIRECTIVE_CHANGED, data, hotspot_id)
