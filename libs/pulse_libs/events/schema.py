"""Generate JSON Schemas and an AsyncAPI 3.0 document from the event catalogue.

`python -m pulse_libs.events.schema --out docs/events` writes them;
`--check` exits 1 if the checked-in files are stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from pulse_libs.events import public
from pulse_libs.events.catalog import CATALOG
from pulse_libs.events.subscriptions import CONSUMES, OPERATOR, SERVICES
from pulse_libs.events.topics import ALL_TOPICS, dlq
from pulse_libs.http.examples import example_for


def json_schemas() -> dict[str, dict[str, Any]]:
    """Return {file name: JSON Schema} for every event type."""
    out: dict[str, dict[str, Any]] = {}
    for spec in CATALOG:
        schema = spec.schema.model_json_schema()
        schema["$id"] = f"urn:pulse:event:{spec.event_type}"
        schema["description"] = (spec.schema.__doc__ or "").strip()
        out[f"{spec.event_type}.schema.json"] = schema
    return out


SCHEMA_FORMAT = "application/schema+json;version=draft-07"
KAFKA_BINDING = "0.5.0"
SERVERS: dict[str, Any] = {
    "production": {
        "host": "pulse-kafka-kafka-bootstrap.pulse.svc:9093",
        "protocol": "kafka-secure",
        "description": "The Strimzi cluster of deploy/k8s: TLS listener, one SCRAM-SHA-512 KafkaUser per service whose "
        "ACLs allow what this document says it sends and receives.",
        "security": [{"$ref": "#/components/securitySchemes/scram"}],
    },
    "development": {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": "The single-node KRaft broker that scripts/infra.sh runs on loopback (no TLS, no auth).",
    },
}
CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 Kafka binary-mode headers.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique per event; consumers dedupe on it."},
        "ce_source": {"type": "string"},
        "ce_type": {"type": "string"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context."},
    },
}
DLQ_HEADERS: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/CloudEventHeaders"},
        {
            "type": "object",
            "required": ["pulse_dlq_error", "pulse_dlq_topic", "pulse_dlq_partition", "pulse_dlq_offset"],
            "properties": {
                "pulse_dlq_error": {"type": "string", "description": "The exception that made the event poison."},
                "pulse_dlq_topic": {"type": "string"},
                "pulse_dlq_partition": {"type": "string"},
                "pulse_dlq_offset": {"type": "string"},
                "pulse_dlq_group": {"type": "string", "description": "The consumer group that gave up."},
            },
        },
    ],
}


def _channel_id(topic: str) -> str:
    return topic.replace(".", "_")


def _hoist(schema: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Move a pydantic schema's `$defs` into the shared components (refs rewritten); refuse clashing names."""
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/')
    out: dict[str, Any] = json.loads(text)
    for name, definition in out.pop("$defs", {}).items():
        if name in shared and shared[name] != definition:
            raise ValueError(f"two event schemas define {name} differently")
        shared[name] = definition
    return out


def _example(spec: Any, payload: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    value = example_for(payload, {**defs}) if payload else {}
    headers = {"ce_specversion": "1.0", "ce_id": f"{spec.event_type}-0001", "ce_source": f"pulse/{spec.producer}",
               "ce_type": spec.event_type, "ce_time": "2026-11-20T08:30:00+07:00",
               "content-type": "application/json"}  # fmt: skip
    return {"name": "example", "summary": f"A {spec.event_type} event", "headers": headers, "payload": value}


def _messages(shared: dict[str, Any]) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for spec in CATALOG:
        raw = spec.schema.model_json_schema()
        defs = dict(raw.get("$defs", {}))
        payload = _hoist(raw, shared)
        shared[spec.event_type] = payload
        messages[spec.event_type] = {
            "name": spec.event_type,
            "title": spec.event_type,
            "summary": (spec.schema.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": f"#/components/schemas/{spec.event_type}"}},
            "bindings": {
                "kafka": {"key": {"type": "string", "description": spec.key}, "bindingVersion": KAFKA_BINDING}
            },
            "examples": [_example(spec, {k: v for k, v in raw.items() if k != "$defs"}, defs)],
            "x-webhook-projection": (
                {"fields": list(fields)}
                if (fields := public.PROJECTIONS.get(spec.event_type)) is not None
                else "not forwarded to webhooks"
            ),
        }
    messages["dead_letter"] = {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": "An event a consumer could not process after its retries, unchanged, with the error in headers.",
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"type": "object", "description": "The original body."}},
    }
    return messages


def _channels() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        cid = _channel_id(topic)
        specs = [spec for spec in CATALOG if spec.topic == topic]
        producers = sorted({spec.producer for spec in specs})
        channels[cid] = {
            "address": topic,
            "description": f"Produced by {', '.join(producers)}; dead letters go to {dlq(topic)}.",
            "messages": {spec.event_type: {"$ref": f"#/components/messages/{spec.event_type}"} for spec in specs},
            "bindings": {"kafka": {"topic": topic, "replicas": 3, "bindingVersion": KAFKA_BINDING}},
        }
        channels[f"{cid}_dlq"] = {
            "address": dlq(topic),
            "description": f"Dead letters of {topic}: sent by its consumers, replayed by `pulse dlq replay`.",
            "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
            "bindings": {"kafka": {"topic": dlq(topic), "replicas": 3, "bindingVersion": KAFKA_BINDING}},
        }
    return channels


def _operation(action: str, channel: str, types: list[str], summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{t}"} for t in types],
    }


def _operations() -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for service in SERVICES:
        for topic in ALL_TOPICS:
            cid = _channel_id(topic)
            sent = [spec.event_type for spec in CATALOG if spec.topic == topic and spec.producer == service]
            if sent:
                operations[f"{service}.send.{cid}"] = _operation("send", cid, sent, f"{service} publishes to {topic}")
            received = list(CONSUMES.get(service, {}).get(topic, ()))
            if received:
                summary = f"{service} consumes {topic}"
                operations[f"{service}.receive.{cid}"] = _operation("receive", cid, received, summary)
                summary = f"{service} dead-letters what it cannot process from {topic}"
                operations[f"{service}.send.{cid}_dlq"] = _operation("send", f"{cid}_dlq", ["dead_letter"], summary)
    for topic in ALL_TOPICS:
        cid = _channel_id(topic)
        summary = f"`pulse dlq replay` reads the dead letters of {topic}"
        operations[f"{OPERATOR}.receive.{cid}_dlq"] = _operation("receive", f"{cid}_dlq", ["dead_letter"], summary)
        replayed = [spec.event_type for spec in CATALOG if spec.topic == topic]
        summary = f"`pulse dlq replay` sends dead letters back to {topic}"
        operations[f"{OPERATOR}.send.{cid}"] = _operation("send", cid, replayed, summary)
    return operations


def asyncapi() -> dict[str, Any]:
    """Return the AsyncAPI 3.0 document: servers, topic and DLQ channels, send and receive operations per service."""
    shared: dict[str, Any] = {"CloudEventHeaders": CE_HEADERS, "DeadLetterHeaders": DLQ_HEADERS}
    messages = _messages(shared)
    return {
        "asyncapi": "3.0.0",
        "id": "urn:pulse:events",
        "info": {
            "title": "Pulse events",
            "version": _version(),
            "description": "CloudEvents 1.0 in Kafka binary mode; the JSON body is the event data. Delivery is "
            "at least once; consumers are idempotent on `ce_id`; poison events go to `<topic>.dlq`.",
            "license": {"name": "Proprietary"},
            "contact": {"name": "Pulse maintainers"},
        },
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": _channels(),
        "operations": _operations(),
        "components": {
            "schemas": dict(sorted(shared.items())),
            "messages": messages,
            "securitySchemes": {
                "scram": {"type": "scramSha512", "description": "SCRAM-SHA-512 over TLS, one KafkaUser per service."}
            },
        },
    }


def _version() -> str:
    try:
        return metadata.version("pulse-libs")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class _NoAliases(yaml.SafeDumper):
    """Writes repeated objects out in full: no `&id001` anchors, which many tools do not follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render() -> dict[str, str]:
    """Return {file name: text} of every generated file."""
    files = {
        name: json.dumps(s, indent=2, ensure_ascii=False, sort_keys=True) + "\n" for name, s in json_schemas().items()
    }
    files["asyncapi.yaml"] = yaml.dump(asyncapi(), Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)
    return files


def main(argv: list[str] | None = None) -> int:
    """Write or check the generated documents."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/events"))
    parser.add_argument("--check", action="store_true", help="fail if the files on disk are stale")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        stale = [n for n, text in files.items() if not (args.out / n).is_file() or (args.out / n).read_text() != text]
        extra = [p.name for p in args.out.glob("*") if p.name not in files] if args.out.is_dir() else []
        if stale or extra:
            print(
                f"event documents are stale: {sorted(stale + extra)}; run `make schemas`",
                file=sys.stderr,
            )
            return 1
        print(f"{len(files)} event documents are up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for p in args.out.glob("*"):
        if p.name not in files:
            p.unlink()
    for name, text in files.items():
        (args.out / name).write_text(text)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
