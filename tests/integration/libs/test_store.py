"""The store enforces unique indexes, which idempotency relies on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pulse_libs.store import ensure_indexes, make_client, ping
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError


async def test_a_duplicate_on_a_unique_index_is_rejected(make_settings: Callable[..., Any]) -> None:
    settings = make_settings()
    client = make_client(settings)
    db = client[settings.mongo_db]
    try:
        assert await ping(client)
        indexes = {"reports": [IndexModel([("api_key_id", ASCENDING), ("external_ref", ASCENDING)], unique=True)]}
        await ensure_indexes(db, indexes)
        await ensure_indexes(db, indexes)  # idempotent
        await db.reports.insert_one({"_id": "r1", "api_key_id": "k1", "external_ref": "HS-2026-0001"})
        with pytest.raises(DuplicateKeyError):
            await db.reports.insert_one({"_id": "r2", "api_key_id": "k1", "external_ref": "HS-2026-0001"})
        await db.reports.insert_one({"_id": "r3", "api_key_id": "k2", "external_ref": "HS-2026-0001"})
        assert await db.reports.count_documents({}) == 2
    finally:
        await client.close()
