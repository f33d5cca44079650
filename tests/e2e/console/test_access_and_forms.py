"""What each role sees, administration, and forms: CSRF, field errors in Vietnamese, screenshots."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.support.pulse_system import PulseSystem

from ..conftest import bearer, eventually
from .conftest import AU_LAU, NAM_CUONG, PASSWORD, person, shot, sign_in

pytestmark = pytest.mark.e2e
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def _report(system: PulseSystem, username: str, title: str, unit: str) -> str:
    token = httpx.post(f"{system.url('intake')}/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.text
    body = {
        "unit_code": unit,
        "channel": "meeting",
        "title": title,
        "content": "Người dân góp ý về việc sửa chữa nhà văn hóa tổ dân phố.",
        "observed_at": (datetime.now(LOCAL) - timedelta(hours=1)).isoformat(),
    }
    created = httpx.post(f"{system.url('intake')}/v1/reports", json=body, headers=bearer(token.json()["access_token"]))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_each_person_sees_only_what_their_role_and_units_allow(
    system: PulseSystem, admin_token: str, phone: BrowserContext, desk: BrowserContext
) -> None:
    mine = person(
        system, admin_token, username="ctv.namcuong.rieng", role="collaborator", units=[NAM_CUONG], name="Lý Thị Hoa"
    )
    other = person(
        system, admin_token, username="ctv.namcuong.khac", role="collaborator", units=[NAM_CUONG], name="Mã Văn Sơn"
    )
    officer = person(
        system, admin_token, username="cb.aulau.console", role="unit_officer", units=[AU_LAU], name="Hà Văn Dũng"
    )
    own_id = _report(system, mine.username, "Góp ý của tôi về nhà văn hóa", NAM_CUONG)
    other_id = _report(system, other.username, "Góp ý của người khác về nhà văn hóa", NAM_CUONG)

    page = phone.new_page()
    sign_in(page, mine)
    page.goto("/reports")
    expect(page.locator("h1")).to_have_text("Báo cáo của tôi")
    rows = page.locator("[data-testid=report-row]")
    expect(rows.filter(has_text="Góp ý của tôi về nhà văn hóa")).to_have_count(1)
    expect(rows.filter(has_text="Góp ý của người khác")).to_have_count(0)
    expect(page.locator("nav.menu a[href='/hotspots']")).to_have_count(0)
    expect(page.locator("nav.menu a[href='/admin/users']")).to_have_count(0)
    shot(page, "my-reports-phone")
    page.goto(f"/reports/{other_id}")
    expect(page.locator("[data-testid=error-message]")).to_have_text("Báo cáo này không tồn tại.")
    page.goto(f"/reports/{own_id}")
    expect(page.locator("[data-testid=report-title]")).to_have_text("Góp ý của tôi về nhà văn hóa")

    ward = desk.new_page()
    sign_in(ward, officer)
    response = ward.goto(f"/reports/{own_id}")
    assert response is not None
    assert response.status == 404
    expect(ward.locator("[data-testid=error-message]")).to_have_text("Báo cáo này không tồn tại.")
    ward.goto("/reports?q=nha van hoa")  # the search covers the officer's own ward only
    expect(ward.locator("[data-testid=report-row]", has_text="Góp ý của")).to_have_count(0)
    page.goto("/reports?q=nha van hoa")  # diacritic-insensitive ("nhà văn hóa"), and only her own
    expect(page.locator("[data-testid=report-row]", has_text="Góp ý của tôi về nhà văn hóa")).to_have_count(1)
    expect(page.locator("[data-testid=report-row]", has_text="Góp ý của người khác")).to_have_count(0)


def test_admin_creates_a_user_and_a_rota(system: PulseSystem, admin_token: str, desk: BrowserContext) -> None:
    admin = person(system, admin_token, username="quantri.console", role="admin", units=[], name="Quản Trị Viên")
    page = desk.new_page()
    sign_in(page, admin)
    page.goto("/admin/users")
    form = page.locator("[data-testid=user-form]")
    form.locator("input[name=username]").fill("truc.ban.console")
    form.locator("input[name=password]").fill("Mat-khau-truc-ban-2026")
    form.locator("input[name=full_name]").fill("Lưu Quang Trực")
    form.locator("select[name=role]").select_option("department")
    form.locator("input[name=phone]").fill("+84912777009")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=flash]")).to_contain_text("Đã tạo tài khoản truc.ban.console")
    expect(page.locator("[data-testid=users-table]")).to_contain_text("Lưu Quang Trực")
    shot(page, "admin-users")

    # A department officer is a duty officer for notify once intake's directory event reaches it.
    def listed() -> bool:
        page.goto("/admin/rota")
        return page.locator("select[name=user_0] option", has_text="Lưu Quang Trực").count() == 1

    eventually(listed, timeout=30, interval=1.0)
    rota = page.locator("[data-testid=rota-form]")
    rota.locator("select[name=user_0]").select_option(label="Lưu Quang Trực")
    # A shift next week: the rota is real, but nobody else's paging in this run changes because of it.
    start = (datetime.now(LOCAL) + timedelta(days=7)).replace(hour=7, minute=30, second=0, microsecond=0)
    rota.locator("input[name=starts_0]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    rota.locator("input[name=ends_0]").fill((start + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"))
    rota.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=flash]")).to_have_text("Đã lưu lịch trực.")
    expect(page.locator("[data-testid=rota-shifts]")).to_contain_text("Lưu Quang Trực")
    expect(page.locator("[data-testid=rota-shifts]")).to_contain_text(start.strftime("%H:%M %d/%m/%Y"))
    shot(page, "admin-rota")
    stored = httpx.get(f"{system.url('notify')}/v1/rotas/duty_officer", headers=bearer(admin_token)).json()
    assert len(stored["shifts"]) == 1
    cleared = httpx.put(
        f"{system.url('notify')}/v1/rotas/duty_officer",
        json={"shifts": [], "overrides": []},
        headers=bearer(admin_token),
    )
    assert cleared.status_code == 200, cleared.text


def test_forms_refuse_a_missing_csrf_token_and_show_field_errors_in_vietnamese(
    system: PulseSystem, admin_token: str, phone: BrowserContext
) -> None:
    writer = person(
        system, admin_token, username="ctv.namcuong.form", role="collaborator", units=[NAM_CUONG], name="Tô Văn Bình"
    )
    page = phone.new_page()
    sign_in(page, writer)
    page.goto("/reports/new")
    page.fill("input[name=title]", "Báo cáo không có mã bảo vệ")
    page.fill("textarea[name=content]", "Nội dung thử.")
    page.evaluate("document.querySelector('[data-testid=report-form] input[name=csrf_token]').remove()")
    page.click("[data-testid=report-form] button[type=submit]")
    expect(page.locator("[data-testid=error-message]")).to_contain_text("CSRF")
    token = httpx.post(
        f"{system.url('intake')}/v1/auth/token", data={"username": writer.username, "password": PASSWORD}
    )
    listed = httpx.get(
        f"{system.url('intake')}/v1/reports",
        params={"q": "khong co ma bao ve"},
        headers=bearer(token.json()["access_token"]),
    ).json()
    assert listed["items"] == []

    page.goto("/reports/new")
    page.fill("input[name=title]", "")
    page.fill("textarea[name=content]", "")
    page.click("[data-testid=report-form] button[type=submit]")
    errors = page.locator("[data-testid=form-errors]")
    expect(errors).to_contain_text("Tiêu đề")
    expect(errors).to_contain_text("Nội dung")
    expect(errors).not_to_contain_text("String should")
    shot(page, "report-form-errors-phone")
