"""REST: /v1/recipients (admin writes; admin and department read)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.http.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, encode_cursor
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require

from pulse_notify.adapters import audit
from pulse_notify.adapters.directory import USER_PREFIX
from pulse_notify.domain import netguard, signing
from pulse_notify.entrypoints.deps import CONFLICT, ERRORS, NOT_FOUND, NotifyServices, RecipientReader, Services
from pulse_notify.entrypoints.schemas import (
    Channels,
    RecipientCreate,
    RecipientRead,
    RecipientUpdate,
    Target,
    UnitCode,
)

router = APIRouter(prefix="/v1/recipients", tags=["recipients"])
Writer = Annotated[Principal, Depends(require("recipients:write"))]
RecipientId = Annotated[str, Path(max_length=64)]


def _read(doc: dict[str, Any], secret: str | None = None) -> RecipientRead:
    return RecipientRead(
        id=doc["_id"],
        name=doc["name"],
        targets=doc.get("targets", []),
        unit_codes=doc.get("unit_codes", []),
        channels=Channels(**{k: v for k, v in (doc.get("channels") or {}).items() if v}),
        active=doc.get("active", True),
        user_id=doc.get("user_id"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        webhook_secret=secret,
    )


def _not_from_directory(recipient_id: str) -> None:
    if recipient_id.startswith(USER_PREFIX):
        raise ProblemError(
            409,
            "This recipient is an intake user: change or deactivate the user in intake (PATCH /v1/users/{id}).",
        )


def _visible(principal: Principal, doc: dict[str, Any]) -> bool:
    units = doc.get("unit_codes") or []
    return principal.unit_codes is None or not units or bool(principal.unit_codes & set(units))


async def _check_webhook(services: Services, channels: Channels | None, secret: str | None) -> None:
    if secret is not None and not signing.valid_secret(secret):
        raise ProblemError(
            422, "The webhook secret is not valid.", errors=[{"field": "webhook_secret", "message": "whsec_ + base64"}]
        )
    if channels is None or channels.webhook_url is None:
        return
    try:
        await services.webhooks.check_target(channels.webhook_url)
    except netguard.UnsafeTarget as exc:
        raise ProblemError(
            422, "The webhook URL is refused.", errors=[{"field": "channels.webhook_url", "message": str(exc)}]
        ) from None


@router.post("", status_code=201, response_model=RecipientRead, responses=ERRORS, summary="Create a recipient")
async def create_recipient(
    body: RecipientCreate, principal: Writer, services: NotifyServices, response: Response
) -> RecipientRead:
    """Create a recipient; a webhook secret is generated (and shown once) if a webhook URL has none."""
    await _check_webhook(services, body.channels, body.webhook_secret)
    now = utcnow()
    secret = body.webhook_secret
    shown = secret
    if secret is None and body.channels.webhook_url is not None:
        secret = shown = signing.new_secret()
    doc = {
        "_id": "rc_" + uuid.uuid4().hex[:20],
        "name": body.name,
        "targets": sorted(set(body.targets)),
        "unit_codes": sorted(set(body.unit_codes)),
        "channels": body.channels.model_dump(exclude_none=True),
        "webhook_secret": secret,
        "active": body.active,
        "user_id": body.user_id,
        "created_at": now,
        "updated_at": now,
        "created_by": principal.subject,
    }
    await services.directory.insert_recipient(doc)
    await audit.record(
        services.db,
        actor=principal,
        action="recipient.create",
        target=str(doc["_id"]),
        details={
            "targets": doc["targets"],
            "unit_codes": doc["unit_codes"],
            "channels": sorted(body.channels.model_dump(exclude_none=True)),
        },
    )
    response.headers["Location"] = f"/v1/recipients/{doc['_id']}"
    return _read(doc, shown)


@router.get("", response_model=Page[RecipientRead], responses=ERRORS, summary="List recipients")
async def list_recipients(
    principal: RecipientReader,
    services: NotifyServices,
    target: Target | None = None,
    unit_code: Annotated[UnitCode | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RecipientRead]:
    """Recipients by id, optionally of a target or a unit (recipients without units cover every unit)."""
    position = decode_cursor(cursor)
    after = str(position.get("i")) if position else None
    docs = await services.directory.list_recipients(target=target, unit_code=unit_code, after=after, limit=limit)
    items = [_read(d) for d in docs if _visible(principal, d)]
    next_cursor = encode_cursor({"i": docs[-1]["_id"]}) if len(docs) == limit else None
    return Page[RecipientRead](items=items, next_cursor=next_cursor)


@router.get("/{recipient_id}", response_model=RecipientRead, responses={**ERRORS, **NOT_FOUND})
async def get_recipient(
    recipient_id: RecipientId, principal: RecipientReader, services: NotifyServices
) -> RecipientRead:
    """One recipient."""
    doc = await services.directory.get_recipient(recipient_id)
    if doc is None or not _visible(principal, doc):
        raise not_found("The recipient")
    return _read(doc)


@router.patch("/{recipient_id}", response_model=RecipientRead, responses={**ERRORS, **NOT_FOUND, **CONFLICT})
async def update_recipient(
    recipient_id: RecipientId, body: RecipientUpdate, principal: Writer, services: NotifyServices
) -> RecipientRead:
    """Change a recipient's name, targets, units, channels, secret or active flag (not one of intake's users)."""
    _not_from_directory(recipient_id)
    await _check_webhook(services, body.channels, body.webhook_secret)
    fields: dict[str, Any] = {}
    for name in ("name", "active", "webhook_secret", "user_id"):
        value = getattr(body, name)
        if value is not None:
            fields[name] = value
    if body.targets is not None:
        fields["targets"] = sorted(set(body.targets))
    if body.unit_codes is not None:
        fields["unit_codes"] = sorted(set(body.unit_codes))
    if body.channels is not None:
        fields["channels"] = body.channels.model_dump(exclude_none=True)
    fields["updated_at"] = utcnow()
    doc = await services.directory.update_recipient(recipient_id, fields)
    if doc is None:
        raise not_found("The recipient")
    changed = sorted(f for f in fields if f != "updated_at")
    await audit.record(
        services.db, actor=principal, action="recipient.update", target=recipient_id, details={"fields": changed}
    )
    return _read(doc, body.webhook_secret)


@router.delete(
    "/{recipient_id}", status_code=204, responses={**ERRORS, **NOT_FOUND, **CONFLICT}, summary="Delete a recipient"
)
async def delete_recipient(recipient_id: RecipientId, principal: Writer, services: NotifyServices) -> Response:
    """Remove a recipient; deliveries already recorded keep their history."""
    _not_from_directory(recipient_id)
    if not await services.directory.delete_recipient(recipient_id):
        raise not_found("The recipient")
    await audit.record(services.db, actor=principal, action="recipient.delete", target=recipient_id)
    return Response(status_code=204)
