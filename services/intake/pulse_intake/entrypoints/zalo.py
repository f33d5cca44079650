"""The Zalo Official Account webhook: messages from followers linked to collaborators become reports."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pulse_libs.clock import utcnow
from pulse_libs.http.problems import ProblemError
from pydantic import BaseModel

from pulse_intake.adapters import zalo
from pulse_intake.context import Ctx
from pulse_intake.entrypoints.common import problems
from pulse_intake.handlers.zalo import take_message

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])


class ZaloAck(BaseModel):
    """What intake did with the event (Zalo only looks at the 200)."""

    status: str
    report_id: str | None = None


@router.post(
    "/v1/channels/zalo/events",
    response_model=ZaloAck,
    responses=problems(401, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "Zalo OA webhook event"}}},
        },
        "parameters": [
            {
                "name": zalo.SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "mac=sha256(app_id + body + timestamp + OA secret key)",
            }
        ],
    },
)
async def zalo_events(ctx: Ctx, request: Request) -> dict[str, Any]:
    """Zalo's webhook (no bearer: Zalo's signature instead). A text or image from a follower linked to a
    collaborator becomes a report (channel `zalo`, idempotent by Zalo's msg_id) with a receipt; anything
    else changes nothing. 200 once the signature is valid, 401 otherwise."""
    settings = ctx.settings
    body = await request.body()
    try:
        payload = zalo.verified_payload(
            body=body,
            header=request.headers.get(zalo.SIGNATURE_HEADER),
            app_id=settings.zalo_app_id or "",
            oa_secret_key=settings.zalo_oa_secret_key or "",
        )
    except zalo.BadSignature as exc:
        log.warning("zalo webhook refused", extra={"reason": str(exc)})
        raise ProblemError(401, "The Zalo signature is missing or wrong.") from None
    message = zalo.message_of(payload)
    if message is None:
        return {"status": "ignored"}
    outcome, report_id = await take_message(
        store=ctx.store,
        message=message,
        app_id=settings.zalo_app_id or "",
        now=utcnow(),
        replay_window=timedelta(seconds=settings.zalo_replay_window_seconds),
        skew=timedelta(seconds=settings.clock_skew_seconds),
        timezone=settings.timezone,
    )
    if outcome == "created":
        ctx.kick()
    log.info("zalo message", extra={"outcome": outcome, "msg_id": message.msg_id})
    return {"status": outcome, "report_id": report_id if outcome in ("created", "duplicate") else None}
