"""REST: /v1/deliveries (read, filters) and /v1/bulletins (department)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pulse_libs.auth import Principal
from pulse_libs.clock import isoformat
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require

from pulse_notify.adapters import audit
from pulse_notify.entrypoints.deps import ERRORS, NOT_FOUND, NotifyServices
from pulse_notify.entrypoints.schemas import BulletinAccepted, BulletinCreate, BulletinRead, DeliveryRead

router = APIRouter(tags=["deliveries"])
Reader = Annotated[Principal, Depends(require("deliveries:read"))]
BulletinWriter = Annotated[Principal, Depends(require("bulletins:write"))]
BulletinReader = Annotated[Principal, Depends(require("orientations:read"))]
Id = Annotated[str, Query(min_length=1, max_length=128)]


def _read(doc: dict[str, Any]) -> DeliveryRead:
    return DeliveryRead(
        id=doc["_id"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        recipient_id=doc["recipient_id"],
        channel=doc["channel"],
        address=doc["address"],
        subject=doc.get("subject", ""),
        status=doc["status"],
        attempts=doc.get("attempts", 0),
        last_error=doc.get("last_error"),
        escalation_id=doc.get("escalation_id"),
        level=doc.get("level"),
        reminder_seq=doc.get("reminder_seq"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        next_attempt_at=doc.get("next_attempt_at") if doc["status"] in ("pending", "failed") else None,
        sent_at=doc.get("sent_at"),
    )


@router.get("/v1/deliveries", response_model=Page[DeliveryRead], responses=ERRORS, summary="List deliveries")
async def list_deliveries(
    principal: Reader,
    services: NotifyServices,
    status: Literal["pending", "sent", "failed", "dead"] | None = None,
    recipient_id: Id | None = None,
    event_id: Id | None = None,
    channel: Literal["zalo", "sms", "email", "webhook"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DeliveryRead]:
    """Deliveries newest first; `failed` means a retry is scheduled, `dead` is final."""
    filters: dict[str, Any] = {}
    for name, value in (("status", status), ("recipient_id", recipient_id), ("event_id", event_id)):
        if value is not None:
            filters[name] = value
    if channel is not None:
        filters["channel"] = channel
    position = decode_cursor(cursor)
    after = None
    if position is not None:
        try:
            after = (datetime.fromisoformat(str(position["c"])), str(position["i"]))
        except (KeyError, ValueError):
            raise ProblemError(
                400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}]
            ) from None
    docs = await services.deliveries.list(filters=filters, after=after, limit=limit)
    # Deliveries show recipient ids and addresses (reporters' phones and Zalo ids among them): every read is audited.
    await audit.record(
        services.db,
        actor=principal,
        action="deliveries.read",
        target="deliveries",
        details={"filters": filters, "cursor": cursor is not None, "limit": limit, "rows": len(docs)},
    )
    next_cursor = None
    if len(docs) == limit:
        next_cursor = encode_cursor({"c": isoformat(docs[-1]["created_at"]), "i": docs[-1]["_id"]})
    return Page[DeliveryRead](items=[_read(d) for d in docs], next_cursor=next_cursor)


@router.get("/v1/deliveries/{delivery_id}", response_model=DeliveryRead, responses={**ERRORS, **NOT_FOUND})
async def get_delivery(
    delivery_id: Annotated[str, Path(max_length=64)], principal: Reader, services: NotifyServices
) -> DeliveryRead:
    """One delivery with its attempts and last error."""
    doc = await services.deliveries.get(delivery_id)
    if doc is None:
        raise not_found("The delivery")
    await audit.record(
        services.db,
        actor=principal,
        action="delivery.read",
        target=delivery_id,
        details={"recipient_id": doc["recipient_id"], "channel": doc["channel"], "rows": 1},
    )
    return _read(doc)


@router.post(
    "/v1/bulletins",
    status_code=202,
    response_model=BulletinAccepted,
    responses=ERRORS,
    tags=["bulletins"],
    summary="Send a thematic bulletin to collaborators",
)
async def create_bulletin(
    body: BulletinCreate, principal: BulletinWriter, services: NotifyServices
) -> BulletinAccepted:
    """Record one delivery per collaborator of the units (all if none) and channel; they go out in the background."""
    if principal.unit_codes is not None and not set(body.unit_codes) <= principal.unit_codes:
        raise ProblemError(403, "The bulletin targets units outside the caller's scope.")
    bulletin_id, count = await services.notifier.publish_bulletin(
        title=body.title,
        body=body.body,
        unit_codes=sorted(set(body.unit_codes)),
        topic_codes=sorted(set(body.topic_codes)),
        author=principal.subject,
    )
    return BulletinAccepted(id=bulletin_id, deliveries=count)


def _bulletin(doc: dict[str, Any], console: str) -> BulletinRead:
    return BulletinRead(
        id=doc["_id"],
        title=doc["title"],
        body=doc["body"],
        unit_codes=doc.get("unit_codes", []),
        topic_codes=doc.get("topic_codes", []),
        created_at=doc["created_at"],
        delivery_count=doc.get("delivery_count"),
        link=f"{console.rstrip('/')}/bulletins/{doc['_id']}",
    )


def _bulletin_visible(principal: Principal, doc: dict[str, Any]) -> bool:
    units = doc.get("unit_codes") or []
    return principal.unit_codes is None or not units or bool(principal.unit_codes & set(units))


@router.get(
    "/v1/bulletins",
    response_model=Page[BulletinRead],
    responses=ERRORS,
    tags=["bulletins"],
    summary="List thematic bulletins",
)
async def list_bulletins(
    principal: BulletinReader, services: NotifyServices, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[BulletinRead]:
    """Bulletins newest first; a caller limited to units sees those of its units and those for every unit."""
    position = decode_cursor(cursor)
    after = None
    if position is not None:
        try:
            after = (datetime.fromisoformat(str(position["c"])), str(position["i"]))
        except (KeyError, ValueError):
            raise ProblemError(
                400, "The cursor is not valid.", errors=[{"field": "cursor", "message": "malformed"}]
            ) from None
    docs = await services.directory.list_bulletins(after=after, limit=limit)
    next_cursor = None
    if len(docs) == limit:
        next_cursor = encode_cursor({"c": isoformat(docs[-1]["created_at"]), "i": docs[-1]["_id"]})
    console = services.settings.console_base_url
    items = [_bulletin(d, console) for d in docs if _bulletin_visible(principal, d)]
    return Page[BulletinRead](items=items, next_cursor=next_cursor)


@router.get(
    "/v1/bulletins/{bulletin_id}",
    response_model=BulletinRead,
    responses={**ERRORS, **NOT_FOUND},
    tags=["bulletins"],
    summary="Read a thematic bulletin",
)
async def get_bulletin(
    bulletin_id: Annotated[str, Path(max_length=64)], principal: BulletinReader, services: NotifyServices
) -> BulletinRead:
    """One bulletin (404 outside the caller's units)."""
    doc = await services.directory.get_bulletin(bulletin_id)
    if doc is None or not _bulletin_visible(principal, doc):
        raise not_found("The bulletin")
    return _bulletin(doc, services.settings.console_base_url)
