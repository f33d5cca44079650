"""REST: /v1/webhooks — outbound event subscriptions for other systems (admin)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pulse_libs.events.public as public_events
from fastapi import APIRouter, Depends, Path, Response
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.events.catalog import BY_TYPE
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require

from pulse_notify.adapters import audit
from pulse_notify.domain import netguard, signing
from pulse_notify.entrypoints.deps import ERRORS, NOT_FOUND, NotifyServices
from pulse_notify.entrypoints.schemas import WebhookCreate, WebhookRead
from pulse_notify.handlers import SUBSCRIPTION_PREFIX

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Writer = Annotated[Principal, Depends(require("webhooks:write"))]
Reader = Annotated[Principal, Depends(require("webhooks:read"))]
WebhookId = Annotated[str, Path(max_length=64)]


def _read(doc: dict[str, Any], secret: str | None = None) -> WebhookRead:
    return WebhookRead(
        id=doc["_id"],
        url=doc["url"],
        event_types=doc["event_types"],
        active=doc.get("active", True),
        created_at=doc["created_at"],
        secret=secret,
    )


@router.post("", status_code=201, response_model=WebhookRead, responses=ERRORS, summary="Subscribe a webhook")
async def create_webhook(
    body: WebhookCreate, principal: Writer, services: NotifyServices, response: Response
) -> WebhookRead:
    """Subscribe a URL to event types; the signing secret is answered once."""
    errors = [
        {"field": f"event_types.{i}", "message": "unknown event type"}
        for i, t in enumerate(body.event_types)
        if t != "*" and t not in BY_TYPE
    ]
    errors += [
        {"field": f"event_types.{i}", "message": "not available to webhooks (it carries personal data)"}
        for i, t in enumerate(body.event_types)
        if t in BY_TYPE and not public_events.forwarded(t)
    ]
    if body.secret is not None and not signing.valid_secret(body.secret):
        errors.append({"field": "secret", "message": "must be whsec_ followed by base64 of 24–64 bytes"})
    try:
        await services.webhooks.check_target(body.url)
    except netguard.UnsafeTarget as exc:
        errors.append({"field": "url", "message": str(exc)})
    if errors:
        raise ProblemError(422, "The subscription is not valid; see errors.", errors=errors)
    secret = body.secret or signing.new_secret()
    doc = {
        "_id": SUBSCRIPTION_PREFIX + uuid.uuid4().hex[:20],
        "url": body.url,
        "event_types": sorted(set(body.event_types)),
        "secret": secret,
        "active": True,
        "created_at": utcnow(),
        "created_by": principal.subject,
    }
    await services.directory.insert_webhook(doc)
    await audit.record(
        services.db,
        actor=principal,
        action="webhook.create",
        target=str(doc["_id"]),
        details={"url": body.url, "event_types": doc["event_types"]},
    )
    response.headers["Location"] = f"/v1/webhooks/{doc['_id']}"
    return _read(doc, secret)


@router.get("", response_model=Page[WebhookRead], responses=ERRORS, summary="List webhook subscriptions")
async def list_webhooks(
    principal: Reader, services: NotifyServices, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[WebhookRead]:
    """Subscriptions in id order (without secrets)."""
    position = decode_cursor(cursor)
    docs = await services.directory.list_webhooks(after=str(position["i"]) if position else None, limit=limit)
    next_cursor = encode_cursor({"i": docs[-1]["_id"]}) if len(docs) == limit else None
    return Page[WebhookRead](items=[_read(d) for d in docs], next_cursor=next_cursor)


@router.get("/{webhook_id}", response_model=WebhookRead, responses={**ERRORS, **NOT_FOUND})
async def get_webhook(webhook_id: WebhookId, principal: Reader, services: NotifyServices) -> WebhookRead:
    """One subscription (without its secret)."""
    doc = await services.directory.get_webhook(webhook_id)
    if doc is None:
        raise not_found("The webhook subscription")
    return _read(doc)


@router.delete("/{webhook_id}", status_code=204, responses={**ERRORS, **NOT_FOUND}, summary="Unsubscribe")
async def delete_webhook(webhook_id: WebhookId, principal: Writer, services: NotifyServices) -> Response:
    """Delete a subscription; its pending deliveries become dead."""
    if not await services.directory.delete_webhook(webhook_id):
        raise not_found("The webhook subscription")
    await audit.record(services.db, actor=principal, action="webhook.delete", target=webhook_id)
    return Response(status_code=204)
