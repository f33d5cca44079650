"""The compose stack's Kafka security, run for real: the broker settings of deploy/compose.yaml (converted
to properties as the apache/kafka image does), the TLS material of deploy/kafka/tls.sh and the users of
deploy/kafka/scram-users.sh, on a broker of the project's own Kafka jars; then the services' client
settings (`ServiceSettings.kafka_client_options`) create topics, publish and consume over SASL_SSL, and
a wrong password, an untrusted CA or PLAINTEXT are refused.

Starts a broker process on ports of its own: run under the e2e lock
(`flock /tmp/pulse-e2e.lock .venv/bin/python -m pytest tests/integration/deploy/test_compose_kafka_security.py`).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.kafka.admin import ensure_topics
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.settings import ServiceSettings
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[3]
LIBS = Path(os.environ.get("PULSE_CACHE_DIR") or Path.home() / ".cache" / "pulse") / "kafka" / "libs"
PASSWORDS = {svc: f"{svc}-{uuid.uuid4().hex}" for svc in ("intake", "triage", "notify", "reporting")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _property(name: str) -> str:
    """KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_... -> listener.name.client.scram-sha-512... (the image's rule)."""
    runs = {1: ".", 2: "_", 3: "-"}
    return re.sub(r"_+", lambda m: runs[len(m.group())], name.removeprefix("KAFKA_").lower())


class Place(BaseModel):
    """A tiny payload."""

    name: str


@dataclass
class Broker:
    client_port: int
    ca: Path


def _broker_properties(tmp: Path, ports: dict[str, int]) -> str:
    env = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]["kafka"]["environment"]
    moves = {
        "CLIENT://:9093": f"CLIENT://127.0.0.1:{ports['client']}",
        "kafka:9093": f"localhost:{ports['client']}",
        "127.0.0.1:9094": f"127.0.0.1:{ports['broker']}",
        "127.0.0.1:9095": f"127.0.0.1:{ports['controller']}",
        "/run/secrets/kafka-broker-pem": str(tmp / "tls" / "broker.pem"),
        "/var/lib/kafka/data": str(tmp / "data"),
    }
    lines = []
    for name, value in env.items():
        if not name.startswith("KAFKA_"):
            continue  # CLUSTER_ID goes to the storage format; PULSE_* are for scram-users.sh
        text = str(value)
        for old, new in moves.items():
            text = text.replace(old, new)
        lines.append(f"{_property(name)}={text}")
    return "\n".join(lines) + "\n"


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ, **env}, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    assert (LIBS / ".complete").exists(), f"the Kafka jars are missing in {LIBS}: run scripts/infra.sh build"
    tmp = tmp_path_factory.mktemp("kafka-sasl")
    ports = {name: _free_port() for name in ("client", "broker", "controller")}
    _run(
        ["bash", str(ROOT / "deploy/kafka/tls.sh")],
        PULSE_KAFKA_TLS_DIR=str(tmp / "tls"),
        PULSE_KAFKA_TLS_SAN="DNS:localhost",
    )
    config = tmp / "server.properties"
    config.write_text(_broker_properties(tmp, ports))
    classpath = f"{LIBS}/*"
    log4j = f"-Dlog4j2.configurationFile={ROOT / 'deploy/local/kafka/log4j2.properties'}"
    cluster = _run(["java", "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"]).stdout.split()[-1]
    _run(["java", log4j, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(config)])
    log = (tmp / "kafka.log").open("w")
    process = subprocess.Popen(
        ["java", "-Xms128m", "-Xmx384m", log4j, "-cp", classpath, "kafka.Kafka", str(config)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp / "kafka.log").read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", ports["broker"]), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the broker did not open its loopback listener"
                time.sleep(0.5)
        tools = tmp / "bin"
        tools.mkdir()
        configs = tools / "kafka-configs.sh"
        command = f'exec java {log4j} -cp "{classpath}" org.apache.kafka.tools.ConfigCommand "$@"'
        configs.write_text(f"#!/usr/bin/env bash\n{command}\n")
        configs.chmod(0o755)
        users_env = {f"PULSE_KAFKA_PASSWORD_{svc.upper()}": pw for svc, pw in PASSWORDS.items()}
        users_env |= {"PULSE_KAFKA_BIN": str(tools), "PULSE_KAFKA_ADMIN_BOOTSTRAP": f"127.0.0.1:{ports['broker']}"}
        created = _run(["bash", str(ROOT / "deploy/kafka/scram-users.sh")], **users_env).stdout
        assert sorted(created.split("\n")[:-1]) == [f"SCRAM user pulse-{s} set" for s in sorted(PASSWORDS)]
        assert _run(["bash", str(ROOT / "deploy/kafka/scram-users.sh")], **users_env).stdout == ""  # idempotent
        yield Broker(client_port=ports["client"], ca=tmp / "tls" / "ca.crt")
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _settings(broker: Broker, **changes: object) -> ServiceSettings:
    values: dict[str, object] = {
        "kafka_bootstrap": f"localhost:{broker.client_port}",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "pulse-intake",
        "kafka_sasl_password": PASSWORDS["intake"],
        "kafka_ssl_cafile": str(broker.ca),
        "kafka_topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
        "kafka_topic_partitions": 1,
        "service_name": "intake",
    }
    return ServiceSettings(**{**values, **changes})


async def test_services_reach_the_compose_broker_over_sasl_ssl_only(broker: Broker) -> None:
    settings = _settings(broker)
    created = await ensure_topics(settings, ["intake.reports.v1"], wait_seconds=30)
    assert created == [f"{settings.kafka_topic_prefix}intake.reports.v1"]
    event = new_event("pulse.test.sasl.v1", source="/tests/sasl", data=Place(name="Phường Yên Bái"), key="04252")
    producer = EventProducer(settings, client_id="test-sasl")
    try:
        await producer.publish("intake.reports.v1", event)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        f"{settings.kafka_topic_prefix}intake.reports.v1",
        **_settings(
            broker, kafka_sasl_username="pulse-triage", kafka_sasl_password=PASSWORDS["triage"]
        ).kafka_client_options(),
        group_id="test-sasl",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert CloudEvent.from_kafka(record.headers, record.value, record.key).data == {"name": "Phường Yên Bái"}


@pytest.mark.parametrize(
    "changes",
    [
        {"kafka_sasl_password": "sai-mat-khau-0123456789"},
        {"kafka_ssl_cafile": None},  # the system's CAs do not know the stack's CA
        {"kafka_security_protocol": "PLAINTEXT"},
    ],
    ids=["wrong-password", "untrusted-ca", "plaintext"],
)
async def test_wrong_credentials_an_unknown_ca_or_plaintext_are_refused(
    broker: Broker, changes: dict[str, object]
) -> None:
    producer = AIOKafkaProducer(**_settings(broker, **changes).kafka_client_options(), request_timeout_ms=5000)
    with pytest.raises((KafkaError, OSError)):
        await producer.start()
    await producer.stop()
