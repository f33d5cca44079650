"""Password hashing with argon2id, run off the event loop (it is deliberately slow) and bounded.

Each argon2 hash takes 64 MiB for its duration; without a bound, a burst of sign-ins fills the
thread pool (up to 32 threads) and 2 GiB of memory. At most `limit_concurrent_hashes(n)` hashes
run at once per process; the others wait their turn on the event loop, costing nothing.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("pulse-dummy-password-for-timing")
_limit = 2
_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def limit_concurrent_hashes(n: int) -> None:
    """Set how many hashes may run at once (from settings at start-up)."""
    global _limit
    _limit = max(1, n)
    _slots.clear()


def _semaphore() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        for old in [k for k in _slots if k.is_closed()]:
            del _slots[old]
        slot = _slots[loop] = asyncio.Semaphore(_limit)
    return slot


def in_flight() -> int:
    """Hashes running now in this event loop (for tests and metrics)."""
    slot = _slots.get(asyncio.get_running_loop())
    return 0 if slot is None else _limit - slot._value


async def hash_password(password: str) -> str:
    """Return the argon2id hash of `password`."""
    async with _semaphore():
        return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if `password` matches; an unknown user still costs one verification (no timing leak)."""

    def check() -> bool:
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async with _semaphore():
        return await asyncio.to_thread(check)
