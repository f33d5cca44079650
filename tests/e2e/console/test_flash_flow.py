"""The flagship flow in a browser: a collaborator's flash report reaches the dashboard live, and the
duty officer acknowledges it from the link in their SMS, on a phone, without a password."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from pulse_libs import acktoken
from pulse_libs.settings import DEV_ACK_SECRET

from tests.support.pulse_system import PulseSystem
from tests.support.servers import RecordingHttpServer

from ..conftest import bearer, eventually, token
from .conftest import AU_LAU, FLASH_TEXT, NAM_CUONG, PASSWORD, PHONE, person, shot, sign_in

pytestmark = pytest.mark.e2e
ACK_URL = re.compile(r"https?://[^\s\"']+/ack/[A-Za-z0-9_-]+")


def _submit_flash(phone: BrowserContext, collaborator: Any, title: str, unit: str) -> str:
    page = phone.new_page()
    sign_in(page, collaborator)
    page.goto("/reports/new")
    page.select_option("select[name=unit_code]", unit)
    page.fill("input[name=title]", title)
    page.fill("textarea[name=content]", FLASH_TEXT)
    page.fill("input[name=people_count]", "200")
    page.select_option("select[name=sentiment]", "negative")
    shot(page, "report-form-phone")
    page.click("[data-testid=report-form] button[type=submit]")
    expect(page.locator("[data-testid=flash]")).to_have_text("Đã gửi báo cáo.")
    return page.url.split("/reports/")[1].split("?")[0]


def test_flash_report_from_the_form_appears_on_the_dashboard_without_reloading(
    system: PulseSystem, admin_token: str, desk: BrowserContext, phone: BrowserContext
) -> None:
    officer = person(system, admin_token, username="bantg.console", role="department", units=[], name="Đỗ Thu Trang")
    collaborator = person(
        system, admin_token, username="ctv.namcuong.console", role="collaborator", units=[NAM_CUONG], name="Vũ Thị Thu"
    )
    dashboard = desk.new_page()
    sign_in(dashboard, officer)
    dashboard.goto("/")
    expect(dashboard.locator("#panel-hotspots h2")).to_have_text("Điểm nóng đang mở")
    dashboard.evaluate("window.__sameDocument = 'yes'")

    _submit_flash(phone, collaborator, "Dân chặn đường phản đối cưỡng chế ở Nam Cường", NAM_CUONG)
    started = datetime.now(UTC)
    flash = dashboard.locator("[data-testid=hotspots-flash] a", has_text="Phường Nam Cường")
    expect(flash.first).to_be_visible(timeout=10_000)
    assert (datetime.now(UTC) - started).total_seconds() <= 10
    assert dashboard.evaluate("window.__sameDocument") == "yes"  # updated in place, never reloaded
    expect(dashboard.locator("[data-testid=escalation-row]", has_text="Phường Nam Cường").first).to_be_visible()
    expect(dashboard.locator("[data-testid=escalation-row] .countdown").first).to_contain_text("còn")
    shot(dashboard, "dashboard")


def test_duty_officer_acknowledges_from_the_sms_link_on_a_phone(
    system: PulseSystem, admin_token: str, sms_gateway: RecordingHttpServer, phone: BrowserContext
) -> None:
    admin = bearer(admin_token)
    duty_phone = "+84912777001"
    recipient = httpx.post(
        f"{system.url('notify')}/v1/recipients",
        json={"name": "Lò Văn Trực", "targets": ["duty_officer"], "channels": {"phone": duty_phone}},
        headers=admin,
    )
    assert recipient.status_code == 201, recipient.text
    recipient_id = recipient.json()["id"]
    collaborator = person(
        system, admin_token, username="ctv.aulau.console", role="collaborator", units=[AU_LAU], name="Hà Thị Mai"
    )
    person(system, admin_token, username="bantg.console", role="department", units=[], name="Đỗ Thu Trang")
    report_id = _submit_flash(phone, collaborator, "Hàng trăm người tụ tập ở Âu Lâu", AU_LAU)

    def notice() -> str | None:
        for request in sms_gateway.received:
            body = request.json()
            if body.get("to", "").lstrip("+") == duty_phone.lstrip("+") and "/ack/" in body.get("text", ""):
                return str(body["text"])
        return None

    text = eventually(notice, timeout=45)
    ack_url = ACK_URL.search(text)
    assert ack_url, text
    link = ack_url.group(0)
    assert link.startswith(system.url("console") + "/ack/")

    officer = bearer(token(system, "bantg.console", PASSWORD))
    triage = system.url("triage")
    decision = eventually(lambda: _json(httpx.get(f"{triage}/v1/triage/{report_id}", headers=officer)))
    hotspot = eventually(lambda: _json(httpx.get(f"{triage}/v1/hotspots/{decision['hotspot_id']}", headers=officer)))
    escalation_id = hotspot["escalation"]["id"]

    # A link previewer's plain GET changes nothing.
    assert httpx.get(link).status_code == 200
    # The duty officer's own phone: no session, no password, only the link.
    officer_phone = phone.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)  # type: ignore[union-attr]
    officer_phone.set_default_timeout(15_000)
    page = officer_phone.new_page()
    page.goto(link)
    facts = page.locator("[data-testid=ack-facts]")
    expect(facts.locator("[data-testid=ack-unit]")).to_have_text("Phường Âu Lâu")
    expect(facts.locator("[data-testid=ack-urgency]")).to_have_text("Hỏa tốc")
    expect(facts.locator("[data-testid=ack-topic]")).not_to_be_empty()
    expect(facts.locator("[data-testid=ack-deadline] .countdown")).to_contain_text("còn")
    shot(page, "ack-phone")
    pending = httpx.get(f"{triage}/v1/escalations/{escalation_id}", headers=officer).json()
    assert pending["state"] == "pending"

    page.fill("textarea[name=comment]", "Đã nắm tình hình, đang liên hệ UBND phường.")
    page.click("[data-testid=ack-button]")
    expect(page.locator("[data-testid=ack-result] h1")).to_have_text("Đã xác nhận")
    shot(page, "ack-done-phone")
    acknowledged = httpx.get(f"{triage}/v1/escalations/{escalation_id}", headers=officer).json()
    assert acknowledged["state"] == "acknowledged"
    entry = acknowledged["history"][-1]
    assert (entry["action"], entry["by"], entry["via"], entry["channel"]) == (
        "acknowledged",
        recipient_id,
        "link",
        "sms",
    )
    assert entry["comment"] == "Đã nắm tình hình, đang liên hệ UBND phường."

    again = officer_phone.new_page()
    again.goto(link)
    expect(again.locator("[data-testid=ack-state]")).to_contain_text("đã xác nhận")
    expect(again.locator("[data-testid=ack-button]")).to_have_count(0)

    forged = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    again.goto(forged)
    expect(again.locator("[data-testid=ack-result] h1")).to_have_text("Liên kết không hợp lệ")
    expired = acktoken.mint(
        system.env.get("PULSE_ACK_SECRET", DEV_ACK_SECRET),
        escalation_id=escalation_id,
        level=1,
        recipient_id=recipient_id,
        channel="sms",
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    again.goto(f"{system.url('console')}/ack/{expired}")
    expect(again.locator("[data-testid=ack-result] h1")).to_have_text("Liên kết đã hết hạn")
    shot(again, "ack-expired-phone")
    officer_phone.close()


def _json(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None


def test_main_pages_render_for_the_department(system: PulseSystem, admin_token: str, desk: BrowserContext) -> None:
    officer = person(system, admin_token, username="bantg.console", role="department", units=[], name="Đỗ Thu Trang")
    page = desk.new_page()
    sign_in(page, officer)
    for path, heading, name in (
        ("/hotspots", "Điểm nóng", "hotspots"),
        ("/escalations", "Cảnh báo", "escalations"),
        ("/reports", "Báo cáo", "reports"),
        ("/orientations", "Định hướng tuyên truyền", "orientations"),
        ("/bulletins", "Thông tin chuyên đề", "bulletins"),
        ("/surveys", "Điều tra, thăm dò dư luận", "surveys"),
        ("/periodic-reports", "Báo cáo định kỳ", "periodic-reports"),
    ):
        response = page.goto(path)
        assert response is not None, path
        assert response.status == 200, path
        expect(page.locator("main h1").first).to_have_text(heading)
        shot(page, name)
    page.goto(f"/hotspots?unit_code={NAM_CUONG}")  # the hot spot the flash report above opened
    page.locator("main table a").first.click()
    expect(page.locator("[data-testid=hotspot-status]")).to_be_visible()
    expect(page.locator("[data-testid=timeline]")).to_contain_text("Báo lên cấp 1")
    shot(page, "hotspot-detail")
