"""Demo data over HTTP (`python -m pulse_intake.demo`): users (with phone, e-mail and Zalo id, so the people
notify pages are people who sign in; agency officers of UBND Yên Bái, UBND Văn Phú and the provincial
police), this month's orientation, a survey, ~30 reports.

Idempotent: users that exist (409) are kept, reports carry an `external_ref`
per collaborator so a second run adds nothing, the orientation and the survey
are created only when none of the same title exists.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from pulse_intake.settings import IntakeSettings

BASE = os.environ.get("PULSE_INTAKE_URL", "http://127.0.0.1:8001")


def call(
    method: str, path: str, *, token: str | None = None, body: Any = None, form: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One HTTP request; return (status, decoded JSON body or None)."""
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)  # noqa: S310 - our own URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def wait_ready(seconds: float = 90) -> None:
    """Wait until intake answers /readyz."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if call("GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"intake at {BASE} is not ready")
        time.sleep(1)


def sign_in(username: str, password: str) -> str:
    """Return a bearer token."""
    status, body = call("POST", "/v1/auth/token", form={"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"cannot sign in as {username}: {status} {body}")
    return str(body["access_token"])


def _data() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(resources.files("pulse_intake.data").joinpath("demo.json").read_text("utf-8"))
    return value


def seed_users(admin: str, data: dict[str, Any]) -> int:
    """Create the demo users; return how many were new."""
    created = 0
    for user in data["users"]:
        status, body = call("POST", "/v1/users", token=admin, body={**user, "password": data["password"]})
        if status not in (201, 409):
            raise SystemExit(f"user {user['username']}: {status} {body}")
        created += status == 201
    return created


def seed_campaigns(department: str, data: dict[str, Any]) -> None:
    """This month's orientation and an open survey, unless already there."""
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    current = call("GET", "/v1/orientations/current", token=department)[1]
    if not any(o["title"] == data["orientation"]["title"] for o in current["items"]):
        status, body = call("POST", "/v1/orientations", token=department, body={**data["orientation"], "period": month})
        assert status == 201, body
    surveys = call("GET", "/v1/surveys?limit=500", token=department)[1]
    if not any(s["title"] == data["survey"]["title"] and s["state"] == "open" for s in surveys["items"]):
        now = datetime.now(UTC)
        window = {"opens_at": now.isoformat(), "closes_at": (now + timedelta(days=30)).isoformat()}
        status, body = call("POST", "/v1/surveys", token=department, body={**data["survey"], **window})
        assert status == 201, body


def seed_reports(data: dict[str, Any]) -> int:
    """Each collaborator submits their reports; return how many were new."""
    tokens: dict[str, str] = {}
    created = 0
    now = datetime.now(UTC)
    for report in data["reports"]:
        author = report["author"]
        tokens.setdefault(author, sign_in(author, data["password"]))
        body = {k: v for k, v in report.items() if k not in ("author", "hours_ago")}
        body["observed_at"] = (now - timedelta(hours=report["hours_ago"])).isoformat()
        status, answer = call("POST", "/v1/reports", token=tokens[author], body=body)
        if status not in (201, 409):
            raise SystemExit(f"report {report['external_ref']}: {status} {answer}")
        created += status == 201
    return created


def main() -> None:
    """Seed everything and print a summary."""
    settings = IntakeSettings()
    admin_credentials = settings.first_admin
    if admin_credentials is None:
        raise SystemExit("set PULSE_ADMIN_USERNAME and PULSE_ADMIN_PASSWORD")
    wait_ready()
    data = _data()
    users = seed_users(sign_in(*admin_credentials), data)
    seed_campaigns(sign_in("pham.thu.ha", data["password"]), data)
    reports = seed_reports(data)
    print(f"demo data ready at {BASE}: {users} new users, {reports} new reports", file=sys.stderr)


if __name__ == "__main__":
    main()
