"""Vietnamese words for the API's codes, and the API's field errors said in Vietnamese."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from vietnam_provinces import Province, ProvinceCode, Ward, WardCode

URGENCY = {"routine": "Thường", "urgent": "Khẩn", "very_urgent": "Thượng khẩn", "flash": "Hỏa tốc"}
URGENCY_ORDER = ("flash", "very_urgent", "urgent", "routine")
STATUS = {
    "received": "Đã tiếp nhận",
    "triaged": "Đã phân loại",
    "merged": "Đã gộp",
    "escalated": "Đã báo cáo lên",
    "acknowledged": "Đã xác nhận",
    "resolved": "Đã giải quyết",
    "open": "Đang mở",
    "pending": "Chờ xác nhận",
    "overdue": "Quá hạn",
    "done": "Đã xong",
    "sent": "Đã gửi",
    "failed": "Lỗi",
    "dead": "Không gửi được",
}
CHANNEL = {
    "zalo": "Zalo",
    "phone": "Điện thoại",
    "written": "Văn bản",
    "meeting": "Hội nghị",
    "press": "Báo chí",
    "social_media": "Mạng xã hội",
    "dialogue": "Đối thoại",
    "hotline": "Đường dây nóng",
    "survey": "Khảo sát",
    "other": "Khác",
    "sms": "SMS",
    "email": "Email",
    "webhook": "Webhook",
    "link": "Liên kết",
}
ROLE = {
    "collaborator": "Cộng tác viên",
    "unit_officer": "Cán bộ phường, xã",
    "department": "Ban Tuyên giáo",
    "standing_committee": "Ban Thường vụ",
    "admin": "Quản trị hệ thống",
    "agency": "Cơ quan xử lý",
}
TARGET = {"duty_officer": "Cán bộ trực", "department_head": "Lãnh đạo Ban", "standing_committee": "Ban Thường vụ"}
SENTIMENT = {"positive": "Tích cực", "neutral": "Trung lập", "negative": "Tiêu cực", "mixed": "Trái chiều"}
AGENCY_KIND = {
    "people_committee": "UBND phường, xã",
    "department": "Sở, ngành",
    "police": "Công an",
    "mass_organisation": "Đoàn thể",
    "other": "Khác",
}
ACTION = {
    "raised": "Báo lên cấp 1",
    "escalated": "Chuyển lên cấp trên",
    "reminded": "Nhắc lại",
    "acknowledged": "Đã xác nhận",
    "resolved": "Đã giải quyết",
    "silenced": "Tạm hoãn (im lặng)",
    "exhausted": "Hết cấp báo",
    "urgency_raised": "Tăng độ khẩn",
}
FIELD = {
    "username": "Tên đăng nhập",
    "password": "Mật khẩu",
    "full_name": "Họ và tên",
    "role": "Vai trò",
    "unit_codes": "Đơn vị",
    "unit_code": "Đơn vị",
    "agency_code": "Cơ quan",
    "phone": "Số điện thoại",
    "email": "Thư điện tử",
    "title": "Tiêu đề",
    "content": "Nội dung",
    "channel": "Kênh",
    "observed_at": "Thời điểm ghi nhận",
    "topic_codes": "Lĩnh vực",
    "topic_code": "Lĩnh vực",
    "sentiment": "Thái độ",
    "people_count": "Số người liên quan",
    "comment": "Ý kiến",
    "assignee": "Cơ quan được giao",
    "instruction": "Nội dung chỉ đạo",
    "due_at": "Hạn xử lý",
    "note": "Ghi chú",
    "result": "Kết quả",
    "urgency": "Độ khẩn",
    "code": "Mã",
    "name": "Tên",
    "kind": "Loại",
    "until": "Đến khi",
    "reason": "Lý do",
    "levels": "Các cấp",
    "shifts": "Ca trực",
    "starts_at": "Bắt đầu",
    "ends_at": "Kết thúc",
    "body": "Nội dung",
    "targets": "Đối tượng",
    "channels": "Kênh nhận",
    "into": "Gộp vào",
    "report_ids": "Báo cáo",
    "guidance": "Hướng dẫn",
    "period": "Kỳ",
    "answers": "Câu trả lời",
}
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Field required", re.I), "bắt buộc phải nhập"),
    (re.compile(r"at least 1 (character|item)", re.I), "không được để trống"),
    (re.compile(r"at least (\d+) character", re.I), "cần ít nhất {0} ký tự"),
    (re.compile(r"at most (\d+) character", re.I), "tối đa {0} ký tự"),
    (re.compile(r"at least (\d+) item", re.I), "cần ít nhất {0} mục"),
    (re.compile(r"at most (\d+) item", re.I), "tối đa {0} mục"),
    (re.compile(r"greater than or equal to (\S+)", re.I), "phải lớn hơn hoặc bằng {0}"),
    (re.compile(r"less than or equal to (\S+)", re.I), "phải nhỏ hơn hoặc bằng {0}"),
    (re.compile(r"greater than (\S+)", re.I), "phải lớn hơn {0}"),
    (re.compile(r"valid integer", re.I), "phải là số nguyên"),
    (re.compile(r"valid (datetime|date)|timezone", re.I), "thời gian không hợp lệ"),
    (re.compile(r"future", re.I), "không được ở thời điểm tương lai"),
    (re.compile(r"email", re.I), "địa chỉ thư điện tử không hợp lệ"),
    (re.compile(r"phone", re.I), "số điện thoại không hợp lệ"),
    (re.compile(r"duty officer", re.I), "không phải cán bộ trực đang hoạt động"),
    (re.compile(r"unknown field", re.I), "không được chấp nhận"),
    (re.compile(r"(unknown|does not exist|not exist|must exist|no such)", re.I), "không tồn tại"),
    (re.compile(r"already (exists|taken|used)|duplicate", re.I), "đã có, hãy chọn giá trị khác"),
    (re.compile(r"^Input should be", re.I), "giá trị không hợp lệ"),
    (re.compile(r"blank", re.I), "không được để trống"),
    (re.compile(r"password", re.I), "mật khẩu chưa đạt yêu cầu"),
]


def field_label(field: str) -> str:
    """The Vietnamese label of a (dotted) API field."""
    parts = [p for p in field.split(".") if not p.isdigit()]
    head = parts[-1] if parts else field
    return FIELD.get(head, FIELD.get(parts[0], head) if parts else head)


def error_message(message: str) -> str:
    """An API validation message said in Vietnamese (the original kept when nothing matches)."""
    for pattern, text in _MESSAGES:
        match = pattern.search(message)
        if match:
            return text.format(*match.groups())
    return f"không hợp lệ ({message})"


def field_errors(errors: list[dict[str, str]]) -> dict[str, str]:
    """Map each failing field (its last name) to a Vietnamese message."""
    out: dict[str, str] = {}
    for err in errors:
        field = str(err.get("field", "body"))
        key = next((p for p in reversed(field.split(".")) if not p.isdigit()), field)
        out.setdefault(key, f"{field_label(field)}: {error_message(str(err.get('message', '')))}")
    return out


@lru_cache(maxsize=4096)
def unit_name(code: str | None) -> str:
    """An administrative unit's name from the GSO registry: a province (two digits, e.g. a parent hot spot's
    unit) or a ward; the code when it is neither."""
    if not code:
        return "—"
    if code.isdigit() and len(code) <= 2:
        try:
            return str(Province.from_code(ProvinceCode(int(code))).name)
        except (ValueError, KeyError, LookupError):
            return code
    if code.isdigit():
        try:
            return str(Ward.from_code(WardCode(int(code))).name)
        except (ValueError, KeyError, LookupError):
            return code
    return code


def local_time(value: str | datetime | None, tz: str = "Asia/Ho_Chi_Minh") -> str:
    """`HH:MM dd/mm/yyyy` in local time, from an RFC 3339 string or datetime."""
    if value is None or value == "":
        return "—"
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(tz)).strftime("%H:%M %d/%m/%Y")
