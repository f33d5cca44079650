"""End-to-end fixtures: the four services as processes against the real Kafka and store, plus local
servers playing the SMS gateway and the recipients' webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.pulse_system import PulseSystem
from tests.support.servers import Received, RecordingHttpServer

ADMIN = ("admin", "pulse-admin-dev-password")
YEN_BAI = "04252"  # Phường Yên Bái, Lào Cai (2025 two-level structure)
VAN_PHU = "04279"  # Phường Văn Phú


@pytest.fixture(scope="session")
def sms_gateway() -> Iterator[RecordingHttpServer]:
    """A local SMS gateway that accepts every message."""
    server = RecordingHttpServer(reply=lambda _r: (200, {"status": "accepted"})).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[RecordingHttpServer]:
    """A local receiver for personal and subscription webhooks."""
    server = RecordingHttpServer(reply=lambda _r: (204, {})).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def system_env() -> dict[str, str]:
    """Settings of the e2e stack beyond the short timers: province parents on (they are opt-in), so that
    tests/e2e/test_parents.py sees one matter in three wards as one. tests/e2e/console keeps the default."""
    return {"PULSE_PARENT_UNIT_KINDS": '["province", "district"]'}


@pytest.fixture(scope="session")
def system(
    tmp_path_factory: pytest.TempPathFactory, sms_gateway: RecordingHttpServer, infra: None, system_env: dict[str, str]
) -> Iterator[PulseSystem]:
    """Intake, triage, notify and reporting as processes with short timers."""
    pulse = PulseSystem(
        log_dir=Path(__file__).resolve().parents[2] / "var" / "e2e-logs",
        env={
            **system_env,
            "PULSE_SCHEDULER_INTERVAL_SECONDS": "0.3",
            "PULSE_METRICS_REFRESH_SECONDS": "1",
            "PULSE_NOTIFY_SMS_URL": f"{sms_gateway.url}/sms/send",
            "PULSE_NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
            "PULSE_NOTIFY_WORKER_POLL_SECONDS": "0.2",
            "PULSE_NOTIFY_BACKOFF_INITIAL_SECONDS": "0.5",
            "PULSE_NOTIFY_ACK_BASE_URL": "http://127.0.0.1:18002",
        },
    )
    try:
        pulse.start()
        yield pulse
    finally:
        pulse.stop()
        pulse.drop_databases()


@pytest.fixture(scope="session")
def admin_token(system: PulseSystem) -> str:
    """An admin's bearer token from the real token endpoint."""
    return token(system, *ADMIN)


def token(system: PulseSystem, username: str, password: str) -> str:
    """Sign in through intake's OAuth2 password endpoint."""
    response = httpx.post(f"{system.url('intake')}/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(access_token: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {access_token}"}


def create_user(system: PulseSystem, admin: str, *, username: str, role: str, units: list[str], name: str) -> str:
    """Create a user (idempotent per username within the test system) and return their token."""
    password = "Mat-khau-2026-" + hashlib.sha256(username.encode()).hexdigest()[:8]
    response = httpx.post(
        f"{system.url('intake')}/v1/users",
        json={"username": username, "password": password, "full_name": name, "role": role, "unit_codes": units},
        headers=bearer(admin),
    )
    assert response.status_code in (201, 409), response.text
    return token(system, username, password)


def eventually(check: Callable[[], Any], *, timeout: float = 180.0, interval: float = 0.25) -> Any:
    """Call `check` until it returns a truthy value; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout}s; last value: {last!r}")


def verify_signature(request: Received, secret: str) -> bool:
    """Check a Standard Webhooks signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected for sig in request.headers["webhook-signature"].split())
