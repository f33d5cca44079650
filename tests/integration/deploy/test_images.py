"""Rehearse each image without a Docker engine: install exactly what the Dockerfile installs, then run it.

deploy/docker/Dockerfile is the one recipe of every image (build args SERVICE and PORT). Its `uv sync`
commands, with ${SERVICE} substituted, are run in a staging copy laid out as its COPY steps lay it
(the workspace manifests and lockfile first, then libs/ and the service), into a fresh environment.
That environment must hold the service and no other one, and the image's CMD (with the image's
PULSE_IMAGE_* variables) started from it in production mode, configured only through the
environment variables compose/Kubernetes set, must answer /healthz and /readyz (real Kafka and
store), pass the image's HEALTHCHECK, and shut down gracefully on SIGTERM, as Kubernetes stops it.
Production mode must refuse the development secrets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
SERVICES = ("intake", "triage", "notify", "reporting")
PORTS = {"intake": 8001, "triage": 8002, "notify": 8003, "reporting": 8004}
KAFKA = os.environ.get("PULSE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
UV_SYNC = re.compile(r"^RUN (uv sync [^&\\\n]+)", re.MULTILINE)
MANIFEST = re.compile(r"^COPY (\S+/pyproject\.toml) ", re.MULTILINE)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".env", "Dockerfile")
pytestmark = pytest.mark.timeout(900)  # the module fixture installs four environments with uv first


def dockerfile(service: str) -> str:
    """The Dockerfile as Docker reads it for `service`: continuations joined, build args substituted."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    return text.replace("${SERVICE}", service).replace("${PORT}", str(PORTS[service]))


def exec_form(service: str, instruction: str) -> list[str]:
    """The exec-form command of the Dockerfile's CMD or HEALTHCHECK (`instruction`)."""
    pattern = r"^HEALTHCHECK .*?CMD (\[.*\])$" if instruction == "HEALTHCHECK" else r"^CMD (\[.*\])$"
    match = re.search(pattern, dockerfile(service), re.MULTILINE)
    assert match, f"{DOCKERFILE} has no exec-form {instruction}"
    command: list[str] = json.loads(match.group(1))
    return command


def image_env(service: str) -> dict[str, str]:
    """The PULSE_IMAGE_* variables the image's ENV sets (its CMD and HEALTHCHECK read them)."""
    return dict(re.findall(r"\b(PULSE_IMAGE_[A-Z]+)=(\S+)", dockerfile(service)))


def dockerfile_uv_syncs(service: str) -> list[list[str]]:
    """The `uv sync` commands of the Dockerfile for `service`, in order."""
    return [cmd.split() for cmd in UV_SYNC.findall(dockerfile(service))]


def install_like_the_image(service: str, stage: Path) -> Path:
    """Run the Dockerfile's installation steps in `stage`; return the environment's python."""
    base_uv = Path(sys.base_prefix) / "bin" / "uv"
    uv = shutil.which("uv") or (str(base_uv) if base_uv.exists() else None)
    assert uv, "uv is required (scripts/bootstrap.sh installs it)"
    deps_only, full = dockerfile_uv_syncs(service)
    src = stage / "src"
    for manifest in MANIFEST.findall(dockerfile(service)):
        (src / manifest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / manifest, src / manifest)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV" and not k.startswith("PULSE_")}
    env |= {"UV_PROJECT_ENVIRONMENT": str(stage / "venv"), "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    env["UV_PYTHON"] = sys.executable
    subprocess.run([uv, *deps_only[1:]], cwd=src, env=env, check=True, capture_output=True)
    shutil.copytree(ROOT / "libs", src / "libs", dirs_exist_ok=True, ignore=IGNORED)
    shutil.copytree(ROOT / "services" / service, src / "services" / service, dirs_exist_ok=True, ignore=IGNORED)
    subprocess.run([uv, *full[1:]], cwd=src, env=env, check=True, capture_output=True)
    return stage / "venv" / "bin" / "python"


def in_image(service: str, python: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` as the container sees it: the image's PULSE_IMAGE_* variables, its environment first on PATH."""
    return env | image_env(service) | {"PATH": f"{python.parent}{os.pathsep}{env['PATH']}"}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(service: str, port: int, namespace: str) -> dict[str, str]:
    """The environment compose/Kubernetes give the container, pointed at the local infrastructure."""
    svc = service.upper()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",  # noqa: S108 - the image's HOME (a tmpfs)
        "PULSE_ENV": "production",
        "PULSE_HOST": "127.0.0.1",
        f"PULSE_{svc}_PORT": str(port),
        f"PULSE_{svc}_MONGO_DB": f"{namespace}_{service}",
        "PULSE_MONGO_URL": MONGO,
        "PULSE_KAFKA_BOOTSTRAP": KAFKA,
        "PULSE_KAFKA_TOPIC_PREFIX": f"{namespace}.",
        "PULSE_KAFKA_TOPIC_PARTITIONS": "2",
        "PULSE_KAFKA_REPLICATION_FACTOR": "1",
        "PULSE_JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "PULSE_PSEUDONYM_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "PULSE_ACK_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "PULSE_ADMIN_USERNAME": "quantri",
        "PULSE_ADMIN_PASSWORD": "mật-khẩu-quản-trị-" + uuid.uuid4().hex[:8],
        "PULSE_NOTIFY_ACK_BASE_URL": "https://pulse.example.invalid/triage",
        # Production refuses the generic test SMS gateway: a real provider with (unused) credentials.
        "PULSE_NOTIFY_SMS_PROVIDER": "esms",
        "PULSE_NOTIFY_ESMS_API_KEY": uuid.uuid4().hex,
        "PULSE_NOTIFY_ESMS_SECRET_KEY": uuid.uuid4().hex,
        # Seeding the Lào Cai registry takes half a minute on a loaded test store; it is not under test here.
        "PULSE_SEED_REGISTRY": "false",
    }


@dataclass
class Run:
    """What one rehearsed image did: its installed services, probes, metrics and exit."""

    installed: str = ""
    dev_tools: list[str] = field(default_factory=list)
    error: str | None = None
    ready: httpx.Response | None = None
    health: httpx.Response | None = None
    metrics: httpx.Response | None = None
    exit_code: int | None = None
    log: str = ""
    healthcheck_exit: int | None = None


@pytest.fixture(scope="module")
def runs(infra: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Install the four images' environments, run the four services side by side, then stop them."""
    namespace = "img" + uuid.uuid4().hex[:8]
    results = {svc: Run() for svc in SERVICES}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}
    ports: dict[str, int] = {}
    pythons: dict[str, str] = {}
    try:
        for svc in SERVICES:
            stage = tmp_path_factory.mktemp(svc)
            python = install_like_the_image(svc, stage)
            pythons[svc] = str(python)
            results[svc].installed = subprocess.run(
                [
                    str(python),
                    "-c",
                    f"import importlib.util as u; print([s for s in {SERVICES!r} if u.find_spec('pulse_' + s)])",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            results[svc].dev_tools = [
                tool
                for tool in ("pytest", "ruff", "mypy")
                if subprocess.run([str(python), "-c", f"import {tool}"], capture_output=True, check=False).returncode
                == 0
            ]
            port = ports[svc] = free_port()
            logs[svc] = stage / "service.log"
            with logs[svc].open("wb") as out:
                procs[svc] = subprocess.Popen(
                    exec_form(svc, "CMD"),
                    env=in_image(svc, python, production_env(svc, port, namespace)),
                    cwd=stage,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        for svc, proc in procs.items():
            base = f"http://127.0.0.1:{ports[svc]}"
            try:
                results[svc].ready = wait_until_ready(proc, base)
                results[svc].health = httpx.get(base + "/healthz", timeout=2.0)
                results[svc].metrics = httpx.get(base + "/metrics", timeout=2.0)
                results[svc].healthcheck_exit = subprocess.run(
                    exec_form(svc, "HEALTHCHECK"),
                    env=in_image(svc, Path(pythons[svc]), production_env(svc, ports[svc], namespace)),
                    capture_output=True,
                    timeout=10,
                    check=False,
                ).returncode
            except AssertionError as exc:
                results[svc].error = str(exc)
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for svc, proc in procs.items():
            results[svc].exit_code = proc.wait(timeout=30)
        for svc, path in logs.items():
            results[svc].log = path.read_text(errors="replace")
        yield results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        drop_databases(namespace)


def drop_databases(prefix: str) -> None:
    """Drop the databases a rehearsal created."""
    client: MongoClient[dict[str, object]] = MongoClient(MONGO, serverSelectionTimeoutMS=3000)
    try:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)
    finally:
        client.close()


def wait_until_ready(proc: subprocess.Popen[bytes], base: str, timeout: float = 120.0) -> httpx.Response:
    """Poll /readyz until it answers 200 (or the process dies, or time runs out)."""
    deadline = time.monotonic() + timeout
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the service exited with {proc.returncode} before it was ready")
        try:
            last = httpx.get(base + "/readyz", timeout=2.0)
            if last.status_code == 200:
                return last
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready in {timeout}s; last /readyz: {last.text if last else 'no answer'}")


@pytest.mark.parametrize("service", SERVICES)
def test_image_holds_its_service_only(service: str, runs: dict[str, Run]) -> None:
    assert runs[service].installed == repr([service]), f"the {service} image would contain {runs[service].installed}"
    assert not runs[service].dev_tools, f"the {service} image would contain dev tools {runs[service].dev_tools}"


@pytest.mark.parametrize("service", SERVICES)
def test_image_runs_the_service_in_production(service: str, runs: dict[str, Run]) -> None:
    run = runs[service]
    assert run.error is None, f"{run.error}\n--- {service} log ---\n{run.log[-4000:]}"
    assert run.ready is not None
    assert run.ready.json()["status"] == "ready"
    assert run.health is not None
    assert run.health.status_code == 200
    assert run.metrics is not None
    assert "# TYPE pulse_http_requests_total counter" in run.metrics.text
    assert run.healthcheck_exit == 0, "the Dockerfile's HEALTHCHECK command fails against the running service"
    # uvicorn drains, runs the lifespan shutdown (consumers, relay, producer), then re-raises SIGTERM.
    assert run.exit_code in (0, -signal.SIGTERM), f"{service} exited with {run.exit_code}: {run.log[-2000:]}"
    assert "Application shutdown complete." in run.log, f"{service} did not shut down gracefully: {run.log[-2000:]}"


@pytest.mark.parametrize("service", SERVICES)
def test_production_mode_refuses_development_secrets(service: str) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(ROOT), "PULSE_ENV": "production"}
    proc = subprocess.run(
        [sys.executable, "-c", f"from pulse_{service}.settings import *; {service.capitalize()}Settings()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "PULSE_JWT_SECRET" in proc.stderr
    assert "PULSE_PSEUDONYM_KEY" in proc.stderr
