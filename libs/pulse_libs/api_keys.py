"""API-key records: intake writes them; every other service mirrors them from registry events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulse_libs.auth import AuthError, Principal, check_api_key, parse_api_key
from pulse_libs.events import intake as intake_events
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.kafka.consumer import EventHandler
from pulse_libs.store import Database

API_KEYS_COLLECTION = "api_keys"


class ApiKeyStore:
    """Looks up API keys in the service's own `api_keys` collection."""

    def __init__(self, db: Database) -> None:
        self._col = db[API_KEYS_COLLECTION]

    async def verify(self, key: str) -> Principal:
        """Return the principal of a valid key; raise AuthError otherwise."""
        key_id = parse_api_key(key)
        if key_id is None:
            raise AuthError("the API key is invalid or revoked")
        record = await self._col.find_one({"_id": key_id})
        if record is None:
            raise AuthError("the API key is invalid or revoked")
        return check_api_key(key, record)


def api_key_mirror_handlers(db: Database) -> Mapping[str, EventHandler]:
    """Handlers that keep a service's `api_keys` in step with intake's registry events."""
    col = db[API_KEYS_COLLECTION]

    async def issued(event: CloudEvent) -> None:
        data = intake_events.ApiKeyIssued.model_validate(event.data)
        doc: dict[str, Any] = {
            "name": data.name,
            "key_hash": data.key_hash,
            "scopes": data.scopes,
            "unit_codes": data.unit_codes,
            "issued_at": data.issued_at,
        }
        await col.update_one({"_id": data.key_id}, {"$set": doc, "$setOnInsert": {"revoked": False}}, upsert=True)

    async def revoked(event: CloudEvent) -> None:
        data = intake_events.ApiKeyRevoked.model_validate(event.data)
        await col.update_one(
            {"_id": data.key_id},
            {"$set": {"revoked": True, "revoked_at": data.revoked_at}},
            upsert=True,
        )

    return {intake_events.API_KEY_ISSUED: issued, intake_events.API_KEY_REVOKED: revoked}
