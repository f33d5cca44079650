"""Sign-in through intake's token endpoint, sign-out, password change and the session-expired page."""

from __future__ import annotations

import time
from dataclasses import replace

from fastapi import APIRouter
from fastapi.responses import Response

from pulse_console.adapters.api import ServiceDown
from pulse_console.entrypoints.common import AnyWeb, Signed, redirect
from pulse_console.labels import field_errors
from pulse_console.session import Session, User

router = APIRouter(include_in_schema=False)


def landing(user: User) -> str:
    """The first page of a role."""
    if user.may("hotspots:read"):
        return "/"
    if user.may("reports:read", "reports:read:own"):
        return "/reports"
    if user.may("directives:read"):
        return "/directives"
    return "/admin/users"


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


@router.get("/login")
async def login_page(web: AnyWeb, next: str | None = None) -> Response:
    """The sign-in form."""
    if web.session.signed_in and web.session.user is not None:
        return redirect(_safe_next(next) or landing(web.session.user))
    return web.render("login.html", next=_safe_next(next) or "", expired=web.session.was_signed_in)


@router.post("/login")
async def login(web: AnyWeb) -> Response:
    """Exchange username and password for an intake token and keep it in the encrypted session."""
    form = await web.form()
    username, password, target = form.get("username", ""), form.get("password", ""), _safe_next(form.get("next"))

    def again(message: str, status: int, errors: dict[str, str] | None = None) -> Response:
        return web.render(
            "login.html", status=status, next=target or "", error=message, errors=errors or {}, username=username
        )

    client = web.request.client.host if web.request.client else "127.0.0.1"
    try:
        answer = await web.api.call(
            "intake",
            "POST",
            "/v1/auth/token",
            data={"username": username, "password": password},
            headers={"X-Forwarded-For": client},
        )
        if answer.status == 401:
            return again("Tên đăng nhập hoặc mật khẩu không đúng.", 401)
        if answer.status == 429:
            wait = answer.headers.get("retry-after", "60")
            return again(f"Bạn đã đăng nhập sai quá nhiều lần; hãy thử lại sau {wait} giây.", 429)
        if answer.status == 422:
            return again("Hãy nhập đủ tên đăng nhập và mật khẩu.", 422, field_errors(answer.errors))
        if not answer.ok:
            return again(f"Không đăng nhập được (mã {answer.status}).", 400)
        token, expires_in = str(answer.body["access_token"]), int(answer.body.get("expires_in", 3600))
        me = await web.api.call("intake", "GET", "/v1/users/me", token=token)
    except ServiceDown:
        return again("Dịch vụ đăng nhập tạm thời không phản hồi; hãy thử lại sau ít phút.", 503)
    if not me.ok:
        return again("Tài khoản này không đăng nhập được vào trang điều hành.", 403)
    body = me.body
    user = User(
        id=str(body["id"]),
        username=str(body["username"]),
        full_name=str(body.get("full_name") or body["username"]),
        role=body["role"],
        unit_codes=tuple(body.get("unit_codes") or ()),
        agency_code=body.get("agency_code"),
    )
    lasts = min(expires_in, web.settings.session_ttl_seconds)
    web.session = Session(user=user, token=token, expires_at=time.time() + lasts)
    if answer.body.get("password_change_required"):
        return redirect("/account/password")
    return redirect(target or landing(user))


@router.post("/logout")
async def logout(web: AnyWeb) -> Response:
    """Forget the session (and the token it held)."""
    await web.form()
    web.session = web.session.signed_out()
    return redirect("/login")


@router.get("/session-expired")
async def session_expired(web: AnyWeb) -> Response:
    """The clear page shown when a session ran out."""
    return web.render("expired.html", status=401)


@router.get("/account/password")
async def password_page(web: Signed) -> Response:
    """Change one's own password (required after an administrator's reset)."""
    return web.render("password.html", errors={})


@router.post("/account/password")
async def change_password(web: Signed) -> Response:
    """Send the change to intake; its new token replaces the old one."""
    form = await web.form()
    body = {"current_password": form.get("current_password", ""), "new_password": form.get("new_password", "")}
    answer = await web.call("intake", "POST", "/v1/users/me/password", json=body)
    if not answer.ok:
        message = "Mật khẩu hiện tại không đúng." if answer.status in (400, 403) else "Mật khẩu mới chưa hợp lệ."
        return web.render("password.html", status=422, error=message, errors=field_errors(answer.errors))
    token = str(answer.body["access_token"])
    web.session = replace(web.session, token=token)
    return web.render("password.html", done=True, errors={})
