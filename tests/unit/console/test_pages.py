"""Console pages over fake APIs: sign-in, CSRF, headers, degrading panels, field errors, one-tap links."""

from __future__ import annotations

import httpx

from .conftest import FakeApis, csrf_of, json_response, problem, sign_in

FACTS = {
    "escalation_id": "esc-1",
    "hotspot_id": "hs-1",
    "level": 1,
    "channel": "sms",
    "expires_at": "2026-12-02T10:00:00+00:00",
    "used": False,
    "state": "pending",
    "urgency": "flash",
    "unit_code": "04252",
    "topic_code": "land",
    "topic_name": "Đất đai, giải phóng mặt bằng",
    "reasons": ["cụm từ báo động: tụ tập đông người"],
    "report_count": 2,
    "source_count": 2,
    "channels": ["zalo", "phone"],
    "first_seen": "2026-12-01T09:00:00+00:00",
    "last_seen": "2026-12-01T09:30:00+00:00",
    "raised_at": "2026-12-01T09:00:00+00:00",
    "ack_deadline": "2026-12-01T09:15:00+00:00",
}
TOKEN = "AQEBAAAAAIRlc2MtEBI0VniavN7wEjRWeJq83vAQEjRWeJq83vASNFZ4mrze8A"


async def test_sign_in_keeps_the_token_in_an_encrypted_httponly_cookie(console: httpx.AsyncClient) -> None:
    page = await console.get("/login")
    assert page.status_code == 200
    assert "Đăng nhập" in page.text
    answer = await console.post(
        "/login", data={"username": "ha", "password": "dung-mat-khau", "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "tok-ha" not in cookie  # encrypted, not merely encoded
    home = await console.get("/")
    assert home.status_code == 200
    assert "Phạm Thu Hà" in home.text


async def test_wrong_password_is_said_in_vietnamese(console: httpx.AsyncClient) -> None:
    page = await console.get("/login")
    answer = await console.post("/login", data={"username": "ha", "password": "sai", "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in answer.text


async def test_forms_without_csrf_are_refused_and_change_nothing(console: httpx.AsyncClient, apis: FakeApis) -> None:
    await console.get("/login")
    answer = await console.post("/login", data={"username": "ha", "password": "dung-mat-khau"})
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    assert apis.sent("intake", "POST", "/v1/auth/token") == []
    await sign_in(console)
    refused = await console.post("/reports/new", data={"title": "x", "content": "y", "csrf_token": "forged"})
    assert refused.status_code == 403
    assert apis.sent("intake", "POST", "/v1/reports") == []


async def test_pages_carry_security_headers(console: httpx.AsyncClient) -> None:
    page = await console.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_signed_out_pages_send_to_login(console: httpx.AsyncClient) -> None:
    answer = await console.get("/reports")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/reports"


async def test_revoked_token_ends_the_session_with_a_clear_page(console: httpx.AsyncClient, apis: FakeApis) -> None:
    await sign_in(console)
    apis.on("intake", "GET", "/v1/reports", 401, problem(401, "Token expired."))
    answer = await console.get("/reports")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/session-expired"
    page = await console.get("/session-expired")
    assert "Phiên làm việc đã hết hạn" in page.text
    assert (await console.get("/reports")).headers["location"] == "/session-expired"


async def test_a_service_down_blanks_only_its_panel(console: httpx.AsyncClient, apis: FakeApis) -> None:
    await sign_in(console)
    apis.on("triage", "GET", "/v1/escalations", body={"items": [], "next_cursor": None})
    apis.down.add("reporting")
    stats = await console.get("/panels/stats")
    assert stats.status_code == 200
    assert "Dịch vụ thống kê tạm thời không phản hồi" in stats.text
    escalations = await console.get("/panels/escalations")
    assert "Không có cảnh báo nào đang chờ." in escalations.text


async def test_absent_route_shows_a_notice(console: httpx.AsyncClient) -> None:
    await sign_in(console)
    panel = await console.get("/panels/directives")
    assert panel.status_code == 200
    assert "Chức năng này chưa được bật trên máy chủ." in panel.text


async def test_report_form_shows_the_apis_field_errors_in_vietnamese(
    console: httpx.AsyncClient, apis: FakeApis
) -> None:
    await sign_in(console, "huong")
    errors = [{"field": "title", "message": "String should have at least 1 character"}]
    apis.on("intake", "POST", "/v1/reports", 422, problem(422, "invalid", errors))
    form = await console.get("/reports/new")
    answer = await console.post(
        "/reports/new",
        data={"csrf_token": csrf_of(form.text), "unit_code": "04252", "title": "", "content": "Người dân phản ánh"},
    )
    assert answer.status_code == 422
    assert "Tiêu đề: không được để trống" in answer.text
    assert "Người dân phản ánh" in answer.text  # what was typed is kept


async def test_role_decides_the_menu(console: httpx.AsyncClient) -> None:
    await sign_in(console, "huong")
    page = await console.get("/reports/new")
    assert 'href="/reports/new"' in page.text
    assert 'href="/admin/users"' not in page.text
    assert 'href="/hotspots"' not in page.text
    assert (await console.get("/admin/users")).status_code == 403


async def test_ack_get_shows_facts_and_changes_nothing(console: httpx.AsyncClient, apis: FakeApis) -> None:
    apis.on("triage", "GET", "/v1/ack-links/.+", body=FACTS)
    page = await console.get(f"/ack/{TOKEN}")
    assert page.status_code == 200
    for fact in ("Phường Yên Bái", "Đất đai, giải phóng mặt bằng", "Hỏa tốc", "tụ tập đông người"):
        assert fact in page.text
    assert 'data-deadline="2026-12-01T09:15:00+00:00"' in page.text
    assert [r.method for r in apis.requests] == ["GET"]


async def test_ack_post_acknowledges_with_the_comment(console: httpx.AsyncClient, apis: FakeApis) -> None:
    apis.on("triage", "GET", "/v1/ack-links/.+", body=FACTS)
    done = {**FACTS, "used": True, "state": "acknowledged", "acknowledged_at": "2026-12-01T09:05:00+00:00"}
    apis.on("triage", "POST", "/v1/ack-links/.+", body=done)
    page = await console.get(f"/ack/{TOKEN}")
    answer = await console.post(f"/ack/{TOKEN}", data={"csrf_token": csrf_of(page.text), "comment": "Đã nắm."})
    assert answer.status_code == 200
    assert "Đã xác nhận" in answer.text
    sent = apis.sent("triage", "POST", f"/v1/ack-links/{TOKEN}")
    assert len(sent) == 1
    assert sent[0].read() == '{"comment":"Đã nắm."}'.encode()


async def test_ack_refusals_have_clear_pages(console: httpx.AsyncClient, apis: FakeApis) -> None:
    apis.on("triage", "GET", "/v1/ack-links/forged-token-xxxxxxxx", 404, problem(404, "The link is not valid."))
    apis.on("triage", "GET", "/v1/ack-links/expired-token-xxxxxxx", 410, problem(410, "The link has expired."))
    forged = await console.get("/ack/forged-token-xxxxxxxx")
    assert forged.status_code == 404
    assert "Liên kết không hợp lệ" in forged.text
    expired = await console.get("/ack/expired-token-xxxxxxx")
    assert expired.status_code == 410
    assert "Liên kết đã hết hạn" in expired.text
    garbage = await console.get("/ack/%3Cscript%3E")
    assert garbage.status_code == 404
    assert "<script>" not in garbage.text
    apis.down.add("triage")
    down = await console.get(f"/ack/{TOKEN}")
    assert down.status_code == 503
    assert "Hệ thống tạm thời không phản hồi" in down.text


async def test_used_link_says_already_acknowledged(console: httpx.AsyncClient, apis: FakeApis) -> None:
    used = {**FACTS, "used": True, "state": "acknowledged", "acknowledged_at": "2026-12-01T09:05:00+00:00"}
    apis.on("triage", "GET", "/v1/ack-links/.+", body=used)
    page = await console.get(f"/ack/{TOKEN}")
    assert "đã xác nhận" in page.text
    assert "ack-button" not in page.text
    link_used = problem(409, "used", type_="https://pulse.example.vn/problems/ack-link-used")
    apis.handle("triage", "POST", "/v1/ack-links/.+", lambda _r: json_response(409, link_used))
    csrf = csrf_of((await console.get("/login")).text)  # the same browser session
    again = await console.post(f"/ack/{TOKEN}", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert "Liên kết đã được sử dụng" in again.text


async def test_assets_are_served_locally(console: httpx.AsyncClient) -> None:
    for path in ("/assets/htmx.org/dist/htmx.min.js", "/assets/chart.js/dist/chart.umd.min.js", "/static/console.js"):
        asset = await console.get(path)
        assert asset.status_code == 200, path
        assert len(asset.content) > 1000
    assert (await console.get("/readyz")).status_code == 200


async def test_report_filters_reach_intake_each_under_its_own_name(console: httpx.AsyncClient, apis: FakeApis) -> None:
    await sign_in(console)
    apis.on("intake", "GET", "/v1/reports", body={"items": [], "next_cursor": None})
    page = await console.get("/reports", params={"q": "nha van hoa", "unit_code": "04252", "urgency": "flash"})
    assert page.status_code == 200
    sent = apis.sent("intake", "GET", "/v1/reports")[-1].url.params
    assert (sent["q"], sent["unit_code"], sent["urgency"]) == ("nha van hoa", "04252", "flash")
    assert "to" not in sent
    assert "from" not in sent


async def test_briefing_download_passes_reportings_file_through(console: httpx.AsyncClient, apis: FakeApis) -> None:
    await sign_in(console)
    docx = b"PK\x03\x04" + b"\x00" * 2000
    headers = {
        "content-type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "content-disposition": 'attachment; filename="bao-cao-2026-12.docx"',
    }
    apis.handle(
        "reporting",
        "GET",
        "/v1/periodic-reports/2026-12",
        lambda _r: httpx.Response(200, content=docx, headers=headers),
    )
    answer = await console.get("/periodic-reports/2026-12/download", params={"format": "docx"})
    assert answer.status_code == 200
    assert answer.content == docx
    assert answer.headers["content-disposition"] == 'attachment; filename="bao-cao-2026-12.docx"'
    assert apis.sent("reporting", "GET", "/v1/periodic-reports/2026-12")[-1].url.params["format"] == "docx"
    bad = await console.get("/periodic-reports/..%2Fstats/download")
    assert bad.status_code in (400, 404)
    assert "Traceback" not in bad.text
