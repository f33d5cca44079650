"""Sign-in throttling on the real store: no lockout others can cause, no race past the limit, spoofed XFF ignored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.throttle import LoginThrottle, LoginThrottled
from pulse_intake.handlers.people import create_user

from .helpers import YEN_BAI, assert_problem

PASSWORD = "mat-khau-rat-dai-2026"


@asynccontextmanager
async def _from(intake: Any, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=intake.app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _user(intake: Any) -> str:
    username = f"ctv.{uuid.uuid4().hex[:8]}"
    await create_user(
        store=IntakeStore.of(intake.db),
        username=username,
        password=PASSWORD,
        full_name="Hoàng Thị Lan",
        role="collaborator",
        unit_codes=[YEN_BAI],
        phone=None,
        email=None,
    )
    return username


async def _try(client: httpx.AsyncClient, username: str, password: str, **headers: str) -> httpx.Response:
    return await client.post("/v1/auth/token", data={"username": username, "password": password}, headers=headers)


async def test_wrong_passwords_from_one_address_never_lock_the_person_out_elsewhere(intake: Any) -> None:
    victim = await _user(intake)
    async with _from(intake, "203.0.113.10") as attacker, _from(intake, "198.51.100.20") as office:
        for _ in range(5):
            assert (await _try(attacker, victim, "doan-mo-mat-khau")).status_code == 401
        assert_problem(await _try(attacker, victim, "doan-mo-mat-khau"), 429)
        assert_problem(await _try(attacker, victim, PASSWORD), 429)  # throttled before the password is checked
        assert (await _try(office, victim, PASSWORD)).status_code == 200


async def test_a_flood_from_one_address_blocks_only_that_address(intake: Any) -> None:
    person = await _user(intake)
    async with _from(intake, "203.0.113.66") as flood, _from(intake, "198.51.100.77") as other:
        for i in range(30):
            # Spoofed X-Forwarded-For from an untrusted peer changes nothing.
            response = await _try(flood, f"khach-{i}", "sai-mat-khau-1", **{"X-Forwarded-For": f"192.0.2.{i}"})
            assert response.status_code == 401
        assert_problem(await _try(flood, person, PASSWORD, **{"X-Forwarded-For": "192.0.2.200"}), 429)
        assert (await _try(other, person, PASSWORD)).status_code == 200


async def test_parallel_attempts_cannot_outrun_the_limit(intake: Any) -> None:
    victim = await _user(intake)
    async with _from(intake, "203.0.113.99") as attacker:
        answers = await asyncio.gather(*(_try(attacker, victim, f"doan-{i}-mat-khau") for i in range(20)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= 5, statuses  # at most the limit reached the password check
    assert statuses.count(429) >= 15


async def test_the_limit_holds_across_two_replicas_sharing_the_store(intake: Any) -> None:
    one = LoginThrottle(intake.db, window_seconds=60, max_per_user=3, max_per_ip=100)
    two = LoginThrottle(intake.db, window_seconds=60, max_per_user=3, max_per_ip=100)
    passed = 0
    refused = 0

    async def attempt(throttle: LoginThrottle) -> None:
        nonlocal passed, refused
        try:
            async with throttle.attempt(username="shared-user", ip="203.0.113.200") as a:
                passed += 1
                await asyncio.sleep(0.05)  # the password check
                a.failed()
        except LoginThrottled:
            refused += 1

    await asyncio.gather(*(attempt(one if i % 2 else two) for i in range(12)))
    assert passed <= 3
    assert passed + refused == 12
