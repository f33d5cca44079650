"""Vietnamese notices: the facts an officer needs, local time, autoescaped HTML, SMS within two segments."""

from __future__ import annotations

import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pulse_notify.adapters.templates import KINDS, Renderer
from pulse_notify.domain.notices import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    escalation_context,
    fold,
    orientation_context,
    receipt_context,
    report_facts,
    sms_segments,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def escalation(**overrides: Any) -> dict[str, Any]:
    data = {
        "escalation_id": "esc-7f3a",
        "hotspot_id": "hs-1",
        "unit_code": "04252",
        "topic_code": "dat-dai",
        "urgency": "flash",
        "level": 1,
        "target": "duty_officer",
        "state": "pending",
        "raised_at": "2026-11-26T01:00:00+00:00",
        "ack_deadline": "2026-11-26T01:15:00+00:00",
        "report_ids": ["r1", "r2", "r3"],
        "report_count": 3,
        "source_count": 2,
        "channels": ["zalo"],
        "first_seen": "2026-11-26T00:30:00+00:00",
        "last_seen": "2026-11-26T00:58:00+00:00",
        "changed_at": "2026-11-26T01:00:00+00:00",
        "reminder_seq": 0,
    }
    return data | overrides


def context(**overrides: Any) -> dict[str, Any]:
    ctx = escalation_context(
        escalation(**overrides),
        unit_names={"04252": "Phường Yên Bái"},
        topic_names={"dat-dai": "Quản lý đất đai"},
        tz=HCM,
        ack_base_url="http://127.0.0.1:8002/",
    )
    return ctx | {"recipient_name": "Nguyễn Văn An"}


def test_escalation_email_carries_every_fact_in_vietnamese() -> None:
    message = Renderer().render("raised", "email", context())
    assert message.subject == "[HỎA TỐC] Cảnh báo điểm nóng DLXH: Quản lý đất đai tại Phường Yên Bái"
    for fact in ("Phường Yên Bái", "Quản lý đất đai", "hỏa tốc", "Số phản ánh: 3, từ 2 nguồn"):
        assert fact in message.text
    assert "07:30 26/11/2026" in message.text  # first seen, Asia/Ho_Chi_Minh
    assert "Hạn xác nhận tiếp nhận: 08:15 26/11/2026" in message.text
    assert "http://127.0.0.1:8002/v1/escalations/esc-7f3a/ack" in message.text
    assert message.html is not None
    assert 'href="http://127.0.0.1:8002/v1/escalations/esc-7f3a/ack"' in message.html
    assert unicodedata.is_normalized("NFC", message.text)


def test_html_is_autoescaped_but_text_is_not() -> None:
    ctx = context() | {"topic": "<script>x</script> & đất"}
    message = Renderer().render("raised", "email", ctx)
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "<script>x</script> & đất" in message.text


@pytest.mark.parametrize("urgency", ["urgent", "very_urgent", "flash"])
def test_urgency_is_named_as_in_official_practice(urgency: str) -> None:
    label = {"urgent": "KHẨN", "very_urgent": "THƯỢNG KHẨN", "flash": "HỎA TỐC"}[urgency]
    assert Renderer().render("raised", "zalo", context(urgency=urgency)).text.startswith(f"[{label}]")


ACK = "http://127.0.0.1:8000/ack/AQEBaSQ3rQAAAAB_c2VzYy03ZjNhgHJjXzAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm"


@pytest.mark.parametrize("kind", ["raised", "escalated", "reminded", "acknowledged", "resolved"])
def test_sms_fits_three_unicode_segments_with_the_ack_link_even_with_long_names(kind: str) -> None:
    ctx = context(reminder_seq=2, level=2) | {
        "unit": "Phường Nam Cường thuộc tỉnh Lào Cai (trước đây là thành phố Yên Bái, tỉnh Yên Bái)",
        "topic": "Bồi thường, hỗ trợ, tái định cư khi Nhà nước thu hồi đất thực hiện dự án",
        "ack_url": ACK,
    }
    text = Renderer().render(kind, "sms", ctx).text
    assert sms_segments(text) <= 3
    assert "HỎA TỐC" in text or "Nhắc" in text or kind in ("acknowledged", "resolved")
    if kind in ("raised", "escalated", "reminded"):
        assert text.endswith(ACK)


@pytest.mark.parametrize("kind", ["raised", "escalated", "reminded"])
def test_accent_free_sms_is_gsm7_within_two_segments(kind: str) -> None:
    ctx = context() | {"unit": "Phường Nam Cường, tỉnh Lào Cai", "topic": "Đền bù giải phóng mặt bằng", "ack_url": ACK}
    text = Renderer(sms_accent_free=True, sms_max_segments=2).render(kind, "sms", ctx).text
    assert all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text), text
    assert sms_segments(text) <= 2
    assert "Den bu giai phong mat bang" in text or "Den bu" in text
    assert text.endswith(ACK)


def test_fold_removes_vietnamese_diacritics() -> None:
    assert fold("Đường Hoàng Liên, phường Cốc Lếu: ngập úng") == "Duong Hoang Lien, phuong Coc Leu: ngap ung"


def test_escalation_notice_carries_reasons_and_a_text_sample() -> None:
    facts = report_facts(
        ["r1", "r2"],
        [
            {"_id": "r1", "title": "Cũ", "content": "cũ"},
            {"_id": "r2", "title": "Dân tụ tập", "content": "Khoảng 50 người"},
        ],
        [
            {"_id": "r1", "reasons": ["từ khóa: khiếu kiện"]},
            {"_id": "r2", "reasons": ["đông người: 50", "từ khóa: khiếu kiện"]},
        ],
    )
    assert facts["sample"] == "Dân tụ tập: Khoảng 50 người"
    assert facts["reasons"] == ["đông người: 50", "từ khóa: khiếu kiện"]
    ctx = context() | facts | {"ack_url": ACK}
    for channel in ("zalo", "email"):
        message = Renderer().render("raised", channel, ctx)  # type: ignore[arg-type]
        assert "đông người: 50; từ khóa: khiếu kiện" in message.text
        assert "Dân tụ tập: Khoảng 50 người" in message.text
        assert ACK in message.text


def test_every_kind_renders_on_every_channel() -> None:
    renderer = Renderer()
    orientation = orientation_context(
        {
            "orientation_id": "o1",
            "period": "2026-11",
            "title": "Định hướng tháng 11",
            "guidance": "Nắm bắt dư luận về giải phóng mặt bằng.",
            "topic_codes": ["dat-dai"],
            "unit_codes": [],
            "published_at": "2026-11-01T02:00:00+00:00",
        },
        unit_names={},
        topic_names={"dat-dai": "Quản lý đất đai"},
        tz=HCM,
    )
    bulletin = {"title": "Thông tin chuyên đề", "body": "Nội dung", "units": [], "topics": [], "link": "http://c/b/1"}
    directive = {
        "directive_id": "dr_1",
        "hotspot_id": "hs-1",
        "unit": "Phường Yên Bái",
        "topic": "Quản lý đất đai",
        "assignee": "UBND phường Yên Bái",
        "assignee_code": "ubnd-04252",
        "instruction": "Đối thoại với các hộ dân",
        "due": "17:00 27/11/2026",
        "due_short": "17:00 27/11",
        "state_label": "đang thực hiện",
        "note": None,
        "result": None,
        "link": "http://127.0.0.1:8000/directives/dr_1",
    }
    outcome = {
        "escalation_id": "esc-1",
        "hotspot_id": "hs-1",
        "unit": "Phường Yên Bái",
        "topic": "Đất đai",
        "outcome": "Đã đối thoại, người dân đồng thuận",
        "resolved_at": "",
    }
    receipt = receipt_context(
        {"report_id": "r-1", "title": "Đường ngập", "unit_code": "04252", "received_at": "2026-11-26T01:00:00+00:00"},
        unit_names={"04252": "Phường Yên Bái"},
        tz=HCM,
    )
    for kind in KINDS:
        contexts = {
            "orientation": orientation,
            "bulletin": bulletin,
            "receipt": receipt,
            "directive": directive,
            "directive_reminder": directive,
            "directive_overdue": directive,
            "outcome": outcome,
        }
        ctx = contexts.get(kind, context(comment="Đã giao xử lý"))
        for channel in ("zalo", "sms", "email", "webhook"):
            message = renderer.render(kind, channel, ctx | {"recipient_name": "Lê Văn Cường"})  # type: ignore[arg-type]
            assert message.text.strip()
    assert "Nhận lúc: 08:00 26/11/2026" in renderer.render("receipt", "zalo", receipt).text
    closing = renderer.render("acknowledged", "zalo", context(comment="Đã giao UBND phường xử lý"))
    assert "Ý kiến: Đã giao UBND phường xử lý" in closing.text


def test_sms_segment_counting() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("đ" * 70) == 1
    assert sms_segments("đ" * 71) == 2
    assert sms_segments("đ" * 134) == 2
    assert sms_segments("đ" * 135) == 3
