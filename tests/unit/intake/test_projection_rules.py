"""Projection of triage's decisions onto reports, against the in-memory reports: status only moves forward,
an older decision never replaces a newer one, a resolved hot spot carries its outcome (integration: test_projection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulse_intake.adapters.reports import InMemoryProjectedReports
from pulse_intake.handlers.projection import advance, apply_triaged, resolve_hotspot
from pulse_intake.handlers.reports import build_report
from pulse_libs.auth import principal_for_user
from pulse_libs.events import triage as tev
from pulse_libs.events.common import Urgency

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PRINCIPAL = principal_for_user(user_id="u-minh", username="ctv.minh", role="collaborator", unit_codes=["04252"])


async def _reports(count: int) -> tuple[InMemoryProjectedReports, list[str]]:
    reports = InMemoryProjectedReports()
    ids = []
    for i in range(count):
        body = {
            "unit_code": "04252",
            "channel": "zalo",
            "title": f"Phản ánh số {i + 1} về rác thải ở tổ 3",
            "content": "Bãi rác tự phát gần chợ chưa được thu gom.",
            "observed_at": NOW,
        }
        doc = build_report(principal=PRINCIPAL, body=body, idem=None, fingerprint="", now=NOW)
        assert await reports.insert(doc)
        ids.append(doc["_id"])
    return reports, ids


def _decision(report_id: str, *, decided_at: datetime, urgency: Urgency, merged: bool = False) -> tev.ReportTriaged:
    return tev.ReportTriaged(
        report_id=report_id,
        unit_code="04252",
        urgency=urgency,
        topic_codes=["moi-truong"],
        sensitive=False,
        score=0.6,
        reasons=["rác thải tồn đọng"],
        hotspot_id="hs-7",
        merged=merged,
        channel="zalo",
        observed_at=NOW,
        received_at=NOW,
        decided_at=decided_at,
    )


async def test_an_older_decision_replayed_late_does_not_replace_the_newer_one() -> None:
    reports, (rid,) = await _reports(1)
    newer = _decision(rid, decided_at=NOW + timedelta(minutes=5), urgency=Urgency.URGENT)
    older = _decision(rid, decided_at=NOW, urgency=Urgency.ROUTINE, merged=True)
    await apply_triaged(reports=reports, decision=newer)
    await apply_triaged(reports=reports, decision=older)
    (doc,) = reports.docs
    assert doc["triage"]["urgency"] == "urgent"
    # "merged" ranks with "triaged": the older merge decision leaves the status as it was.
    assert (doc["status"], doc["status_rank"]) == ("triaged", 1)


async def test_status_never_moves_back() -> None:
    reports, ids = await _reports(2)
    await advance(reports=reports, report_ids=ids, status="acknowledged")
    await advance(reports=reports, report_ids=ids, status="escalated")  # a late, replayed escalation
    assert [d["status"] for d in reports.docs] == ["acknowledged", "acknowledged"]


async def test_resolving_a_hot_spot_resolves_its_reports_with_the_outcome() -> None:
    reports, (listed, triaged_later, other) = await _reports(3)
    await apply_triaged(reports=reports, decision=_decision(triaged_later, decided_at=NOW, urgency=Urgency.URGENT))
    outcome = "Đã thu gom rác, lập biên bản hộ đổ trộm."
    await resolve_hotspot(reports=reports, hotspot_id="hs-7", report_ids=[listed], outcome=outcome, resolved_at=NOW)
    by_id = {d["_id"]: d for d in reports.docs}
    for rid in (listed, triaged_later):
        assert (by_id[rid]["status"], by_id[rid]["outcome"]) == ("resolved", outcome)
    assert by_id[other]["status"] == "received"
    assert by_id[other]["outcome"] is None
