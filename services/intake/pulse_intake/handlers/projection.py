"""Project triage's decisions and escalations onto reports: `status` only moves forward, `triage` only newer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pulse_libs.events import triage as tev
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.consumer import EventHandler

from pulse_intake.adapters.reports import ReportProjection
from pulse_intake.domain.status import rank

ESCALATION_STATUS = {
    tev.ESCALATION_RAISED: "escalated",
    tev.ESCALATION_ESCALATED: "escalated",
    tev.ESCALATION_REMINDED: "escalated",
    tev.ESCALATION_ACKNOWLEDGED: "acknowledged",
    tev.ESCALATION_RESOLVED: "resolved",
}


async def apply_triaged(*, reports: ReportProjection, decision: tev.ReportTriaged) -> None:
    """Record triage's decision on the report and advance its status to triaged/merged."""
    triage = {
        "urgency": decision.urgency.value,
        "topic_codes": decision.topic_codes,
        "sensitive": decision.sensitive,
        "hotspot_id": decision.hotspot_id,
        "reasons": decision.reasons,
        "decided_at": decision.decided_at,
    }
    # Two conditional writes instead of one transaction: each is idempotent and order-independent.
    await reports.record_triage(decision.report_id, triage, decision.decided_at)
    await advance(reports=reports, report_ids=[decision.report_id], status="merged" if decision.merged else "triaged")


async def advance(*, reports: ReportProjection, report_ids: list[str], status: str) -> None:
    """Move reports to `status` unless they are already at or beyond it."""
    await reports.advance(report_ids, status, rank(status))


def projection_handlers(reports: ReportProjection) -> Mapping[str, EventHandler]:
    """Handlers by event type for the triage decision and escalation topics."""

    async def triaged(event: CloudEvent) -> None:
        await apply_triaged(reports=reports, decision=tev.ReportTriaged.model_validate(event.data))

    async def escalation(event: CloudEvent) -> None:
        change = tev.EscalationChanged.model_validate(event.data)
        status = ESCALATION_STATUS[event.type]
        await advance(reports=reports, report_ids=change.report_ids, status=status)
        if event.type == tev.ESCALATION_RESOLVED:
            outcome = event.data.get("outcome") or change.comment
            await resolve_hotspot(
                reports=reports,
                hotspot_id=change.hotspot_id,
                report_ids=change.report_ids,
                outcome=outcome if isinstance(outcome, str) else None,
                resolved_at=change.resolved_at,
            )

    async def hotspot_resolved(event: CloudEvent) -> None:
        change = tev.HotspotChanged.model_validate(event.data)
        await resolve_hotspot(
            reports=reports, hotspot_id=change.hotspot_id, report_ids=change.report_ids, outcome=None, resolved_at=None
        )

    handlers: dict[str, EventHandler] = {tev.REPORT_TRIAGED: triaged, tev.HOTSPOT_RESOLVED: hotspot_resolved}
    handlers.update({t: escalation for t in ESCALATION_STATUS})
    return handlers


async def resolve_hotspot(
    *,
    reports: ReportProjection,
    hotspot_id: str,
    report_ids: list[str],
    outcome: str | None,
    resolved_at: datetime | None,
) -> None:
    """Every report of the hot spot (listed, or triaged into it later) becomes `resolved`, with the outcome if given.

    Idempotent: the status only moves forward and the outcome is set to the same value again on a replay.
    The outcome is written first, so a reader never sees a report resolved without it.
    """
    if outcome:
        await reports.set_outcome(report_ids, hotspot_id, outcome, resolved_at)
    await advance(reports=reports, report_ids=report_ids, status="resolved")
    await reports.advance_hotspot(hotspot_id, "resolved", rank("resolved"))
