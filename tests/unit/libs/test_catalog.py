"""The event catalogue covers every event type constant and generates stable documents."""

from __future__ import annotations

import json

from pulse_libs.events import catalog, intake, notify, triage
from pulse_libs.events.schema import asyncapi, render
from pulse_libs.events.topics import ALL_TOPICS, all_topics_with_dlqs, dlq


def _type_constants() -> set[str]:
    out = set()
    for module in (intake, triage, notify):
        out |= {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and v.startswith("pulse.")}
    return out


def test_every_event_type_is_catalogued_on_a_known_topic() -> None:
    assert _type_constants() == set(catalog.BY_TYPE)
    assert all(spec.topic in ALL_TOPICS for spec in catalog.CATALOG)


def test_event_types_follow_the_naming_rule() -> None:
    for event_type in catalog.BY_TYPE:
        parts = event_type.split(".")
        assert parts[0] == "pulse"
        assert parts[-1].startswith("v")
        assert parts[-1][1:].isdigit()


def test_generation_is_deterministic_and_valid_json() -> None:
    first, second = render(), render()
    assert first == second
    for name, text in first.items():
        if name.endswith(".json"):
            assert json.loads(text)["$id"].startswith("urn:pulse:event:")


def test_asyncapi_lists_every_topic() -> None:
    doc = asyncapi()
    assert doc["asyncapi"].startswith("3.")
    assert {c["address"] for c in doc["channels"].values() if not c["address"].endswith(".dlq")} == set(ALL_TOPICS)


def test_each_topic_has_a_dead_letter_topic() -> None:
    everything = all_topics_with_dlqs()
    assert all(dlq(t) in everything for t in ALL_TOPICS)
    assert len(everything) == 2 * len(ALL_TOPICS)
