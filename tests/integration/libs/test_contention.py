"""Two writers meeting one document: claims and leases stay single-winner on the real store.

The store applies updates as read-modify-write (DESIGN.md: 100 concurrent `$inc` of one counter
ended at 3 on FerretDB/PostgreSQL), so these tests hammer the places where concurrent writers meet
and check the invariant the design promises, not the store's luck: a claim has one winner, a lease
one holder at a time. The raw race is measured beside them so a reader sees what is designed out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pulse_libs.claims import ClaimLocks, Lease
from pulse_libs.clock import utcnow
from pulse_libs.store import make_client


async def test_each_generation_of_each_resource_is_claimed_once(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    client = make_client(settings)
    locks = ClaimLocks(client[settings.mongo_db])
    wins: list[tuple[int, str]] = []

    async def claimer(who: int) -> None:
        for resource in range(40):
            for generation in (1, 2):
                if await locks.take(f"delivery-{resource}", generation):
                    wins.append((who, f"{resource}:{generation}"))

    try:
        await asyncio.gather(*(claimer(i) for i in range(12)))
        claimed = [w for _, w in wins]
        assert len(claimed) == 80
        assert len(set(claimed)) == 80
    finally:
        await client.close()


async def test_a_generation_bump_raced_by_many_still_has_one_owner(make_settings: Callable[..., Any]) -> None:
    """The pattern services use: conditional update of a counter, then the lock of the new value."""
    settings = make_settings()
    client = make_client(settings)
    db = client[settings.mongo_db]
    locks = ClaimLocks(db)
    await db.jobs.insert_many([{"_id": f"job-{i}", "claim_seq": 0} for i in range(10)])
    owners: dict[str, list[int]] = {}
    update_wins = 0

    async def claimer(who: int) -> None:
        nonlocal update_wins
        for i in range(10):
            job = await db.jobs.find_one({"_id": f"job-{i}"})
            assert job is not None
            seq = job["claim_seq"] + 1
            result = await db.jobs.update_one({"_id": job["_id"], "claim_seq": seq - 1}, {"$set": {"claim_seq": seq}})
            if result.matched_count != 1:
                continue
            update_wins += 1
            if await locks.take(job["_id"], seq):
                owners.setdefault(f"{job['_id']}:{seq}", []).append(who)

    try:
        await asyncio.gather(*(claimer(i) for i in range(8)))
        assert owners, "somebody must win each job"
        assert all(len(who) == 1 for who in owners.values()), owners
        # How often the store let more than one conditional update "win" (informative, not asserted).
        print(f"conditional-update wins: {update_wins} for {len(owners)} verified claims")
    finally:
        await client.close()


async def test_a_lease_has_one_holder_at_a_time(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    client = make_client(settings)
    db = client[settings.mongo_db]
    ttl = timedelta(seconds=0.8)
    leases = [Lease(db, "scheduler", holder=f"replica-{i}", ttl=ttl, margin=timedelta(seconds=0.3)) for i in range(6)]
    await leases[0].ensure_indexes()
    intervals: list[tuple[datetime, datetime, str, int]] = []
    stop_at = utcnow() + timedelta(seconds=6)

    async def contender(lease: Lease) -> None:
        held = 0
        while utcnow() < stop_at:
            started = utcnow()
            term = await lease.acquire(started)
            if term is not None:
                intervals.append((started, term.trusted_until, lease.holder, term.term))
                held += 1
                if held % 6 == 0:
                    await asyncio.sleep(1.2)  # the holder stalls: its lease must lapse, not overlap
            await asyncio.sleep(0.05)

    try:
        await asyncio.gather(*(contender(lease) for lease in leases))
        assert len({holder for _, _, holder, _ in intervals}) >= 2, "the stalls must hand the lease over"
        by_term: dict[int, set[str]] = {}
        for _, _, holder, term in intervals:
            by_term.setdefault(term, set()).add(holder)
        assert all(len(h) == 1 for h in by_term.values()), by_term
        # Trusted intervals of different holders never overlap.
        ordered = sorted(intervals)
        for i, (_s1, e1, h1, _) in enumerate(ordered):
            for s2, _e2, h2, _ in ordered[i + 1 :]:
                if h2 != h1 and s2 < e1:
                    raise AssertionError(f"{h2} trusted a lease from {s2} while {h1} trusted one until {e1}")
    finally:
        await client.close()
