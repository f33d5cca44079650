"""A console app whose four APIs are a programmable fake (httpx.MockTransport): pure page logic, no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pulse_console.bootstrap import bootstrap
from pulse_console.settings import ConsoleSettings

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeApis:
    """Routes `(host, method, path regex)` to handlers; records every request; hosts can be marked down."""

    routes: list[tuple[str, str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    down: set[str] = field(default_factory=set)

    def on(self, service: str, method: str, path: str, status: int = 200, body: Any = None) -> None:
        """Answer `method path` on `service` with a JSON body."""
        self.handle(service, method, path, lambda _r: json_response(status, body))

    def handle(self, service: str, method: str, path: str, handler: Handler) -> None:
        """Answer with a handler (inserted first so later registrations win)."""
        self.routes.insert(0, (service, method, re.compile(f"^{path}$"), handler))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        service = SERVICES[request.url.port or 80]
        if service in self.down:
            raise httpx.ConnectError("refused", request=request)
        for host, method, pattern, handler in self.routes:
            if host == service and method == request.method and pattern.match(request.url.path):
                return handler(request)
        return json_response(404, {"type": "about:blank", "title": "Not found", "status": 404, "detail": "Not Found"})

    def sent(self, service: str, method: str, path: str) -> list[httpx.Request]:
        """Requests sent to `service`."""
        port = {v: k for k, v in SERVICES.items()}[service]
        return [r for r in self.requests if r.url.port == port and r.method == method and r.url.path == path]


SERVICES = {18101: "intake", 18102: "triage", 18103: "notify", 18104: "reporting"}


def json_response(status: int, body: Any) -> httpx.Response:
    """A JSON (or problem+json) answer."""
    media = "application/problem+json" if status >= 400 else "application/json"
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"content-type": media})


def problem(status: int, detail: str, errors: list[dict[str, str]] | None = None, type_: str = "about:blank") -> Any:
    """A problem document."""
    return {"type": type_, "title": "x", "status": status, "detail": detail, **({"errors": errors} if errors else {})}


@pytest.fixture
def apis() -> FakeApis:
    """The fake APIs, with intake's sign-in answering for `ha` / `dung-mat-khau`."""
    fake = FakeApis()

    def token(request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
        if form.get("password") == "dung-mat-khau":
            return json_response(
                200, {"access_token": f"tok-{form['username']}", "token_type": "bearer", "expires_in": 3600}
            )
        return json_response(401, problem(401, "Wrong username or password."))

    fake.handle("intake", "POST", "/v1/auth/token", token)
    roles = {"ha": "department", "huong": "collaborator", "thanh": "standing_committee", "admin": "admin"}

    def me(request: httpx.Request) -> httpx.Response:
        name = request.headers["authorization"].removeprefix("Bearer tok-")
        body = {
            "id": f"u-{name}",
            "username": name,
            "full_name": "Phạm Thu Hà",
            "role": roles[name],
            "unit_codes": ["04252"],
        }
        return json_response(200, body)

    fake.handle("intake", "GET", "/v1/users/me", me)
    fake.on("intake", "GET", "/v1/topics", body={"items": [{"code": "land", "name": "Đất đai"}], "next_cursor": None})
    return fake


@pytest.fixture
async def console(apis: FakeApis) -> AsyncIterator[httpx.AsyncClient]:
    """The console app over the fake APIs."""
    urls = {f"PULSE_CONSOLE_{name.upper()}_URL": f"http://fake:{port}" for port, name in SERVICES.items()}
    settings = ConsoleSettings(**urls)  # type: ignore[arg-type]
    app = bootstrap(settings, transport=httpx.MockTransport(apis))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console", follow_redirects=False) as client:
            yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, username: str = "ha") -> None:
    """Sign in through the login form."""
    page = await client.get("/login")
    answer = await client.post(
        "/login", data={"username": username, "password": "dung-mat-khau", "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303, answer.text
