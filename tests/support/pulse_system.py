"""The four services as real processes, isolated by topic prefix, databases and ports, for e2e and fault tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "triage", "notify", "reporting")
CONSOLE = "console"
"""The web console: no store of its own; started on demand (`start("console")`) on `base_port`."""
REPLICATED = ("intake", "triage", "notify", "reporting")
"""Services started `replicas` times: replica r > 1 is named `<service>@<r>` and listens 10·(r-1) ports up."""


def service_of(name: str) -> str:
    """The service a process name (`triage` or `triage@2`) runs."""
    return name.split("@", 1)[0]


@dataclass
class PulseSystem:
    """Starts, kills and restarts the services; each keeps its log under `log_dir`."""

    log_dir: Path
    base_port: int = field(default_factory=lambda: int(os.environ.get("PULSE_E2E_BASE_PORT", "18000")))
    kafka: str = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    mongo: str = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
    env: dict[str, str] = field(default_factory=dict)
    namespace: str = field(default_factory=lambda: "e2e" + uuid.uuid4().hex[:8])
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    replicas: int = field(default_factory=lambda: int(os.environ.get("PULSE_E2E_REPLICAS", "1")))
    """Processes per replicated service: they share the service's database and consumer groups."""

    def names(self) -> list[str]:
        """Every process name of the four services, replicas included (`triage`, `triage@2`, ...)."""
        out = list(SERVICES)
        for r in range(2, self.replicas + 1):
            out += [f"{s}@{r}" for s in SERVICES if s in REPLICATED]
        return out

    def port(self, service: str) -> int:
        """The port a process listens on (the console on `base_port`, the APIs after it, replicas 10 up)."""
        name, _, replica = service.partition("@")
        if name == CONSOLE:
            return self.base_port
        return self.base_port + 10 * (int(replica or 1) - 1) + 1 + SERVICES.index(name)

    def url(self, service: str) -> str:
        """Base URL of a service."""
        return f"http://127.0.0.1:{self.port(service)}"

    def database(self, service: str) -> str:
        """The database a service uses."""
        return f"{self.namespace}_{service}"

    def _environment(self, name: str) -> dict[str, str]:
        service = service_of(name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
        env.update(
            {
                "PULSE_ENV": "test",
                "PULSE_LOG_JSON": "true",
                "PULSE_KAFKA_BOOTSTRAP": self.kafka,
                "PULSE_MONGO_URL": self.mongo,
                "PULSE_KAFKA_TOPIC_PREFIX": f"{self.namespace}.",
                "PULSE_KAFKA_TOPIC_PARTITIONS": "3",
                "PULSE_OUTBOX_POLL_SECONDS": "0.2",
                f"PULSE_{service.upper()}_PORT": str(self.port(name)),
                f"PULSE_{service.upper()}_MONGO_DB": self.database(service),
                "PULSE_NOTIFY_CONSOLE_BASE_URL": self.url(CONSOLE),
            }
        )
        if service == CONSOLE:
            env.update({f"PULSE_CONSOLE_{name.upper()}_URL": self.url(name) for name in SERVICES})
        env.update(self.env)
        return env

    def start(self, *services: str, timeout: float = 240.0) -> None:
        """Start processes (default: the four services and their replicas) and wait until each is ready."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        names = services or self.names()
        for name in names:
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child process
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"pulse_{service_of(name)}"],
                cwd=ROOT,
                env=self._environment(name),
                stdout=log,
                stderr=log,
            )
        for name in names:
            self.wait_ready(name, timeout)

    def wait_ready(self, service: str, timeout: float = 240.0) -> None:
        """Block until the service answers `/readyz` with 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes.get(service)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}; see {self.log_dir / service}.log")
            try:
                if httpx.get(f"{self.url(service)}/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{service} not ready after {timeout}s; see {self.log_dir / service}.log")

    def kill(self, service: str) -> None:
        """SIGKILL a service (no graceful shutdown)."""
        process = self.processes.pop(service, None)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def restart(self, service: str) -> None:
        """Kill a service and start it again."""
        self.kill(service)
        self.start(service)

    def stop(self) -> None:
        """Stop every service gracefully (SIGTERM), then SIGKILL stragglers."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()

    def drop_databases(self) -> None:
        """Remove the databases and the namespaced topics this system used."""
        from pymongo import MongoClient

        from tests.support.kafka_cleanup import delete_topics_with_prefix_sync

        delete_topics_with_prefix_sync(self.kafka, f"{self.namespace}.")

        client: MongoClient[dict[str, object]] = MongoClient(self.mongo, serverSelectionTimeoutMS=3000)
        try:
            for name in SERVICES:
                client.drop_database(self.database(name))
        finally:
            client.close()
