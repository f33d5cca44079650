"""Open311 GeoReport v2 use cases: topics are services, reports are service requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulse_libs.auth import Principal
from pulse_libs.clock import isoformat
from pulse_libs.outbox import strip_outbox

from pulse_intake.adapters.reports import ReportQuery
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.domain.reports import request_hash
from pulse_intake.domain.status import OPEN311_CLOSED
from pulse_intake.handlers.reports import ReportConflict, Submission, build_report, report_scope

UNIT_ATTRIBUTE = "unit_code"
AGENCY = "Ban Tuyên giáo"
NOTICE = "Phản ánh đã được tiếp nhận và chuyển bộ phận xử lý."
MAX_REQUESTS = 1000
ADDRESS_FIELDS = ("address_string", "address_id", "zipcode")
STATUS_NOTES = {
    "received": "Đã tiếp nhận, đang chờ phân loại.",
    "triaged": "Đã phân loại",
    "merged": "Đã gộp với các phản ánh cùng vụ việc",
    "escalated": "Đã báo cáo lãnh đạo, đang chờ chỉ đạo xử lý.",
    "acknowledged": "Lãnh đạo đã tiếp nhận và chỉ đạo xử lý.",
    "resolved": "Đã giải quyết.",
}
URGENCY_LABELS = {"routine": "thường", "urgent": "khẩn", "very_urgent": "thượng khẩn", "flash": "hỏa tốc"}


def service_view(topic: Mapping[str, Any]) -> dict[str, Any]:
    """A topic as an Open311 service: name and description only (never its keywords or sensitivity)."""
    return {
        "service_code": topic["_id"],
        "service_name": topic["name"],
        "description": "Phản ánh về " + topic["name"].lower(),
        "metadata": True,
        "type": "realtime",
        "group": "Dư luận xã hội",
    }


def service_definition(topic: Mapping[str, Any], units: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The definition of a service: one required attribute, the administrative unit."""
    return {
        "service_code": topic["_id"],
        "attributes": [
            {
                "variable": True,
                "code": UNIT_ATTRIBUTE,
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": "Mã đơn vị hành chính (phường, xã) nơi phát sinh phản ánh",
                "order": 1,
                "description": "Đơn vị hành chính",
                "values": [{"key": u["_id"], "name": u["name"]} for u in units],
            }
        ],
    }


async def list_services(*, store: IntakeStore) -> list[dict[str, Any]]:
    """Every topic of the taxonomy as a service."""
    return [service_view(d) for d in await store.topics.every()]


async def get_service(*, store: IntakeStore, code: str, unit_codes: frozenset[str] | None) -> dict[str, Any] | None:
    """A service's definition, offering the current units (only `unit_codes` when the caller is limited)."""
    topic = await store.topics.get(code)
    if topic is None:
        return None
    codes = None if unit_codes is None else sorted(unit_codes)
    return service_definition(topic, await store.units.current_with_committee(codes))


def request_to_report(fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Map GeoReport v2 request fields onto a report body (validated afterwards like any report)."""
    description = fields.get("description")
    code = fields.get("service_code")
    report: dict[str, Any] = {
        "unit_code": fields.get(UNIT_ATTRIBUTE),
        "channel": "other",
        "title": _title(description) if isinstance(description, str) else description,
        "content": description,
        "observed_at": now,
        "topic_codes": [code] if isinstance(code, str) else code,
    }
    address = fields.get("address_string")
    if isinstance(address, str) and isinstance(description, str) and address.strip():
        # Triage reads the content: the place is part of what was reported.
        report["content"] = f"{description}\n\nĐịa chỉ: {address.strip()}"
    if fields.get("lat") is not None or fields.get("long") is not None:
        report["location"] = {"lat": fields.get("lat"), "lon": fields.get("long")}
    if fields.get("media_url"):
        report["attachments"] = [{"url": fields["media_url"], "media_type": "application/octet-stream"}]
    return report


def _title(description: str) -> str:
    text = " ".join(description.split())
    return text if len(text) <= 200 else text[:197] + "..."


async def submit_request(
    *, store: IntakeStore, principal: Principal, body: Mapping[str, Any], fields: Mapping[str, Any], token: str | None,
    now: datetime,
) -> Submission:  # fmt: skip
    """Store the request as a report with its Open311 fields; the same token and fields replay the first answer.

    The citizen's contact fields (email, phone, names, device and account ids) are accepted as the spec
    requires but not stored: Pulse keeps no identity of the people its reports are about.
    """
    fingerprint = request_hash(fields) if token is not None else ""
    doc = build_report(principal=principal, body=body, idem=token, fingerprint=fingerprint, now=now)
    doc["open311"] = {
        "description": fields.get("description"),
        **{f: _text(fields.get(f)) for f in ADDRESS_FIELDS},
    }
    if await store.reports.insert(doc):
        return Submission(strip_outbox(doc), replayed=False)
    earlier = await store.reports.by_idempotency_key(doc["idem_key"]) if token is not None else None
    if earlier is None:
        raise ReportConflict("duplicate", None)
    if earlier.get("request_hash") != fingerprint:
        raise ReportConflict("idempotency_conflict", earlier["_id"])
    return Submission(strip_outbox(earlier), replayed=True)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def updated_at(doc: Mapping[str, Any]) -> datetime:
    """When the request last changed: received, triaged, resolved, or any recorded status change."""
    moments: list[datetime] = [doc["received_at"]]
    triage = doc.get("triage") or {}
    for value in (triage.get("decided_at"), doc.get("outcome_at"), doc.get("status_changed_at")):
        if isinstance(value, datetime):
            moments.append(value)
    moments += [h["at"] for h in doc.get("status_history") or [] if isinstance(h.get("at"), datetime)]
    return max(m if m.tzinfo else m.replace(tzinfo=doc["received_at"].tzinfo) for m in moments)


def status_notes(doc: Mapping[str, Any]) -> str:
    """Where the request stands, in Vietnamese, from its status, triage and outcome."""
    status = str(doc["status"])
    note = STATUS_NOTES.get(status, status)
    urgency = (doc.get("triage") or {}).get("urgency")
    if status in ("triaged", "merged") and urgency:
        note += f" (mức độ: {URGENCY_LABELS.get(urgency, urgency)})."
    elif status in ("triaged", "merged"):
        note += "."
    if status == "resolved" and doc.get("outcome"):
        note = f"Đã giải quyết: {doc['outcome']}"
    return note


def request_view(doc: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A report as an Open311 service request."""
    code = (doc.get("topic_codes") or [None])[0]
    location = doc.get("location") or {}
    attachments = doc.get("attachments") or []
    extra = doc.get("open311") or {}
    return {
        "service_request_id": doc["_id"],
        "status": "closed" if doc["status"] in OPEN311_CLOSED else "open",
        "status_notes": status_notes(doc),
        "service_name": names.get(code) if code else None,
        "service_code": code,
        "description": extra.get("description") or doc["content"],
        "agency_responsible": AGENCY,
        "service_notice": None,
        "requested_datetime": isoformat(doc["received_at"]),
        "updated_datetime": isoformat(updated_at(doc)),
        "expected_datetime": None,
        "address": extra.get("address_string"),
        "address_id": extra.get("address_id"),
        "zipcode": extra.get("zipcode"),
        "lat": location.get("lat"),
        "long": location.get("lon"),
        "media_url": attachments[0]["url"] if attachments else None,
    }


async def find_requests(
    *, store: IntakeStore, principal: Principal, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Reports visible to the caller matching GeoReport filters, newest first."""
    scope = report_scope(principal, None)
    if scope is None:
        return []
    status = filters.get("status")
    query = ReportQuery(
        scope=scope,
        ids=filters.get("ids") or None,
        topic_codes=filters.get("service_codes") or None,
        received_from=filters.get("start_date") or None,
        received_until=filters.get("end_date") or None,
        statuses=sorted(OPEN311_CLOSED) if status == "closed" else None,
        not_statuses=sorted(OPEN311_CLOSED) if status == "open" else None,
    )
    return await store.reports.search(query, before=None, limit=MAX_REQUESTS)


async def views(*, store: IntakeStore, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Reports as service requests, with their service names."""
    names = await store.topics.names()
    return [request_view(d, names) for d in docs]
