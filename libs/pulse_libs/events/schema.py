"""Generate JSON Schemas and an AsyncAPI 3.0 document from the event catalogue.

`python -m pulse_libs.events.schema --out docs/events` writes them;
`--check` exits 1 if the checked-in files are stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from pulse_libs.events import public
from pulse_libs.events.catalog import CATALOG
from pulse_libs.events.topics import ALL_TOPICS, dlq


def json_schemas() -> dict[str, dict[str, Any]]:
    """Return {file name: JSON Schema} for every event type."""
    out: dict[str, dict[str, Any]] = {}
    for spec in CATALOG:
        schema = spec.schema.model_json_schema()
        schema["$id"] = f"urn:pulse:event:{spec.event_type}"
        schema["description"] = (spec.schema.__doc__ or "").strip()
        out[f"{spec.event_type}.schema.json"] = schema
    return out


def asyncapi() -> dict[str, Any]:
    """Return the AsyncAPI 3.0 document describing topics, messages and headers."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    headers_schema = {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {"type": "string"},
            "ce_source": {"type": "string"},
            "ce_type": {"type": "string"},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {"type": "string"},
            "content-type": {"type": "string", "const": "application/json"},
            "traceparent": {"type": "string"},
        },
    }
    for topic in ALL_TOPICS:
        channel_id = topic.replace(".", "_")
        channel_messages = {}
        for spec in CATALOG:
            if spec.topic != topic:
                continue
            msg_id = spec.event_type.replace(".", "_")
            messages[msg_id] = {
                "name": spec.event_type,
                "title": spec.event_type,
                "summary": (spec.schema.__doc__ or "").strip().splitlines()[0],
                "contentType": "application/json",
                "headers": headers_schema,
                "payload": {"$ref": f"./{spec.event_type}.schema.json"},
                "bindings": {"kafka": {"key": {"type": "string", "description": spec.key}}},
                "x-webhook-projection": (
                    {"fields": list(fields)}
                    if (fields := public.PROJECTIONS.get(spec.event_type)) is not None
                    else "not forwarded to webhooks"
                ),
            }
            channel_messages[msg_id] = {"$ref": f"#/components/messages/{msg_id}"}
            producer = spec.producer
        channels[channel_id] = {
            "address": topic,
            "description": f"Produced by {producer}. Dead letters go to {dlq(topic)}.",
            "messages": channel_messages,
        }
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{producer} publishes to {topic}",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Pulse events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode; the JSON body is the event data.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> dict[str, str]:
    """Return {file name: text} of every generated file."""
    files = {
        name: json.dumps(s, indent=2, ensure_ascii=False, sort_keys=True) + "\n" for name, s in json_schemas().items()
    }
    files["asyncapi.yaml"] = yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True)
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
