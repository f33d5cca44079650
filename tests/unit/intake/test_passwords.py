"""argon2 hashing is bounded: a burst of sign-ins never runs more hashes at once than configured."""

from __future__ import annotations

import asyncio

from pulse_intake.adapters import passwords


async def test_concurrent_hashes_are_bounded() -> None:
    passwords.limit_concurrent_hashes(2)
    peak = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, passwords.in_flight())
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    hashes = await asyncio.gather(*(passwords.hash_password(f"mat-khau-{i}-dai-du") for i in range(6)))
    done.set()
    await watcher
    assert peak == 2
    assert all(
        await asyncio.gather(*(passwords.verify_password(h, f"mat-khau-{i}-dai-du") for i, h in enumerate(hashes)))
    )
