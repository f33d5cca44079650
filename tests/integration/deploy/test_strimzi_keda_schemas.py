"""The Strimzi v1 and KEDA resources validate against deploy/k8s/schemas, and the schemas refuse what Strimzi 1.0
and KEDA refuse (v1beta2, spec.kafka.replicas, the removed `operation`, misspelt fields)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "deploy" / "k8s" / "schemas"
SOURCES = [ROOT / "deploy/k8s/kafka-topics" / n for n in ("cluster.yaml", "topics.yaml", "users.yaml")] + [
    ROOT / "deploy/k8s/base" / f"{s}.yaml" for s in ("intake", "triage", "notify", "reporting")
]


def _schema_for(doc: dict[str, Any]) -> Path:
    group, _, version = doc["apiVersion"].rpartition("/")
    return SCHEMAS / f"{doc['kind'].lower()}-{group.split('.')[0]}-{version}.json"


def _errors(doc: dict[str, Any]) -> list[str]:
    path = _schema_for(doc)
    if not path.exists():
        return [f"no schema {path.name} (apiVersion {doc['apiVersion']} is not served)"]
    validator = jsonschema_rs.validator_for(json.loads(path.read_text(encoding="utf-8")))
    return [e.message for e in validator.iter_errors(doc)]


def _custom_resources() -> list[dict[str, Any]]:
    docs = [d for src in SOURCES for d in yaml.safe_load_all(src.read_text(encoding="utf-8")) if d]
    return [d for d in docs if d["apiVersion"].startswith(("kafka.strimzi.io/", "keda.sh/"))]


def test_every_strimzi_and_keda_resource_is_valid() -> None:
    docs = _custom_resources()
    kinds = {d["kind"] for d in docs}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "ScaledObject", "TriggerAuthentication"} <= kinds
    assert all(d["apiVersion"] in ("kafka.strimzi.io/v1", "keda.sh/v1alpha1") for d in docs)
    for doc in docs:
        assert not _errors(doc), (doc["kind"], doc["metadata"]["name"], _errors(doc))


def _one(kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(next(d for d in _custom_resources() if d["kind"] == kind)))
    return doc


@pytest.mark.parametrize(
    ("kind", "mutate"),
    [
        ("KafkaTopic", lambda d: d.update(apiVersion="kafka.strimzi.io/v1beta2")),
        ("Kafka", lambda d: d["spec"]["kafka"].update(replicas=3)),
        ("Kafka", lambda d: d["spec"].update(zookeeper={"replicas": 3})),
        ("KafkaNodePool", lambda d: d["spec"].update(roles=["zookeeper"])),
        ("KafkaUser", lambda d: d["spec"]["authorization"]["acls"][0].update(operation="Read")),
        ("KafkaUser", lambda d: d["spec"]["authorization"]["acls"][0].update(operations=["Eat"])),
        ("ScaledObject", lambda d: d["spec"].update(minReplicas=2)),
        ("TriggerAuthentication", lambda d: d["spec"].update(secretRef=[])),
    ],
)
def test_the_schemas_refuse_what_the_operators_refuse(kind: str, mutate: Any) -> None:
    doc = _one(kind)
    mutate(doc)
    assert _errors(doc)
