"""What a notice says: the facts of an escalation, orientation or bulletin, in Vietnamese, for templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pulse_libs import vietnamese

URGENCY_LABELS = vietnamese.URGENCY_LABELS
TARGET_LABELS = {
    "duty_officer": "cán bộ trực Ban Tuyên giáo",
    "department_head": "lãnh đạo Ban Tuyên giáo",
    "standing_committee": "Ban Thường vụ",
    "collaborator": "cộng tác viên DLXH",
    "reporter": "người phản ánh",
}

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SMS_MAX_SEGMENTS = 3


nfc = vietnamese.nfc
"""Unicode NFC, the one form Vietnamese text is stored and sent in (pulse_libs.vietnamese)."""
fold = vietnamese.fold
"""Vietnamese without diacritics (đ→d), for brandname SMS templates that require accent-free text."""


_GSM_SUBSTITUTES = str.maketrans({"…": "...", "—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'"})


def accent_free(text: str) -> str:
    """Folded text with the typographic marks GSM-7 lacks replaced, so the SMS stays in 160-character segments."""
    return fold(text).translate(_GSM_SUBSTITUTES)


SAMPLE_CHARS = 280
MAX_REASONS = 5


def report_facts(
    report_ids: list[str], texts: Sequence[Mapping[str, Any]], reasons: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The reasons triage gave (deduplicated, newest report first) and a sample of the newest report's text."""
    order = {rid: i for i, rid in enumerate(report_ids)}
    newest_first = sorted(texts, key=lambda d: order.get(str(d["_id"]), -1), reverse=True)
    sample = ""
    if newest_first:
        top = newest_first[0]
        sample = clip(" ".join(f"{top.get('title', '')}: {top.get('content', '')}".split()), SAMPLE_CHARS)
    seen: list[str] = []
    for doc in sorted(reasons, key=lambda d: order.get(str(d["_id"]), -1), reverse=True):
        for reason in doc.get("reasons") or []:
            if reason not in seen:
                seen.append(str(reason))
    return {"reasons": seen[:MAX_REASONS], "reasons_text": "; ".join(seen[:MAX_REASONS]), "sample": nfc(sample)}


def local_time(value: datetime | str | None, tz: ZoneInfo, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """Format a UTC time in the local zone (Asia/Ho_Chi_Minh by default); '' when absent."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(tz).strftime(fmt)


def escalation_context(
    data: Mapping[str, Any],
    *,
    unit_names: Mapping[str, str],
    topic_names: Mapping[str, str],
    tz: ZoneInfo,
    ack_base_url: str,
) -> dict[str, Any]:
    """Template facts of an EscalationChanged payload."""
    urgency = str(data["urgency"])
    deadline = data.get("ack_deadline")
    return {
        "escalation_id": data["escalation_id"],
        "hotspot_id": data["hotspot_id"],
        "unit": unit_names.get(data["unit_code"], data["unit_code"]),
        "unit_code": data["unit_code"],
        "topic": topic_names.get(data["topic_code"], data["topic_code"]),
        "topic_code": data["topic_code"],
        "urgency": urgency,
        "urgency_label": URGENCY_LABELS.get(urgency, urgency),
        "level": data["level"],
        "target_label": TARGET_LABELS.get(str(data["target"]), str(data["target"])),
        "report_count": data["report_count"],
        "source_count": data["source_count"],
        "first_seen": local_time(data["first_seen"], tz),
        "last_seen": local_time(data["last_seen"], tz),
        "deadline": local_time(deadline, tz),
        "deadline_short": local_time(deadline, tz, "%H:%M %d/%m"),
        "ack_url": f"{ack_base_url.rstrip('/')}/v1/escalations/{data['escalation_id']}/ack",
        "reasons": [],
        "reasons_text": "",
        "sample": "",
        "outcome": data.get("outcome"),
        "reminder_seq": data.get("reminder_seq", 0),
        "comment": data.get("comment"),
        "acknowledged_at": local_time(data.get("acknowledged_at"), tz),
        "resolved_at": local_time(data.get("resolved_at"), tz),
    }


def orientation_context(
    data: Mapping[str, Any], *, unit_names: Mapping[str, str], topic_names: Mapping[str, str], tz: ZoneInfo
) -> dict[str, Any]:
    """Template facts of an OrientationPublished payload."""
    return {
        "orientation_id": data["orientation_id"],
        "period": data["period"],
        "title": data["title"],
        "guidance": data["guidance"],
        "topics": [topic_names.get(c, c) for c in data.get("topic_codes", [])],
        "units": [unit_names.get(c, c) for c in data.get("unit_codes", [])],
        "published_at": local_time(data.get("published_at"), tz),
        "link": "",
    }


def bulletin_context(
    *,
    title: str,
    body: str,
    unit_codes: list[str],
    topic_codes: list[str],
    topic_names: Mapping[str, str],
    link: str = "",
) -> dict[str, Any]:
    """Template facts of a thematic bulletin (thông tin chuyên đề); `link` is its page in the console."""
    return {
        "title": title,
        "body": body,
        "units": unit_codes,
        "topics": [topic_names.get(c, c) for c in topic_codes],
        "link": link,
    }


DIRECTIVE_STATE_LABELS = {"open": "đang thực hiện", "overdue": "quá hạn", "done": "đã hoàn thành"}


def directive_context(
    data: Mapping[str, Any],
    *,
    unit_names: Mapping[str, str],
    topic_names: Mapping[str, str],
    agency_names: Mapping[str, str],
    tz: ZoneInfo,
    link: str,
) -> dict[str, Any]:
    """Template facts of a DirectiveChanged payload."""
    return {
        "directive_id": data["directive_id"],
        "hotspot_id": data["hotspot_id"],
        "unit": unit_names.get(data["unit_code"], data["unit_code"]),
        "topic": topic_names.get(data["topic_code"], data["topic_code"]),
        "assignee": agency_names.get(data["assignee"], data["assignee"]),
        "assignee_code": data["assignee"],
        "instruction": data["instruction"],
        "due": local_time(data["due_at"], tz),
        "due_short": local_time(data["due_at"], tz, "%H:%M %d/%m"),
        "state_label": DIRECTIVE_STATE_LABELS.get(str(data["state"]), str(data["state"])),
        "note": data.get("note"),
        "result": data.get("result"),
        "link": link,
    }


def outcome_context(
    data: Mapping[str, Any], *, unit_names: Mapping[str, str], topic_names: Mapping[str, str], tz: ZoneInfo
) -> dict[str, Any]:
    """Template facts of the outcome told to the collaborators behind a resolved hot spot (no one's identity)."""
    return {
        "escalation_id": data["escalation_id"],
        "hotspot_id": data["hotspot_id"],
        "unit": unit_names.get(data["unit_code"], data["unit_code"]),
        "topic": topic_names.get(data["topic_code"], data["topic_code"]),
        "outcome": data.get("outcome") or data.get("comment") or "",
        "resolved_at": local_time(data.get("resolved_at"), tz),
    }


def receipt_context(data: Mapping[str, Any], *, unit_names: Mapping[str, str], tz: ZoneInfo) -> dict[str, Any]:
    """Template facts of a ReportSubmitted payload, for the reporter's receipt."""
    return {
        "report_id": data["report_id"],
        "title": data["title"],
        "unit": unit_names.get(data["unit_code"], data["unit_code"]),
        "received_at": local_time(data["received_at"], tz),
    }


GSM7_EXTENSION = set("^{}\\[~]|€\f")
"""Characters of the GSM-7 extension table: each costs two septets (an escape and the character)."""


def sms_segments(text: str) -> int:
    """Number of SMS segments: GSM-7 160/153 septets, else UCS-2 70/67 (Vietnamese with diacritics)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        septets = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return 1 if septets <= 160 else -(-septets // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if units <= 70 else -(-units // 67)


def fits_sms(text: str, segments: int = SMS_MAX_SEGMENTS) -> bool:
    """True if the text goes out in at most `segments` SMS segments."""
    return sms_segments(text) <= segments


def clip(text: object, n: int) -> str:
    """Shorten to `n` characters with an ellipsis."""
    s = str(text)
    return s if len(s) <= n else s[: max(1, n - 1)].rstrip() + "…"
