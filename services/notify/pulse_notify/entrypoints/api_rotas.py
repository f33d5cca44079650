"""REST: the duty rota (`/v1/rotas/duty_officer`) and the Zalo OA token (`/v1/channels/zalo/token`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.http.problems import ProblemError, not_found
from pulse_libs.http.security import require

from pulse_notify.adapters import audit
from pulse_notify.domain import rota
from pulse_notify.entrypoints.deps import ERRORS, NOT_FOUND, NotifyServices, RecipientReader
from pulse_notify.entrypoints.schemas import RotaRead, RotaWrite, ShiftRead, ShiftWrite, ZaloTokenRead, ZaloTokenWrite

log = logging.getLogger(__name__)
router = APIRouter()
Writer = Annotated[Principal, Depends(require("recipients:write"))]


def _read(doc: dict[str, Any], on_duty: list[str]) -> RotaRead:
    r = rota.rota_from(doc)
    now = utcnow()
    return RotaRead(
        timezone=r.timezone,
        shifts=[ShiftRead(**s) for s in doc.get("shifts", [])],
        overrides=[ShiftRead(**s) for s in doc.get("overrides", [])],
        on_duty_now=on_duty,
        gaps=[{"starts_at": a, "ends_at": b} for a, b in r.gaps(now, now + timedelta(days=7))][:100],
        updated_at=doc.get("updated_at"),
        updated_by=doc.get("updated_by"),
    )


async def _on_duty(services: NotifyServices, doc: dict[str, Any]) -> list[str]:
    officers = await services.directory.recipients_for("duty_officer")
    return [r.id for r in rota.pick(rota.rota_from(doc).on_duty(utcnow()), officers)]


@router.get(
    "/v1/rotas/duty_officer",
    response_model=RotaRead,
    responses={**ERRORS, **NOT_FOUND},
    tags=["rotas"],
    summary="Read the duty rota",
)
async def get_rota(principal: RecipientReader, services: NotifyServices) -> RotaRead:
    """The rota with who is on duty now and the gaps of the coming week; 404 when no rota is set."""
    doc = await services.directory.rota("duty_officer")
    if doc is None:
        raise not_found("The duty rota")
    return _read(doc, await _on_duty(services, doc))


@router.put(
    "/v1/rotas/duty_officer", response_model=RotaRead, responses=ERRORS, tags=["rotas"], summary="Set the duty rota"
)
async def put_rota(body: RotaWrite, principal: Writer, services: NotifyServices) -> RotaRead:
    """Replace the rota. Each shift names a duty officer (recipient id or intake user id) known to notify."""
    try:
        tz = ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "America"
        raise ProblemError(422, "Unknown time zone.", errors=[{"field": "timezone", "message": "unknown"}]) from None
    officers = await services.directory.recipients_for("duty_officer")
    ids = {r.id for r in officers}
    users = {r.user_id for r in officers if r.user_id}
    errors: list[dict[str, str]] = []

    def stored(kind: str, i: int, shift: ShiftWrite) -> dict[str, Any]:
        field = f"{kind}.{i}"
        if (shift.recipient_id is None) == (shift.user_id is None):
            errors.append({"field": field, "message": "give exactly one of recipient_id and user_id"})
        elif shift.recipient_id is not None and shift.recipient_id not in ids:
            errors.append({"field": f"{field}.recipient_id", "message": "not an active duty officer"})
        elif shift.user_id is not None and shift.user_id not in users:
            errors.append({"field": f"{field}.user_id", "message": "not an active duty officer"})
        start, end = rota.localize(shift.starts_at, tz), rota.localize(shift.ends_at, tz)
        if end <= start:
            errors.append({"field": f"{field}.ends_at", "message": "must be after starts_at"})
        if end - start > timedelta(days=31):
            errors.append({"field": f"{field}.ends_at", "message": "a shift lasts at most 31 days"})
        out: dict[str, Any] = {"starts_at": start.isoformat(), "ends_at": end.isoformat()}
        if shift.recipient_id is not None:
            out["recipient_id"] = shift.recipient_id
        if shift.user_id is not None:
            out["user_id"] = shift.user_id
        return out

    shifts = [stored("shifts", i, s) for i, s in enumerate(body.shifts)]
    overrides = [stored("overrides", i, s) for i, s in enumerate(body.overrides)]
    if errors:
        raise ProblemError(422, "The rota is not valid; see errors.", errors=errors[:50])
    doc = {
        "timezone": body.timezone,
        "shifts": shifts,
        "overrides": overrides,
        "updated_at": utcnow(),
        "updated_by": principal.subject,
    }
    await services.directory.put_rota("duty_officer", doc)
    await audit.record(
        services.db,
        actor=principal,
        action="rota.put",
        target="duty_officer",
        details={"timezone": body.timezone, "shifts": len(shifts), "overrides": len(overrides)},
    )
    log.info("duty rota replaced", extra={"by": principal.subject, "shifts": len(shifts), "overrides": len(overrides)})
    return _read(doc, await _on_duty(services, doc))


@router.get(
    "/v1/channels/zalo/token",
    response_model=ZaloTokenRead,
    responses={**ERRORS, **NOT_FOUND},
    tags=["channels"],
    summary="State of the Zalo OA token",
)
async def get_zalo_token(principal: Writer, services: NotifyServices) -> ZaloTokenRead:
    """Generation, expiry and last refresh error (never the tokens)."""
    status = await services.zalo_tokens.status()
    await audit.record(
        services.db, actor=principal, action="zalo_token.read", target="zalo", details={"found": status is not None}
    )
    if status is None:
        raise not_found("The Zalo OA token")
    return ZaloTokenRead(**status)


@router.put(
    "/v1/channels/zalo/token",
    response_model=ZaloTokenRead,
    responses=ERRORS,
    tags=["channels"],
    summary="Store new Zalo OA tokens",
)
async def put_zalo_token(body: ZaloTokenWrite, principal: Writer, services: NotifyServices) -> ZaloTokenRead:
    """After authorising the OA app again (or when a refresh failed): store the new refresh token."""
    await services.zalo_tokens.replace(
        refresh_token=body.refresh_token, access_token=body.access_token, expires_in=body.expires_in
    )
    log.warning("Zalo OA tokens replaced by an operator", extra={"by": principal.subject, "at": datetime.now(UTC)})
    status = await services.zalo_tokens.status()
    assert status is not None
    await audit.record(
        services.db,
        actor=principal,
        action="zalo_token.replace",
        target="zalo",
        details={"generation": status.get("generation"), "access_token_given": body.access_token is not None},
    )
    return ZaloTokenRead(**status)
