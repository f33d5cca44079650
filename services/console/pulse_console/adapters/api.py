"""One client for the four APIs: answers come back as data; outages and expired tokens as exceptions.

The console never holds a credential of its own: every call carries the person's bearer token
(or none, for sign-in and the one-tap acknowledgement link), so each service decides what is allowed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from pulse_console.settings import ConsoleSettings

log = logging.getLogger(__name__)
Service = Literal["intake", "triage", "notify", "reporting"]
SERVICE_NAMES: dict[Service, str] = {
    "intake": "tiếp nhận",
    "triage": "phân loại",
    "notify": "thông báo",
    "reporting": "thống kê",
}
_ABSENT_DETAILS = {"Not Found", "Method Not Allowed"}


class ServiceDown(Exception):
    """The service did not answer (refused, timed out, or 502/503/504)."""

    def __init__(self, service: Service) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


class Unauthorized(Exception):
    """The service refused the person's token (expired, revoked, or the person changed)."""


@dataclass
class Answer:
    """One API answer."""

    status: int
    body: Any
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    content: bytes = b""

    @property
    def ok(self) -> bool:
        """2xx."""
        return 200 <= self.status < 300

    @property
    def absent(self) -> bool:
        """The route itself does not exist on this deployment (a feature not built or not enabled)."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        return self.status in (404, 405) and detail in _ABSENT_DETAILS

    @property
    def errors(self) -> list[dict[str, str]]:
        """The problem document's field errors."""
        errs = self.body.get("errors") if isinstance(self.body, dict) else None
        return [e for e in errs if isinstance(e, dict)] if isinstance(errs, list) else []

    @property
    def detail(self) -> str:
        """The problem document's detail."""
        return str(self.body.get("detail", "")) if isinstance(self.body, dict) else ""


class Api:
    """httpx clients of the four services, opened in the app's lifespan."""

    def __init__(self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        urls: dict[Service, str] = {
            "intake": settings.intake_url,
            "triage": settings.triage_url,
            "notify": settings.notify_url,
            "reporting": settings.reporting_url,
        }
        timeout = httpx.Timeout(settings.api_timeout_seconds)
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport) for name, url in urls.items()
        }

    async def close(self) -> None:
        """Close every client."""
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Answer:
        """Call a service; raises ServiceDown when it does not answer and Unauthorized on 401 with a token."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._clients[service].request(
                method, path, params=clean, json=json, data=data, headers=sent
            )
        except httpx.HTTPError as exc:
            log.warning("api call failed", extra={"service": service, "path": path, "error": repr(exc)})
            raise ServiceDown(service) from None
        if response.status_code in (502, 503, 504):
            raise ServiceDown(service)
        if response.status_code == 401 and token:
            raise Unauthorized()
        body: Any = None
        if not raw and response.headers.get("content-type", "").split(";")[0].endswith("json"):
            try:
                body = response.json()
            except ValueError:
                body = None
        return Answer(response.status_code, body, response.headers, response.content if raw else b"")
