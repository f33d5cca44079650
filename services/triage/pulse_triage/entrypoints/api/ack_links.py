"""Routes: one-tap acknowledgement links (no bearer: the signed token is the credential).

notify mints the token (pulse_libs.acktoken) with the shared `ack_secret`; triage verifies it here,
so the console's `/ack/{token}` page needs neither a secret nor any store, and no service reads
another's database. GET only reads; POST acknowledges once, as the recipient the link was made for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pulse_libs import acktoken
from pulse_libs.events.common import Channel, Urgency
from pulse_libs.http.audit_routes import Audit
from pulse_libs.http.problems import PROBLEM_BASE, ProblemError
from pulse_libs.store import Document
from pydantic import BaseModel, ConfigDict, Field

from pulse_triage.domain.errors import ConflictError
from pulse_triage.entrypoints.api.deps import Ctx
from pulse_triage.entrypoints.api.schemas import Problem
from pulse_triage.handlers import escalations as use_cases

router = APIRouter(prefix="/v1/ack-links", tags=["ack-links"])
LINK_USED = PROBLEM_BASE + "ack-link-used"
ALREADY_ACKNOWLEDGED = PROBLEM_BASE + "already-acknowledged"
RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "Forged or malformed link"},
    410: {"model": Problem, "description": "The link expired, or the escalation was resolved"},
    422: {"model": Problem, "description": "Invalid input"},
    503: {"model": Problem, "description": "The store is unavailable"},
}


class AckLinkRead(BaseModel):
    """The facts an officer decides on, as the link's page shows them (no reporter identity)."""

    escalation_id: str
    hotspot_id: str
    level: int = Field(description="The level whose notice carried the link")
    channel: str = Field(description="The channel whose notice carried the link")
    expires_at: datetime
    used: bool = Field(description="True once this link has acknowledged the escalation")
    state: Literal["pending", "acknowledged", "resolved"]
    urgency: Urgency
    unit_code: str
    topic_code: str
    topic_name: str | None
    reasons: list[str]
    report_count: int
    source_count: int
    channels: list[Channel]
    first_seen: datetime
    last_seen: datetime
    raised_at: datetime
    ack_deadline: datetime | None
    acknowledged_at: datetime | None = None
    acknowledged_via_link: bool = Field(default=False, description="True if the acknowledgement came from a link")


class AckLinkUse(BaseModel):
    """Acknowledge through the link, optionally with a comment."""

    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


def _claim(ctx: Ctx, token: str) -> acktoken.AckClaim:
    try:
        return acktoken.verify(ctx.settings.ack_secret, token, now=ctx.now())
    except acktoken.AckTokenError as exc:
        if exc.reason == "expired":
            raise ProblemError(410, "The link has expired.", type_=PROBLEM_BASE + "ack-link-expired") from None
        raise ProblemError(404, "The link is not valid.", type_=PROBLEM_BASE + "ack-link-invalid") from None


async def _escalation(ctx: Ctx, claim: acktoken.AckClaim) -> Document:
    esc = await ctx.repos.escalations.get(claim.escalation_id)
    if esc is None:
        raise ProblemError(404, "The link is not valid.", type_=PROBLEM_BASE + "ack-link-invalid")
    if esc["state"] == "resolved":
        raise ProblemError(410, "The escalation was resolved.", type_=PROBLEM_BASE + "ack-link-expired")
    return esc


async def _facts(ctx: Ctx, claim: acktoken.AckClaim, esc: Document) -> AckLinkRead:
    hotspot = await ctx.repos.hotspots.get(esc["hotspot_id"]) or {}
    topic = await ctx.repos.topics.get(esc["topic_code"]) or {}
    report_ids: list[str] = hotspot.get("report_ids", [])
    result = await ctx.repos.results.get(report_ids[-1]) if report_ids else None
    history: list[Document] = esc.get("history", [])
    acked: Document = next((h for h in reversed(history) if h.get("action") == "acknowledged"), {})
    return AckLinkRead(
        escalation_id=esc["_id"],
        hotspot_id=esc["hotspot_id"],
        level=claim.level,
        channel=claim.channel,
        expires_at=claim.expires_at,
        used=claim.token_id in esc.get("ack_link_ids", []),
        state=esc["state"],
        urgency=esc["urgency"],
        unit_code=esc["unit_code"],
        topic_code=esc["topic_code"],
        topic_name=topic.get("name"),
        reasons=(result or {}).get("reasons", []),
        report_count=len(report_ids),
        source_count=hotspot.get("source_count", 0),
        channels=hotspot.get("channels", []),
        first_seen=hotspot.get("first_seen", esc["raised_at"]),
        last_seen=hotspot.get("last_seen", esc["raised_at"]),
        raised_at=esc["raised_at"],
        ack_deadline=esc.get("ack_deadline"),
        acknowledged_at=esc.get("acknowledged_at"),
        acknowledged_via_link=acked.get("via") == "link",
    )


@router.get("/{token}", summary="What a one-tap link acknowledges (changes nothing)", responses=RESPONSES)
async def read_ack_link(token: str, ctx: Ctx) -> AckLinkRead:
    """Return the escalation's facts for the link's page; safe for link previewers."""
    claim = _claim(ctx, token)
    return await _facts(ctx, claim, await _escalation(ctx, claim))


@router.post(
    "/{token}",
    summary="Acknowledge through a one-tap link",
    responses=RESPONSES | {409: {"model": Problem, "description": "The link was used, or someone acknowledged"}},
)
async def use_ack_link(token: str, ctx: Ctx, audit: Audit, body: AckLinkUse | None = None) -> AckLinkRead:
    """Acknowledge the escalation as the link's recipient; a link acknowledges once."""
    claim = _claim(ctx, token)
    esc = await _escalation(ctx, claim)
    if claim.token_id in esc.get("ack_link_ids", []):
        raise ProblemError(409, "This link was already used.", type_=LINK_USED)
    try:
        esc = await use_cases.acknowledge_by_link(
            ctx=ctx,
            escalation_id=claim.escalation_id,
            recipient_id=claim.recipient_id,
            channel=claim.channel,
            token_id=claim.token_id,
            comment=body.comment if body else None,
        )
    except ConflictError:
        current = await _escalation(ctx, claim)
        used = claim.token_id in current.get("ack_link_ids", [])
        detail = "This link was already used." if used else f"The escalation is already {current['state']}."
        raise ProblemError(409, detail, type_=LINK_USED if used else ALREADY_ACKNOWLEDGED) from None
    link = {"channel": claim.channel, "link": claim.token_id, "comment": body.comment if body else None}
    await audit.record_system(
        action="escalation.acknowledge", target=claim.escalation_id, actor_id=claim.recipient_id, details=link
    )
    return await _facts(ctx, claim, esc)
