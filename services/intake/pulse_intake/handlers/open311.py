"""Open311 GeoReport v2 mapping: topics are services, reports are service requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pulse_libs.auth import Principal
from pulse_libs.clock import isoformat
from pulse_libs.store import Database

from pulse_intake.adapters.store import REPORTS, TOPICS
from pulse_intake.domain.status import OPEN311_CLOSED
from pulse_intake.handlers.reports import scope_query

UNIT_ATTRIBUTE = "unit_code"
AGENCY = "Ban Tuyên giáo"
NOTICE = "Phản ánh đã được tiếp nhận và chuyển bộ phận xử lý."
MAX_REQUESTS = 1000


def service_view(topic: Mapping[str, Any]) -> dict[str, Any]:
    """A topic as an Open311 service."""
    return {
        "service_code": topic["_id"],
        "service_name": topic["name"],
        "description": "Chủ đề: " + topic["name"] + (" (nhạy cảm)" if topic.get("sensitive") else ""),
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(topic.get("keywords") or []),
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


def request_to_report(fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Map GeoReport v2 request fields onto a report body (validated afterwards like any report)."""
    description = fields.get("description")
    report: dict[str, Any] = {
        "unit_code": fields.get(UNIT_ATTRIBUTE),
        "channel": "other",
        "title": _title(description) if isinstance(description, str) else description,
        "content": description,
        "observed_at": now,
        "topic_codes": [fields["service_code"]]
        if isinstance(fields.get("service_code"), str)
        else fields.get("service_code"),
    }
    address = fields.get("address_string")
    if isinstance(address, str) and isinstance(description, str) and address.strip():
        report["content"] = f"{description}\n\nĐịa chỉ: {address.strip()}"
    if fields.get("lat") is not None or fields.get("long") is not None:
        report["location"] = {"lat": fields.get("lat"), "lon": fields.get("long")}
    if fields.get("media_url"):
        report["attachments"] = [{"url": fields["media_url"], "media_type": "application/octet-stream"}]
    return report


def _title(description: str) -> str:
    text = " ".join(description.split())
    return text if len(text) <= 200 else text[:197] + "..."


def request_view(doc: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A report as an Open311 service request."""
    code = (doc.get("topic_codes") or [None])[0]
    location = doc.get("location") or {}
    attachments = doc.get("attachments") or []
    return {
        "service_request_id": doc["_id"],
        "status": "closed" if doc["status"] in OPEN311_CLOSED else "open",
        "status_notes": doc["status"],
        "service_name": names.get(code) if code else None,
        "service_code": code,
        "description": doc["content"],
        "agency_responsible": AGENCY,
        "service_notice": None,
        "requested_datetime": isoformat(doc["received_at"]),
        "updated_datetime": isoformat(doc["received_at"]),
        "expected_datetime": None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": location.get("lat"),
        "long": location.get("lon"),
        "media_url": attachments[0]["url"] if attachments else None,
    }


async def topic_names(db: Database) -> dict[str, str]:
    """Topic code → name."""
    return {d["_id"]: d["name"] for d in await db[TOPICS].find({}, {"name": 1}).to_list()}


async def find_requests(*, db: Database, principal: Principal, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Reports visible to the caller matching GeoReport filters, newest first."""
    scope = scope_query(principal, None)
    if scope is None:
        return []
    clauses: list[dict[str, Any]] = [scope]
    if filters.get("ids"):
        clauses.append({"_id": {"$in": filters["ids"]}})
    if filters.get("service_code"):
        clauses.append({"topic_codes": filters["service_code"]})
    if filters.get("start_date"):
        clauses.append({"received_at": {"$gte": filters["start_date"]}})
    if filters.get("end_date"):
        clauses.append({"received_at": {"$lte": filters["end_date"]}})
    if filters.get("status") == "closed":
        clauses.append({"status": {"$in": sorted(OPEN311_CLOSED)}})
    elif filters.get("status") == "open":
        clauses.append({"status": {"$nin": sorted(OPEN311_CLOSED)}})
    return await db[REPORTS].find({"$and": clauses}, {"_outbox": 0}).sort("_id", -1).limit(MAX_REQUESTS).to_list()
