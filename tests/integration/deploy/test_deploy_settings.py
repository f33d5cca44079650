"""The settings compose and Kubernetes give each service are settings it knows, and start it in production.

Services read `PULSE_*` variables and ignore unknown ones, so a misspelt variable in a deployment
file would be dropped silently (and a default used instead): every `PULSE_*` name deploy/ sets for a
service must be one its settings class reads. The committed example secrets are placeholders that
production refuses as they are; filled in with generated secrets, each service's settings must
pass the production checks.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulse_libs.settings import ServiceSettings
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
SERVICES = ("intake", "triage", "notify", "reporting")
PORTS = {"intake": 8001, "triage": 8002, "notify": 8003, "reporting": 8004}
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}")


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of a service."""
    module = importlib.import_module(f"pulse_{service}.settings")
    cls: type[ServiceSettings] = getattr(module, f"{service.capitalize()}Settings")
    return cls


def accepted_names(cls: type[ServiceSettings]) -> set[str]:
    """The environment variables a settings class reads."""
    names = set()
    for name, info in cls.model_fields.items():
        alias = info.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else f"PULSE_{name.upper()}")
    return names


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped, one level of quotes removed)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return values


def interpolate(value: Any, env: dict[str, str]) -> str:
    """Resolve `${VAR}`, `${VAR:-default}` and `${VAR:?error}` as Compose does."""

    def one(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if env.get(name):
            return env[name]
        if m.group(0).find(":?") >= 0:
            raise AssertionError(f"{name} is required by compose.yaml but empty in .env.example")
        return default or ""

    return INTERPOLATION.sub(one, str(value))


def compose_env(service: str) -> dict[str, str]:
    """The environment compose.yaml gives a service, interpolated with deploy/.env.example."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    example = read_env_file(DEPLOY / ".env.example")
    env = compose["services"][service]["environment"]
    return {key: interpolate(value, example) for key, value in env.items()}


def kubernetes_env(service: str, overlay: str) -> dict[str, str]:
    """The environment the Kubernetes base and an overlay give a service (example secrets)."""
    env: dict[str, str] = {}
    base = yaml.safe_load((DEPLOY / "k8s" / "base" / "kustomization.yaml").read_text(encoding="utf-8"))
    overlay_doc = yaml.safe_load((DEPLOY / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text("utf-8"))
    wanted = {"pulse-config"} | ({"pulse-notify-config"} if service == "notify" else set())
    for generator in base["configMapGenerator"] + overlay_doc.get("configMapGenerator", []):
        if generator["name"] in wanted:
            env |= dict(literal.split("=", 1) for literal in generator["literals"])
    secrets = DEPLOY / "k8s" / "overlays" / overlay / "secrets"
    env |= read_env_file(secrets / "pulse.env.example") | read_env_file(secrets / f"{service}.env.example")
    deployment = next(
        d
        for d in yaml.safe_load_all((DEPLOY / "k8s" / "base" / f"{service}.yaml").read_text(encoding="utf-8"))
        if d["kind"] == "Deployment"
    )
    for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", []):
        # A value from a Secret the cluster creates (the KafkaUser's password): any generated secret will do.
        env[e["name"]] = e["value"] if "value" in e else os.urandom(18).hex()
    return env


def load_settings(cls: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ServiceSettings:
    """Build settings from exactly `env`, as the process in the container would."""
    for key in list(os.environ):
        if key.upper().startswith("PULSE_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cls()


def filled_in(env: dict[str, str]) -> dict[str, str]:
    """The example environment as an operator completes it: every CHANGE-ME replaced by a generated secret."""
    out = {}
    for key, value in env.items():
        if "CHANGE-ME" not in value:
            out[key] = value
        elif "://" in value:
            out[key] = value.replace("CHANGE-ME", os.urandom(18).hex())
        else:
            out[key] = secrets.token_urlsafe(36)
    return out


def refused_as_shipped(cls: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> bool:
    """True when production refuses the example environment before its placeholders are replaced."""
    try:
        load_settings(cls, env, monkeypatch)
    except ValidationError:
        return True
    return False


def unknown(service: str, env: dict[str, str]) -> list[str]:
    """PULSE_* names in `env` that the service does not read."""
    accepted = accepted_names(settings_class(service))
    return sorted(k for k in env if k.upper().startswith("PULSE_") and k.upper() not in accepted)


@pytest.mark.parametrize("service", SERVICES)
def test_compose_sets_only_known_settings_and_starts_in_production(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = compose_env(service)
    assert not unknown(service, env), f"compose.yaml sets variables {service} ignores: {unknown(service, env)}"
    assert refused_as_shipped(settings_class(service), env, monkeypatch)
    settings = load_settings(settings_class(service), filled_in(env), monkeypatch)
    assert settings.production
    assert settings.port == PORTS[service]
    assert settings.kafka_bootstrap == "kafka:9093"  # the SASL_SSL listener, as the service's own SCRAM user
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_username == f"pulse-{service}"
    assert "replicaSet=rs0" in settings.mongo_url


def test_compose_topics_job_sets_only_known_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose_env("topics")
    bad = sorted(k for k in env if k.startswith("PULSE_") and k not in accepted_names(ServiceSettings))
    assert not bad, f"the topics job sets variables pulse_libs ignores: {bad}"
    assert load_settings(ServiceSettings, filled_in(env), monkeypatch).kafka_replication_factor == 1


@pytest.mark.parametrize("overlay", ["staging", "production"])
@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_sets_only_known_settings_and_starts_in_production(
    service: str, overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = kubernetes_env(service, overlay)
    assert not unknown(service, env), f"deploy/k8s sets variables {service} ignores: {unknown(service, env)}"
    assert refused_as_shipped(settings_class(service), env, monkeypatch)
    settings = load_settings(settings_class(service), filled_in(env), monkeypatch)
    assert settings.production
    assert settings.port == PORTS[service]
    assert settings.kafka_replication_factor == 3
    assert "replicaSet=" in settings.mongo_url
