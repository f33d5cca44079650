"""Use cases of reports: submit (single and batch, idempotent), read and list within the caller's scope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_REPORTS
from pulse_libs.outbox import strip_outbox, with_outbox

from pulse_intake.adapters.registry_cache import RegistryCache
from pulse_intake.adapters.reports import ReportQuery, Reports, ReportScope, ReportSubmissions
from pulse_intake.domain.reports import dedupe_key, idempotency_key, new_report_id, request_hash
from pulse_intake.domain.text import fold, search_terms

OUTSIDE_UNITS = "unknown or outside your units"
OBSERVED_MAX_AGE = timedelta(days=400)
"""Older opinions are history, not reports: each would open counters of a long-closed period downstream."""
PUBLIC_FIELDS = (
    "status", "received_at", "unit_code", "channel", "title", "content", "observed_at", "topic_codes", "sentiment",
    "people_count", "location", "source_url", "attachments", "external_ref", "client_id", "triage", "outcome",
)  # fmt: skip
IDENTITY_FIELDS = ("reporter_id", "reporter_name", "reporter_kind")


class ReportRejected(Exception):
    """The report is not acceptable (422), with field errors and a metrics reason."""

    def __init__(self, reason: str, errors: list[dict[str, str]]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


class ReportConflict(Exception):
    """Already submitted with this external_ref/client_id, or the Idempotency-Key was used for another body."""

    def __init__(self, reason: str, existing_id: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.existing_id = existing_id


@dataclass(frozen=True)
class Submission:
    """The stored report and whether this answer replays an earlier one."""

    report: dict[str, Any]
    replayed: bool


LINKING_FIELDS = ("external_ref", "client_id")
"""Per-reporter references: shown to anyone else, they would link reports to one (pseudonymous) reporter."""


def report_view(doc: Mapping[str, Any], *, identities: bool, viewer: Principal | None = None) -> dict[str, Any]:
    """A report for the API; who reported only when the caller may see identities.

    Without identity rights, a caller other than the reporter sees neither the reporter's references
    (`external_ref`, `client_id`) nor `merged` (which says "same source as another report"): both
    would let them group reports by reporter.
    """
    out = {"id": doc["_id"], **{f: doc.get(f) for f in PUBLIC_FIELDS}}
    own = viewer is not None and doc.get("reporter_id") == viewer.subject and doc.get("reporter_kind") == viewer.kind
    if identities:
        out.update({f: doc.get(f) for f in IDENTITY_FIELDS})
    elif not own:
        out.update({f: None for f in LINKING_FIELDS})
        if out.get("status") == "merged":
            out["status"] = "triaged"
    return out


async def check_report(
    *, registry: RegistryCache, principal: Principal, body: Mapping[str, Any], now: datetime, skew: timedelta
) -> None:
    """Reject a report naming a unit outside the caller's scope, unknown topics, or a future time."""
    errors: list[dict[str, str]] = []
    unit = body["unit_code"]
    if not principal.sees_unit(unit) or not await registry.unit_exists(unit):
        errors.append({"field": "unit_code", "message": OUTSIDE_UNITS})
    missing = await registry.missing_topics(body.get("topic_codes") or [])
    if missing:
        errors.append({"field": "topic_codes", "message": "unknown topic(s): " + ", ".join(missing)})
    if body["observed_at"] > now + skew:
        errors.append({"field": "observed_at", "message": "must not lie in the future"})
    elif body["observed_at"] < now - OBSERVED_MAX_AGE:
        errors.append({"field": "observed_at", "message": f"must lie within the last {OBSERVED_MAX_AGE.days} days"})
    if errors:
        raise ReportRejected("unit" if errors[0]["field"] == "unit_code" else errors[0]["field"], errors)


def build_report(
    *, principal: Principal, body: Mapping[str, Any], idem: str | None, fingerprint: str, now: datetime
) -> dict[str, Any]:
    """The report document, carrying its ReportSubmitted event in the outbox (key = unit code)."""
    report_id = new_report_id()
    doc: dict[str, Any] = {
        "_id": report_id,
        **{f: body.get(f) for f in PUBLIC_FIELDS if f not in ("status", "received_at", "triage")},
        "topic_codes": list(body.get("topic_codes") or []),
        "attachments": list(body.get("attachments") or []),
        "status": "received",
        "status_rank": 0,
        "triage": None,
        "received_at": now,
        "reporter_id": principal.subject,
        "reporter_kind": principal.kind,
        "reporter_name": principal.name,
        "search_text": fold(f"{body['title']} {body['content']}"),
        "dedupe_key": dedupe_key(
            reporter_kind=principal.kind,
            reporter_id=principal.subject,
            external_ref=body.get("external_ref"),
            client_id=body.get("client_id"),
            report_id=report_id,
        ),
        "idem_key": idempotency_key(reporter_id=f"{principal.kind}:{principal.subject}", key=idem, report_id=report_id),
        "request_hash": fingerprint,
    }
    data = ev.ReportSubmitted(
        report_id=report_id,
        unit_code=doc["unit_code"],
        channel=doc["channel"],
        title=doc["title"],
        content=doc["content"],
        observed_at=doc["observed_at"],
        received_at=now,
        topic_codes=doc["topic_codes"],
        sentiment=doc["sentiment"],
        people_count=doc["people_count"],
        location=doc["location"],
        source_url=doc["source_url"],
        attachment_count=len(doc["attachments"]),
        reporter_id=principal.subject,
        reporter_kind=principal.kind,
        external_ref=doc["external_ref"],
    )
    event = new_event(
        ev.REPORT_SUBMITTED,
        source=ev.SOURCE,
        data=data,
        key=doc["unit_code"],
        subject=report_id,
        event_id=f"report-{report_id}",
    )
    return with_outbox(doc, [(INTAKE_REPORTS, event)])


async def submit(
    *,
    reports: ReportSubmissions,
    principal: Principal,
    body: Mapping[str, Any],
    raw: Mapping[str, Any],
    idem: str | None,
) -> Submission:
    """Store one report durably; replay the answer for a repeated Idempotency-Key with the same body."""
    fingerprint = request_hash(raw) if idem is not None else ""
    doc = build_report(principal=principal, body=body, idem=idem, fingerprint=fingerprint, now=utcnow())
    if await reports.insert(doc):
        return Submission(strip_outbox(doc), replayed=False)
    if idem is not None:
        earlier = await reports.by_idempotency_key(doc["idem_key"])
        if earlier is not None:
            if earlier.get("request_hash") != fingerprint:
                raise ReportConflict("idempotency_conflict", None)
            return Submission(strip_outbox(earlier), replayed=True)
    raise ReportConflict("duplicate", await reports.id_of_duplicate(doc["dedupe_key"]))


async def insert_batch(*, reports: ReportSubmissions, docs: list[dict[str, Any]]) -> dict[int, str | None]:
    """Insert many reports at once; return {position: existing id} for those already submitted."""
    return {pos: await reports.id_of_duplicate(docs[pos]["dedupe_key"]) for pos in await reports.insert_many(docs)}


def report_scope(principal: Principal, unit_code: str | None) -> ReportScope | None:
    """What the caller may see: their units' reports, or only their own; None when nothing is visible."""
    if principal.has("reports:read"):
        units = principal.unit_filter(unit_code)
        if units is None:
            return ReportScope()
        return ReportScope(units=units) if units else None
    return ReportScope(reporter=(principal.kind, principal.subject), unit_code=unit_code)


async def get_report(*, reports: Reports, principal: Principal, report_id: str) -> dict[str, Any] | None:
    """The report if it exists inside the caller's scope, else None."""
    scope = report_scope(principal, None)
    if scope is None:
        return None
    return await reports.visible(report_id, scope)


async def list_reports(
    *, reports: Reports, principal: Principal, filters: Mapping[str, Any], before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Reports newest first, filtered and limited to the caller's scope."""
    scope = report_scope(principal, filters.get("unit_code"))
    if scope is None:
        return []
    status = filters.get("status")
    statuses: list[str] | None = None
    if status is not None and not principal.sees_identities and scope.reporter is None:
        # Merged is shown as triaged to callers without identity rights (see report_view).
        if status == "merged":
            return []
        statuses = ["triaged", "merged"] if status == "triaged" else [status]
    elif status is not None:
        statuses = [status]
    topic = filters.get("topic_code")
    query = ReportQuery(
        scope=scope,
        statuses=statuses,
        urgency=filters.get("urgency"),
        channel=filters.get("channel"),
        topic_codes=[topic] if topic is not None else None,
        received_from=filters.get("from"),
        received_before=filters.get("to"),
        terms=search_terms(filters.get("q") or ""),
    )
    return await reports.search(query, before=before, limit=limit)
