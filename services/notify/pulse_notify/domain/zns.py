"""Zalo: which error codes mean what, phone numbers for ZNS, and ZNS template parameters per notice kind.

Codes come from Zalo's own documentation (cited in the notify README): the Official Account API
error table (developers.zalo.me, "Mã lỗi") and the ZNS error guide (zalo.cloud/zns/guidelines/handle-error-code).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pulse_notify.domain.notices import clip

ZaloVerdict = Literal["ok", "token", "not_interacted", "transient", "permanent"]

TOKEN_CODES = frozenset({-124, -216})
"""-124 access token expired, -216 access token invalid: refresh the token and resend."""
NOT_INTERACTED = -230
"""The user has not interacted with the OA in the last 7 days: consultation messages are refused."""
TRANSIENT_CODES: dict[int, float | None] = {-32: 60.0, -211: 900.0, -100: None, -1: None}
"""-32 rate limit exceeded, -211 out of quota, -100/-1 Zalo's "unknown error, try again later" (seconds to wait)."""


def verdict(code: int) -> ZaloVerdict:
    """How notify treats a Zalo answer code (OA message API and ZNS share the token and rate codes)."""
    if code == 0:
        return "ok"
    if code in TOKEN_CODES:
        return "token"
    if code == NOT_INTERACTED:
        return "not_interacted"
    if code in TRANSIENT_CODES:
        return "transient"
    return "permanent"  # -201 invalid parameters, -213 not a follower, -108 bad phone, -109 bad template…


_PHONE = re.compile(r"^\+?[0-9]{8,15}$")


def zns_phone(phone: str) -> str | None:
    """The phone in the form ZNS takes (84xxxxxxxxx), or None if it is not a phone number."""
    raw = phone.strip().replace(" ", "")
    if not _PHONE.match(raw):
        return None
    digits = raw.lstrip("+")
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    return digits


# Default ZNS parameter mapping per notice kind: template parameter -> notice fact. A ZNS template is
# registered with Zalo and approved before use; parameters are short (Zalo caps most at 30-200 chars).
DEFAULT_PARAMS: dict[str, dict[str, str]] = {
    "raised": {
        "don_vi": "unit",
        "linh_vuc": "topic",
        "muc_do": "urgency_label",
        "so_phan_anh": "report_count",
        "han_xac_nhan": "deadline",
        "ma_canh_bao": "escalation_id",
        "lien_ket": "ack_url",
    },
    "escalated": {
        "don_vi": "unit",
        "linh_vuc": "topic",
        "muc_do": "urgency_label",
        "so_phan_anh": "report_count",
        "han_xac_nhan": "deadline",
        "ma_canh_bao": "escalation_id",
        "lien_ket": "ack_url",
    },
    "reminded": {
        "don_vi": "unit",
        "linh_vuc": "topic",
        "muc_do": "urgency_label",
        "han_xac_nhan": "deadline",
        "ma_canh_bao": "escalation_id",
        "lien_ket": "ack_url",
    },
    "acknowledged": {"don_vi": "unit", "linh_vuc": "topic", "ma_canh_bao": "escalation_id"},
    "resolved": {"don_vi": "unit", "linh_vuc": "topic", "ma_canh_bao": "escalation_id"},
    "directive": {"co_quan": "assignee", "don_vi": "unit", "han_xu_ly": "due", "ma_chi_dao": "directive_id"},
    "directive_reminder": {"co_quan": "assignee", "han_xu_ly": "due", "ma_chi_dao": "directive_id"},
    "directive_overdue": {"co_quan": "assignee", "han_xu_ly": "due", "ma_chi_dao": "directive_id"},
    "outcome": {"don_vi": "unit", "linh_vuc": "topic", "ket_qua": "outcome"},
    "bulletin": {"tieu_de": "title", "lien_ket": "link"},
    "orientation": {"tieu_de": "title", "ky": "period"},
    "receipt": {"ma_phan_anh": "report_id", "thoi_gian": "received_at"},
}
PARAM_MAX = 200


def template_data(kind: str, context: Mapping[str, Any], overrides: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The ZNS `template_data` of a notice: every mapped fact as a short string (absent facts are empty)."""
    mapping = overrides.get(kind) or DEFAULT_PARAMS.get(kind, {})
    return {
        param: clip(context.get(fact, "") if context.get(fact) is not None else "", PARAM_MAX)
        for param, fact in mapping.items()
    }
