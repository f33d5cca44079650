"""Vietnamese labels for codes in report output (NFC, full diacritics)."""

from __future__ import annotations

URGENCY = {
    "routine": "Thường",
    "urgent": "Khẩn",
    "very_urgent": "Thượng khẩn",
    "flash": "Hỏa tốc",
    "unknown": "Chưa phân loại",
}
CHANNEL = {
    "zalo": "Zalo",
    "phone": "Điện thoại",
    "written": "Văn bản",
    "meeting": "Hội nghị, cuộc họp",
    "press": "Báo chí",
    "social_media": "Mạng xã hội",
    "dialogue": "Đối thoại",
    "hotline": "Đường dây nóng",
    "survey": "Điều tra, khảo sát",
    "other": "Khác",
}
SENTIMENT = {
    "positive": "Tích cực",
    "neutral": "Trung lập",
    "negative": "Tiêu cực",
    "mixed": "Đan xen",
    "unknown": "Chưa đánh giá",
}
HOTSPOT_STATUS = {"open": "Đang mở", "acknowledged": "Đã tiếp nhận", "resolved": "Đã giải quyết"}
PERIOD_KIND = {
    "month": "THÁNG",
    "quarter": "QUÝ",
    "half_year": "SÁU THÁNG",
    "nine_months": "CHÍN THÁNG",
    "year": "NĂM",
}
UNCLASSIFIED_TOPIC = "Chưa phân loại"


def label(mapping: dict[str, str], code: str) -> str:
    """The Vietnamese label of a code, or the code itself when none is known."""
    return mapping.get(code, code)
