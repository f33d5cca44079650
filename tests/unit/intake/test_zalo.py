"""Zalo webhook parsing and signature (pure logic): only what Zalo signed, only text and image messages."""

from __future__ import annotations

import hashlib
import json

import pytest
from pulse_intake.adapters.zalo import BadSignature, message_of, signature, verified_payload
from pulse_intake.handlers.zalo import receipt_text, title_of

APP = "2553928453557884079"
KEY = "oa-secret-key-for-unit-tests"


def test_signature_is_mac_of_app_body_timestamp_and_oa_key() -> None:
    body = b'{"timestamp":"1699003881354"}'
    expected = "mac=" + hashlib.sha256(APP.encode() + body + b"1699003881354" + KEY.encode()).hexdigest()
    assert signature(app_id=APP, body=body, timestamp="1699003881354", oa_secret_key=KEY) == expected
    assert verified_payload(body=body, header=expected, app_id=APP, oa_secret_key=KEY) == {"timestamp": "1699003881354"}


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (b'{"timestamp":"1"}', "mac=00"),
        (b'{"timestamp":"1"}', None),
        (b'{"no_timestamp":1}', "mac=00"),
        (b"[1, 2]", "mac=00"),
        (b"\xff\xfe", "mac=00"),
    ],
)
def test_anything_not_signed_by_zalo_is_refused(body: bytes, header: str | None) -> None:
    with pytest.raises(BadSignature):
        verified_payload(body=body, header=header, app_id=APP, oa_secret_key=KEY)
    with pytest.raises(BadSignature):  # not configured: nothing verifies
        verified_payload(body=body, header=header, app_id="", oa_secret_key="")


def _payload(**message: object) -> dict[str, object]:
    return {
        "app_id": APP,
        "event_name": "user_send_text",
        "sender": {"id": "61"},
        "message": message,
        "timestamp": "1699003881354",
    }


def test_text_and_image_messages_are_read_others_ignored() -> None:
    text = message_of(_payload(msg_id="m1", text="Nước sinh hoạt bị đục"))
    assert text is not None
    assert text.text == "Nước sinh hoạt bị đục"
    assert text.sent_at.year == 2023
    image = message_of(
        {
            **_payload(msg_id="m2", attachments=[{"type": "image", "payload": {"url": "https://a.zadn.vn/x.jpg"}}]),
            "event_name": "user_send_image",
        }
    )
    assert image is not None
    assert image.image_urls == ("https://a.zadn.vn/x.jpg",)
    assert message_of({**_payload(msg_id="m3", text="hi"), "event_name": "follow"}) is None
    assert message_of(_payload(text="no id")) is None
    assert message_of(_payload(msg_id="m4", text="  ")) is None
    assert (
        message_of(
            {
                **_payload(msg_id="m5", attachments=[{"type": "image", "payload": {"url": "javascript:x"}}]),
                "event_name": "user_send_image",
            }
        )
        is None
    )
    assert message_of({**_payload(msg_id="m6", text="x"), "timestamp": "not-a-number"}) is None
    assert json.dumps(_payload(msg_id="m7", text="ok"))


def test_titles_and_receipts_are_short_vietnamese() -> None:
    long = " ".join(["đường"] * 30)
    assert title_of(long).endswith("…")
    assert len(title_of(long).split()) == 12
    assert title_of("") == "Ảnh gửi qua Zalo"
    receipt = receipt_text("Đường sạt lở", "01a23120c473c59d00a14e59")
    assert "00A14E59" in receipt
    assert "đã tiếp nhận" in receipt
