"""One polled batch of reports on the real store: the most urgent are placed (and their escalation raised)
before the routine rest, the reports of one unit stay in partition order, and a replayed batch changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pulse_libs.events.intake as intake_events
import pulse_libs.events.triage as ev
import pytest
from prometheus_client import CollectorRegistry
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.store import ensure_indexes, make_client
from pulse_triage.adapters.store import ESCALATIONS, HOTSPOTS, INDEXES, RESULTS, TriageStore
from pulse_triage.context import TriageContext
from pulse_triage.domain.hotspots import escalation_id_for, hotspot_id_for
from pulse_triage.handlers.triage import handle_reports_submitted
from pulse_triage.metrics import TriageMetrics
from pulse_triage.settings import TriageSettings

ROUTINE = ("Giá điện tăng", "Người dân hỏi về cách tính tiền điện tháng này, mong được giải thích.")
FLASH = (
    "Dân chặn đường phản đối cưỡng chế",
    "Hàng trăm người dân tụ tập chặn đường phản đối cưỡng chế giải phóng mặt bằng, xô xát với lực lượng cưỡng chế",
)
GPMB = "giai-phong-mat-bang"


class RecordingStore(TriageStore):
    """The real store, recording the order in which events are handed to the outbox."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.emitted: list[tuple[str, str]] = []

    async def emit(self, events: Sequence[tuple[str, CloudEvent]], now: datetime, bundle: str | None = None) -> None:
        self.emitted += [(event.type, str(event.subject)) for _, event in events]
        await super().emit(events, now, bundle)


@pytest.fixture
async def ctx(make_settings: Callable[..., Any]) -> AsyncIterator[TriageContext]:
    settings: TriageSettings = make_settings(TriageSettings, rules_cache_seconds=60)
    client = make_client(settings)
    db = client[settings.mongo_db]
    await ensure_indexes(db, INDEXES)
    try:
        metrics = TriageMetrics.create(CollectorRegistry())
        yield TriageContext(settings=settings, store=RecordingStore(db), metrics=metrics)
    finally:
        await client.close()


def report(unit: str, text: tuple[str, str], *, people: int | None = None, reporter: str = "ctv-1") -> CloudEvent:
    now = utcnow()
    rid = "r" + uuid.uuid4().hex[:12]
    data = intake_events.ReportSubmitted(
        report_id=rid,
        unit_code=unit,
        channel="phone",
        title=text[0],
        content=text[1],
        observed_at=now - timedelta(minutes=5),
        received_at=now,
        topic_codes=[GPMB] if people else [],
        sentiment="negative",
        people_count=people,
        reporter_id=reporter,
    )
    return new_event(intake_events.REPORT_SUBMITTED, source=intake_events.SOURCE, data=data, key=unit, subject=rid)


async def test_the_flash_report_of_a_batch_is_escalated_before_the_routine_reports_are_placed(
    ctx: TriageContext,
) -> None:
    routine = [report(f"0{4700 + i}", ROUTINE, reporter=f"ctv-{i}") for i in range(8)]
    flash = report("04799", FLASH, people=300, reporter="ctv-flash")
    await handle_reports_submitted(ctx, [*routine, flash])

    store = ctx.store
    assert isinstance(store, RecordingStore)
    order = [subject for kind, subject in store.emitted if kind == ev.REPORT_TRIAGED]
    assert sorted(order) == sorted(e.subject for e in [*routine, flash])
    assert order[0] == flash.subject, order
    raised = [i for i, (kind, _) in enumerate(store.emitted) if kind == ev.ESCALATION_RAISED]
    first_routine = min(store.emitted.index((ev.REPORT_TRIAGED, str(e.subject))) for e in routine)
    assert len(raised) == 1, store.emitted
    assert raised[0] < first_routine, store.emitted
    decided = await store.get(RESULTS, str(flash.subject))
    assert decided is not None
    assert decided["urgency"] == "flash"
    assert await store.get(ESCALATIONS, escalation_id_for(decided["hotspot_id"])) is not None


async def test_reports_of_one_unit_keep_their_order_and_a_replayed_batch_changes_nothing(ctx: TriageContext) -> None:
    first = report("04747", FLASH, people=300, reporter="ctv-1")
    second = report("04747", FLASH, people=300, reporter="ctv-2")
    elsewhere = report("04750", ROUTINE)
    batch = [first, elsewhere, second]
    await handle_reports_submitted(ctx, batch)

    store = ctx.store
    opened = await store.get(RESULTS, str(first.subject))
    joined = await store.get(RESULTS, str(second.subject))
    assert opened is not None
    assert joined is not None
    assert opened["hotspot_id"] == joined["hotspot_id"] == hotspot_id_for(str(first.subject))
    hotspot = await store.get(HOTSPOTS, opened["hotspot_id"])
    assert hotspot is not None
    assert hotspot["report_ids"] == [first.subject, second.subject]
    assert hotspot["source_count"] == 2

    assert isinstance(store, RecordingStore)
    emitted = list(store.emitted)
    await handle_reports_submitted(ctx, batch)
    again = await store.get(HOTSPOTS, opened["hotspot_id"])
    assert again is not None
    assert again["report_ids"] == [first.subject, second.subject]
    assert again["version"] == hotspot["version"]
    assert await store.results.count_documents({}) == 3
    assert await store.escalations.count_documents({}) == 1
    assert [e for e in store.emitted[len(emitted) :] if e[0] in (ev.REPORT_TRIAGED, ev.ESCALATION_RAISED)] == []
