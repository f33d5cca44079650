"""What every page shares: the session, the API on the person's behalf, rendering, CSRF, panels."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from pulse_console import labels
from pulse_console.adapters.api import SERVICE_NAMES, Answer, Api, Service, ServiceDown
from pulse_console.session import CSRF_FIELD, Session, User
from pulse_console.settings import PACKAGE_DIR, ConsoleSettings

templates = Jinja2Templates(directory=PACKAGE_DIR / "templates")
_env = templates.env
_env.filters.update(
    urgency=lambda v: labels.URGENCY.get(v, v or "—"),
    status=lambda v: labels.STATUS.get(v, v or "—"),
    channel=lambda v: labels.CHANNEL.get(v, v or "—"),
    role=lambda v: labels.ROLE.get(v, v or "—"),
    target=lambda v: labels.TARGET.get(v, v or "—"),
    sentiment=lambda v: labels.SENTIMENT.get(v, v or "—"),
    action=lambda v: labels.ACTION.get(v, v or "—"),
    agency_kind=lambda v: labels.AGENCY_KIND.get(v, v or "—"),
    unit=labels.unit_name,
    time=labels.local_time,
    tojson_pretty=lambda v: json.dumps(v, ensure_ascii=False, indent=2),
)

NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "Tổng quan", ("hotspots:read",)),
    ("/hotspots", "Điểm nóng", ("hotspots:read",)),
    ("/escalations", "Cảnh báo", ("escalations:read",)),
    ("/reports", "Báo cáo", ("reports:read", "reports:read:own")),
    ("/reports/new", "Gửi báo cáo", ("reports:write",)),
    ("/directives", "Chỉ đạo", ("directives:read",)),
    ("/orientations", "Định hướng", ("orientations:read",)),
    ("/bulletins", "Bản tin", ("orientations:read", "bulletins:write")),
    ("/surveys", "Khảo sát", ("surveys:respond", "surveys:read")),
    ("/periodic-reports", "Báo cáo định kỳ", ("stats:read",)),
    ("/admin/users", "Người dùng", ("users:read",)),
    ("/admin/agencies", "Cơ quan", ("agencies:write",)),
    ("/admin/recipients", "Người nhận", ("recipients:read",)),
    ("/admin/rota", "Lịch trực", ("recipients:write",)),
    ("/admin/policies", "Chính sách", ("policies:read",)),
    ("/admin/silences", "Tạm dừng báo", ("silences:read",)),
    ("/admin/rules", "Quy tắc", ("rules:read",)),
)


class NeedSignIn(Exception):
    """The page needs a signed-in person."""


class Refused(Exception):
    """The person may not do this, or the form's CSRF token is missing or wrong (403 page)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Panel:
    """One panel's data, or the notice shown in its place when its service cannot give it."""

    data: Any = None
    notice: str | None = None
    status: int = 200
    """The API's status (0 when the service did not answer)."""


def outage_notice(service: Service) -> str:
    """The notice a panel shows while its service is down."""
    return f"Dịch vụ {SERVICE_NAMES[service]} tạm thời không phản hồi; phần này sẽ hiện lại khi dịch vụ hoạt động."


ABSENT_NOTICE = "Chức năng này chưa được bật trên máy chủ."


class Web:
    """The request seen by a page: settings, session, API calls with the person's token, rendering."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.settings: ConsoleSettings = request.app.state.settings
        self.api: Api = request.app.state.api

    @property
    def session(self) -> Session:
        """The browser's session (set by the middleware)."""
        session: Session = self.request.state.session
        return session

    @session.setter
    def session(self, value: Session) -> None:
        self.request.state.session = value

    @property
    def user(self) -> User:
        """The signed-in person (pages behind `Signed` only)."""
        if self.session.user is None:
            raise NeedSignIn()
        return self.session.user

    def may(self, *scopes: str) -> bool:
        """True if the signed-in person holds any of `scopes`."""
        return self.session.user is not None and self.session.user.may(*scopes)

    def need(self, *scopes: str) -> None:
        """Refuse the page unless the person holds one of `scopes`."""
        if not self.may(*scopes):
            raise Refused("Tài khoản của bạn không có quyền dùng chức năng này.")

    async def call(self, service: Service, method: str, path: str, **kwargs: Any) -> Answer:
        """Call an API with the person's token."""
        return await self.api.call(service, method, path, token=self.session.token, **kwargs)

    async def panel(self, service: Service, path: str, params: dict[str, Any] | None = None) -> Panel:
        """GET one panel's data; an outage, an absent route or a refusal becomes a notice."""
        try:
            answer = await self.call(service, "GET", path, params=params)
        except ServiceDown:
            return Panel(notice=outage_notice(service), status=0)
        if answer.absent:
            return Panel(notice=ABSENT_NOTICE, status=answer.status)
        if answer.status == 403:
            return Panel(notice="Bạn không có quyền xem phần này.", status=403)
        if not answer.ok:
            return Panel(notice=f"Không tải được dữ liệu (mã {answer.status}).", status=answer.status)
        return Panel(data=answer.body, status=answer.status)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a page with the session, the menu and the CSRF field."""
        user = self.session.user
        nav = [(path, label) for path, label, scopes in NAV if user is not None and user.may(*scopes)]
        context = {
            "user": user,
            "nav": nav,
            "path": self.request.url.path,
            "csrf_field": CSRF_FIELD,
            "csrf": self.session.csrf,
            "poll_seconds": self.settings.poll_seconds,
            "may": self.may,
            **values,
        }
        return templates.TemplateResponse(self.request, template, context, status_code=status)

    async def form(self) -> dict[str, str]:
        """The submitted form, after its CSRF token is checked (refused when missing or wrong)."""
        data = await self.request.form()
        if not self.session.csrf_ok(str(data.get(CSRF_FIELD) or "")):
            raise Refused("Biểu mẫu đã hết hiệu lực hoặc không hợp lệ (thiếu mã bảo vệ CSRF). Hãy tải lại trang.")
        return {k: str(v) for k, v in data.multi_items() if isinstance(v, str) and k != CSRF_FIELD}

    async def form_lists(self) -> dict[str, list[str]]:
        """Multi-valued fields of the (already checked) form, e.g. checkboxes."""
        data = await self.request.form()
        out: dict[str, list[str]] = {}
        for key, value in data.multi_items():
            if isinstance(value, str) and key != CSRF_FIELD:
                out.setdefault(key, []).append(value)
        return out


def get_web(request: Request) -> Web:
    """The page's view of the request."""
    return Web(request)


def signed_in(request: Request) -> Web:
    """The page's view of the request, for a signed-in person only."""
    web = Web(request)
    if not web.session.signed_in:
        raise NeedSignIn()
    return web


AnyWeb = Annotated[Web, Depends(get_web)]
Signed = Annotated[Web, Depends(signed_in)]


def redirect(path: str) -> Response:
    """303 to another page (after a form), or an htmx redirect."""
    return RedirectResponse(path, status_code=303)


def items(panel: Panel) -> list[Any]:
    """The `items` of a list answer (empty when the panel has none)."""
    if isinstance(panel.data, dict):
        found = panel.data.get("items", [])
        return found if isinstance(found, list) else []
    return []


async def topic_names(web: Web) -> dict[str, str]:
    """Topic code -> name from intake, kept a minute per process (topics change rarely)."""
    cache: dict[str, Any] = web.request.app.state.__dict__.setdefault("topic_cache", {})
    now = time.monotonic()
    if cache.get("names") and now - cache.get("at", 0.0) < 60:
        names: dict[str, str] = cache["names"]
        return names
    panel = await web.panel("intake", "/v1/topics", {"limit": 500})
    names = {str(t["code"]): str(t["name"]) for t in items(panel) if isinstance(t, dict) and "code" in t}
    if names:
        cache.update(names=names, at=now)
    return names


def script_json(value: Any) -> str:
    """JSON safe inside a `<script type="application/json">` block (no `</script>` break-out)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def local_input_to_rfc3339(value: str, tz: str) -> str | None:
    """A `datetime-local` form value (local time) as RFC 3339 with offset; None when blank or unreadable."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return value.strip()  # sent as typed: the API answers with a field error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.isoformat()
