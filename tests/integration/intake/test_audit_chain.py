"""The tamper-evident audit log on the real store: intake appends, GET /v1/audit filters, verify finds tampering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pulse_libs.audit import CHAINS, ENTRIES, AuditLog, verify
from pymongo import AsyncMongoClient

from .conftest import MONGO
from .helpers import YEN_BAI, assert_problem

ADMIN = {"username": "admin", "password": "pulse-admin-dev-password"}


@pytest.fixture
async def scratch(infra: None) -> AsyncIterator[Any]:
    """A database of its own, for tampering."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"t{uuid.uuid4().hex[:10]}_audit"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def _fill(db: Any, n: int = 5, service: str = "intake") -> AuditLog:
    log = AuditLog(db, service=service, replica="test")
    for i in range(n):
        await log.append(
            action="user.read", target=f"u{i}", actor_id="admin-1", actor_kind="user", actor_name="quantri",
            actor_role="admin", details={"lý do": "kiểm tra", "i": i},
        )  # fmt: skip
    return log


def _cli(db: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulse_libs.audit", "verify", "--mongo-url", MONGO, "--db", db.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_intake_actions_are_chained_and_filterable(intake: Any) -> None:
    token = (await intake.client.post("/v1/auth/token", data=ADMIN)).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    body = {
        "username": f"ctv.{uuid.uuid4().hex[:6]}",
        "password": "mat-khau-rat-dai-2026",
        "full_name": "Đỗ Văn Hùng",
        "role": "collaborator",
        "unit_codes": [YEN_BAI],
    }
    user = (await intake.client.post("/v1/users", json=body, headers=admin)).json()
    await intake.client.get(f"/v1/users/{user['id']}", headers=admin)
    await intake.client.post("/v1/auth/token", data={"username": body["username"], "password": "sai-mat-khau-x"})
    listed = await intake.client.get("/v1/audit", params={"target": user["id"]}, headers=admin)
    assert listed.status_code == 200, listed.text
    actions = [e["action"] for e in listed.json()["items"]]
    assert actions == ["user.read", "user.create"]  # newest first
    entry = listed.json()["items"][0]
    assert len(entry["hash"]) == 64
    assert entry["chain"].startswith("intake.")
    failed = await intake.client.get("/v1/audit", params={"action": "auth.sign_in_failed"}, headers=admin)
    assert body["username"] in {e["target"] for e in failed.json()["items"]}
    page = await intake.client.get("/v1/audit", params={"limit": 1}, headers=admin)
    second = await intake.client.get(
        "/v1/audit", params={"limit": 1, "cursor": page.json()["next_cursor"]}, headers=admin
    )
    assert second.json()["items"][0]["id"] != page.json()["items"][0]["id"]
    assert_problem(await intake.client.get("/v1/audit", params={"cursor": "bm9wZQ"}, headers=admin), 400)
    assert_problem(await intake.client.get("/v1/audit", headers=intake.headers("department")), 403)
    report = await verify(intake.db)
    assert report.ok, report.problems
    assert report.entries >= 3


async def test_verify_detects_an_edited_entry(scratch: Any) -> None:
    log = await _fill(scratch)
    assert (await verify(scratch)).ok
    assert _cli(scratch).returncode == 0
    await scratch[ENTRIES].update_one({"chain": log.chain, "seq": 3}, {"$set": {"target": "someone-else"}})
    report = await verify(scratch)
    assert any("#3" in p and "edited" in p for p in report.problems), report.problems
    result = _cli(scratch)
    assert result.returncode == 1
    assert "BROKEN" in result.stdout


async def test_verify_detects_a_deleted_entry_in_the_middle_and_at_the_end(scratch: Any) -> None:
    log = await _fill(scratch)
    await scratch[ENTRIES].delete_one({"chain": log.chain, "seq": 2})
    report = await verify(scratch)
    assert any("#3" in p and "deleted" in p for p in report.problems), report.problems
    other = await _fill(scratch, service="triage")
    await scratch[ENTRIES].delete_one({"chain": other.chain, "seq": 5})
    report = await verify(scratch)
    assert any(other.chain in p and "at the end" in p for p in report.problems), report.problems


async def test_verify_detects_reordered_entries(scratch: Any) -> None:
    log = await _fill(scratch)
    two = await scratch[ENTRIES].find_one({"chain": log.chain, "seq": 2})
    three = await scratch[ENTRIES].find_one({"chain": log.chain, "seq": 3})
    # Swap their contents under their ids (as one would to reorder events in time).
    for doc, into in ((two, three), (three, two)):
        await scratch[ENTRIES].replace_one({"_id": into["_id"]}, {**doc, "_id": into["_id"]})
    report = await verify(scratch)
    assert report.problems, "a reorder went unnoticed"
    assert any("reordered" in p or "moved" in p for p in report.problems), report.problems


async def test_two_writers_make_two_chains_never_a_fork(scratch: Any) -> None:
    one = AuditLog(scratch, service="intake", replica="pod-a")
    two = AuditLog(scratch, service="intake", replica="pod-b")

    async def burst(log: AuditLog, n: int) -> None:
        for i in range(n):
            await log.append(
                action="report.identity_read", target=f"r{i}", actor_id="d", actor_kind="user", actor_name="d"
            )

    await asyncio.gather(burst(one, 10), burst(two, 10), burst(one, 5))
    report = await verify(scratch)
    assert report.ok, report.problems
    assert report.chains == 2
    assert report.entries == 25
    assert await scratch[CHAINS].count_documents({}) == 2
