"""Reports from Zalo: a follower linked to a collaborator writes to the OA; the message becomes a report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pulse_libs.auth import principal_for_user
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_REPORTS
from pulse_libs.outbox import OUTBOX_FIELD, outbox_entries

from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.zalo import ZaloMessage
from pulse_intake.domain.text import nfc
from pulse_intake.handlers.people import is_active, term_over
from pulse_intake.handlers.reports import build_report

Outcome = Literal["created", "duplicate", "stale", "unknown_sender", "wrong_app"]
REPORTING_ROLES = frozenset({"collaborator", "unit_officer"})
TITLE_WORDS = 12
RECEIPT_LIMIT = 2000  # Zalo consultation text limit


def title_of(text: str) -> str:
    """The first words of the message, as a report title (at most 200 characters)."""
    words = nfc(text).split()
    title = " ".join(words[:TITLE_WORDS])
    if len(words) > TITLE_WORDS:
        title += "…"
    return title[:200] or "Ảnh gửi qua Zalo"


def receipt_text(title: str, report_id: str) -> str:
    """The Vietnamese receipt the collaborator gets back on Zalo."""
    text = (
        f"Pulse đã tiếp nhận phản ánh của đồng chí: “{title}”. Mã tiếp nhận: {report_id[-8:].upper()}. "
        "Kết quả xử lý sẽ được thông báo lại qua kênh này."
    )
    return text[:RECEIPT_LIMIT]


async def take_message(
    *,
    store: IntakeStore,
    message: ZaloMessage,
    app_id: str,
    now: datetime,
    replay_window: timedelta,
    skew: timedelta,
    timezone: str,
) -> tuple[Outcome, str | None]:
    """Turn one verified message into a report with a receipt; anything else changes nothing."""
    if message.app_id != app_id:
        return "wrong_app", None
    if message.sent_at < now - replay_window or message.sent_at > now + skew:
        return "stale", None
    user = await store.users.by_zalo_id(message.sender_id)
    if (
        user is None
        or user.get("role") not in REPORTING_ROLES
        or not is_active(user)
        or term_over(user, timezone)
        or not user.get("unit_codes")
    ):
        return "unknown_sender", None
    units = sorted(user["unit_codes"])
    principal = principal_for_user(user_id=user["_id"], username=user["username"], role=user["role"], unit_codes=units)
    text = nfc(message.text)
    title = title_of(text)
    body: dict[str, Any] = {
        "unit_code": units[0],
        "channel": "zalo",
        "title": title,
        "content": (text or "Ảnh gửi qua Zalo, không kèm lời nhắn.")[:10_000],
        "observed_at": message.sent_at,
        "topic_codes": [],
        "attachments": [{"url": u, "media_type": "image/jpeg", "sha256": None} for u in message.image_urls],
        "client_id": f"zalo-{message.msg_id}"[:200],
    }
    doc = build_report(principal=principal, body=body, idem=None, fingerprint="", now=now)
    receipt = ev.ReportReceipt(
        report_id=doc["_id"],
        unit_code=doc["unit_code"],
        recipient_id=user["_id"],
        channel="zalo",
        message=receipt_text(title, doc["_id"]),
        received_at=now,
    )
    event = new_event(
        ev.REPORT_RECEIPT,
        source=ev.SOURCE,
        data=receipt,
        key=doc["unit_code"],
        subject=doc["_id"],
        event_id=f"receipt-{doc['_id']}",
    )
    doc[OUTBOX_FIELD].update(outbox_entries([(INTAKE_REPORTS, event)]))
    if not await store.reports.insert(doc):  # the same msg_id again (Zalo resends when it missed our 200)
        return "duplicate", await store.reports.id_of_duplicate(doc["dedupe_key"])
    return "created", str(doc["_id"])
