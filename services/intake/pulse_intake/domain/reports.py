"""Report identity and idempotency keys: plain functions, no I/O."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any


def new_report_id() -> str:
    """A time-ordered id (ms timestamp + randomness): newest-first lists sort by `_id`."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


def dedupe_key(
    *, reporter_kind: str, reporter_id: str, external_ref: str | None, client_id: str | None, report_id: str
) -> str:
    """Key unique per reporter and external reference (or client id); the report id when neither is given.

    Every report carries one, so a plain unique index works without sparse/partial indexes.
    """
    if external_ref is not None:
        return f"{reporter_kind}:{reporter_id}:ref:{external_ref}"
    if client_id is not None:
        return f"{reporter_kind}:{reporter_id}:cid:{client_id}"
    return f"id:{report_id}"


def idempotency_key(*, reporter_id: str, key: str | None, report_id: str) -> str:
    """Key unique per caller and Idempotency-Key header; the report id when no header was sent."""
    return f"{reporter_id}:{key}" if key is not None else f"id:{report_id}"


def request_hash(body: Mapping[str, Any]) -> str:
    """Stable fingerprint of a request body: same body, same hash."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
