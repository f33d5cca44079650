"""Every metric the alert rules and the Grafana dashboards use is really exported by the services.

Each service is started in-process with its real lifespan (real Kafka and store), its /metrics is
read, and every `pulse_*` name that deploy/prometheus/rules and deploy/grafana/dashboards use must
appear there as a `# TYPE` line (histograms' `_bucket`/`_sum`/`_count` count as the base name).
An alert on a metric nobody exports never fires: this test is what keeps the two in step.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from asgi_lifespan import LifespanManager

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "deploy" / "prometheus" / "rules"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"

SERVICES = ("intake", "triage", "notify", "reporting")
METRIC = re.compile(r"\bpulse_[a-z0-9_]+\b")
TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")

# Which services must export each metric family. The plumbing of pulse_libs is in every service
# that uses it: all four serve HTTP and consume events; reporting produces no event (no outbox).
OWNERS: dict[str, tuple[str, ...]] = {
    "pulse_http_": SERVICES,
    "pulse_consumer_": SERVICES,
    "pulse_outbox_": ("intake", "triage", "notify"),
    "pulse_intake_": ("intake",),
    "pulse_triage_": ("triage",),
    "pulse_hotspots_": ("triage",),
    "pulse_escalation": ("triage",),
    "pulse_deliver": ("notify",),
    "pulse_duty_rota_": ("notify",),
    "pulse_zalo_": ("notify",),
    "pulse_reporting_": ("reporting",),
}

# Start-up options that only make the in-process start faster; they change no metric.
FAST_START: dict[str, dict[str, Any]] = {"intake": {"seed_registry": False}}


def base_name(name: str) -> str:
    """Map a histogram series (`x_bucket`, `x_sum`, `x_count`) to its family name."""
    for suffix in HISTOGRAM_PARTS:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def used_metrics() -> dict[str, set[str]]:
    """Metric names used by each alert-rule and dashboard file."""
    used: dict[str, set[str]] = {}
    for path in sorted(RULES.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        exprs = [rule["expr"] for group in doc["groups"] for rule in group["rules"]]
        used[path.name] = {base_name(m) for e in exprs for m in METRIC.findall(e)}
    for path in sorted(DASHBOARDS.glob("*.json")):
        dash = json.loads(path.read_text(encoding="utf-8"))
        exprs = [t.get("expr", "") for p in dash.get("panels", []) for t in p.get("targets", [])]
        used[path.name] = {base_name(m) for e in exprs for m in METRIC.findall(e)}
    return used


def owners(metric: str) -> tuple[str, ...]:
    """The services that must export `metric` (empty when no family claims it)."""
    return next((svcs for prefix, svcs in OWNERS.items() if metric.startswith(prefix)), ())


def exported(exposition: str) -> set[str]:
    """Family names declared by `# TYPE` lines of a Prometheus text exposition."""
    return {name for name, _ in TYPE_LINE.findall(exposition)}


def test_rules_and_dashboards_use_metrics_of_known_services() -> None:
    used = used_metrics()
    assert {f for f in used if f.endswith(".yml")}, "no alert rule file found"
    assert {f for f in used if f.endswith(".json")}, "no dashboard found"
    orphans = sorted({m for names in used.values() for m in names if not owners(m)})
    assert not orphans, f"metrics no service is meant to export: {orphans}"


def test_histogram_series_map_to_their_family() -> None:
    assert base_name("pulse_triage_decision_seconds_bucket") == "pulse_triage_decision_seconds"
    assert base_name("pulse_deliveries_total") == "pulse_deliveries_total"
    text = (
        "# HELP pulse_x_total x\n# TYPE pulse_x_total counter\n"
        "# TYPE pulse_h_seconds histogram\npulse_h_seconds_sum 0\n"
    )
    assert exported(text) == {"pulse_x_total", "pulse_h_seconds"}


@pytest.mark.parametrize("service", SERVICES)
async def test_service_exports_every_metric_operators_use(service: str, make_settings: Callable[..., Any]) -> None:
    expected = {
        metric: sorted(f for f, names in used_metrics().items() if metric in names)
        for metric in sorted({m for names in used_metrics().values() for m in names})
        if service in owners(metric)
    }
    settings_module = importlib.import_module(f"pulse_{service}.settings")
    settings_cls = getattr(settings_module, f"{service.capitalize()}Settings")
    bootstrap = importlib.import_module(f"pulse_{service}.bootstrap").bootstrap
    app = bootstrap(make_settings(settings_cls, **FAST_START.get(service, {})))

    async with (
        LifespanManager(app, startup_timeout=90) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert health.status_code == 200, "the liveness probe (/healthz) must answer 200"
    assert ready.status_code == 200, (
        f"the readiness probe (/readyz) must answer 200 with Kafka and the store up: {ready.text}"
    )
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    missing = {m: files for m, files in expected.items() if m not in exported(metrics.text)}
    assert not missing, f"{service} does not export metrics used by {_describe(missing)}"


def _describe(missing: dict[str, list[str]]) -> str:
    return "; ".join(f"{metric} ({', '.join(files)})" for metric, files in sorted(missing.items()))
