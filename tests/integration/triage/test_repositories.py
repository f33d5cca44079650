"""One contract, two backends: triage's MongoDB repositories (on the real store) and the in-memory fakes the
use-case unit tests run on (tests/unit/triage/fakes.py) answer the same calls the same way — the write
conditions (state, version, lease owner, duplicate ids) above all, so a unit test on the fakes means what it says."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pulse_libs.api_keys import API_KEYS_COLLECTION
from pulse_triage.adapters.repositories import TriageRepositories, mongo_repositories
from pulse_triage.adapters.store import HOTSPOTS, TriageStore
from pymongo import AsyncMongoClient

from tests.unit.triage.fakes import EPOCH, Fakes

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
WARD, OTHER = "04747", "04750"


@dataclass
class Backend:
    repos: TriageRepositories
    seed_hotspots: Callable[[list[dict[str, Any]]], Awaitable[None]]
    seed_api_keys: Callable[[list[str]], Awaitable[None]]


@pytest.fixture(params=["memory", "mongo"])
async def backend(request: pytest.FixtureRequest, mongo: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[Backend]:
    """The in-memory fakes, then the MongoDB repositories over a database of this test's own."""
    if request.param == "memory":
        fakes = Fakes()

        async def hotspots_in_memory(docs: list[dict[str, Any]]) -> None:
            fakes.hotspots.docs |= {d["_id"]: d for d in docs}

        async def keys_in_memory(ids: list[str]) -> None:
            fakes.api_keys.ids |= set(ids)

        yield Backend(fakes.repositories(), hotspots_in_memory, keys_in_memory)
        return
    name = f"t_repos_{uuid.uuid4().hex[:10]}"
    db = mongo[name]

    async def hotspots_in_store(docs: list[dict[str, Any]]) -> None:
        await db[HOTSPOTS].insert_many(docs)

    async def keys_in_store(ids: list[str]) -> None:
        await db[API_KEYS_COLLECTION].insert_many([{"_id": i, "revoked": False} for i in ids])

    try:
        yield Backend(mongo_repositories(TriageStore(db)), hotspots_in_store, keys_in_store)
    finally:
        await mongo.drop_database(name)


def escalation(esc_id: str = "esc-1", **changes: Any) -> dict[str, Any]:
    return {
        "_id": esc_id,
        "hotspot_id": "hs-1",
        "unit_code": WARD,
        "topic_code": "an-ninh",
        "urgency": "flash",
        "state": "pending",
        "raised_at": NOW,
        "version": 1,
        "level": 1,
        "next_action_at": NOW,
        "history": [{"at": NOW, "action": "raised"}],
        **changes,
    }


async def test_an_escalation_is_added_once_without_a_lease(backend: Backend) -> None:
    escalations = backend.repos.escalations
    assert await escalations.add(escalation()) is True
    assert await escalations.add(escalation(level=2)) is False
    stored = await escalations.get("esc-1")
    assert stored is not None
    assert (stored["level"], stored["lease_until"], stored["lease_owner"]) == (1, EPOCH, None)
    assert await escalations.get("esc-none") is None


async def test_a_due_escalation_is_claimed_by_one_owner_and_only_its_step_applies(backend: Backend) -> None:
    escalations = backend.repos.escalations
    await escalations.add(escalation())
    await escalations.add(escalation("esc-later", next_action_at=NOW + timedelta(hours=1)))
    lease = NOW + timedelta(seconds=30)
    claimed = await escalations.claim_due(NOW, "a", lease)
    assert claimed is not None
    assert (claimed["_id"], claimed["lease_owner"], claimed["lease_until"]) == ("esc-1", "a", lease)
    assert await escalations.claim_due(NOW, "b", lease) is None  # leased; the other one is not due
    assert await escalations.apply_step("esc-1", "b", {"level": 5}, {"action": "late"}) is None
    done = await escalations.apply_step("esc-1", "a", {"level": 2}, {"at": NOW, "action": "escalated"})
    assert done is not None
    assert (done["level"], done["version"], done["lease_owner"], done["lease_until"]) == (2, 2, None, EPOCH)
    assert [h["action"] for h in done["history"]] == ["raised", "escalated"]


async def test_an_urgency_raise_applies_only_at_the_version_read(backend: Backend) -> None:
    escalations = backend.repos.escalations
    await escalations.add(escalation())
    assert await escalations.raise_urgency("esc-1", 7, {"urgency": "flash"}, {"action": "urgency_raised"}) is None
    raised = await escalations.raise_urgency("esc-1", 1, {"urgency": "flash"}, {"action": "urgency_raised"})
    assert raised is not None
    assert raised["version"] == 2


async def test_closing_needs_an_allowed_state_and_spends_the_link(backend: Backend) -> None:
    escalations = backend.repos.escalations
    await escalations.add(escalation())
    fields = {"state": "acknowledged", "acknowledged_at": NOW, "next_action_at": None}
    acked = await escalations.close("esc-1", ("pending",), fields, {"action": "acknowledged"}, "t-1")
    assert acked is not None
    assert (acked["state"], acked["ack_link_ids"], acked["lease_until"]) == ("acknowledged", ["t-1"], EPOCH)
    assert await escalations.close("esc-1", ("pending",), fields, {"action": "acknowledged"}, "t-2") is None
    resolved = await escalations.close(
        "esc-1", ("pending", "acknowledged"), {"state": "resolved"}, {"action": "resolved"}
    )
    assert resolved is not None
    assert (resolved["state"], resolved["ack_link_ids"], resolved["version"]) == ("resolved", ["t-1"], 3)


async def test_lifting_a_silence_makes_only_its_pending_escalations_due(backend: Backend) -> None:
    escalations = backend.repos.escalations
    later = NOW + timedelta(hours=2)
    await escalations.add(escalation("esc-1", silenced_by="s-1", next_action_at=later))
    await escalations.add(escalation("esc-2", silenced_by="s-2", next_action_at=later))
    await escalations.add(escalation("esc-3", silenced_by="s-1", next_action_at=later, state="acknowledged"))
    await escalations.wake_silenced("s-1", NOW)
    due = [(await escalations.get(i) or {}).get("next_action_at") for i in ("esc-1", "esc-2", "esc-3")]
    assert due == [NOW, later, later]


async def test_escalation_pages_are_newest_first_within_the_units_and_counted(backend: Backend) -> None:
    escalations = backend.repos.escalations
    for i in range(3):
        await escalations.add(escalation(f"esc-{i}", raised_at=NOW + timedelta(minutes=i)))
    await escalations.add(escalation("esc-other", unit_code=OTHER, state="acknowledged", level=2))
    page = await escalations.page(units=[WARD], state=None, after=None, limit=2)
    assert [d["_id"] for d in page] == ["esc-2", "esc-1", "esc-0"]  # limit + 1: a next page exists
    rest = await escalations.page(units=[WARD], state=None, after=(page[1]["raised_at"], page[1]["_id"]), limit=2)
    assert [d["_id"] for d in rest] == ["esc-0"]
    assert [d["_id"] for d in await escalations.page(units=None, state="acknowledged", after=None, limit=5)] == [
        "esc-other"
    ]
    assert await escalations.pending_by_level() == {1: 3}
    assert await escalations.overdue(NOW + timedelta(seconds=1)) == 3


async def test_a_hot_spot_saves_only_at_the_version_read(backend: Backend) -> None:
    hotspots = backend.repos.hotspots
    await backend.seed_hotspots(
        [{"_id": "hp-1", "version": 1}] + [{"_id": f"hs-{i}", "parent_id": "hp-1", "version": 1} for i in (1, 2)]
    )
    assert sorted(c["_id"] for c in await hotspots.children("hp-1")) == ["hs-1", "hs-2"]
    assert await hotspots.save("hp-1", 3, {"status": "resolved"}) is None
    saved = await hotspots.save("hp-1", 1, {"status": "resolved"})
    assert saved is not None
    assert (saved["status"], saved["version"]) == ("resolved", 2)


async def test_the_latest_ending_silence_covering_a_unit_and_topic_is_active(backend: Backend) -> None:
    silences = backend.repos.silences
    await silences.add({"_id": "s-all", "unit_code": None, "topic_code": "an-ninh", "until": NOW + timedelta(hours=1)})
    await silences.add({"_id": "s-ward", "unit_code": WARD, "topic_code": None, "until": NOW + timedelta(hours=3)})
    await silences.add({"_id": "s-old", "unit_code": WARD, "topic_code": None, "until": NOW - timedelta(hours=1)})
    await silences.add({"_id": "s-else", "unit_code": OTHER, "topic_code": None, "until": NOW + timedelta(hours=9)})
    active = await silences.active(WARD, "an-ninh", NOW)
    assert active is not None
    assert active["_id"] == "s-ward"
    other_topic = await silences.active(OTHER, "gia-ca", NOW)
    assert other_topic is not None
    assert other_topic["_id"] == "s-else"
    assert await silences.active("09999", "gia-ca", NOW) is None
    assert await silences.sweep(NOW) == 1
    assert await silences.get("s-old") is None
    await silences.delete("s-ward")
    assert [d["_id"] for d in await silences.page(after=None, limit=5)] == ["s-else", "s-all"]


async def test_config_documents_and_api_key_sources(backend: Backend) -> None:
    await backend.repos.policies.put("flash", {"levels": [], "repeat_seconds": None})
    stored = await backend.repos.policies.get("flash")
    assert stored is not None
    assert (stored["levels"], stored["repeat_seconds"]) == ([], None)
    assert await backend.repos.policies.get("urgent") is None
    assert await backend.repos.rules.get() is None
    await backend.repos.rules.put({"rules": {"version": 2}})
    assert (await backend.repos.rules.get() or {}).get("rules") == {"version": 2}
    await backend.seed_api_keys(["key-tinh"])
    assert await backend.repos.api_keys.known(["u-lan", "key-tinh"]) == {"key-tinh"}
