"""The `pulse` admin CLI (the installed entry point) against intake and reporting running as processes on the real
Kafka and store: users, units import, period close, DLQ replay and audit verify. Run under the e2e lock:
`flock /tmp/pulse-e2e.lock .venv/bin/python -m pytest tests/integration/cli -x -q`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.support.pulse_system import PulseSystem

ROOT = Path(__file__).resolve().parents[3]
PULSE = Path(sys.executable).parent / "pulse"
ADMIN = ("admin", "pulse-admin-dev-password")


@pytest.fixture(scope="module")
def system(infra: None) -> Iterator[PulseSystem]:
    """intake and reporting as processes (own topic prefix and databases)."""
    # Own ports, away from the e2e suites' (which other runs may hold even outside the lock).
    pulse = PulseSystem(log_dir=ROOT / "var" / "cli-logs", base_port=18700)
    try:
        pulse.start("intake", "reporting")
        yield pulse
    finally:
        pulse.stop()
        pulse.drop_databases()


def _env(system: PulseSystem, user: tuple[str, str] = ADMIN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update({
        "PULSE_INTAKE_URL": system.url("intake"), "PULSE_REPORTING_URL": system.url("reporting"),
        "PULSE_CLI_USERNAME": user[0], "PULSE_CLI_PASSWORD": user[1], "PULSE_ENV": "test",
        "PULSE_KAFKA_BOOTSTRAP": system.kafka, "PULSE_KAFKA_TOPIC_PREFIX": f"{system.namespace}.",
        "PULSE_MONGO_URL": system.mongo, "COLUMNS": "200",
    })  # fmt: skip
    return env


def pulse(system: PulseSystem, *args: str, user: tuple[str, str] = ADMIN) -> subprocess.CompletedProcess[str]:
    """Run the installed `pulse` command."""
    return subprocess.run([str(PULSE), *args], capture_output=True, text=True, env=_env(system, user), timeout=120)


def pulse_json(system: PulseSystem, *args: str, user: tuple[str, str] = ADMIN) -> Any:
    """Run `pulse --json ...`, which must succeed, and parse its output."""
    result = pulse(system, "--json", *args, user=user)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _sign_in(system: PulseSystem, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{system.url('intake')}/v1/auth/token", data={"username": username, "password": password})


def test_every_command_has_english_help() -> None:
    for command in (["users", "create"], ["users", "deactivate"], ["users", "reset-password"], ["units", "import"],
                    ["dlq", "replay"], ["audit", "verify"], ["period", "close"]):  # fmt: skip
        result = subprocess.run([str(PULSE), *command, "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "Usage: pulse" in result.stdout


def test_users_create_reset_and_deactivate(system: PulseSystem) -> None:
    first = "Mật-khẩu-ban-đầu-2026"
    created = pulse_json(system, "users", "create", "truong.phong", "--full-name", "Trần Thị Thủy",
                         "--role", "department", "--password", first, "--phone", "0912345678")  # fmt: skip
    assert created["full_name"] == "Trần Thị Thủy"
    assert created["role"] == "department"
    assert first not in json.dumps(created, ensure_ascii=False)
    assert not {"password", "password_hash"} & set(created)
    assert _sign_in(system, "truong.phong", "Mật-khẩu-ban-đầu-2026").status_code == 200
    table = pulse(system, "users", "list", "--q", "thuy")
    assert "Trần Thị Thủy" in table.stdout
    reset = pulse_json(system, "users", "reset-password", "truong.phong")
    assert reset["password_change_required"] is True
    assert _sign_in(system, "truong.phong", "Mật-khẩu-ban-đầu-2026").status_code == 401
    assert _sign_in(system, "truong.phong", reset["one_time_password"]).status_code == 200
    deactivated = pulse_json(system, "users", "deactivate", "truong.phong")
    assert deactivated["active"] is False
    assert _sign_in(system, "truong.phong", reset["one_time_password"]).status_code == 401
    missing = pulse(system, "users", "deactivate", "khong.co.ai")
    assert missing.returncode == 1
    assert "no user" in missing.stderr


def test_units_import_csv_and_json(system: PulseSystem, tmp_path: Path) -> None:
    csv_file = tmp_path / "don-vi.csv"
    csv_file.write_text(
        "code,name,kind,parent_code,replaced_by\n"
        "90001,Thị trấn Thử Nghiệm,town,15,\n"
        "90002,Xã Thử Nghiệm Hai,commune,15,\n",
        encoding="utf-8",
    )
    assert pulse_json(system, "units", "import", str(csv_file)) == {"created": 2, "updated": 0, "unchanged": 0}
    assert pulse_json(system, "units", "import", str(csv_file))["unchanged"] == 2
    json_file = tmp_path / "don-vi.json"
    json_file.write_text(json.dumps([{"code": "90003", "name": "Phường Thử Nghiệm Ba", "kind": "ward",
                                      "parent_code": "15"}], ensure_ascii=False), encoding="utf-8")  # fmt: skip
    assert pulse_json(system, "units", "import", str(json_file))["created"] == 1
    token = _sign_in(system, *ADMIN).json()["access_token"]
    unit = httpx.get(f"{system.url('intake')}/v1/units/90003", headers={"Authorization": f"Bearer {token}"}).json()
    assert unit["name"] == "Phường Thử Nghiệm Ba"
    broken = tmp_path / "sai.csv"
    broken.write_text("code,name,kind,parent_code,replaced_by\n90004,Xã Sai,planet,15,\n", encoding="utf-8")
    result = pulse(system, "units", "import", str(broken))
    assert result.returncode == 1
    assert "422" in result.stderr


def test_period_close_as_the_department(system: PulseSystem) -> None:
    pulse_json(system, "users", "create", "chuyen.vien", "--full-name", "Lê Văn Đức", "--role", "department",
               "--password", "Mật-khẩu-chuyên-viên-2026")  # fmt: skip
    officer = ("chuyen.vien", "Mật-khẩu-chuyên-viên-2026")
    closed = pulse_json(system, "period", "close", "2026-09", user=officer)
    assert "2026-09" in json.dumps(closed)
    again = pulse(system, "period", "close", "2026-09", user=officer)
    assert again.returncode == 1
    assert "409" in again.stderr
    as_admin = pulse(system, "period", "close", "2026-08")
    assert as_admin.returncode == 1
    assert "403" in as_admin.stderr


async def _send_dead_letter(system: PulseSystem) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka)
    await producer.start()
    try:
        headers = [("ce_id", b"dead-1"), ("ce_type", b"pulse.report.submitted.v1"), ("pulse_dlq_error", b"boom")]
        topic = f"{system.namespace}.intake.reports.v1.dlq"
        await producer.send_and_wait(topic, b'{"x": 1}', key=b"04252", headers=headers)
    finally:
        await producer.stop()


async def _replayed(system: PulseSystem) -> list[Any]:
    consumer = AIOKafkaConsumer(f"{system.namespace}.intake.reports.v1", bootstrap_servers=system.kafka,
                                auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        found: list[Any] = []
        deadline = time.monotonic() + 90  # the shared broker is slow while the whole suite runs
        while not found and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found = [r for records in batch.values() for r in records if dict(r.headers).get("ce_id") == b"dead-1"]
        return found
    finally:
        await consumer.stop()


def test_dlq_replay_sends_dead_letters_back(system: PulseSystem) -> None:
    # A synchronous test with short-lived loops of its own: a timeout inside a long-running async test
    # would leave the session's event loop marked running and break every later async test.
    asyncio.run(_send_dead_letter(system))
    dry = pulse_json(system, "dlq", "replay", "intake.reports.v1", "--dry-run")
    assert dry == {"topic": "intake.reports.v1", "replayed": 1, "dry_run": True}
    # --limit: this letter is still poison, so a consumer dead-letters it again after the replay.
    done = pulse_json(system, "dlq", "replay", "intake.reports.v1", "--limit", "1")
    assert done["replayed"] == 1
    assert asyncio.run(_replayed(system)), "the replayed dead letter did not reach intake.reports.v1"
    assert pulse(system, "dlq", "replay", "khong.co.v1").returncode == 2


def test_audit_verify_walks_the_chains_the_commands_wrote(system: PulseSystem) -> None:
    result = pulse(system, "audit", "verify", "--db", system.database("intake"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    assert "0 entries" not in result.stdout
