"""`make up; make down` and `scripts/infra.sh reset` leave no Pulse process behind.

The whole stack (PostgreSQL, FerretDB, Kafka and the services) is started in a private var
directory on ports of its own, so the shared test infrastructure is untouched. A process belongs
to that stack when its environment names the private var directory (every process the scripts
start inherits it), so children and grandchildren are found too, not only the pid files' entries.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PORTS = {
    "PULSE_KAFKA_PORT": 19192,
    "PULSE_KAFKA_CONTROLLER_PORT": 19193,
    "PULSE_MONGO_PORT": 27217,
    "PULSE_PG_PORT": 54539,
    "PULSE_INTAKE_PORT": 28101,
    "PULSE_TRIAGE_PORT": 28102,
    "PULSE_NOTIFY_PORT": 28103,
    "PULSE_REPORTING_PORT": 28104,
    "PULSE_CONSOLE_PORT": 28100,
}


def stack_env(var_dir: Path) -> dict[str, str]:
    """Environment for a private stack in `var_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update({name: str(port) for name, port in PORTS.items()})
    env.update(
        {
            "PULSE_VAR_DIR": str(var_dir),
            "PULSE_KAFKA_BOOTSTRAP": f"127.0.0.1:{PORTS['PULSE_KAFKA_PORT']}",
            "PULSE_MONGO_URL": f"mongodb://127.0.0.1:{PORTS['PULSE_MONGO_PORT']}/",
            "PULSE_KAFKA_HEAP": "-Xms128m -Xmx384m",
            "PULSE_ENV": "development",
        }
    )
    return env


def stack_processes(var_dir: Path) -> list[str]:
    """Live processes whose environment carries this stack's var directory."""
    marker = f"PULSE_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            if marker not in environ.split(b"\0"):
                continue
            status = (entry / "status").read_text()
            if "State:\tZ" in status:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append(f"{entry.name}: {cmdline}")
    return found


def open_ports() -> list[int]:
    """This stack's ports that still accept connections."""
    taken = []
    for port in PORTS.values():
        with socket.socket() as sock:
            sock.settimeout(0.3)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                taken.append(port)
    return taken


def run(command: list[str], env: dict[str, str]) -> None:
    """Run a command of the project, failing the test with its output if it fails."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture
def var_dir() -> Iterator[Path]:
    """A private var directory; whatever the test leaves running is stopped, then it is removed."""
    path = ROOT / "var" / f"stack-test-{uuid.uuid4().hex[:8]}"
    yield path
    env = stack_env(path)
    subprocess.run(["scripts/services.sh", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    subprocess.run(["scripts/infra.sh", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    shutil.rmtree(path, ignore_errors=True)


def test_make_up_then_make_down_leaves_nothing_running(var_dir: Path) -> None:
    env = stack_env(var_dir)
    run(["make", "--no-print-directory", "up"], env)
    running = stack_processes(var_dir)
    assert any("pulse_intake" in p for p in running), running
    assert any("kafka.Kafka" in p for p in running), running
    pid = int((var_dir / "run" / "intake.pid").read_text())
    assert "pulse_intake" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(), "pid file must name the service itself"

    run(["make", "--no-print-directory", "down"], env)
    assert stack_processes(var_dir) == []
    assert open_ports() == []


def test_infra_reset_while_services_run_orphans_none(var_dir: Path) -> None:
    env = stack_env(var_dir)
    run(["make", "--no-print-directory", "up"], env)
    assert any("pulse_triage" in p for p in stack_processes(var_dir))

    run(["scripts/infra.sh", "reset"], env)
    assert stack_processes(var_dir) == []
    assert open_ports() == []
    assert not (var_dir / "postgres").exists()
