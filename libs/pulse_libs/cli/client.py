"""The HTTP side of the admin CLI: where the services are, a signed-in session, problem+json turned into errors."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URLS = {
    "intake": "http://127.0.0.1:8001",
    "triage": "http://127.0.0.1:8002",
    "notify": "http://127.0.0.1:8003",
    "reporting": "http://127.0.0.1:8004",
}


class CliError(Exception):
    """A failure to show the operator (the service's problem detail, or why it could not be reached)."""


def service_url(service: str) -> str:
    """The base URL of a service: `PULSE_<SERVICE>_URL`, else its local default."""
    return os.environ.get(f"PULSE_{service.upper()}_URL", DEFAULT_URLS[service]).rstrip("/")


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.reason_phrase}"
    if not isinstance(body, dict):
        return f"{response.status_code}: {body}"
    detail = body.get("detail") or body.get("title") or response.reason_phrase
    fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
    return f"{response.status_code} {detail}" + (f" ({fields})" if fields else "")


@dataclass
class Session:
    """Calls the services as one signed-in person (bearer token from intake's password grant or given)."""

    username: str | None
    password: str | None
    token: str | None = None
    timeout: float = 30.0
    _http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))

    def _bearer(self) -> str:
        if self.token is None:
            if not self.username or not self.password:
                raise CliError("sign in: give --username and --password (or PULSE_CLI_USERNAME/PASSWORD, PULSE_TOKEN)")
            response = self._send(
                "POST", f"{service_url('intake')}/v1/auth/token",
                data={"username": self.username, "password": self.password}, auth=False,
            )  # fmt: skip
            self.token = str(response.json()["access_token"])
        return self.token

    def _send(self, method: str, url: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            headers["Authorization"] = f"Bearer {self._bearer()}"
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach {url}: {exc}") from None
        if response.status_code >= 400:
            raise CliError(f"{method} {url}: {_problem(response)}")
        return response

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """Call `service` and return the JSON answer (None when it has no body)."""
        response = self._send(method, service_url(service) + path, **kwargs)
        return response.json() if response.content else None

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()
