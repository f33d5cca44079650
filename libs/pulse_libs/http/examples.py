"""Examples for request bodies, made centrally from each body's JSON Schema with realistic Vietnamese values."""

from __future__ import annotations

import re
from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete")
_NONE: Any = object()


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


# Vietnamese values for common field names; the first that satisfies a field's constraints is used.
_NAMED_EXAMPLES: dict[str, list[Any]] = {
    "unit_code": ["04252"], "unit_codes": [["04252", "04279"]], "parent_code": ["15"],
    "topic_code": ["dat-dai"], "topic_codes": [["dat-dai"]], "code": ["04252", "dat-dai"],
    "title": ["Người dân phản ánh việc chậm chi trả tiền bồi thường giải phóng mặt bằng"],
    "content": ["Nhiều hộ dân tổ 12 phường Yên Bái phản ánh đã bàn giao mặt bằng nhưng chưa nhận đủ tiền bồi thường."],
    "comment": ["Đã giao phòng Tài nguyên và Môi trường kiểm tra, báo cáo trong ngày."],
    "note": ["Đã làm việc với các hộ dân, tiếp tục xác minh."], "reason": ["Đang xử lý tại hiện trường"],
    "instruction": ["Kiểm tra, xác minh và báo cáo kết quả trước hạn."], "result": ["Đã giải quyết dứt điểm."],
    "name": ["Phường Yên Bái"], "full_name": ["Nguyễn Thị Hoa"], "username": ["hoa.nt"],
    "guidance": ["Nắm bắt tâm trạng nhân dân về công tác giải phóng mặt bằng."],
    "body": ["Thông tin chuyên đề tháng 11."],
    "password": ["Mật-khẩu-đủ-dài-2026"], "current_password": ["Mật-khẩu-cũ-2026"],
    "new_password": ["Mật-khẩu-mới-2026"],
    "phone": ["0912345678"], "email": ["hoa.nt@laocai.gov.vn"], "url": ["https://he-thong.laocai.gov.vn/webhook"],
    "period": ["2026-11"], "assignee": ["UBND-04252"], "role": ["collaborator"], "kind": ["ward"],
    "channel": ["zalo"], "urgency": ["urgent"], "into": ["hs-0001"], "hotspot_id": ["hs-0001"],
    "report_id": ["0193f1c2a4b5e6f7a8b9c0d1"], "report_ids": [["0193f1c2a4b5e6f7a8b9c0d1"]],
    "escalation_id": ["esc-0001"], "directive_id": ["dir-0001"], "survey_id": ["sv-0001"],
    "orientation_id": ["or-2026-11"], "delivery_id": ["dl-0001"], "key_id": ["key-0001"],
    "user_id": ["u-0001"], "reporter_id": ["u-0001"], "recipient_id": ["rc-0001"], "agency_code": ["UBND-04252"],
    "level": [1], "source_count": [3], "report_count": [4], "score": [0.72], "version": [3],
    "scopes": [["reports:write", "reports:read"]], "event_types": [["pulse.escalation.raised.v1"]],
    "keywords": [["giải phóng mặt bằng", "bồi thường"]], "sentiment": ["negative"], "people_count": [12],
    "text": ["Ông/bà đánh giá thế nào về công tác giải phóng mặt bằng tại địa phương?"],
    "reports": [[{"unit_code": "04252", "channel": "zalo", "title": "Đường liên thôn sạt lở sau mưa lớn",
                  "content": "Đoạn đường liên thôn tổ 3 sạt lở, xe máy không qua được.",
                  "observed_at": "2026-11-20T08:30:00+07:00", "client_id": "may-01-000123"}]],
}  # fmt: skip
_FORMATS = {"date-time": "2026-11-20T08:30:00+07:00", "date": "2026-12-31", "email": "hoa.nt@laocai.gov.vn",
            "uri": "https://laocai.gov.vn/tin-tuc"}  # fmt: skip


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    if isinstance(value, str):
        pattern = schema.get("pattern")
        return schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**9) and (
            pattern is None or re.search(pattern, value) is not None
        )
    return True


def example_for(schema: dict[str, Any], components: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible value of `schema` (required fields only), or `_NONE` when none can be made to fit."""
    if depth > 6:
        return _NONE
    if "$ref" in schema:
        return example_for(components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components, name, depth + 1)
    for key in ("examples", "example"):
        if key in schema:
            return schema[key][0] if key == "examples" and isinstance(schema[key], list) else schema[key]
    if "default" in schema and schema["default"] not in (None, []):
        return schema["default"]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        for option in options:
            if (
                option.get("type") != "null"
                and (value := example_for(option, components, name, depth + 1)) is not _NONE
            ):
                return value
        return None
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        named = [v for v in _NAMED_EXAMPLES.get(name, []) if v in schema["enum"]]
        return named[0] if named else schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        out: dict[str, Any] = {}
        required = schema.get("required", [])
        for prop, sub in schema.get("properties", {}).items():
            if prop not in required and prop not in _NAMED_EXAMPLES:
                continue  # optional fields appear when a realistic value is known
            value = example_for(sub, components, prop, depth + 1)
            if value is _NONE and prop in required:
                return _NONE
            if value is not _NONE and value is not None:
                out[prop] = value
        extra = schema.get("additionalProperties")
        if len(out) < schema.get("minProperties", 0) and isinstance(extra, dict):
            value = example_for(extra, components, name, depth + 1)
            if value is _NONE:
                return _NONE
            out["q1"] = value
        return out
    if kind == "array":
        for candidate in _NAMED_EXAMPLES.get(name, []):
            if isinstance(candidate, list) and all(_fits(c, schema.get("items", {})) for c in candidate):
                return candidate
        item = example_for(schema.get("items", {}), components, singular(name), depth + 1)
        return _NONE if item is _NONE else [item] * max(1, schema.get("minItems", 1))
    if kind in ("integer", "number"):
        for candidate in _NAMED_EXAMPLES.get(name, []):
            if (
                isinstance(candidate, int | float)
                and not isinstance(candidate, bool)
                and (kind == "number" or isinstance(candidate, int))
            ):
                return candidate
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(low, 1) if kind == "number" else int(max(low, 1))
        return value if value <= schema.get("maximum", value) else schema["maximum"]
    if kind == "boolean":
        return False
    candidates = list(_NAMED_EXAMPLES.get(name, [])) + [_FORMATS.get(schema.get("format", ""), "Ví dụ")]
    candidates.append("ví dụ " * max(1, schema.get("minLength", 1) // 6 + 1))
    return next((c for c in candidates if isinstance(c, str) and _fits(c, schema)), _NONE)


def add_request_examples(schema: dict[str, Any]) -> None:
    """Give every JSON request body an example (unless its schema or operation already carries one)."""
    components = schema.get("components", {}).get("schemas", {})
    for item in schema.get("paths", {}).values():
        for method in _METHODS:
            body = (item.get(method) or {}).get("requestBody") or {}
            for media, content in (body.get("content") or {}).items():
                if "json" not in media or "example" in content or "examples" in content:
                    continue
                value = example_for(content.get("schema", {}), components)
                if value is not _NONE:
                    content["example"] = value
