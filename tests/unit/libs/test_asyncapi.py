"""The AsyncAPI document: no YAML anchors, servers, a DLQ channel per topic, every produced type sent by its
producer and every type a service really consumes received by it, and message examples their schemas accept."""

from __future__ import annotations

import asyncio
import importlib
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
import yaml
from pulse_libs import runtime as runtime_module
from pulse_libs.events.catalog import CATALOG
from pulse_libs.events.schema import asyncapi, render
from pulse_libs.events.subscriptions import CONSUMES, SERVICES
from pulse_libs.events.topics import ALL_TOPICS, dlq


class _Stop(Exception):
    """Raised instead of connecting: the wiring is done by then."""


@cache
def _really_consumed(service: str) -> dict[str, frozenset[str]]:
    """{topic: event types} the service's wiring registers consumers for (its lifespan, stopped before any I/O)."""
    seen: dict[str, set[str]] = {}
    original = runtime_module.Runtime.add_consumer

    def add_consumer(self: Any, group_id: str, topics: list[str], handlers: Any, **kw: Any) -> Any:
        for topic in topics:
            seen.setdefault(topic, set()).update(handlers, kw.get("batch_types") or ())
        return original(self, group_id, topics, handlers, **kw)

    async def start(self: Any, *args: Any, **kwargs: Any) -> None:
        raise _Stop

    async def run() -> None:
        app = importlib.import_module(f"pulse_{service}.bootstrap").bootstrap()
        try:
            async with app.router.lifespan_context(app):
                pass
        except _Stop:
            pass

    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(runtime_module.Runtime, "add_consumer", add_consumer)
        patch.setattr(runtime_module.Runtime, "start", start)
        asyncio.run(run())
    finally:
        patch.undo()
    on_topic = {t: {s.event_type for s in CATALOG if s.topic == t} for t in ALL_TOPICS}
    return {t: frozenset(types & on_topic[t]) for t, types in seen.items() if types & on_topic[t]}


def test_the_yaml_has_no_anchors_and_round_trips() -> None:
    text = render()["asyncapi.yaml"]
    assert "&id" not in text
    assert "*id" not in text
    assert yaml.safe_load(text) == asyncapi()


def test_servers_and_a_dead_letter_channel_per_topic() -> None:
    doc = asyncapi()
    assert {"production", "development"} <= set(doc["servers"])
    assert doc["servers"]["production"]["protocol"] == "kafka-secure"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == set(ALL_TOPICS) | {dlq(t) for t in ALL_TOPICS}


def _operation_types(doc: dict[str, Any], operation_id: str) -> set[str]:
    op = doc["operations"].get(operation_id)
    return set() if op is None else {m["$ref"].rsplit("/", 1)[-1] for m in op["messages"]}


def test_every_produced_type_is_sent_by_its_producer() -> None:
    doc = asyncapi()
    for spec in CATALOG:
        assert spec.event_type in doc["components"]["messages"]
        channel = spec.topic.replace(".", "_")
        assert spec.event_type in _operation_types(doc, f"{spec.producer}.send.{channel}"), spec.event_type


@pytest.mark.parametrize("service", SERVICES)
def test_every_type_a_service_consumes_is_a_receive_operation(service: str) -> None:
    doc = asyncapi()
    really = _really_consumed(service)
    declared = {t: frozenset(types) for t, types in CONSUMES[service].items()}
    assert really == declared, "update pulse_libs.events.subscriptions.CONSUMES to what the service consumes"
    for topic, types in really.items():
        channel = topic.replace(".", "_")
        assert _operation_types(doc, f"{service}.receive.{channel}") == set(types)
        assert _operation_types(doc, f"{service}.send.{channel}_dlq") == {"dead_letter"}


def test_payloads_name_their_schema_format_and_examples_validate() -> None:
    doc = asyncapi()
    schemas = doc["components"]["schemas"]
    for name, message in doc["components"]["messages"].items():
        assert message["payload"]["schemaFormat"].startswith("application/schema+json")
        if name == "dead_letter":
            continue
        (example,) = message["examples"]
        root = {**message["payload"]["schema"], "components": {"schemas": schemas}}
        errors = [e.message for e in jsonschema_rs.validator_for(root).iter_errors(example["payload"])]
        assert not errors, (name, errors)
        headers = {**schemas["CloudEventHeaders"]}
        assert not list(jsonschema_rs.validator_for(headers).iter_errors(example["headers"]))
        assert example["headers"]["ce_type"] == name
